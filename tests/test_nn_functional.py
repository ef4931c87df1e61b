"""Every ``nn.functional`` function against ``torch.nn.functional`` in float64: outputs, input
gradients and second-order gradients (``assert_grads_match_torch``), table-driven; then argument
errors (torch's exception types) and the random functions' statistics."""
import numpy as np
import pytest

import nn
from autograd import Tensor
from autograd.testing import assert_grads_match_torch

torch = pytest.importorskip("torch")
TF = torch.nn.functional

R = np.random.default_rng(1313)


def rn(*shape):
    return R.standard_normal(shape)


def away(*shape, lo=0.2, hi=2.0):
    """Values with |x| in [lo, hi]: away from the kinks."""
    return R.uniform(lo, hi, shape) * R.choice([-1.0, 1.0], shape)


def pos(*shape):
    return R.uniform(0.5, 2.0, shape)


def distinct(*shape):
    """A permutation of spaced values: no ties inside a pooling window."""
    return R.permutation(np.arange(int(np.prod(shape)), dtype=np.float64)).reshape(shape) * 0.1 - 1.0


def F(x):
    """``torch.nn.functional`` for torch tensors, ``nn.functional`` for ours."""
    return TF if isinstance(x, torch.Tensor) else nn.functional


def C(x, a):
    """The constant array ``a`` (no gradient) in ``x``'s library."""
    return torch.tensor(a) if isinstance(x, torch.Tensor) else Tensor(a)


CASES = []


def case(name, fn, *arrays, second=True, rtol=1e-6):
    CASES.append(pytest.param(fn, arrays, second, rtol, id=name))


# -- pad --------------------------------------------------------------------------------------------
for mode in ("constant", "reflect", "replicate", "circular"):
    case(f"pad-{mode}-1d", lambda x, m=mode: F(x).pad(x, (2, 1), mode=m), rn(2, 3, 5))
    case(f"pad-{mode}-2d", lambda x, m=mode: F(x).pad(x, (1, 2, 2, 0), mode=m), rn(2, 2, 4, 5))
    case(f"pad-{mode}-3d", lambda x, m=mode: F(x).pad(x, (1, 1, 0, 2, 1, 0), mode=m), rn(1, 2, 3, 4, 3))
case("pad-constant-value", lambda x: F(x).pad(x, (1, 2), value=-1.5), rn(3, 4))
case("pad-constant-negative", lambda x: F(x).pad(x, (-1, 2, 1, -2)), rn(2, 5, 6))
case("pad-constant-4dims", lambda x: F(x).pad(x, (1, 0, 0, 1, 1, 1, 2, 0)), rn(2, 2, 2, 2))

# -- convolutions -----------------------------------------------------------------------------------
case("conv2d-groups", lambda x, w, b: F(x).conv2d(x, w, b, groups=2), rn(2, 4, 5, 5), rn(6, 2, 3, 3), rn(6))
case("conv2d-dilation", lambda x, w: F(x).conv2d(x, w, dilation=2, padding=1), rn(2, 3, 7, 6), rn(4, 3, 3, 2))
case("conv2d-strided-grouped",
     lambda x, w, b: F(x).conv2d(x, w, b, stride=(2, 1), padding=(1, 2), groups=3, dilation=(1, 2)),
     rn(2, 6, 7, 8), rn(3, 2, 3, 3), rn(3))
case("conv2d-depthwise", lambda x, w: F(x).conv2d(x, w, groups=4, stride=2), rn(2, 4, 6, 6), rn(8, 1, 3, 3))
case("conv2d-same-odd", lambda x, w: F(x).conv2d(x, w, padding="same"), rn(1, 2, 5, 6), rn(3, 2, 2, 4))
case("conv2d-same-dilated", lambda x, w: F(x).conv2d(x, w, padding="same", dilation=2), rn(1, 2, 6, 6),
     rn(2, 2, 3, 3))
case("conv2d-valid", lambda x, w: F(x).conv2d(x, w, padding="valid"), rn(1, 2, 5, 6), rn(3, 2, 2, 4))
case("conv2d-unbatched", lambda x, w: F(x).conv2d(x, w, stride=2), rn(2, 5, 5), rn(3, 2, 3, 3))
case("conv1d", lambda x, w, b: F(x).conv1d(x, w, b, stride=2, padding=1), rn(2, 3, 9), rn(4, 3, 3), rn(4))
case("conv1d-groups-dilation", lambda x, w: F(x).conv1d(x, w, groups=2, dilation=3), rn(2, 4, 12),
     rn(6, 2, 3))
