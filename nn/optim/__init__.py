"""``nn.optim``: torch's optimizers with torch's update rules, so the same settings give the same
trajectory as ``torch.optim``: ``SGD``, ``Adam``, ``AdamW``, ``Adamax``, ``NAdam``, ``RAdam``,
``Adagrad``, ``Adadelta``, ``RMSprop``; schedulers in ``nn.optim.lr_scheduler``.

Parameters are updated in place with vectorised NumPy; a parameter whose ``.grad`` is ``None`` is
skipped. ``param_groups`` is a list of dicts (``"params"``, ``"lr"``, ...) as in torch; ``state_dict()``
numbers the parameters and holds arrays and numbers, so ``nn.save`` can checkpoint it.
"""
from . import lr_scheduler
from .adam import Adam, Adamax, AdamW, NAdam, RAdam
from .adaptive import Adadelta, Adagrad, RMSprop
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adagrad", "Adadelta",
           "RMSprop", "lr_scheduler"]
