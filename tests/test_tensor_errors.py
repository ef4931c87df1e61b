"""User errors raise clear exceptions (not ``assert``s, not NumPy's messages alone) that name the shapes
or values involved."""
import numpy as np
import pytest

import autograd
from autograd import Tensor


def t(*shape, requires_grad=True):
    return Tensor(np.ones(shape), requires_grad=requires_grad)


@pytest.mark.parametrize("sa,sb,pattern", [
    ((3, 4), (5, 2), r"matmul: shapes \(3, 4\) and \(5, 2\) cannot be multiplied \(4 != 5\)"),
    ((3,), (4,), r"\(3,\) and \(4,\)"),
    ((3, 4), (3,), r"\(3, 4\) and \(3,\)"),
    ((2, 3, 4), (3, 4, 5), r"batch dimensions of shapes \(2, 3, 4\) and \(3, 4, 5\)"),
])
def test_matmul_shape_mismatch(sa, sb, pattern):
    with pytest.raises(ValueError, match=pattern):
        t(*sa) @ t(*sb)


def test_matmul_of_a_0d_tensor():
    with pytest.raises(RuntimeError, match=r"shapes \(\) and \(3,\)"):
        t() @ t(3)


@pytest.mark.parametrize("op,name", [(lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"),
                                     (lambda a, b: a * b, "mul"), (lambda a, b: a / b, "div"),
                                     (lambda a, b: a ** b, "pow"),
                                     (lambda a, b: autograd.maximum(a, b), "maximum"),
                                     (lambda a, b: autograd.minimum(a, b), "minimum")])
def test_broadcasting_failure(op, name):
    with pytest.raises(ValueError, match=rf"{name}: shapes \(3, 4\) and \(5,\) cannot be broadcast"):
        op(t(3, 4), t(5))


def test_broadcasting_failure_with_an_array_and_comparisons():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\)"):
        t(2, 3) + np.ones(4)
    with pytest.raises(ValueError, match=r"<: shapes \(2, 3\) and \(4,\)"):
        t(2, 3) < t(4)
    with pytest.raises(ValueError, match=r"where: shapes \(5,\), \(3, 4\) and \(\)"):
        autograd.where(np.ones(5, dtype=bool), t(3, 4), 0.0)


