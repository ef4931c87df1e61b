"""Everyday PyTorch idioms, each written once as source text and run twice: under torch and under
``import autograd as torch; import nn; import nn.functional as F``; results (values, shapes, dtype
categories, exception types) must agree."""
import builtins

import numpy as np
import pytest

torch_ = pytest.importorskip("torch")

TORCH_PRELUDE = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nimport torch.optim as optim\n"
CHAIN_PRELUDE = "import autograd as torch\nimport nn\nimport nn.functional as F\nimport nn.optim as optim\n"
DATA = """import numpy as np
a = torch.tensor([[1., -2., 3.], [-4., 5., -6.]])
v = torch.tensor([3., 1., 2.])
i = torch.tensor([2, 0, 1])
w = torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64, requires_grad=True)
"""

# (id, source); each source binds `result`.
IDIOMS = [
    # -- creation
    ("tensor_list", "result = torch.tensor([1., 2., 3.])"),
    ("tensor_int_list", "result = torch.tensor([1, 2, 3])"),
    ("tensor_bool_list", "result = torch.tensor([True, False])"),
    ("tensor_nested", "result = torch.tensor([[1, 2], [3, 4]])"),
    ("tensor_scalar", "result = torch.tensor(3.5)"),
    ("tensor_dtype_arg", "result = torch.tensor([1, 2], dtype=torch.float32)"),
    ("zeros", "result = torch.zeros(2, 3)"),
    ("zeros_tuple", "result = torch.zeros((2, 3))"),
    ("ones_dtype", "result = torch.ones(3, dtype=torch.int64)"),
    ("zeros_like", "result = torch.zeros_like(a)"),
    ("ones_like", "result = torch.ones_like(a)"),
    ("full", "result = torch.full((2, 2), 7.0)"),
    ("full_like", "result = torch.full_like(a, 2.5)"),
    ("arange_int", "result = torch.arange(5)"),
    ("arange_float", "result = torch.arange(0, 1, 0.25)"),
    ("arange_step", "result = torch.arange(1, 10, 3)"),
    ("linspace", "result = torch.linspace(0, 1, 5)"),
    ("logspace", "result = torch.logspace(0, 2, 3)"),
    ("eye", "result = torch.eye(3)"),
    ("eye_rect", "result = torch.eye(2, 3)"),
    ("from_numpy", "result = torch.from_numpy(np.array([1.0, 2.0]))"),
    ("from_numpy_shares", "n = np.array([1.0, 2.0]); t = torch.from_numpy(n); n[0] = 9; result = t"),
    ("as_tensor", "result = torch.as_tensor([1, 2, 3])"),
    ("empty_shape", "result = torch.empty(2, 3).shape"),
    ("randn_shape", "torch.manual_seed(0); result = torch.randn(3, 4).shape"),
    ("rand_range", "torch.manual_seed(0); r = torch.rand(100); result = bool((r >= 0).all() and (r < 1).all())"),
    ("randint_range", "torch.manual_seed(0); r = torch.randint(0, 5, (50,)); result = (r.shape, bool((r >= 0).all()), bool((r < 5).all()), r.dtype)"),
    ("randn_like_shape", "result = torch.randn_like(a).shape"),
    ("rand_like_shape", "result = torch.rand_like(a).shape"),
    ("is_tensor", "result = (torch.is_tensor(a), torch.is_tensor(3))"),
    ("numel_fn", "result = torch.numel(a)"),
    ("requires_grad_kw", "t = torch.ones(2, requires_grad=True); result = (t.requires_grad, t.is_leaf)"),
    ("int_requires_grad_raises", "result = torch.tensor([1, 2], requires_grad=True)"),
    # -- dtypes
    ("dtype_default", "result = torch.tensor([1.0]).dtype"),
    ("dtype_int_default", "result = torch.tensor([1]).dtype"),
    ("float_method", "result = torch.tensor([1, 2]).float()"),
    ("double_method", "result = a.double().dtype"),
    ("long_method", "result = torch.tensor([1.7, -2.7]).long()"),
    ("int_method", "result = torch.tensor([1.7, -2.7]).int()"),
    ("bool_method", "result = torch.tensor([0., 2.]).bool()"),
    ("half_method", "result = a.half().dtype"),
    ("type_method", "result = a.type(torch.float64).dtype"),
    ("to_dtype", "result = a.to(torch.float64)"),
    ("to_int_truncates", "result = torch.tensor([2.9, -2.9]).to(torch.int64)"),
    ("dtype_equal", "result = a.dtype == torch.float32"),
    ("long_alias", "result = torch.long == torch.int64"),
    ("double_alias", "result = torch.double == torch.float64"),
    ("float_alias", "result = torch.float == torch.float32"),
    ("is_floating_point", "result = (a.is_floating_point(), i.is_floating_point())"),
    # -- devices
    ("cuda_available", "result = torch.cuda.is_available()"),
    ("device_pattern", "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu'); result = str(device)"),
    ("to_cpu_string", "result = a.to('cpu')"),
    ("to_device", "result = a.to(torch.device('cpu'))"),
    ("cpu_method", "result = a.cpu()"),
    ("device_attr", "result = str(a.device)"),
    ("model_to_device", "m = nn.Linear(2, 2); result = m.to('cpu') is m"),
    # -- shape / info
    ("shape", "result = a.shape"),
    ("size", "result = a.size()"),
    ("size_dim", "result = a.size(1)"),
    ("shape_index", "result = a.shape[0]"),
    ("dim", "result = a.dim()"),
    ("ndim", "result = a.ndim"),
    ("numel", "result = a.numel()"),
    ("len", "result = len(a)"),
    ("view", "result = a.view(3, 2)"),
    ("view_minus1", "result = a.view(-1)"),
    ("reshape", "result = a.reshape(3, -1)"),
    ("flatten", "result = torch.ones(2, 3, 4).flatten(1).shape"),
    ("flatten_fn", "result = torch.flatten(a)"),
    ("transpose", "result = a.transpose(0, 1)"),
    ("T", "result = a.T"),
    ("t_method", "result = a.t()"),
    ("permute", "result = torch.ones(2, 3, 4).permute(2, 0, 1).shape"),
    ("unsqueeze", "result = v.unsqueeze(0).shape"),
    ("squeeze", "result = torch.ones(1, 3, 1).squeeze().shape"),
    ("squeeze_dim", "result = torch.ones(1, 3, 1).squeeze(0).shape"),
    ("none_index", "result = v[None, :].shape"),
    ("expand", "result = v.expand(2, 3)"),
    ("view_batch", "x = torch.ones(4, 1, 2, 2); result = x.view(x.size(0), -1).shape"),
    ("contiguous", "result = a.t().contiguous()"),
    ("clone", "c = a.clone(); c[0, 0] = 100.; result = (a, c)"),
    # -- item / conversion
    ("item_float", "result = a.sum().item()"),
    ("item_int", "result = i.sum().item()"),
    ("item_multi_raises", "result = a.item()"),
    ("tolist", "result = a.tolist()"),
    ("tolist_int", "result = i.tolist()"),
    ("numpy", "result = a.numpy()"),
    ("numpy_shares", "n = a.numpy(); n[0, 0] = 42.; result = a"),
    ("numpy_requires_grad_raises", "result = w.numpy()"),
    ("detach_numpy", "result = w.detach().numpy()"),
    ("detach_cpu_numpy", "result = w.detach().cpu().numpy()"),
    ("np_asarray", "result = np.asarray(a)"),
    ("float_builtin", "result = float(a.sum())"),
    ("int_builtin", "result = int(i[0])"),
    ("bool_builtin", "result = bool(v[0] > 2)"),
    # -- arithmetic
    ("add", "result = a + 1"),
    ("radd", "result = 1 + a"),
    ("sub_broadcast", "result = a - v"),
    ("mul", "result = a * v"),
    ("div", "result = a / 2"),
    ("rdiv", "result = 1 / v"),
    ("pow", "result = v ** 2"),
    ("rpow", "result = 2 ** v"),
    ("neg", "result = -a"),
    ("matmul_op", "result = a @ v"),
    ("matmul_fn", "result = torch.matmul(a, a.t())"),
    ("mm", "result = torch.mm(a, a.t())"),
    ("int_true_div", "result = i / 2"),
    ("int_floor_div", "result = torch.tensor([7, -7]) // 2"),
    ("remainder", "result = torch.tensor([7., -7.]) % 3"),
    ("int_times_float", "result = i * 1.5"),
    ("add_fn", "result = torch.add(a, 1)"),
    ("mul_fn", "result = torch.mul(a, v)"),
    ("abs_builtin", "result = abs(a)"),
    ("matmul_shape_mismatch_raises", "result = a @ a"),
    ("broadcast_mismatch_raises", "result = a + torch.ones(4)"),
    # -- elementwise functions
    ("exp", "result = torch.exp(v)"),
    ("log", "result = torch.log(v)"),
    ("sqrt_method", "result = v.sqrt()"),
    ("sigmoid", "result = torch.sigmoid(a)"),
    ("tanh", "result = torch.tanh(a)"),
    ("abs", "result = torch.abs(a)"),
    ("clamp", "result = torch.clamp(a, min=-1, max=1)"),
    ("clamp_min", "result = a.clamp(min=0)"),
    ("square", "result = a.square()"),
    ("sign", "result = torch.sign(a)"),
    ("round", "result = torch.round(torch.tensor([0.4, 1.6, -1.6]))"),
    ("floor", "result = torch.floor(a / 4)"),
    ("F_relu", "result = F.relu(a)"),
    ("torch_relu", "result = torch.relu(a)"),
    ("F_sigmoid", "result = torch.sigmoid(a)"),
    ("F_softmax", "result = F.softmax(a, dim=1)"),
    ("F_log_softmax", "result = F.log_softmax(a, dim=1)"),
    ("softmax_method", "result = a.softmax(dim=0)"),
    ("F_leaky_relu", "result = F.leaky_relu(a, 0.1)"),
    ("F_gelu", "result = F.gelu(a)"),
    ("bool_exp_float32", "result = torch.tensor([True]).exp()"),
    ("int_sqrt_float", "result = torch.tensor([4, 9]).sqrt()"),
    # -- reductions
    ("sum", "result = a.sum()"),
    ("sum_dim", "result = a.sum(dim=0)"),
    ("sum_keepdim", "result = a.sum(1, keepdim=True)"),
    ("sum_fn", "result = torch.sum(a, 1)"),
    ("mean", "result = a.mean()"),
    ("mean_dim", "result = torch.mean(a, dim=1)"),
    ("mean_int_raises", "result = i.mean()"),
    ("std", "result = a.std()"),
    ("var_dim", "result = a.var(0)"),
    ("max_all", "result = a.max()"),
    ("max_dim_tuple", "result = tuple(a.max(1))"),
    ("max_pred_unpack", "_, pred = a.max(1); result = pred"),
    ("max_pred_batch100", "torch.manual_seed(0); out = torch.randn(100, 10); _, pred = out.max(1); result = (pred.shape, bool((pred == out.argmax(1)).all()))"),
    ("max_values_indices", "r = a.max(dim=0); result = (r.values, r.indices)"),
    ("min_dim", "vals, idx = a.min(1); result = (vals, idx)"),
    ("max_two_tensors", "result = torch.max(a, torch.zeros(2, 3))"),
    ("maximum", "result = torch.maximum(a, torch.zeros(2, 3))"),
    ("argmax", "result = torch.argmax(a)"),
    ("argmax_dim", "result = a.argmax(dim=1)"),
    ("argmin_dim", "result = a.argmin(1)"),
    ("amax", "result = a.amax(1)"),
    ("prod", "result = v.prod()"),
    ("cumsum", "result = v.cumsum(0)"),
    ("sort", "vals, idx = torch.sort(v); result = (vals, idx)"),
    ("sort_desc", "result = tuple(v.sort(descending=True))"),
    ("topk", "vals, idx = v.topk(2); result = (vals, idx)"),
    ("median_dim", "result = tuple(a.median(1))"),
    ("accuracy", "pred = torch.tensor([1, 0, 2, 2]); y = torch.tensor([1, 1, 2, 0]); result = (pred == y).sum().item() / len(y)"),
    ("accuracy_float_mean", "pred = torch.tensor([1, 0, 2, 2]); y = torch.tensor([1, 1, 2, 0]); result = (pred == y).float().mean()"),
    ("correct_eq_sum_item", "pred = torch.tensor([1, 0, 2]); y = torch.tensor([1, 1, 2]); result = pred.eq(y).sum().item()"),
    ("all_any", "result = ((a > 0).any(), (a > -10).all())"),
    ("logsumexp", "result = torch.logsumexp(a, dim=1)"),
    ("norm", "result = v.norm()"),
    # -- comparison / where / cat / stack
    ("gt", "result = a > 0"),
    ("eq_method", "result = a.eq(1.)"),
    ("ne_method", "result = v.ne(1.)"),
    ("lt_le_ge", "result = (v.lt(2), v.le(2), v.ge(2))"),
    ("where", "result = torch.where(a > 0, a, torch.zeros_like(a))"),
    ("where_scalar", "result = torch.where(a > 0, a, 0.)"),
    ("cat", "result = torch.cat([a, a], dim=0)"),
    ("cat_dim1", "result = torch.cat((a, a), 1)"),
    ("stack", "result = torch.stack([v, v])"),
    ("stack_dim1", "result = torch.stack([v, v], dim=1)"),
    ("chunk", "result = a.chunk(3, dim=1)"),
    ("split", "result = torch.arange(5).split(2)"),
    ("cat_mismatch_raises", "result = torch.cat([a, v])"),
    # -- indexing
    ("index_int", "result = a[1]"),
    ("index_pair", "result = a[1, 2]"),
    ("index_slice", "result = a[:, 1:]"),
    ("index_neg", "result = a[-1]"),
    ("index_tensor", "result = v[i]"),
    ("index_mask", "result = a[a > 0]"),
    ("index_ellipsis", "result = a[..., 0]"),
    ("index_out_of_range_raises", "result = a[5]"),
    ("gather_rows", "y = torch.tensor([2, 0]); result = a[torch.arange(2), y]"),
    ("gather", "result = a.gather(1, torch.tensor([[0], [2]]))"),
    ("setitem_scalar", "b = a.clone(); b[0, 0] = 10.; result = b"),
    ("setitem_mask", "b = a.clone(); b[b < 0] = 0; result = b"),
    ("setitem_slice", "b = a.clone(); b[:, 1] = torch.tensor([7., 8.]); result = b"),
    ("setitem_index_tensor", "b = v.clone(); b[torch.tensor([0, 2])] = -1.; result = b"),
    ("one_hot_setitem", "y = torch.tensor([2, 0]); oh = torch.zeros(2, 3); oh[torch.arange(2), y] = 1; result = oh"),
    ("F_one_hot", "result = F.one_hot(torch.tensor([2, 0]), 3)"),
    # -- in place
    ("iadd", "b = a.clone(); b += 1; result = b"),
    ("iadd_identity", "b = a.clone(); c = b; b += 1; result = (c is b, c)"),
    ("isub", "b = a.clone(); b -= v; result = b"),
    ("imul", "b = a.clone(); b *= 2; result = b"),
    ("idiv", "b = a.clone(); b /= 2; result = b"),
    ("add_", "b = a.clone(); r = b.add_(1); result = (b, r is b)"),
    ("add_alpha", "b = a.clone(); b.add_(v, alpha=2); result = b"),
    ("mul_", "b = a.clone(); b.mul_(0.5); result = b"),
    ("zero_", "b = a.clone(); b.zero_(); result = b"),
    ("fill_", "b = a.clone(); b.fill_(3.); result = b"),
    ("clamp_", "b = a.clone(); b.clamp_(-1, 1); result = b"),
    ("copy_", "b = torch.zeros(2, 3); b.copy_(a); result = b"),
    ("normal_shape_stats", "torch.manual_seed(0); b = torch.zeros(2000); b.normal_(0, 0.01); result = (b.shape, bool(abs(b.mean().item()) < 0.002), bool(abs(b.std().item() - 0.01) < 0.002))"),
    ("uniform_range", "torch.manual_seed(0); b = torch.zeros(500); b.uniform_(-2, 2); result = (bool((b >= -2).all()), bool((b <= 2).all()))"),
    ("weight_data_normal_", "m = nn.Linear(4, 3); m.weight.data.normal_(0, 0.01); result = (m.weight.shape, m.weight.requires_grad, m.weight.is_leaf)"),
    ("weight_data_fill_", "m = nn.Linear(2, 2); m.weight.data.fill_(0.5); result = m.weight.detach()"),
    ("bias_data_zero_", "m = nn.Linear(2, 3); m.bias.data.zero_(); result = m.bias.detach()"),
    ("inplace_leaf_raises", "w.add_(1)"),
    ("inplace_leaf_iadd_raises", "w += 1"),
    ("inplace_leaf_no_grad", "with torch.no_grad():\n    w -= 0.5\nresult = (w.detach(), w.requires_grad, w.is_leaf)"),
    ("grad_zero_", "(w * w).sum().backward(); w.grad.zero_(); result = w.grad"),
    ("data_update", "(w * w).sum().backward(); w.data -= 0.1 * w.grad; result = (w.detach(), w.is_leaf, w.requires_grad)"),
    ("data_is_not_requires_grad", "result = (w.data.requires_grad, w.data.is_leaf)"),
    ("data_assign", "w.data = torch.tensor([1., 2., 3.], dtype=torch.float64); result = (w.detach(), w.requires_grad)"),
    ("requires_grad_", "t = torch.ones(2); t.requires_grad_(); result = t.requires_grad"),
    ("sgd_manual_step", "loss = (w ** 2).sum()\nloss.backward()\nwith torch.no_grad():\n    w -= 0.1 * w.grad\n    w.grad.zero_()\nresult = (w.detach(), w.grad, w.is_leaf)"),
    # -- autograd
    ("backward_grad", "(w ** 3).sum().backward(); result = w.grad"),
    ("grad_accumulates", "(w * 2).sum().backward(); (w * 3).sum().backward(); result = w.grad"),
    ("grad_none_before", "result = w.grad"),
    ("grad_none_reset", "(w * 2).sum().backward(); w.grad = None; (w * 3).sum().backward(); result = w.grad"),
    ("no_grad_result", "with torch.no_grad():\n    y = w * 2\nresult = (y.requires_grad, y.grad_fn is None)"),
    ("no_grad_decorator", "@torch.no_grad()\ndef f(x):\n    return x * 2\nresult = f(w).requires_grad"),
    ("is_grad_enabled", "with torch.no_grad():\n    inside = torch.is_grad_enabled()\nresult = (inside, torch.is_grad_enabled())"),
    ("set_grad_enabled", "with torch.set_grad_enabled(False):\n    y = w * 2\nresult = y.requires_grad"),
    ("enable_grad_inside_no_grad", "with torch.no_grad():\n    with torch.enable_grad():\n        y = w * 2\nresult = y.requires_grad"),
    ("inference_mode", "with torch.inference_mode():\n    y = w * 2\nresult = y.requires_grad"),
    ("detach", "d = w.detach(); result = (d.requires_grad, d)"),
    ("backward_nonscalar_raises", "(w * 2).backward()"),
    ("backward_gradient_arg", "(w * 2).backward(torch.ones(3, dtype=torch.float64)); result = w.grad"),
    ("backward_twice_raises", "y = (w.exp()).sum(); y.backward(); y.backward()"),
    ("retain_graph", "y = (w.exp()).sum(); y.backward(retain_graph=True); y.backward(); result = w.grad"),
    ("retain_grad", "y = w * 2; y.retain_grad(); y.sum().backward(); result = y.grad"),
    ("grad_fn_attr", "result = ((w * 2).grad_fn is None, w.grad_fn is None)"),
    ("is_leaf_nonleaf", "result = ((w * 2).is_leaf, w.is_leaf)"),
    ("requires_grad_propagates", "result = (w + torch.ones(3, dtype=torch.float64)).requires_grad"),
    ("grad_through_index", "w[torch.tensor([0, 0, 2])].sum().backward(); result = w.grad"),
    ("grad_through_max", "w.max().backward(); result = w.grad"),
    ("grad_through_values", "x = torch.tensor([[1., 5.], [7., 2.]], dtype=torch.float64, requires_grad=True); vals, idx = x.max(1); vals.sum().backward(); result = x.grad"),
    ("clamp_sqrt_grad_zero", "x = torch.tensor([-1., 4.], dtype=torch.float64, requires_grad=True); x.clamp(min=0).sqrt().sum().backward(); result = x.grad"),
    # -- nn / F / optim
    ("linear_shapes", "m = nn.Linear(3, 2); result = (m.weight.shape, m.bias.shape, m(torch.ones(4, 3)).shape)"),
    ("linear_forward", "m = nn.Linear(3, 2)\nwith torch.no_grad():\n    m.weight.copy_(torch.tensor([[1., 0., -1.], [0.5, 0.5, 0.5]]))\n    m.bias.fill_(0.1)\nresult = m(a)"),
    ("linear_no_bias", "m = nn.Linear(3, 2, bias=False); result = m.bias"),
    ("parameters_count", "m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)); result = sum(p.numel() for p in m.parameters())"),
    ("named_parameters", "m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)); result = [n for n, _ in m.named_parameters()]"),
    ("state_dict_keys", "m = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)); result = list(m.state_dict().keys())"),
    ("train_eval", "m = nn.Dropout(0.5); m.eval(); result = (m.training, m(a))"),
    ("F_cross_entropy", "result = F.cross_entropy(a, torch.tensor([2, 1]))"),
    ("cross_entropy_module", "result = nn.CrossEntropyLoss()(a, torch.tensor([0, 1]))"),
    ("F_mse_loss", "result = F.mse_loss(a, torch.zeros(2, 3))"),
    ("mse_module", "result = nn.MSELoss()(v, torch.zeros(3))"),
    ("F_nll_loss", "result = F.nll_loss(F.log_softmax(a, dim=1), torch.tensor([2, 1]))"),
    ("bce_with_logits", "result = F.binary_cross_entropy_with_logits(a, torch.ones(2, 3))"),
    ("F_linear", "result = F.linear(a, torch.ones(4, 3), torch.zeros(4))"),
    ("cross_entropy_grad", "x = torch.tensor([[1., 2., 0.5], [0.1, -1., 2.]], dtype=torch.float64, requires_grad=True); F.cross_entropy(x, torch.tensor([1, 2])).backward(); result = x.grad"),
    ("sgd_training_loop", """m = nn.Linear(3, 1)
with torch.no_grad():
    m.weight.copy_(torch.tensor([[0.1, -0.2, 0.3]]))
    m.bias.zero_()
opt = optim.SGD(m.parameters(), lr=0.1)
x = torch.tensor([[1., 2., 3.], [0., 1., -1.], [2., 0., 1.]])
y = torch.tensor([[1.], [0.], [2.]])
losses = []
for epoch in range(5):
    opt.zero_grad()
    out = m(x)
    loss = F.mse_loss(out, y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
result = (losses, m.weight.detach(), m.bias.detach())"""),
    ("sgd_momentum_loop", """m = nn.Linear(2, 2)
with torch.no_grad():
    m.weight.copy_(torch.tensor([[0.1, -0.2], [0.3, 0.4]]))
    m.bias.fill_(0.05)
opt = optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
x = torch.tensor([[1., 2.], [0., 1.], [2., 0.]])
y = torch.tensor([1, 0, 1])
for _ in range(4):
    loss = F.cross_entropy(m(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
result = (loss.item(), m.weight.detach())"""),
    ("adam_loop", """w2 = torch.tensor([1., -1.], requires_grad=True)
opt = optim.Adam([w2], lr=0.1)
for _ in range(3):
    opt.zero_grad()
    ((w2 - 3) ** 2).sum().backward()
    opt.step()
result = w2.detach()"""),
    ("eval_no_grad_accuracy", """m = nn.Linear(3, 2)
with torch.no_grad():
    m.weight.copy_(torch.tensor([[1., 0., 0.], [0., 1., 0.]]))
    m.bias.zero_()
m.eval()
correct = 0
with torch.no_grad():
    out = m(a)
    _, predicted = torch.max(out.data, 1)
    correct += (predicted == torch.tensor([0, 1])).sum().item()
result = correct"""),
    ("running_loss", "running_loss = 0.0\nrunning_loss += F.mse_loss(v, torch.zeros(3)).item()\nresult = running_loss"),
    ("zero_grad_sets_none", "m = nn.Linear(2, 1); m(torch.ones(1, 2)).sum().backward(); m.zero_grad(); result = m.weight.grad"),
]


