"""Type promotion against torch: every pair of dtypes as n-d tensors, 0-d tensors and Python scalars
through + - * / ** // and unary float ops; result dtypes (and values) equal torch's, torch's errors
are errors here too."""
import operator

import numpy as np
import pytest

import autograd

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
SCALARS = {"py_bool": True, "py_int": 2, "py_float": 1.5}
LEFT = {"bool": [True, False], "int": [3, 2], "float": [3.0, 2.5]}  # no zero on the right: // and / by 0
RIGHT = {"bool": [True, True], "int": [1, 2], "float": [1.5, 2.0]}
BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
          "**": operator.pow, "//": operator.floordiv}
UNARY = ["exp", "sqrt", "sigmoid"]
FORMS = [("nd", "nd"), ("nd", "0d"), ("0d", "nd"), ("0d", "0d")]


def values(dtype, side, zero_d):
    """Example values for a dtype name: a 2-element array or its first element as 0-d."""
    kind = "bool" if dtype == "bool" else "float" if dtype.startswith("float") else "int"
    vals = np.asarray((LEFT if side == "left" else RIGHT)[kind], dtype=dtype)
    return vals[0] if zero_d else vals


def make(lib, operand):
    """An operand for lib: ('tensor', dtype, side, zero_d) becomes a tensor, a Python scalar stays."""
    if operand[0] == "scalar":
        return operand[1]
    _, dtype, side, zero_d = operand
    return lib.tensor(np.asarray(values(dtype, side, zero_d)))


def evaluate(lib, fn, operands):
    """fn over lib's operands: (dtype name, values) or ('error', exception)."""
    try:
        with np.errstate(all="ignore"):
            out = fn(*[make(lib, o) for o in operands])
    except Exception as exc:  # an error is a result to compare
        return "error", exc
    name = str(out.dtype).replace("torch.", "") if lib is torch else np.dtype(out.dtype).name
    return name, np.asarray(out.detach().numpy(), dtype=np.float64)


def binary_cases():
    """(op, left, right) for every dtype pair in every tensor form, and every dtype with Python scalars."""
    for op in BINARY:
        for left_form, right_form in FORMS:
            for d1 in DTYPES:
                for d2 in DTYPES:
                    left = ("tensor", d1, "left", left_form == "0d")
                    right = ("tensor", d2, "right", right_form == "0d")
                    yield f"{d1}{left_form}{op}{d2}{right_form}", op, left, right
        for d in DTYPES:
            for sname, scalar in SCALARS.items():
                for form in ("nd", "0d"):
                    tensor_left = ("tensor", d, "left", form == "0d")
                    tensor_right = ("tensor", d, "right", form == "0d")
                    yield f"{d}{form}{op}{sname}", op, tensor_left, ("scalar", scalar)
                    number = ("scalar", 3 if sname == "py_int" else scalar)
                    yield f"{sname}{op}{d}{form}", op, number, tensor_right


def known_bugs():
    """case id -> reason, for chainrule bugs this table finds (none left)."""
    return {}


XFAIL = known_bugs()


def params(cases):
    """Cases as pytest params, known chainrule bugs marked strict xfail."""
    for case_id, *args in cases:
        marks = [pytest.mark.xfail(strict=True, reason=XFAIL[case_id])] if case_id in XFAIL else []
        yield pytest.param(*args, id=case_id, marks=marks)


def assert_same(expected, got):
    """torch's (dtype, values) or error against chainrule's."""
    if expected[0] == "error":
        assert got[0] == "error", f"torch raises {expected[1]!r}; chainrule gives {got[0]}"
        return
    if got[0] == "error":
        raise got[1]
    assert got[0] == expected[0], f"result dtype: torch {expected[0]}, chainrule {got[0]}"
    tol = 2e-3 if "float16" in expected[0] else 1e-6
    np.testing.assert_allclose(got[1], expected[1], rtol=tol, atol=tol)


@pytest.mark.parametrize("op,left,right", list(params(binary_cases())))
def test_binary_promotion_matches_torch(op, left, right):
    fn = BINARY[op]
    assert_same(evaluate(torch, fn, (left, right)), evaluate(autograd, fn, (left, right)))


def unary_cases():
    for name in UNARY:
        for d in DTYPES:
            for form in ("nd", "0d"):
                yield f"{name}({d}{form})", name, ("tensor", d, "left", form == "0d")


@pytest.mark.parametrize("name,operand", list(params(unary_cases())))
def test_unary_float_op_promotion_matches_torch(name, operand):
    def fn(t):
        return getattr(t, name)()
    assert_same(evaluate(torch, fn, (operand,)), evaluate(autograd, fn, (operand,)))