case("conv1d-same", lambda x, w: F(x).conv1d(x, w, padding="same"), rn(2, 2, 7), rn(3, 2, 4))
case("conv1d-unbatched", lambda x, w: F(x).conv1d(x, w), rn(2, 7), rn(3, 2, 4))
case("conv_transpose2d",
     lambda x, w, b: F(x).conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
     rn(2, 3, 4, 3), rn(3, 2, 3, 3), rn(2))
case("conv_transpose2d-groups-dilation", lambda x, w: F(x).conv_transpose2d(x, w, stride=(1, 2), groups=2,
                                                                           dilation=(2, 1)),
     rn(2, 4, 3, 4), rn(4, 3, 2, 3))
case("conv_transpose1d",
     lambda x, w, b: F(x).conv_transpose1d(x, w, b, stride=3, padding=1, output_padding=2),
     rn(2, 2, 5), rn(2, 3, 4), rn(3))
case("conv_transpose1d-groups", lambda x, w: F(x).conv_transpose1d(x, w, groups=2, dilation=2), rn(1, 4, 5),
     rn(4, 1, 3))

# -- pooling ----------------------------------------------------------------------------------------
case("max_pool2d-overlap-one-dim", lambda x: F(x).max_pool2d(x, 2, stride=(2, 1)), distinct(2, 3, 6, 5))
case("max_pool2d-overlap-other-dim", lambda x: F(x).max_pool2d(x, 2, stride=(1, 2)), distinct(2, 2, 5, 6))
case("max_pool2d-padding", lambda x: F(x).max_pool2d(x, 3, stride=2, padding=1), distinct(2, 2, 7, 6))
case("max_pool2d-dilation", lambda x: F(x).max_pool2d(x, 2, stride=1, dilation=2), distinct(1, 2, 6, 7))
case("max_pool2d-dilation-disjoint", lambda x: F(x).max_pool2d(x, 2, stride=2, dilation=2),
     distinct(1, 2, 8, 8))
case("max_pool2d-ceil", lambda x: F(x).max_pool2d(x, 3, stride=2, ceil_mode=True), distinct(2, 2, 6, 8))
case("max_pool2d-ceil-padding", lambda x: F(x).max_pool2d(x, (2, 3), stride=(2, 2), padding=(1, 1),
                                                          ceil_mode=True), distinct(1, 3, 5, 7))
case("max_pool2d-ties", lambda x: F(x).max_pool2d(x, 2, stride=1), np.round(rn(2, 2, 5, 5)))
case("max_pool2d-indices", lambda x: F(x).max_pool2d(x, 3, stride=2, padding=1, return_indices=True),
     distinct(2, 2, 7, 6))
case("max_pool2d-indices-dilation-ceil", lambda x: F(x).max_pool2d(x, 2, stride=2, dilation=2, ceil_mode=True,
                                                                   return_indices=True), distinct(1, 2, 7, 6))
case("max_pool1d", lambda x: F(x).max_pool1d(x, 3, stride=2, padding=1, dilation=1, ceil_mode=True),
     distinct(2, 3, 10))
case("max_pool1d-indices", lambda x: F(x).max_pool1d(x, 2, return_indices=True), distinct(2, 3, 9))
case("max_pool1d-unbatched", lambda x: F(x).max_pool1d(x, 2, stride=1), distinct(3, 9))
case("avg_pool2d", lambda x: F(x).avg_pool2d(x, 2), rn(2, 3, 6, 5))
case("avg_pool2d-pad-include", lambda x: F(x).avg_pool2d(x, 3, stride=2, padding=1), rn(2, 2, 7, 6))
case("avg_pool2d-pad-exclude", lambda x: F(x).avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False),
     rn(2, 2, 7, 6))
case("avg_pool2d-ceil", lambda x: F(x).avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True), rn(1, 2, 6, 8))
case("avg_pool2d-ceil-exclude", lambda x: F(x).avg_pool2d(x, (2, 3), stride=2, ceil_mode=True,
                                                          count_include_pad=False), rn(1, 2, 5, 8))
case("avg_pool2d-divisor", lambda x: F(x).avg_pool2d(x, 2, stride=1, divisor_override=3), rn(1, 2, 4, 5))
case("avg_pool1d", lambda x: F(x).avg_pool1d(x, 3, stride=2, padding=1, ceil_mode=True,
                                             count_include_pad=False), rn(2, 3, 10))