def to_plain(obj):
    """A comparable description of a result of either library (tensors become (kind, shape, values))."""
    if isinstance(obj, BaseException):
        return ("error", first_builtin(type(obj)))
    if hasattr(obj, "detach") and hasattr(obj, "shape"):
        arr = np.asarray(obj.detach().cpu().numpy() if hasattr(obj, "cpu") else obj.detach().numpy())
        return ("tensor", arr.dtype.kind, tuple(arr.shape), arr)
    if isinstance(obj, np.ndarray):
        return ("ndarray", obj.dtype.kind, obj.shape, obj)
    if isinstance(obj, (bool, np.bool_)):
        return ("bool", bool(obj))
    if isinstance(obj, (int, float, np.integer, np.floating)):
        return (type(obj).__name__ if isinstance(obj, (int, float)) else "np", float(obj))
    if isinstance(obj, (tuple, list)):
        return ("seq", tuple(to_plain(o) for o in obj))
    if obj is None:
        return ("None",)
    if isinstance(obj, str):
        return ("str", obj)
    return ("dtype", dtype_name(obj))


def dtype_name(d):
    """torch.float32 and np.float32 both give 'float32'."""
    text = str(d)
    if text.startswith("torch."):
        return text[len("torch."):]
    return np.dtype(d).name


