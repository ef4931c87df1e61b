"""The tensor engine's op families, one file each; every primitive has its forward and its gradient
rule side by side, next to the ``Tensor`` methods and functions that use it:

  elementwise.py  arithmetic, exp/log/..., activations, comparisons, where, maximum/minimum
  reduce.py       sum, mean, max/min, var/std, logsumexp, softmax, log_softmax, argmax/argmin
  shape.py        reshape, permute, expand, indexing, gather/scatter, cat, stack
  linalg.py       matmul and linear
  conv.py         conv2d and max_pool2d
  losses.py       cross_entropy, nll_loss, binary cross-entropy, mse_loss, l1_loss

This package is also the one documented internal interface ``nn`` builds on: the names below are the
functions ``nn.functional`` exposes (inputs must be Tensors here; ``nn.functional`` converts arrays),
and ``array(t)``, the NumPy array a Tensor holds (shared, not a copy), for ``nn``'s optimizers and
initialisers.
"""
from .conv import conv2d, max_pool2d
from . import activation, conv, losses, nnfunc  # noqa: F401 - the families nn.functional wraps
from .elementwise import Erf, LeakyRelu, Relu, Softplus, erf_array
from .inplace import mark_changed
from .linalg import linear
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, l1_loss,
                     mse_loss, nll_loss)
from .losses import _index_array as index_array, check_reduction
from ._util import pair
from ..dtypes import as_array, as_dtype
from ..primitive import array
from ..random import generator

__all__ = ["conv2d", "max_pool2d", "linear", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "mse_loss", "l1_loss", "Erf", "LeakyRelu", "Relu", "Softplus",
           "erf_array", "array", "index_array", "pair", "check_reduction",
           "as_array", "as_dtype", "generator", "mark_changed"]