for size in (1, 2, 3, (3, 4), (None, 2)):
    case(f"adaptive_avg_pool2d-{size}", lambda x, s=size: F(x).adaptive_avg_pool2d(x, s), rn(2, 3, 7, 6))
    case(f"adaptive_max_pool2d-{size}", lambda x, s=size: F(x).adaptive_max_pool2d(x, s, return_indices=True),
         distinct(2, 3, 7, 6))
case("adaptive_avg_pool1d", lambda x: F(x).adaptive_avg_pool1d(x, 4), rn(2, 3, 7))
case("adaptive_max_pool1d", lambda x: F(x).adaptive_max_pool1d(x, 3), distinct(2, 3, 8))
case("max_unpool2d", lambda x: F(x).max_unpool2d(*F(x).max_pool2d(x, 2, return_indices=True), 2),
     distinct(2, 2, 6, 4))
case("max_unpool2d-output_size", lambda x: F(x).max_unpool2d(*F(x).max_pool2d(x, 2, return_indices=True), 2,
                                                             output_size=(5, 5)), distinct(1, 2, 5, 5))

# -- interpolate, unfold, fold --------------------------------------------------------------------------
for kw in (dict(size=7), dict(scale_factor=2), dict(scale_factor=1.7), dict(size=3)):
    case(f"interpolate-nearest-1d-{kw}", lambda x, kw=kw: F(x).interpolate(x, **kw), rn(2, 2, 5))
    case(f"interpolate-nearest-2d-{kw}", lambda x, kw=kw: F(x).interpolate(x, **kw), rn(1, 2, 4, 5))
    for ac in (False, True):
        case(f"interpolate-linear-{kw}-{ac}", lambda x, kw=kw, ac=ac: F(x).interpolate(
            x, mode="linear", align_corners=ac, **kw), rn(2, 2, 5))
        case(f"interpolate-bilinear-{kw}-{ac}", lambda x, kw=kw, ac=ac: F(x).interpolate(
            x, mode="bilinear", align_corners=ac, **kw), rn(1, 2, 4, 5))
case("interpolate-bilinear-pair", lambda x: F(x).interpolate(x, size=(3, 8), mode="bilinear"), rn(1, 2, 4, 5))
case("interpolate-trilinear", lambda x: F(x).interpolate(x, scale_factor=(1.5, 2, 0.5), mode="trilinear"),
     rn(1, 1, 2, 3, 4))
case("unfold", lambda x: F(x).unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), rn(2, 3, 5, 6))
case("fold", lambda x: F(x).fold(x, (5, 6), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), rn(2, 18, 12))

# -- embedding, normalisation, distances, attention -----------------------------------------------------
IDX = np.array([[0, 2, 4], [4, 1, 2]])
case("embedding", lambda w, i: F(w).embedding(i, w), rn(5, 3), IDX)
case("embedding-padding_idx", lambda w, i: F(w).embedding(i, w, padding_idx=2), rn(5, 3), IDX)
case("embedding-padding_idx-negative", lambda w, i: F(w).embedding(i, w, padding_idx=-1), rn(5, 3), IDX)


def _bn(x, w, b, training):
    c = x.shape[1]
    rm, rv = np.zeros(c) + 0.1, np.ones(c) * 1.5
    if isinstance(x, torch.Tensor):
        rm, rv = torch.tensor(rm), torch.tensor(rv)
    return F(x).batch_norm(x, rm, rv, w, b, training=training, momentum=0.2, eps=1e-3)


for tr in (True, False):
    case(f"batch_norm-2d-{tr}", lambda x, w, b, tr=tr: _bn(x, w, b, tr), rn(4, 3, 3, 2), rn(3), rn(3))
    case(f"batch_norm-1d-{tr}", lambda x, w, b, tr=tr: _bn(x, w, b, tr), rn(5, 3), rn(3), rn(3))