def first_builtin(cls):
    """The first built-in exception class in cls's MRO (torch's errors subclass the built-ins)."""
    return next(c for c in cls.__mro__ if getattr(builtins, c.__name__, None) is c).__name__


def assert_same(expected, got, where="result"):
    """Compare two to_plain descriptions; tensors by shape, dtype kind and np.allclose."""
    assert expected[0] == got[0] or {expected[0], got[0]} <= {"int", "float", "np"}, \
        f"{where}: torch gives {expected}, chainrule {got}"
    if expected[0] in ("tensor", "ndarray"):
        assert expected[1:3] == got[1:3], f"{where}: torch dtype kind/shape {expected[1:3]}, chainrule {got[1:3]}"
        assert np.allclose(expected[3].astype(float), got[3].astype(float), rtol=1e-5, atol=1e-6, equal_nan=True), \
            f"{where}: torch {expected[3]}, chainrule {got[3]}"
    elif expected[0] == "seq":
        assert len(expected[1]) == len(got[1]), f"{where}: lengths {len(expected[1])} vs {len(got[1])}"
        for k, (e, g) in enumerate(zip(expected[1], got[1])):
            assert_same(e, g, f"{where}[{k}]")
    elif expected[0] in ("int", "float", "np") :
        assert expected[0] == got[0] or "np" in (expected[0], got[0]), f"{where}: torch {expected}, chainrule {got}"
        assert np.isclose(expected[1], got[1], rtol=1e-5, atol=1e-6), f"{where}: torch {expected}, chainrule {got}"
    else:
        assert expected == got, f"{where}: torch gives {expected}, chainrule {got}"


