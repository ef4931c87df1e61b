"""Layers, each the twin of the torch layer of the same name: same arguments, parameter names and
shapes, default initialisation and ``repr``."""
import copy
import math

import numpy as np

from autograd import Tensor, cat, no_grad, ops, stack
from autograd.ops import array as _array
from autograd.ops import rnn

from . import functional as F
from . import init
from .losses import _Loss
from .module import Module, ModuleList, Parameter, Sequential


def _empty(*shape):
    return Parameter(np.zeros(shape, dtype=np.float32))


def _uniform_bias(bias, fan_in):
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    init.uniform_(bias, -bound, bound)


class Identity(Module):
    """The input unchanged; accepts (and ignores) any arguments, as torch."""

    def __init__(self, *args, **kwargs):
        super().__init__()

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
        return ops.linear(x, self.weight, self.bias) if isinstance(x, Tensor) else F.linear(x, self.weight,
                                                                                             self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


def _tuple(v, nd):
    """An int or a sequence as an ``nd``-tuple of ints (torch's ``_single``/``_pair``)."""
    if isinstance(v, (tuple, list)):
        if len(v) != nd:
            raise ValueError(f"expected an int or {nd} ints, got {v!r}")
        return tuple(int(a) for a in v)
    return (int(v),) * nd


_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """The shared body of ``Conv1d``, ``Conv2d``, ``ConvTranspose1d`` and ``ConvTranspose2d``:
    torch's arguments, weight shape (``(out, in/groups, *k)``, transposed ``(in, out/groups, *k)``)
    and initialisation (``kaiming_uniform_(a=sqrt(5))``, bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)))."""

    _nd = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", output_padding=0):
        super().__init__()
        nd = self._nd
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        if self.groups < 1 or self.in_channels % self.groups:
            raise ValueError("in_channels must be divisible by groups")
        if self.out_channels % self.groups:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, but got "
                             f"padding_mode='{padding_mode}'")
        self.kernel_size, self.stride = _tuple(kernel_size, nd), _tuple(stride, nd)
        self.dilation, self.output_padding = _tuple(dilation, nd), _tuple(output_padding, nd)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
            if padding == "same" and max(self.stride) != 1:
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _tuple(padding, nd)
        self.padding_mode = padding_mode
        shape = ((self.in_channels, self.out_channels // self.groups) if self._transposed
                 else (self.out_channels, self.in_channels // self.groups))
        self.weight = _empty(*shape, *self.kernel_size)
        if bias:
            self.bias = _empty(self.out_channels)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            _uniform_bias(self.bias, init._calculate_fan_in_and_fan_out(self.weight)[0])

    def _explicit_padding(self):
        """``F.pad``'s argument for a non-zero ``padding_mode`` (last dim first, as F.pad wants)."""
        if self.padding == "valid":
            return (0,) * (2 * self._nd)
        if self.padding == "same":
            total = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            pairs = [(t // 2, t - t // 2) for t in total]
        else:
            pairs = [(p, p) for p in self.padding]
        return tuple(v for pair in reversed(pairs) for v in pair)

    def forward(self, x):
        conv = F.conv1d if self._nd == 1 else F.conv2d
        if self.padding_mode != "zeros":
            x = F.pad(x, self._explicit_padding(), mode=self.padding_mode)
            return conv(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return conv(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._nd:
            shown = repr(self.padding) if isinstance(self.padding, str) else self.padding
            s += f", padding={shown}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) of ``(N, C, H, W)`` inputs; ``weight``
    ``(out_channels, in_channels / groups, kh, kw)``; ``padding`` ints, ``"same"`` or ``"valid"``;
    ``padding_mode`` zeros, reflect, replicate or circular."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode)


class Conv1d(Conv2d):
    """1-D convolution of ``(N, C, L)`` inputs; ``weight`` ``(out_channels, in_channels / groups, k)``."""

    _nd = 1


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1,
                 bias=True, dilation=1, padding_mode="zeros"):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding)

    def forward(self, x, output_size=None):
        output_padding = self.output_padding
        if output_size is not None:  # torch's choice of output_padding for a requested size
            x = F._tensor(x)
            size = tuple(output_size)[-self._nd:]
            base = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
                    zip(x.shape[-self._nd:], self.stride, self.padding, self.dilation, self.kernel_size)]
            output_padding = tuple(int(o - b) for o, b in zip(size, base))
        conv = F.conv_transpose1d if self._nd == 1 else F.conv_transpose2d
        return conv(x, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups,
                    self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution; ``weight`` ``(in_channels, out_channels / groups, kh, kw)``."""


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution; ``weight`` ``(in_channels, out_channels / groups, k)``."""

    _nd = 1


# -- pooling ----------------------------------------------------------------------------------------
class _PoolNd(Module):
    """The window arguments of the pooling layers (``stride`` defaults to ``kernel_size``) and their
    other options, as attributes."""

    def __init__(self, kernel_size, stride, padding, **options):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        for name, value in options.items():
            setattr(self, name, value)


class _MaxPoolNd(_PoolNd):
    _fn = "max_pool2d"

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__(kernel_size, stride, padding, dilation=dilation, return_indices=return_indices,
                         ceil_mode=ceil_mode)

    def forward(self, x):
        return getattr(F, self._fn)(x, self.kernel_size, self.stride, self.padding, self.dilation,
                                    ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """Max over ``kernel_size`` windows of ``(N, C, H, W)`` inputs; ``stride`` defaults to the kernel."""


class MaxPool1d(_MaxPoolNd):
    """Max over ``kernel_size`` windows of ``(N, C, L)`` inputs; ``stride`` defaults to the kernel."""

    _fn = "max_pool1d"


class AvgPool2d(_PoolNd):
    """Mean over ``kernel_size`` windows of ``(N, C, H, W)`` inputs (see ``F.avg_pool2d``)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__(kernel_size, stride, padding, ceil_mode=ceil_mode,
                         count_include_pad=count_include_pad, divisor_override=divisor_override)

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(AvgPool2d):
    """Mean over ``kernel_size`` windows of ``(N, C, L)`` inputs (see ``F.avg_pool1d``)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__(_tuple(kernel_size, 1), None if stride is None else _tuple(stride, 1),
                         _tuple(padding, 1), ceil_mode, count_include_pad)

    def forward(self, x):
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class AdaptiveAvgPool2d(Module):
    """Mean over torch's adaptive windows to ``output_size`` (an int, a pair, ``None`` keeps a dim)."""

    _fn = "adaptive_avg_pool2d"

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return getattr(F, self._fn)(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    _fn = "adaptive_avg_pool1d"


class AdaptiveMaxPool2d(AdaptiveAvgPool2d):
    """Max over torch's adaptive windows to ``output_size``; ``return_indices`` as torch."""

    _fn = "adaptive_max_pool2d"

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, x):
        return getattr(F, self._fn)(x, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    _fn = "adaptive_max_pool1d"


class MaxUnpool2d(Module):
    """The inverse of ``MaxPool2d``: ``forward(input, indices, output_size=None)``."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _tuple(kernel_size, 2)
        self.stride = self.kernel_size if stride is None else _tuple(stride, 2)
        self.padding = _tuple(padding, 2)

    def forward(self, x, indices, output_size=None):
        return F.max_unpool2d(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

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
                self._update_stats(_array(mean).reshape(-1), _array(var).reshape(-1) * (n / (n - 1)))
            y = d / (var + self.eps).sqrt()
        else:
            rm = _array(self.running_mean).reshape(shape).astype(x.dtype, copy=False)
            rv = _array(self.running_var).reshape(shape).astype(x.dtype, copy=False)
            y = (x - rm) * (1.0 / np.sqrt(rv + self.eps))
        if self.weight is not None:
            y = y * self.weight.reshape(shape)
        if self.bias is not None:
            y = y + self.bias.reshape(shape)
        return y

    def _update_stats(self, mean, var):
        with no_grad():
            self.num_batches_tracked.data = _array(self.num_batches_tracked) + 1
            m = 1.0 / float(_array(self.num_batches_tracked)) if self.momentum is None else self.momentum
            rm, rv = _array(self.running_mean), _array(self.running_var)
            rm *= 1 - m
            rm += m * mean.astype(rm.dtype, copy=False)
            rv *= 1 - m
            rv += m * var.astype(rv.dtype, copy=False)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class Embedding(Module):
    """A lookup table: integer indices of any shape -> rows of ``weight``
    ``(num_embeddings, embedding_dim)``, initialised N(0, 1) as torch (row ``padding_idx`` zero, and it
    gets no gradient); ``max_norm`` renormalises the rows looked up."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False):
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = padding_idx % self.num_embeddings
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = _empty(self.num_embeddings, self.embedding_dim)
            self.reset_parameters()
        else:
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight.detach().numpy()[self.padding_idx] = 0

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx, self.max_norm, self.norm_type)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        return s


# -- activations ------------------------------------------------------------------------------------
class ReLU(Module):
    def forward(self, x):
        return x.relu() if isinstance(x, Tensor) else F.relu(x)


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


# -- normalisation ----------------------------------------------------------------------------------
class _NormBase(Module):
    """Affine ``weight`` (ones) and ``bias`` (zeros) of ``num_features``, and, when tracked, torch's
    running statistics buffers."""

    def _affine_params(self, n, affine, bias=True):
        if affine:
            self.weight = Parameter(np.ones(n, dtype=np.float32))
            if bias:
                self.bias = Parameter(np.zeros(n, dtype=np.float32))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def _features(self, num_features, eps, momentum, affine, track_running_stats):
        """The settings, affine parameters and running buffers of a per-feature norm."""
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self._affine_params(self.num_features, affine)
        self._running_buffers(self.num_features, track_running_stats)

    def _running_buffers(self, n, track):
        if track:
            self.register_buffer("running_mean", np.zeros(n, dtype=np.float32))
            self.register_buffer("running_var", np.ones(n, dtype=np.float32))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def _momentum(self):
        """torch's averaging factor: ``momentum``, or ``1 / num_batches_tracked`` when it is None."""
        if self.training and self.track_running_stats:
            self.num_batches_tracked.detach().numpy()[...] += 1
            if self.momentum is None:
                return 1.0 / float(self.num_batches_tracked.detach().numpy())
        return 0.0 if self.momentum is None else self.momentum

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm2d(_NormBase):
    """Batch normalisation of ``(N, C, H, W)`` inputs per channel (see ``BatchNorm1d``)."""

    _dims = (4,)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self._features(num_features, eps, momentum, affine, track_running_stats)

    def forward(self, x):
        x = F._tensor(x)
        if x.ndim not in self._dims:
            raise ValueError(f"expected {' or '.join(f'{d}D' for d in self._dims)} input "
                             f"(got {x.ndim}D input)")
        momentum = self._momentum()
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if track else None, self.running_var if track else None,
                            self.weight, self.bias, use_batch, momentum, self.eps)


class GroupNorm(_NormBase):
    """Normalise ``(N, C, *)`` over groups of ``C / num_groups`` channels; per-channel affine."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = eps, affine
        self._affine_params(self.num_channels, affine)

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class InstanceNorm2d(_NormBase):
    """Normalise each ``(n, c)`` plane of ``(N, C, H, W)`` (or unbatched ``(C, H, W)``); no affine and
    no running statistics by default, as torch."""

    _nd = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False):
        super().__init__()
        self._features(num_features, eps, momentum, affine, track_running_stats)

    def forward(self, x):
        x = F._tensor(x)
        if x.ndim not in (self._nd + 1, self._nd + 2):
            raise ValueError(f"expected {self._nd + 1}D or {self._nd + 2}D input (got {x.ndim}D input)")
        unbatched = x.ndim == self._nd + 1
        if unbatched:
            x = x.unsqueeze(0)
        momentum = 0.0 if self.momentum is None else self.momentum  # torch counts no batches here
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats, momentum, self.eps)
        return out[0] if unbatched else out


class InstanceNorm1d(InstanceNorm2d):
    """Normalise each ``(n, c)`` row of ``(N, C, L)`` (see ``InstanceNorm2d``)."""

    _nd = 1


# -- activations with arguments ---------------------------------------------------------------------
def _activation(name, fn, doc, **defaults):
    """A module class calling ``F.<fn>(x, **arguments)`` (torch's argument names and defaults)."""
    keys = list(defaults)

    def __init__(self, *args, inplace=False, **kwargs):
        Module.__init__(self)
        if len(args) > len(keys):
            raise TypeError(f"{name}() takes at most {len(keys)} positional arguments")
        values = dict(defaults)
        values.update(zip(keys, args))
        for k, v in kwargs.items():
            if k not in values:
                raise TypeError(f"{name}() got an unexpected keyword argument {k!r}")
            values[k] = v
        self._kw = values
        for k, v in values.items():
            self.__dict__[k] = v

    def forward(self, x):
        return getattr(F, fn)(x, **{k: getattr(self, k) for k in keys})

    def extra_repr(self):
        return ", ".join(f"{k}={getattr(self, k)}" for k in keys)

    return type(name, (Module,), dict(__init__=__init__, forward=forward, extra_repr=extra_repr, __doc__=doc,
                                      __module__=__name__, __qualname__=name))


ELU = _activation("ELU", "elu", "``x`` if positive, else ``alpha (exp(x) - 1)``.", alpha=1.0)
SELU = _activation("SELU", "selu", "``scale * elu(x, alpha)`` (self-normalising constants).")
CELU = _activation("CELU", "celu", "``max(0, x) + min(0, alpha (exp(x / alpha) - 1))``.", alpha=1.0)
SiLU = _activation("SiLU", "silu", "``x * sigmoid(x)``.")
Mish = _activation("Mish", "mish", "``x * tanh(softplus(x))``.")
Softplus = _activation("Softplus", "softplus", "``log(1 + exp(beta x)) / beta`` (linear above threshold).",
                       beta=1.0, threshold=20.0)
Softsign = _activation("Softsign", "softsign", "``x / (1 + |x|)``.")
Hardtanh = _activation("Hardtanh", "hardtanh", "``x`` clamped to ``[min_val, max_val]``.", min_val=-1.0,
                       max_val=1.0)
ReLU6 = _activation("ReLU6", "relu6", "``min(max(x, 0), 6)``.")
Hardsigmoid = _activation("Hardsigmoid", "hardsigmoid", "``relu6(x + 3) / 6``.")
Hardswish = _activation("Hardswish", "hardswish", "``x * relu6(x + 3) / 6``.")
LogSigmoid = _activation("LogSigmoid", "logsigmoid", "``log(sigmoid(x))``, stable.")
GLU = _activation("GLU", "glu", "``a * sigmoid(b)`` for the halves of the input along ``dim``.", dim=-1)
RReLU = _activation("RReLU", "rrelu", "Leaky ReLU with a random slope in training, the mean slope in eval.",
                    lower=1.0 / 8, upper=1.0 / 3)
RReLU.forward = lambda self, x: F.rrelu(x, self.lower, self.upper, self.training)
Softmin = _activation("Softmin", "softmin", "``softmax(-x)`` along ``dim``.", dim=None)
Tanhshrink = _activation("Tanhshrink", "tanhshrink", "``x - tanh(x)``.")
Softshrink = _activation("Softshrink", "softshrink", "Shrink towards 0 by ``lambd``.", lambd=0.5)
Hardshrink = _activation("Hardshrink", "hardshrink", "``x`` where ``|x| > lambd``, else 0.", lambd=0.5)
Threshold = _activation("Threshold", "threshold", "``x`` where ``x > threshold``, else ``value``.",
                        threshold=0.0, value=0.0)
CosineSimilarity = _activation("CosineSimilarity", "cosine_similarity", "Cosine similarity along ``dim``.",
                               dim=1, eps=1e-8)
CosineSimilarity.forward = lambda self, x1, x2: F.cosine_similarity(x1, x2, self.dim, self.eps)
PairwiseDistance = _activation("PairwiseDistance", "pairwise_distance", "``||x1 - x2 + eps||_p``.", p=2.0,
                               eps=1e-6, keepdim=False)
PairwiseDistance.forward = lambda self, x1, x2: F.pairwise_distance(x1, x2, self.p, self.eps, self.keepdim)


class PReLU(Module):
    """``x`` where positive, ``weight * x`` elsewhere; ``weight`` ``(num_parameters,)`` filled with
    ``init``."""

    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        self.num_parameters, self.init = int(num_parameters), init
        self.weight = Parameter(np.full(self.num_parameters, init, dtype=np.float32))

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class _DropoutNd(Dropout):
    _fn = "dropout1d"

    def forward(self, x):
        return getattr(F, self._fn)(x, self.p, self.training)


class Dropout1d(_DropoutNd):
    """Zero whole channels of ``(N, C, L)`` with probability ``p`` in training."""


class Dropout2d(_DropoutNd):
    """Zero whole channels of ``(N, C, H, W)`` with probability ``p`` in training."""

    _fn = "dropout2d"


class AlphaDropout(_DropoutNd):
    """Dropout keeping SELU's self-normalisation (the identity in eval)."""

    _fn = "alpha_dropout"


# -- shapes and resizing ----------------------------------------------------------------------------
class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        x = F._tensor(x)
        d = self.dim % x.ndim
        return x.reshape(x.shape[:d] + self.unflattened_size + x.shape[d + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Upsample(Module):
    """``F.interpolate`` as a layer: ``size`` or ``scale_factor``, ``mode``, ``align_corners``."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, x):
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self):
        what = f"size={self.size}" if self.size is not None else f"scale_factor={float(self.scale_factor)}"
        return f"{what}, mode='{self.mode}'"


class Unfold(Module):
    """``F.unfold`` as a layer."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, x):
        return F.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)


class Fold(Unfold):
    """``F.fold`` as a layer."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, x):
        return F.fold(x, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)


class _PadNd(Module):
    _mode, _nd = "constant", 2

    def __init__(self, padding, value=0.0):
        super().__init__()
        self.padding = _tuple(padding, 2 * self._nd)
        self.value = value

    def forward(self, x):
        if self._mode == "constant":
            return F.pad(x, self.padding, value=self.value)
        return F.pad(x, self.padding, mode=self._mode)

    def extra_repr(self):
        return f"{self.padding}" + (f", value={self.value}" if self._mode == "constant" else "")


def _pad_layer(name, mode, nd, constant=False):
    if constant:
        def __init__(self, padding, value):
            _PadNd.__init__(self, padding, value)
    elif mode == "constant":  # ZeroPad
        def __init__(self, padding):
            _PadNd.__init__(self, padding, 0.0)
    else:
        def __init__(self, padding):
            _PadNd.__init__(self, padding)
    return type(name, (_PadNd,), dict(_mode=mode, _nd=nd, __init__=__init__, __module__=__name__,
                                      __qualname__=name, __doc__=f"``F.pad`` with mode {mode!r} on the last "
                                      f"{nd} dim(s)."))


ZeroPad1d, ZeroPad2d = _pad_layer("ZeroPad1d", "constant", 1), _pad_layer("ZeroPad2d", "constant", 2)
ConstantPad1d = _pad_layer("ConstantPad1d", "constant", 1, constant=True)
ConstantPad2d = _pad_layer("ConstantPad2d", "constant", 2, constant=True)
ReflectionPad1d, ReflectionPad2d = _pad_layer("ReflectionPad1d", "reflect", 1), _pad_layer("ReflectionPad2d",
                                                                                        "reflect", 2)
ReplicationPad1d = _pad_layer("ReplicationPad1d", "replicate", 1)
ReplicationPad2d = _pad_layer("ReplicationPad2d", "replicate", 2)
CircularPad1d, CircularPad2d = _pad_layer("CircularPad1d", "circular", 1), _pad_layer("CircularPad2d",
                                                                                      "circular", 2)


class Bilinear(Module):
    """``y = x1^T A x2 + b``: ``weight`` ``(out, in1, in2)``, ``bias`` ``(out,)``, both
    U(-1/sqrt(in1), 1/sqrt(in1)) as torch."""

    def __init__(self, in1_features, in2_features, out_features, bias=True):
        super().__init__()
        self.in1_features, self.in2_features = int(in1_features), int(in2_features)
        self.out_features = int(out_features)
        self.weight = _empty(self.out_features, self.in1_features, self.in2_features)
        if bias:
            self.bias = _empty(self.out_features)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        x1, x2 = F._tensor(input1), F._tensor(input2)
        lead = x1.shape[:-1]
        a = x1.reshape(-1, 1, 1, self.in1_features) @ self.weight  # (M, out, 1, in2)
        a = a.reshape(-1, self.out_features, self.in2_features)
        y = (a * x2.reshape(-1, 1, self.in2_features)).sum(-1)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(lead + (self.out_features,))

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


# -- recurrent layers -------------------------------------------------------------------------------
def _rnn_step(mode, x_gates, h, w_hh, b_hh, c=None):
    """One time step: ``x_gates`` = ``x W_ih^T + b_ih`` ``(N, G*H)``, ``h`` ``(N, H)`` -> new ``h``
    (and ``c`` for LSTM), with torch's gate order (LSTM i f g o; GRU r z n)."""
    return rnn.step(mode, x_gates, h, c, w_hh, b_hh)[:2]


_GATES = rnn.GATES


class RNNBase(Module):
    """Multi-layer (bidirectional) RNN/LSTM/GRU with torch's arguments, parameter names
    (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``..._reverse``) and
    initialisation U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)). The input projection of a whole
    sequence is one matrix product; the recurrence loops over time steps."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False):
        super().__init__()
        if not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if int(hidden_size) < 1 or int(num_layers) < 1:
            raise ValueError(f"hidden_size and num_layers must be positive, got {hidden_size} and "
                             f"{num_layers}")
        self.mode, self.input_size, self.hidden_size = mode, int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = int(num_layers), bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        gates = _GATES[mode] * self.hidden_size
        dirs = 2 if bidirectional else 1
        for layer in range(self.num_layers):
            n_in = self.input_size if layer == 0 else self.hidden_size * dirs
            for suffix in ("", "_reverse")[:dirs]:
                setattr(self, f"weight_ih_l{layer}{suffix}", _empty(gates, n_in))
                setattr(self, f"weight_hh_l{layer}{suffix}", _empty(gates, self.hidden_size))
                if bias:
                    setattr(self, f"bias_ih_l{layer}{suffix}", _empty(gates))
                    setattr(self, f"bias_hh_l{layer}{suffix}", _empty(gates))
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _params(self, layer, suffix):
        get = self.__dict__.get
        return (get(f"weight_ih_l{layer}{suffix}"), get(f"weight_hh_l{layer}{suffix}"),
                get(f"bias_ih_l{layer}{suffix}"), get(f"bias_hh_l{layer}{suffix}"))

    def _initial(self, hx, n, dtype):
        dirs = 2 if self.bidirectional else 1
        shape = (self.num_layers * dirs, n, self.hidden_size)
        if hx is None:
            from autograd import Tensor
            zero = Tensor(np.zeros(shape, dtype=dtype))
            return (zero, zero) if self.mode == "LSTM" else (zero, None)
        if self.mode == "LSTM":
            h0, c0 = (F._tensor(t) for t in hx)
        else:
            h0, c0 = F._tensor(hx), None
        for t in (h0, c0):
            if t is not None and tuple(t.shape) != shape:
                raise RuntimeError(f"Expected hidden size {shape}, got {tuple(t.shape)}")
        return h0, c0

    def _direction(self, x, layer, suffix, h, c):
        """Run one direction of one layer over ``x`` ``(L, N, in)``: outputs ``(L, N, H)``, ``h``, ``c``.
        The input projection of the whole sequence is one product, the recurrence one node."""
        w_ih, w_hh, b_ih, b_hh = self._params(layer, suffix)
        inputs = [F.linear(x, w_ih, b_ih), w_hh, h] + ([c] if c is not None else []) + (
            [b_hh] if b_hh is not None else [])
        y = rnn.Recurrence.apply(*inputs, mode=self.mode, reverse=bool(suffix), bias=b_hh is not None)
        last = 0 if suffix else x.shape[0] - 1
        if c is None:
            return y, y[last], None
        return y[:-1], y[last], y[-1]  # LSTM: the final c follows the steps' h

    def forward(self, input, hx=None):
        x = F._tensor(input)
        if x.ndim not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got {x.ndim}D instead "
                             f"(shape {x.shape})")
        unbatched = x.ndim == 2
        if unbatched:
            x = x.unsqueeze(1)
            if hx is not None:
                hx = (tuple(F._tensor(t).unsqueeze(1) for t in hx) if self.mode == "LSTM"
                      else F._tensor(hx).unsqueeze(1))
        elif self.batch_first:
            x = x.transpose(0, 1)
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{x.shape[-1]}")
        h0, c0 = self._initial(hx, x.shape[1], x.dtype)
        dirs = 2 if self.bidirectional else 1
        hs, cs = [], []
        for layer in range(self.num_layers):
            outs = []
            for d, suffix in enumerate(("", "_reverse")[:dirs]):
                k = layer * dirs + d
                out, h, c = self._direction(x, layer, suffix, h0[k], None if c0 is None else c0[k])
                outs.append(out)
                hs.append(h)
                cs.append(c)
            x = outs[0] if dirs == 1 else cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        h_n = stack(hs, 0)
        if unbatched:
            out, h_n = x[:, 0], h_n[:, 0]
        else:
            out = x.transpose(0, 1) if self.batch_first else x
        if self.mode != "LSTM":
            return out, h_n
        c_n = stack(cs, 0)
        return out, (h_n, c_n[:, 0] if unbatched else c_n)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN, ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (``nonlinearity="relu"`` too)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False,
                 dropout=0.0, bidirectional=False):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_" + nonlinearity.upper(), input_size, hidden_size, num_layers, bias,
                         batch_first,
                         dropout, bidirectional)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory: returns ``output, (h_n, c_n)``; gates i, f, g, o as torch."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional)


class GRU(RNNBase):
    """Gated recurrent unit: gates r, z, n as torch, ``h' = (1 - z) n + z h``."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional)


class RNNCellBase(Module):
    """One step of an RNN/LSTM/GRU: ``weight_ih`` ``(G*H, in)``, ``weight_hh`` ``(G*H, H)``, biases; torch's
    initialisation U(-1/sqrt(H), 1/sqrt(H))."""

    _mode = "LSTM"

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bias
        gates = _GATES[self._mode] * self.hidden_size
        self.weight_ih = _empty(gates, self.input_size)
        self.weight_hh = _empty(gates, self.hidden_size)
        if bias:
            self.bias_ih, self.bias_hh = _empty(gates), _empty(gates)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        RNNBase.reset_parameters(self)

    def forward(self, input, hx=None):
        x = F._tensor(input)
        if x.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {x.ndim}D instead")
        unbatched = x.ndim == 1
        if unbatched:
            x = x.unsqueeze(0)
        lstm = self._mode == "LSTM"
        if hx is None:
            from autograd import Tensor
            zero = Tensor(np.zeros((x.shape[0], self.hidden_size), dtype=x.dtype))
            h, c = zero, zero if lstm else None
        else:
            h, c = ((F._tensor(hx[0]), F._tensor(hx[1])) if lstm else (F._tensor(hx), None))
            if unbatched:
                h, c = h.unsqueeze(0), None if c is None else c.unsqueeze(0)
        h, c = _rnn_step(self._mode, F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh,
                         self.bias_hh, c)
        if unbatched:
            h, c = h[0], None if c is None else c[0]
        return (h, c) if lstm else h

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class LSTMCell(RNNCellBase):
    """One LSTM step: ``(h', c') = cell(x, (h, c))``."""


class GRUCell(RNNCellBase):
    """One GRU step: ``h' = cell(x, h)``."""

    _mode = "GRU"


class RNNCell(RNNCellBase):
    """One Elman RNN step: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.__dict__["_mode"] = "RNN_" + nonlinearity.upper()
        super().__init__(input_size, hidden_size, bias)
        self.nonlinearity = nonlinearity


# -- attention --------------------------------------------------------------------------------------
def _as_tensor_mask(mask):
    return None if mask is None else np.asarray(mask.detach().numpy() if hasattr(mask, "detach") and
                                                not isinstance(mask, np.ndarray) else mask)


class MultiheadAttention(Module):
    """torch's multi-head attention: ``in_proj_weight`` ``(3E, E)`` (xavier uniform), ``in_proj_bias``
    (zeros), ``out_proj`` a ``Linear(E, E)`` (bias zeros). ``forward(query, key, value,
    key_padding_mask=None, need_weights=True, attn_mask=None, average_attn_weights=True,
    is_causal=False)`` -> ``(output, weights or None)``; bool masks are True where attention is NOT
    allowed, float masks are added."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False):
        super().__init__()
        if add_bias_kv or add_zero_attn or (kdim not in (None, embed_dim)) or (vdim not in (None, embed_dim)):
            raise NotImplementedError("MultiheadAttention: add_bias_kv, add_zero_attn and kdim/vdim != "
                                      "embed_dim "
                                      "are not supported")
        self.embed_dim, self.num_heads, self.dropout = int(embed_dim), int(num_heads), float(dropout)
        self.batch_first, self.head_dim = batch_first, self.embed_dim // self.num_heads
        if self.head_dim * self.num_heads != self.embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        self.in_proj_weight = _empty(3 * self.embed_dim, self.embed_dim)
        if bias:
            self.in_proj_bias = _empty(3 * self.embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(self.embed_dim, self.embed_dim, bias=bias)
        init.xavier_uniform_(self.in_proj_weight)
        if bias:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _heads(self, x, part):
        """Project ``x`` ``(N, L, E)`` with the ``part``-th third of the in-projection -> ``(N, h, L, d)``."""
        e = self.embed_dim
        w = self.in_proj_weight[part * e:(part + 1) * e]
        b = None if self.in_proj_bias is None else self.in_proj_bias[part * e:(part + 1) * e]
        n, length = x.shape[:2]
        return F.linear(x, w, b).reshape(n, length, self.num_heads, self.head_dim).transpose(1, 2)

    def _mask(self, attn_mask, key_padding_mask, n, n_q, n_k, dtype, is_causal):
        """The additive mask ``(N or 1, h or 1, L, S)`` (-inf where not allowed), or None."""
        add = None
        if attn_mask is None and is_causal:
            attn_mask = ~np.tril(np.ones((n_q, n_k), dtype=bool))
        for m, shape in ((_as_tensor_mask(attn_mask), None), (_as_tensor_mask(key_padding_mask), (n, 1, 1,
                                                                                                  n_k))):
            if m is None:
                continue
            m = np.where(m, -np.inf, 0.0).astype(dtype) if m.dtype == np.bool_ else m.astype(dtype)
            if shape is None:
                m = m.reshape((1, 1, n_q, n_k)) if m.ndim == 2 else m.reshape(n, self.num_heads, n_q, n_k)
            else:
                m = m.reshape(shape)
            add = m if add is None else add + m
        return add

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        q, k, v = (F._tensor(t) for t in (query, key, value))
        unbatched = q.ndim == 2
        if unbatched:
            q, k, v = q.unsqueeze(0), k.unsqueeze(0), v.unsqueeze(0)
            key_padding_mask = None if key_padding_mask is None else _as_tensor_mask(key_padding_mask)[None]
        elif not self.batch_first:
            q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
        if q.ndim != 3 or q.shape[-1] != self.embed_dim:
            raise RuntimeError(f"MultiheadAttention: expected query of shape (L, N, {self.embed_dim}), got "
                               f"{tuple(query.shape)}")
        n, n_q, n_k = q.shape[0], q.shape[1], k.shape[1]
        qh, kh, vh = self._heads(q, 0), self._heads(k, 1), self._heads(v, 2)
        scores = (qh @ kh.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
        mask = self._mask(attn_mask, key_padding_mask, n, n_q, n_k, scores.dtype, is_causal)
        if mask is not None:
            scores = scores + mask
        attn = scores.softmax(-1)
        if self.dropout and self.training:
            attn = F.dropout(attn, self.dropout, True)
        out = (attn @ vh).transpose(1, 2).reshape(n, n_q, self.embed_dim)
        out = self.out_proj(out)
        if unbatched:
            out = out[0]
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        weights = attn.mean(1) if average_attn_weights else attn
        return out, weights[0] if unbatched else weights


class TransformerEncoderLayer(Module):
    """torch's encoder layer: self-attention and a feed-forward block (``linear1``, ``activation``,
    ``linear2``), each with dropout and a residual, LayerNorm after (or before, ``norm_first``)."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1, self.dropout2 = Dropout(dropout), Dropout(dropout)
        if isinstance(activation, str):
            if activation not in ("relu", "gelu"):
                raise RuntimeError(f"activation should be relu/gelu, not {activation}")
            activation = F.relu if activation == "relu" else F.gelu
        self.activation = activation

    def _sa(self, x, mask, key_padding_mask, is_causal):
        out = self.self_attn(x, x, x, attn_mask=mask, key_padding_mask=key_padding_mask, need_weights=False,
                             is_causal=is_causal and mask is None)[0]
        return self.dropout1(out)

    def _ff(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = F._tensor(src)
        if self.norm_first:
            x = x + self._sa(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff(self.norm2(x))
        x = self.norm1(x + self._sa(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff(x))


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (``layers.0``, ...) and an optional final ``norm``."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(int(num_layers))])
        self.num_layers = int(num_layers)
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        x = src
        for mod in self.layers:
            x = mod(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return x if self.norm is None else self.norm(x)


# -- losses (the modules of the losses in autograd/ops/losses.py beyond nn/losses.py) ---------------
class SmoothL1Loss(_Loss):
    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """``kl_div`` on log-probabilities ``input``; ``reduction="batchmean"`` is the KL divergence."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        Module.__init__(self)
        if reduction not in ("mean", "sum", "none", "batchmean"):
            raise ValueError(f"{reduction} is not a valid value for reduction")
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class _MarginLoss(_Loss):
    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(reduction)
        self.margin = margin


class CosineEmbeddingLoss(_MarginLoss):
    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, self.margin, reduction=self.reduction)


class MarginRankingLoss(_MarginLoss):
    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_MarginLoss):
    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(margin, reduction=reduction)

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(reduction)

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiMarginLoss(_Loss):
    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        self.p, self.margin, self.weight = p, margin, weight

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                 reduction="mean"):
        super().__init__(reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps,
                                  reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


__all__ = ["Identity", "Linear", "Conv2d", "Conv1d", "ConvTranspose2d", "ConvTranspose1d", "MaxPool2d",
           "MaxPool1d", "AvgPool2d", "AvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool1d",
           "AdaptiveMaxPool2d", "AdaptiveMaxPool1d", "MaxUnpool2d", "Flatten", "Dropout", "LayerNorm",
           "BatchNorm1d", "Embedding", "ReLU", "Tanh", "Sigmoid", "GELU", "LeakyReLU", "Softmax",
           "LogSoftmax", "MLP", "BatchNorm2d", "GroupNorm", "InstanceNorm2d", "InstanceNorm1d", "PReLU",
           "Dropout1d", "Dropout2d", "AlphaDropout", "Unflatten", "Upsample", "Unfold", "Fold", "Bilinear",
           "RNN", "LSTM", "GRU", "LSTMCell", "GRUCell", "RNNCell", "MultiheadAttention",
           "TransformerEncoderLayer", "TransformerEncoder", "SmoothL1Loss", "HuberLoss", "KLDivLoss",
           "CosineEmbeddingLoss", "MarginRankingLoss", "HingeEmbeddingLoss", "SoftMarginLoss",
           "MultiMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss", "ELU", "SELU", "CELU", "SiLU", "Mish",
           "Softplus", "Softsign", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "LogSigmoid", "GLU",
           "RReLU", "Softmin", "Tanhshrink", "Softshrink", "Hardshrink", "Threshold", "CosineSimilarity",
           "PairwiseDistance", "ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d",
           "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d", "CircularPad2d"]
