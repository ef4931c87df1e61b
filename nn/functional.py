"""``nn.functional``: torch's functions under torch's names and argument names.

Inputs may be ``Tensor``s or anything ``np.asarray`` takes; class targets are integer indices (an array
or a ``Tensor``). Losses take ``reduction="mean" | "sum" | "none"``.
"""
import functools

from autograd import Tensor, ops
from autograd.ops import as_array


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
conv1d = _on_tensors(ops.conv.conv1d)
conv2d = _on_tensors(ops.conv.conv2d)
conv_transpose1d = _on_tensors(ops.conv.conv_transpose1d)
conv_transpose2d = _on_tensors(ops.conv.conv_transpose2d)
max_pool1d = _on_tensors(ops.conv.max_pool1d)
max_pool2d = _on_tensors(ops.conv.max_pool2d)
avg_pool1d = _on_tensors(ops.conv.avg_pool1d)
avg_pool2d = _on_tensors(ops.conv.avg_pool2d)
adaptive_avg_pool1d = _on_tensors(ops.conv.adaptive_avg_pool1d)
adaptive_avg_pool2d = _on_tensors(ops.conv.adaptive_avg_pool2d)
adaptive_max_pool1d = _on_tensors(ops.conv.adaptive_max_pool1d)
adaptive_max_pool2d = _on_tensors(ops.conv.adaptive_max_pool2d)
max_unpool2d = _on_tensors(ops.conv.max_unpool2d)

# pad, resizing, indices, dropout, normalisation, distances, attention (autograd/ops/nnfunc.py)
pad = _on_tensors(ops.nnfunc.pad)
interpolate = _on_tensors(ops.nnfunc.interpolate)
unfold = _on_tensors(ops.nnfunc.unfold)
fold = _on_tensors(ops.nnfunc.fold)
one_hot = _on_tensors(ops.nnfunc.one_hot)
dropout = _on_tensors(ops.nnfunc.dropout)
dropout1d = _on_tensors(ops.nnfunc.dropout1d)
dropout2d = _on_tensors(ops.nnfunc.dropout2d)
alpha_dropout = _on_tensors(ops.nnfunc.alpha_dropout)
batch_norm = _on_tensors(ops.nnfunc.batch_norm)
instance_norm = _on_tensors(ops.nnfunc.instance_norm)
layer_norm = _on_tensors(ops.nnfunc.layer_norm)
group_norm = _on_tensors(ops.nnfunc.group_norm)
normalize = _on_tensors(ops.nnfunc.normalize)
cosine_similarity = _on_tensors(ops.nnfunc.cosine_similarity)
pairwise_distance = _on_tensors(ops.nnfunc.pairwise_distance)
scaled_dot_product_attention = _on_tensors(ops.nnfunc.scaled_dot_product_attention)

# activations (autograd/ops/activation.py)
elu = _on_tensors(ops.activation.elu)
selu = _on_tensors(ops.activation.selu)
celu = _on_tensors(ops.activation.celu)
silu = _on_tensors(ops.activation.silu)
mish = _on_tensors(ops.activation.mish)
softplus = _on_tensors(ops.activation.softplus)
softsign = _on_tensors(ops.activation.softsign)
hardtanh = _on_tensors(ops.activation.hardtanh)
relu6 = _on_tensors(ops.activation.relu6)
hardsigmoid = _on_tensors(ops.activation.hardsigmoid)
hardswish = _on_tensors(ops.activation.hardswish)
logsigmoid = _on_tensors(ops.activation.logsigmoid)
glu = _on_tensors(ops.activation.glu)
prelu = _on_tensors(ops.activation.prelu)
rrelu = _on_tensors(ops.activation.rrelu)
softmin = _on_tensors(ops.activation.softmin)
gelu = _on_tensors(ops.activation.gelu)
tanhshrink = _on_tensors(ops.activation.tanhshrink)
softshrink = _on_tensors(ops.activation.softshrink)
hardshrink = _on_tensors(ops.activation.hardshrink)
threshold = _on_tensors(ops.activation.threshold)

# losses (autograd/ops/losses.py)
smooth_l1_loss = _on_tensors(ops.losses.smooth_l1_loss)
huber_loss = _on_tensors(ops.losses.huber_loss)
kl_div = _on_tensors(ops.losses.kl_div)
cosine_embedding_loss = _on_tensors(ops.losses.cosine_embedding_loss)
margin_ranking_loss = _on_tensors(ops.losses.margin_ranking_loss)
hinge_embedding_loss = _on_tensors(ops.losses.hinge_embedding_loss)
soft_margin_loss = _on_tensors(ops.losses.soft_margin_loss)
multi_margin_loss = _on_tensors(ops.losses.multi_margin_loss)
poisson_nll_loss = _on_tensors(ops.losses.poisson_nll_loss)
gaussian_nll_loss = _on_tensors(ops.losses.gaussian_nll_loss)

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


__all__ = ["relu", "sigmoid", "tanh", "erf", "leaky_relu", "softmax", "log_softmax", "linear", "embedding",
           "mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
           "nll_loss", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
           "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "max_unpool2d", "pad", "interpolate", "unfold", "fold", "one_hot",
           "dropout", "dropout1d", "dropout2d", "alpha_dropout", "batch_norm", "instance_norm", "layer_norm",
           "group_norm", "normalize", "cosine_similarity", "pairwise_distance",
           "scaled_dot_product_attention", "elu", "selu", "celu", "silu", "mish", "softplus", "softsign",
           "hardtanh", "relu6", "hardsigmoid", "hardswish", "logsigmoid", "glu", "prelu", "rrelu", "softmin",
           "gelu", "tanhshrink", "softshrink", "hardshrink", "threshold", "smooth_l1_loss", "huber_loss",
           "kl_div", "cosine_embedding_loss", "margin_ranking_loss", "hinge_embedding_loss",
           "soft_margin_loss", "multi_margin_loss", "poisson_nll_loss", "gaussian_nll_loss"]
