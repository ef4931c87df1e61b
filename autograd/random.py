"""The seeded random generator behind ``randn``, ``rand``, ``normal_``, ``nn``'s initialisation and
dropout: ``autograd.manual_seed(n)`` makes every run repeat."""
import numpy as np

_rng = {"gen": np.random.default_rng()}


def manual_seed(seed):
    """Seed the generator behind ``randn``, ``rand`` and ``nn``'s initialisation and dropout."""
    _rng["gen"] = np.random.default_rng(seed)


def generator():
    """The current ``np.random.Generator``."""
    return _rng["gen"]