case("instance_norm", lambda x, w, b: F(x).instance_norm(x, weight=w, bias=b), rn(2, 3, 4, 3), rn(3), rn(3))
case("instance_norm-1d", lambda x: F(x).instance_norm(x, eps=1e-3), rn(2, 3, 5))
case("layer_norm", lambda x, w, b: F(x).layer_norm(x, (3, 4), w, b), rn(2, 3, 4), rn(3, 4), rn(3, 4))
case("group_norm", lambda x, w, b: F(x).group_norm(x, 2, w, b), rn(2, 4, 3, 2), rn(4), rn(4))
case("group_norm-1d", lambda x: F(x).group_norm(x, 3), rn(3, 6, 4))
case("normalize", lambda x: F(x).normalize(x), rn(3, 4, 2))
case("normalize-p1-dim", lambda x: F(x).normalize(x, p=1, dim=-1), away(3, 4))
case("normalize-p3", lambda x: F(x).normalize(x, p=3.0, dim=0), away(3, 4))
case("cosine_similarity", lambda a, b: F(a).cosine_similarity(a, b), rn(4, 5), rn(4, 5))
case("cosine_similarity-broadcast", lambda a, b: F(a).cosine_similarity(a, b, dim=-1), rn(3, 1, 5), rn(4, 5))
case("pairwise_distance", lambda a, b: F(a).pairwise_distance(a, b), rn(4, 5), rn(4, 5))
case("pairwise_distance-p1-keepdim", lambda a, b: F(a).pairwise_distance(a, b, p=1, keepdim=True),
     rn(4, 5), rn(4, 5))
case("sdpa", lambda q, k, v: F(q).scaled_dot_product_attention(q, k, v), rn(2, 3, 4, 5), rn(2, 3, 6, 5),
     rn(2, 3, 6, 2))
case("sdpa-causal-scale",
     lambda q, k, v: F(q).scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3),
     rn(2, 4, 5), rn(2, 4, 5), rn(2, 4, 3))
MASK = R.random((4, 6)) > 0.3
MASK[:, 0] = True
case("sdpa-bool-mask", lambda q, k, v, m: F(q).scaled_dot_product_attention(q, k, v, attn_mask=m),
     rn(2, 4, 5), rn(2, 6, 5), rn(2, 6, 3), MASK)
case("sdpa-float-mask", lambda q, k, v, m: F(q).scaled_dot_product_attention(q, k, v, attn_mask=m),
     rn(2, 4, 5), rn(2, 6, 5), rn(2, 6, 3), rn(4, 6))

# -- activations ------------------------------------------------------------------------------------
ACT = [("elu", {}), ("elu", dict(alpha=0.7)), ("selu", {}), ("celu", dict(alpha=1.3)), ("silu", {}),
       ("mish", {}), ("softplus", {}), ("softplus", dict(beta=2.0, threshold=1.5)), ("softsign", {}),
       ("hardtanh", {}), ("hardtanh", dict(min_val=-0.5, max_val=1.5)), ("relu6", {}), ("hardsigmoid", {}),
       ("hardswish", {}), ("logsigmoid", {}), ("glu", {}), ("glu", dict(dim=1)), ("rrelu", {}),
       ("softmin", dict(dim=1)), ("gelu", {}), ("gelu", dict(approximate="tanh")), ("tanhshrink", {}),
       ("softshrink", {}), ("softshrink", dict(lambd=1.1)), ("hardshrink", {}),
       ("hardshrink", dict(lambd=0.9)),
       ("threshold", dict(threshold=0.4, value=-2.0))]
ACT_X = np.concatenate([away(4, 6, lo=0.05, hi=1.9), away(4, 6, lo=2.1, hi=7.0)])
ACT_X[np.abs(np.abs(ACT_X) - 0.5) < 0.02] += 0.05  # off the shrink edges
for name, kw in ACT:
    case(f"{name}-{kw}", lambda x, n=name, kw=kw: getattr(F(x), n)(x, **kw), ACT_X,
         second=name != "hardsigmoid")  # torch has no second order of hardsigmoid
case("prelu-shared", lambda x, w: F(x).prelu(x, w), rn(3, 4, 2), np.array([0.25]))
case("prelu-channels", lambda x, w: F(x).prelu(x, w), rn(3, 4, 2), rn(4))

