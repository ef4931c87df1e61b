"""The tensor engine's primitives, one file per family; each ``Function`` has forward and backward
side by side. Composite operations (``mean``, ``var``, ``std``...) are built from them."""