@pytest.mark.parametrize("call,pattern", [
    (lambda x: x.reshape(5, 3), r"shape \(5, 3\) is invalid for input of shape \(3, 4\) \(size 12\)"),
    (lambda x: x.view(7), r"shape \(7,\) is invalid for input of shape \(3, 4\)"),
    (lambda x: x.reshape(-1, 5), r"shape \(-1, 5\) is invalid for input of shape \(3, 4\)"),
])
def test_reshape_to_a_wrong_size(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(t(3, 4))


@pytest.mark.parametrize("index,pattern", [
    (3, r"index 3 is out of range for a tensor of shape \(3, 4\)"),
    (-4, r"index -4 is out of range for a tensor of shape \(3, 4\)"),
    ((slice(None), 7), r"7\).*shape \(3, 4\).*index 7 is out of bounds for axis 1 with size 4"),
    (np.array([0, 5]), r"shape \(3, 4\).*index 5 is out of bounds for axis 0 with size 3"),
    ([0, -9], r"shape \(3, 4\).*index -9 is out of bounds"),
    (np.array([True, False]), r"shape \(3, 4\).*axis is 3 but .* boolean axis is 2"),
    ((0, 0, 0), r"shape \(3, 4\)"),
])
def test_indexing_out_of_range(index, pattern):
    with pytest.raises(IndexError, match=pattern):
        t(3, 4)[index]


def test_float_index_is_rejected():
    with pytest.raises(IndexError, match="float64"):
        t(3, 4)[np.array([0.5])]


def test_non_scalar_backward():
    with pytest.raises(RuntimeError, match=r"scalar outputs.*shape \(2, 3\)"):
        (t(2, 3) * 2).backward()


def test_backward_gradient_of_the_wrong_shape():
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the output has shape \(2, 3\)"):
        (t(2, 3) * 2).backward(gradient=np.ones(3))


@pytest.mark.parametrize("data,dtype", [([1, 2], "int64"), (np.arange(3), "int64"), ([True], "bool")])
def test_requires_grad_on_integer_data(data, dtype):
    with pytest.raises(ValueError, match=rf"floating point tensors can require gradients, got dtype {dtype}"):
        Tensor(data, requires_grad=True)
    with pytest.raises(ValueError, match=dtype):
        autograd.tensor(data).requires_grad_()


def test_requires_grad_on_integer_constructors():
    with pytest.raises(ValueError, match="int64"):
        autograd.arange(3, requires_grad=True)
    with pytest.raises(ValueError, match="int64"):
        autograd.zeros(3, dtype="int64", requires_grad=True)


@pytest.mark.parametrize("bad", ["float128", "complex64", "int", "Float32", "f8"])
def test_bad_dtype_string(bad):
    with pytest.raises(TypeError, match=rf"unknown dtype '{bad}'; use one of \[.*'float32'.*\]"):
        Tensor([1.0], dtype=bad)
    with pytest.raises(TypeError, match=rf"unknown dtype '{bad}'"):
        autograd.zeros(2, dtype=bad)
    with pytest.raises(TypeError, match=rf"unknown dtype '{bad}'"):
        t(2).to(bad)


def test_bad_data():
    with pytest.raises(TypeError, match="str"):
        Tensor("abc")
    with pytest.raises(TypeError, match="dict"):
        Tensor({"a": 1})


@pytest.mark.parametrize("call,exc,pattern", [
    (lambda x: x.sum(dim=2), IndexError, r"range of \[-2, 1\], but got 2"),
    (lambda x: x.softmax(-3), IndexError, r"but got -3"),
    (lambda x: x.mean(dim=(0, 0)), ValueError, r"dim \(0, 0\) names a dimension twice"),
    (lambda x: x.transpose(0, 2), IndexError, r"but got 2"),
    (lambda x: x.permute(0, 0), ValueError, r"dims \(0, 0\) are not a permutation of 2"),
    (lambda x: x.permute(1, 0, 2), ValueError, r"got 3 dims \(1, 0, 2\) for a tensor with 2"),
    (lambda x: x.unsqueeze(3), IndexError, r"range of \[-3, 2\], but got 3"),
    (lambda x: x.expand(2, 5), ValueError, r"size 3 of dimension 0 of shape \(3, 4\) must match 2"),
    (lambda x: x.expand(4), ValueError, r"target shape \(4,\) has fewer dimensions than .*\(3, 4\)"),
    (lambda x: x.flatten(1, 0), ValueError, r"start_dim 1 comes after end_dim 0"),
    (lambda x: x.clamp(), ValueError, r"at least one of min and max"),
    (lambda x: x.item(), ValueError, r"one element, got shape \(3, 4\)"),
    (lambda x: bool(x), RuntimeError, r"shape \(3, 4\) is ambiguous"),
])
def test_dimension_and_misc_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call(t(3, 4))


def test_cat_and_stack_mismatches():
    with pytest.raises(ValueError, match=r"cat: shapes \[\(3, 4\), \(2, 3\)\] must match except in dim"):
        autograd.cat([t(3, 4), t(2, 3)])
    with pytest.raises(ValueError, match=r"stack: all tensors must have the same shape, got \[\(3, 4\), \("):
        autograd.stack([t(3, 4), t(2, 3)])
    with pytest.raises(ValueError, match="non-empty"):
        autograd.cat([])


def test_max_of_an_empty_tensor():
    with pytest.raises(RuntimeError, match=r"empty tensor of shape \(0, 3\)"):
        t(0, 3).max()


def test_grad_errors():
    x, y = t(3), t(3)
    out = (x * 2).sum()
    with pytest.raises(RuntimeError, match="input 1 is not used"):
        autograd.grad(out, [x, y], retain_graph=True)
    with pytest.raises(RuntimeError, match="input 0 does not require grad"):
        autograd.grad(out, [t(3, requires_grad=False)], retain_graph=True)
    with pytest.raises(ValueError, match="got 2 grad_outputs for 1 outputs"):
        autograd.grad(out, x, grad_outputs=[None, None])


def test_retain_grad_without_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        t(3, requires_grad=False).retain_grad()


def test_errors_leave_grad_mode_and_graph_usable():
    x = t(3)
    with pytest.raises(ValueError):
        with autograd.no_grad():
            x.reshape(4)
    assert autograd.is_grad_enabled()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])


@pytest.mark.parametrize("fn", [autograd.randn, autograd.rand])
def test_random_constructors_need_a_float_dtype(fn):
    with pytest.raises(TypeError, match="floating point type, got int64"):
        fn(2, 3, dtype="int64")
    assert fn(2, 3, dtype="float64").dtype == np.float64
