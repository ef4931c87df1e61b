"""Layers, each the twin of the torch layer of the same name: same arguments, parameter names and
shapes, default initialisation and ``repr``."""
import math

import numpy as np

from autograd import Tensor, no_grad
from autograd.ops import nn_ops as _P

from . import functional as F
from . import init
from .functional import _pair
from .module import Module, Parameter, Sequential


def _empty(*shape):
    return Parameter(np.zeros(shape, dtype=np.float32))


def _uniform_bias(bias, fan_in):
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    init.uniform_(bias, -bound, bound)


class Identity(Module):
    def forward(self, x):
        return x


class Linear(Module):
    """``y = x @ weight.T + bias``; ``weight`` ``(out_features, in_features)``, ``bias``
    ``(out_features,)``. Initialised as torch: ``kaiming_uniform_(a=sqrt(5))``, i.e. U(-k, k) with
    ``k = 1/sqrt(in_features)``, for both."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = _empty(self.out_features, self.in_features)
        if bias:
            self.bias = _empty(self.out_features)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            _uniform_bias(self.bias, self.in_features)

    def forward(self, x):
        if type(x) is Tensor:  # the common case, straight to the primitive (it checks the shapes)
            b = self.bias
            return _P.Linear.apply(x, self.weight) if b is None else _P.Linear.apply(x, self.weight, b)
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Conv2d(Module):
    """2-D convolution (cross-correlation) of ``(N, C, H, W)`` inputs; ``weight``
    ``(out_channels, in_channels, kh, kw)``; torch's initialisation (fan_in = in_channels * kh * kw)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = _pair(padding, "padding")
        self.weight = _empty(self.out_channels, self.in_channels, *self.kernel_size)
        if bias:
            self.bias = _empty(self.out_channels)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            _uniform_bias(self.bias, self.in_channels * self.kernel_size[0] * self.kernel_size[1])

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.bias is None:
            s += ", bias=False"
        return s


class MaxPool2d(Module):
    """Max over ``kernel_size`` windows of ``(N, C, H, W)`` inputs; ``stride`` defaults to the kernel."""

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding=0, dilation=1, ceil_mode=False"


class Flatten(Module):
    """Flatten dims ``start_dim..end_dim`` (by default all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return F._tensor(x).flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by ``1/(1-p)``;
    the identity in eval mode. The mask comes from ``autograd``'s seeded generator."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = float(p)

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace=False"


class LayerNorm(Module):
    """Normalise over the last ``len(normalized_shape)`` dims, then scale by ``weight`` (ones) and
    shift by ``bias`` (zeros)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=np.float32))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=np.float32))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class BatchNorm1d(Module):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` inputs over all dims but ``C``.

    Training: normalise with the batch's biased variance, update ``running_mean``/``running_var`` (the
    latter with the unbiased variance) by ``momentum`` (``None``: cumulative average) and count
    ``num_batches_tracked``. Eval: normalise with the running statistics, or with the batch's when
    ``track_running_stats=False`` (there are none). As torch.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, *,
                 bias=True):
        super().__init__()
        self.num_features = int(num_features)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=np.float32))
            if bias:
                self.bias = Parameter(np.zeros(self.num_features, dtype=np.float32))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=np.float32))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=np.float32))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x):
        x = F._tensor(x)
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d({self.num_features}) expects input of shape (N, "
                             f"{self.num_features}) or (N, {self.num_features}, L), got {x.shape}")
        dims = (0,) if x.ndim == 2 else (0, 2)
        shape = (1, -1) if x.ndim == 2 else (1, -1, 1)
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            n = x.shape[0] * (x.shape[2] if x.ndim == 3 else 1)
            if n <= 1:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                                 f"{x.shape}")
            mean = x.mean(dims, keepdim=True)
            d = x - mean
            var = (d * d).mean(dims, keepdim=True)
            if self.training and self.track_running_stats:
                self._update_stats(mean.data.reshape(-1), var.data.reshape(-1) * (n / (n - 1)))
            y = d / (var + self.eps).sqrt()
        else:
            rm = self.running_mean.data.reshape(shape).astype(x.dtype, copy=False)
            rv = self.running_var.data.reshape(shape).astype(x.dtype, copy=False)
            y = (x - rm) * (1.0 / np.sqrt(rv + self.eps))
        if self.weight is not None:
            y = y * self.weight.reshape(shape)
        if self.bias is not None:
            y = y + self.bias.reshape(shape)
        return y

    def _update_stats(self, mean, var):
        with no_grad():
            self.num_batches_tracked.data = self.num_batches_tracked.data + 1
            m = 1.0 / float(self.num_batches_tracked.data) if self.momentum is None else self.momentum
            rm, rv = self.running_mean.data, self.running_var.data
            rm *= 1 - m
            rm += m * mean.astype(rm.dtype, copy=False)
            rv *= 1 - m
            rv += m * var.astype(rv.dtype, copy=False)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class Embedding(Module):
    """A lookup table: integer indices of any shape -> rows of ``weight``
    ``(num_embeddings, embedding_dim)``, initialised N(0, 1) as torch."""

    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.weight = _empty(self.num_embeddings, self.embedding_dim)
        init.normal_(self.weight)

    def forward(self, indices):
        return F.embedding(indices, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


# -- activations ------------------------------------------------------------------------------------
class ReLU(Module):
    def forward(self, x):
        return F.relu(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class GELU(Module):
    """``x * Phi(x)`` with the exact (erf) form; ``approximate="tanh"`` for the tanh formula."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Softmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, x):
        return F.log_softmax(x, self.dim)


def _linear_relu(linear, relu, x):
    """``relu(linear(x))`` as one node, unless either module's ``forward`` was replaced on the instance."""
    d = linear.__dict__
    if "forward" in d or "forward" in relu.__dict__:
        return relu(linear(x))
    if type(x) is Tensor:
        b = d["bias"]
        return _P.LinearRelu.apply(x, d["weight"]) if b is None else _P.LinearRelu.apply(x, d["weight"], b)
    return F._linear_relu(x, linear.weight, linear.bias)


Sequential._fusions[(Linear, ReLU)] = _linear_relu

_ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "gelu": GELU, "leaky_relu": LeakyReLU,
                "identity": Identity, "linear": Identity}


class MLP(Sequential):
    """``MLP([2, 16, 16, 1], activation="tanh")``: ``Linear``s of those widths with the activation
    between them and none after the last, as a ``Sequential`` (so keys are torch's ``"0.weight"``...).

    ``activation``: ``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"gelu"``, ``"leaky_relu"``, a ``Module``
    class or a zero-argument callable returning a module.
    """

    def __init__(self, sizes, activation="relu"):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP needs at least an input and an output size, got {sizes}")
        if isinstance(activation, str):
            if activation.lower() not in _ACTIVATIONS:
                raise ValueError(f"unknown activation {activation!r}; use one of {sorted(_ACTIVATIONS)}")
            make = _ACTIVATIONS[activation.lower()]
        elif callable(activation):
            make = activation
        else:
            raise TypeError(f"activation must be a name or a callable, got {type(activation).__name__}")
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(make())
        super().__init__(*layers)
        self.sizes = sizes


__all__ = ["Identity", "Linear", "Conv2d", "MaxPool2d", "Flatten", "Dropout", "LayerNorm", "BatchNorm1d",
           "Embedding", "ReLU", "Tanh", "Sigmoid", "GELU", "LeakyReLU", "Softmax", "LogSoftmax", "MLP"]