# -- losses -----------------------------------------------------------------------------------------
SIGN = np.where(R.random(6) > 0.5, 1, -1)
for red in ("mean", "sum", "none"):
    case(f"smooth_l1-{red}", lambda x, t, r=red: F(x).smooth_l1_loss(x, t, reduction=r, beta=0.7),
         rn(4, 3), rn(4, 3))
    case(f"huber-{red}", lambda x, t, r=red: F(x).huber_loss(x, t, reduction=r, delta=0.8), rn(4, 3),
         rn(4, 3))
    case(f"soft_margin-{red}", lambda x, r=red: F(x).soft_margin_loss(x, C(x, SIGN * 1.0), reduction=r),
         rn(6))
    case(f"margin_ranking-{red}", lambda a, b, y, r=red: F(a).margin_ranking_loss(a, b, y, 0.3, reduction=r),
         rn(6), rn(6), SIGN.astype(float))
    case(f"hinge_embedding-{red}", lambda x, y, r=red: F(x).hinge_embedding_loss(x, y, 0.8, reduction=r),
         away(6), SIGN.astype(float))
    case(f"cosine_embedding-{red}",
         lambda a, b, y, r=red: F(a).cosine_embedding_loss(a, b, y, 0.1, reduction=r),
         rn(6, 4), rn(6, 4), SIGN)
    case(f"multi_margin-{red}", lambda x, t, r=red: F(x).multi_margin_loss(x, t, reduction=r), rn(5, 4),
         np.array([0, 3, 1, 1, 2]), second=False)  # torch has no second order here
    case(f"poisson_nll-{red}", lambda x, t, r=red: F(x).poisson_nll_loss(x, t, reduction=r), rn(4, 3),
         pos(4, 3) * 3)
    case(f"gaussian_nll-{red}", lambda x, t, v, r=red: F(x).gaussian_nll_loss(x, t, v, reduction=r), rn(4, 3),
         rn(4, 3), pos(4, 3))
KL_T = np.where(R.random((4, 3)) > 0.3, R.random((4, 3)),
                0.0)  # zeros: no target gradient there (torch's nan)
for red in ("mean", "sum", "none", "batchmean"):
    case(f"kl_div-{red}", lambda x, r=red: F(x).kl_div(x, C(x, KL_T), reduction=r), rn(4, 3))
    case(f"kl_div-target-grad-{red}", lambda x, t, r=red: F(x).kl_div(x, t, reduction=r), rn(4, 3), pos(4, 3))
    case(f"kl_div-log-{red}", lambda x, t, r=red: F(x).kl_div(x, t, reduction=r, log_target=True), rn(4, 3),
         rn(4, 3))
MM_W = pos(4)
case("multi_margin-p2-weight", lambda x, t: F(x).multi_margin_loss(x, t, p=2, margin=0.7, weight=C(x, MM_W)),
     rn(5, 4), np.array([0, 3, 1, 1, 2]), second=False)
case("poisson_nll-full-nolog", lambda x, t: F(x).poisson_nll_loss(x, t, log_input=False, full=True),
     pos(4, 3),
     pos(4, 3) * 2)
case("gaussian_nll-full-clamped", lambda x, t, v: F(x).gaussian_nll_loss(x, t, v, full=True, eps=0.6),
     rn(4, 3), rn(4, 3), pos(4, 3))
case("gaussian_nll-var-per-row", lambda x, t, v: F(x).gaussian_nll_loss(x, t, v), rn(4, 3), rn(4, 3), pos(4))
case("gaussian_nll-var-column", lambda x, t, v: F(x).gaussian_nll_loss(x, t, v), rn(4, 3), rn(4, 3),
     pos(4, 1))

# cross-entropy: every combination of weight, ignore_index, label smoothing, reduction, (N, C) and
# (N, C, d...) inputs, class-index and probability targets
CE_T2 = np.array([0, 2, 1, 2, 0])
CE_T3 = np.array([[0, 2, 1], [2, 2, 0]])
CE_T4 = np.array([[[1, 0], [2, 1]], [[0, 0], [1, 2]]])
for red in ("mean", "sum", "none"):
    for eps in (0.0, 0.2):
        for weighted in (False, True):
            for ign in (-100, 1):
                for shape, tgt in (((5, 3), CE_T2), ((2, 3, 3), CE_T3), ((2, 3, 2, 2), CE_T4)):
                    w = pos(3) if weighted else None
                    case(f"cross_entropy-{red}-eps{eps}-w{weighted}-ign{ign}-{shape}",
                         lambda x, t, w=w, r=red, e=eps, i=ign: F(x).cross_entropy(
                             x, t, None if w is None else C(x, w), ignore_index=i, reduction=r,
                             label_smoothing=e), rn(*shape), tgt)
        for shape in ((5, 3), (2, 3, 4)):
            probs = R.dirichlet(np.ones(3), size=int(np.prod(shape)) // 3).reshape(
                (shape[0],) + shape[2:] + (3,))
            probs = np.moveaxis(probs, -1, 1)
            w = pos(3)
            case(f"cross_entropy-probs-{red}-eps{eps}-{shape}",
                 lambda x, t, w=w, r=red, e=eps: F(x).cross_entropy(x, t, C(x, w), reduction=r,
                                                                    label_smoothing=e), rn(*shape), probs)
            case(f"cross_entropy-probs-noweight-{red}-eps{eps}-{shape}", lambda x, t, r=red, e=eps:
                 F(x).cross_entropy(x, t, reduction=r, label_smoothing=e), rn(*shape), probs)
