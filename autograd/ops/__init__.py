"""The tensor engine's op families, one file each; every primitive has its forward and its gradient
rule side by side, next to the ``Tensor`` methods and functions that use it:

  elementwise.py  arithmetic, exp/log/tanh/sigmoid/relu, comparisons, where, maximum/minimum, casts
  pointwise.py    the rest of torch's pointwise math (tan, erf, log1p, fmod, round, isnan, clamp...)
  bitwise.py      // % & | ^ << >> ~, logical_*, div(rounding_mode=)
  reduce.py       sum, mean, prod, max/min (named tuples), var/std, norm, logsumexp, softmax, median...
  scan.py         cumsum, cumprod, cummax/cummin, logcumsumexp
  sort.py         sort, topk, unique, searchsorted, nonzero, masked_select
  shape.py        reshape, permute, expand, indexing, flip/roll/tril/diagonal, cat, stack, split...
  indexing.py     gather, scatter, index_select/add/copy/fill, masked_fill, take
  linalg.py       matmul, linear, einsum, mm/bmm, tensordot, det/inv/solve
  conv.py         conv1d/2d (groups, dilation), transposed convolutions, max/avg/adaptive pooling
  rnn.py          one RNN/LSTM/GRU layer direction over a whole sequence as one node
  activation.py   elu, selu, silu, mish, softplus, gelu, hardtanh... (nn.functional's activations)
  nnfunc.py       pad, interpolate, unfold/fold, one_hot, embedding, dropout, norms, attention
  losses.py       cross_entropy, nll_loss, binary cross-entropy, mse/l1/huber/kl_div and the others
  inplace.py      the in-place forms (add_, zero_, t[idx] = v) with torch's version rules
  numpy_api.py    NumPy's functions on Tensors (np.exp(t), np.dot(x, w)) with gradients

This package is also the one documented internal interface ``nn`` builds on: the names below are the
functions ``nn.functional`` exposes (inputs must be Tensors here; ``nn.functional`` converts arrays),
and ``array(t)``, the NumPy array a Tensor holds (shared, not a copy), for ``nn``'s optimizers and
initialisers.
"""
from .conv import conv2d, max_pool2d
from . import activation, conv, losses, nnfunc  # noqa: F401 - the families nn.functional wraps
from .elementwise import Erf, LeakyRelu, Relu, Softplus, erf_array
from .inplace import foreach_add_grad_, mark_changed, with_grads
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
           "as_array", "as_dtype", "generator", "foreach_add_grad_", "mark_changed",
           "with_grads"]