def run(prelude, source):
    """Execute prelude + DATA + source; the value of `result`, or the exception raised."""
    ns = {}
    try:
        exec(compile(prelude + DATA + source, "<idiom>", "exec"), ns)
    except Exception as exc:  # the exception is the result being compared
        return exc
    return ns.get("result")


XFAIL = {  # id -> reason, for chainrule bugs found by this table
}
# Documented differences (API.md): id -> the built-in exception chainrule raises instead of torch's.
DIFFERENCES = {"int_requires_grad_raises": "ValueError"}


def cases():
    """IDIOMS as pytest params, known chainrule bugs marked strict xfail."""
    for name, src in IDIOMS:
        marks = [pytest.mark.xfail(strict=True, reason=XFAIL[name])] if name in XFAIL else []
        yield pytest.param(src, id=name, marks=marks)


DIFFERENT_SOURCES = {src: DIFFERENCES[name] for name, src in IDIOMS if name in DIFFERENCES}


def test_idiom_count():
    assert len(IDIOMS) >= 150 and len({n for n, _ in IDIOMS}) == len(IDIOMS)


@pytest.mark.parametrize("source", list(cases()))
def test_idiom_matches_torch(source):
    expected = run(TORCH_PRELUDE, source)
    got = run(CHAIN_PRELUDE, source)
    if isinstance(got, BaseException) and not isinstance(expected, BaseException):
        raise got
    if source in DIFFERENT_SOURCES:
        assert isinstance(expected, RuntimeError) and first_builtin(type(got)) == DIFFERENT_SOURCES[source]
        return
    assert_same(to_plain(expected), to_plain(got))