case("cross_entropy-unbatched", lambda x, t: F(x).cross_entropy(x, t), rn(4), np.array(2))


@pytest.mark.parametrize("fn, arrays, second, rtol", CASES)
def test_matches_torch(fn, arrays, second, rtol):
    assert_grads_match_torch(fn, *arrays, second_order=second, rtol=rtol, atol=1e-9)


# -- random shapes and arguments (Hypothesis), including empty batches ----------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402


@st.composite
def conv_setups(draw):
    n, groups = draw(st.integers(0, 2)), draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride, dilation, padding = (draw(st.integers(1, 3)) for _ in range(3))
    padding = min(padding, 2)
    h = draw(st.integers(dilation * (k[0] - 1) + 1 - 2 * padding, 7).filter(lambda v: v >= 1))
    w = draw(st.integers(dilation * (k[1] - 1) + 1 - 2 * padding, 7).filter(lambda v: v >= 1))
    return (n, cin, h, w), (cout, cin // groups) + k, dict(stride=stride, padding=padding, dilation=dilation,
                                                           groups=groups)


@settings(max_examples=30, deadline=None)
@given(conv_setups(), st.booleans())
def test_conv2d_random_arguments(setup, transposed):
    x_shape, w_shape, kw = setup
    rng = np.random.default_rng(sum(x_shape) + sum(w_shape))
    if transposed:
        s, p, d = kw["stride"], kw["padding"], kw["dilation"]
        if min((n - 1) * s - 2 * p + d * (k - 1) for n, k in zip(x_shape[2:], w_shape[2:])) < 0:
            return  # no output (torch raises too)
        w_shape = (x_shape[1], w_shape[0] // kw["groups"]) + w_shape[2:]
        assert_grads_match_torch(lambda x, w: F(x).conv_transpose2d(x, w, **kw), rng.standard_normal(x_shape),
                                 rng.standard_normal(w_shape), second_order=True, atol=1e-9)
    else:
        assert_grads_match_torch(lambda x, w: F(x).conv2d(x, w, **kw), rng.standard_normal(x_shape),
                                 rng.standard_normal(w_shape), second_order=True, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 1),
       st.integers(1, 2), st.booleans(), st.integers(3, 8), st.integers(3, 8))
def test_pools_random_arguments(n, kh, kw, stride, padding, dilation, ceil_mode, h, w):
    padding = min(padding, kh // 2, kw // 2)
    if h + 2 * padding < dilation * (kh - 1) + 1 or w + 2 * padding < dilation * (kw - 1) + 1:
        return
    x = distinct(n, 2, h, w)
    kwargs = dict(stride=(stride, 1), padding=padding, ceil_mode=ceil_mode)
    assert_grads_match_torch(lambda x: F(x).max_pool2d(x, (kh, kw), dilation=dilation, **kwargs), x,
                             second_order=True)
    assert_grads_match_torch(lambda x: F(x).avg_pool2d(x, (kh, kw), count_include_pad=bool(dilation - 1),
                                                       **kwargs), x, second_order=True)


@pytest.mark.parametrize("idx, n", [(np.array([[0, 3], [2, 2]]), -1), (np.array([1, 0, 4]), 6),
                                    (np.array(2), 3)])
def test_one_hot_as_torch(idx, n):
    ours = nn.functional.one_hot(idx, n)
    theirs = TF.one_hot(torch.tensor(idx), n).numpy()
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours.detach().numpy(), theirs)


def test_dropout_functions_in_training():
    import autograd
    autograd.manual_seed(1)
    x = np.ones((200, 50))
    y = nn.functional.dropout(x, 0.3).detach().numpy()
    assert set(np.unique(y)) <= {0.0, 1 / 0.7} and abs((y == 0).mean() - 0.3) < 0.02
    t = Tensor(x)
    assert nn.functional.dropout(t, 0.3, training=False) is t
    np.testing.assert_array_equal(nn.functional.alpha_dropout(x, 0.4).detach().numpy(), x)  # eval default
    np.testing.assert_array_equal(nn.functional.rrelu(-x).detach().numpy(), -x * (1 / 8 + 1 / 3) / 2)
