"""``nn.functional``: torch's functions under torch's names and argument names.

Inputs may be ``Tensor``s or anything ``np.asarray`` takes; class targets are integer indices (an array
or a ``Tensor``). Losses take ``reduction="mean" | "sum" | "none"``.
"""
import functools

from autograd import Tensor, ops
from autograd.dtypes import as_array


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(as_array(x))


def _on_tensors(fn):
    """``fn`` from ``autograd.ops``, taking anything ``np.asarray`` takes as its first argument."""
    @functools.wraps(fn)
    def wrapper(input, *args, **kwargs):
        return fn(_tensor(input), *args, **kwargs)
    return wrapper


linear = _on_tensors(ops.linear)
mse_loss = _on_tensors(ops.mse_loss)
l1_loss = _on_tensors(ops.l1_loss)
binary_cross_entropy = _on_tensors(ops.binary_cross_entropy)
binary_cross_entropy_with_logits = _on_tensors(ops.binary_cross_entropy_with_logits)
nll_loss = _on_tensors(ops.nll_loss)
cross_entropy = _on_tensors(ops.cross_entropy)

# convolution and pooling (autograd/ops/conv.py)
_CONV = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d",
         "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
         "adaptive_max_pool2d", "max_unpool2d"]
# pad, resizing, indices, dropout, normalisation, distances, attention (autograd/ops/nnfunc.py)
_NNFUNC = ["pad", "interpolate", "unfold", "fold", "one_hot", "dropout", "dropout1d", "dropout2d",
           "alpha_dropout", "batch_norm", "instance_norm", "layer_norm", "group_norm", "normalize",
           "cosine_similarity", "pairwise_distance", "scaled_dot_product_attention"]
# activations (autograd/ops/activation.py)
_ACTIVATION = ["elu", "selu", "celu", "silu", "mish", "softplus", "softsign", "hardtanh", "relu6",
               "hardsigmoid", "hardswish", "logsigmoid", "glu", "prelu", "rrelu", "softmin", "gelu",
               "tanhshrink", "softshrink", "hardshrink", "threshold"]
# losses (autograd/ops/losses.py)
_LOSSES = ["smooth_l1_loss", "huber_loss", "kl_div", "cosine_embedding_loss", "margin_ranking_loss",
           "hinge_embedding_loss", "soft_margin_loss", "multi_margin_loss", "poisson_nll_loss",
           "gaussian_nll_loss"]
for _module, _names in ((ops.conv, _CONV), (ops.nnfunc, _NNFUNC), (ops.activation, _ACTIVATION),
                        (ops.losses, _LOSSES)):
    for _name in _names:
        globals()[_name] = _on_tensors(getattr(_module, _name))


# -- activations --------------------------------------------------------------------------------------
def relu(input, inplace=False):
    """``max(x, 0)`` elementwise."""
    return _tensor(input).relu()


def sigmoid(input):
    """``1 / (1 + exp(-x))`` elementwise."""
    return _tensor(input).sigmoid()


def tanh(input):
    """Hyperbolic tangent elementwise."""
    return _tensor(input).tanh()


def erf(input):
    """The error function, elementwise, with gradient (float64 accuracy ~2e-15)."""
    return ops.Erf.apply(_tensor(input))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    return ops.LeakyRelu.apply(_tensor(input), slope=float(negative_slope))


def _softmax_dim(ndim):
    return 0 if ndim in (0, 1, 3) else 1  # torch's legacy choice when dim is not given


def softmax(input, dim=None):
    """``exp(x) / sum(exp(x))`` along ``dim`` (torch's legacy default dim when None)."""
    x = _tensor(input)
    return x.softmax(_softmax_dim(x.ndim) if dim is None else dim)


def log_softmax(input, dim=None):
    """``x - logsumexp(x)`` along ``dim``."""
    x = _tensor(input)
    return x.log_softmax(_softmax_dim(x.ndim) if dim is None else dim)


# -- layers -------------------------------------------------------------------------------------------
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of ``weight`` at the integer indices ``input`` (any shape); see ``autograd.ops.nnfunc``."""
    return ops.nnfunc.embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)


__all__ = (["relu", "sigmoid", "tanh", "erf", "leaky_relu", "softmax", "log_softmax", "linear", "embedding",
            "mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
            "nll_loss"] + _CONV + _NNFUNC + _ACTIVATION + _LOSSES)
