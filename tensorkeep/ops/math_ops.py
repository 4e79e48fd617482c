"""Math ops: elementwise arithmetic and comparisons with broadcasting, casts, matrix products,
reductions, scans, segment sums, ranges, top-k, clipping and norms, their gradients, and the
Tensor operator overloads (`+ - * / // % **`, unary `-`, `abs`, `~`, `&`, `|`, `^`, `< <= > >=`,
`@`).

Each op: schema (TensorFlow's OpDef spelling), NumPy kernel, shape function, builder and gradient
side by side. Gradients build the ops TensorFlow's gradient functions build, with the same names.
"""

import builtins
import collections

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework import tensor_util
from tensorkeep.framework.indexed_slices import IndexedSlices
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient
from tensorkeep.ops import _helpers
from tensorkeep.ops import array_ops
from tensorkeep.ops import kernel_threads

# TensorFlow's type lists, in its order (the OpDefs written into files carry them).
_REAL_NUMBER_TYPES = ("{float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, half, "
                      "uint32, uint64}")
_NUMBER_TYPES = ("{float, double, int32, uint8, int16, int8, complex64, int64, qint8, quint8, "
                 "qint32, bfloat16, qint16, quint16, uint16, complex128, half, uint32, uint64}")
_FLOAT_COMPLEX = "{bfloat16, half, float, double, complex64, complex128}"
_FLOAT = "{bfloat16, half, float, double}"
_SIGNED = "{bfloat16, half, float, double, int8, int16, int32, int64, complex64, complex128}"
_ARITHMETIC = ("{bfloat16, half, float, double, uint8, int8, uint16, int16, int32, uint32, uint64, "
               "int64, complex64, complex128}")
_MIN_MAX = ("{bfloat16, half, float, double, int8, uint8, int16, uint16, int32, uint32, int64, "
            "uint64}")
_INDEX = "{int32, int64} = DT_INT32"


def _quiet(fn):
    """Runs a kernel without NumPy's floating-point warnings (TensorFlow yields inf/nan
    silently)."""
    def run(*args):
        with np.errstate(all="ignore"):
            return fn(*args)
    return run


def _same_dtype(fn):
    """Wraps a NumPy ufunc so results keep the first input's dtype (NumPy may promote)."""
    def run(x, y):
        result = fn(x, y)
        dtype = np.asarray(x).dtype
        if isinstance(result, np.ndarray):
            return result if result.dtype == dtype else result.astype(dtype)
        return np.asarray(result, dtype=dtype)
    return _quiet(run)


def _int_division(fn):
    """Integer division and modulo fail on a zero divisor, as in TensorFlow."""
    def run(x, y):
        if np.asarray(x).dtype.kind in "iu" and np.any(np.asarray(y) == 0) and \
                np.broadcast(x, y).size:
            raise ValueError("Integer division by zero")
        return fn(x, y)
    return run


def _binary(op_type, compute, types, commutative=False, out="z: T", inputs=("x: T", "y: T"),
            is_aggregate=False):
    register_op(op_type, inputs=list(inputs), outputs=[out], attrs=["T: " + types],
                commutative=commutative, is_aggregate=is_aggregate, compute=compute,
                shape=_helpers.broadcast_shape)


def _unary(op_type, compute, types):
    register_op(op_type, inputs=["x: T"], outputs=["y: T"], attrs=["T: " + types],
                compute=compute, shape=_helpers.unchanged_shape)


def _truncate_div(x, y):
    x = np.asarray(x)
    if x.dtype.kind in "iu":
        quotient = np.floor_divide(x, y)
        fix = (np.remainder(x, y) != 0) & ((x < 0) != (np.asarray(y) < 0))
        return quotient + fix
    return np.true_divide(x, y)


def _pow(x, y):
    x = np.asarray(x)
    if x.dtype.kind in "iu" and np.any(np.asarray(y) < 0):
        raise ValueError("Integers to negative integer powers are not allowed")
    return np.power(x, y)


def _div_no_nan(x, y):
    safe = np.where(y == 0, np.ones_like(y), y)
    return np.where(y == 0, np.zeros_like(x), np.true_divide(x, safe))


_binary("AddV2", _same_dtype(np.add),
        "{bfloat16, half, float, double, uint8, uint16, uint32, uint64, int8, int16, int32, "
        "int64, complex64, complex128}", commutative=True, is_aggregate=True)
_binary("Add", _same_dtype(np.add),
        "{bfloat16, half, float, double, uint8, int8, int16, int32, int64, complex64, "
        "complex128, string}")
_binary("Sub", _same_dtype(np.subtract),
        "{bfloat16, half, float, double, uint8, int8, uint16, int16, int32, int64, complex64, "
        "complex128, uint32, uint64}")
_binary("Mul", _same_dtype(np.multiply), _ARITHMETIC, commutative=True)
_binary("RealDiv", _same_dtype(np.true_divide), _ARITHMETIC)
_binary("Div", _same_dtype(_int_division(_truncate_div)), _ARITHMETIC)
_binary("DivNoNan", _same_dtype(_div_no_nan),
        "{half, float, bfloat16, double, complex64, complex128}")
_binary("FloorDiv", _same_dtype(_int_division(np.floor_divide)), _ARITHMETIC)
_binary("FloorMod", _same_dtype(_int_division(np.mod)),
        "{int8, int16, int32, int64, uint8, uint16, uint32, uint64, bfloat16, half, float, double}")
_binary("TruncateMod", _same_dtype(_int_division(np.fmod)),
        "{int32, int64, bfloat16, half, float, double}")
_binary("TruncateDiv", _same_dtype(_int_division(_truncate_div)), _ARITHMETIC)
_binary("Pow", _same_dtype(_pow), "{bfloat16, float, half, double, int8, int16, int32, int64, "
        "complex64, complex128}")
_binary("Maximum", _same_dtype(np.maximum), _MIN_MAX)
_binary("Minimum", _same_dtype(np.minimum), _MIN_MAX)
_binary("SquaredDifference", _same_dtype(lambda x, y: np.square(np.subtract(x, y))),
        "{bfloat16, half, float, double, int32, int64, complex64, complex128}", commutative=True)
_binary("Atan2", _same_dtype(np.arctan2), _FLOAT, inputs=("y: T", "x: T"))
_binary("MulNoNan", _same_dtype(lambda x, y: np.where(y == 0, np.zeros_like(x * y), x * y)),
        _FLOAT_COMPLEX)

for _op_type, _fn in (("Less", np.less), ("LessEqual", np.less_equal), ("Greater", np.greater),
                      ("GreaterEqual", np.greater_equal)):
    _binary(_op_type, _quiet(lambda x, y, _fn=_fn: np.asarray(_fn(x, y))), _REAL_NUMBER_TYPES,
            out="z: bool")

for _op_type, _fn in (("Equal", np.equal), ("NotEqual", np.not_equal)):
    register_op(_op_type, inputs=["x: T", "y: T"], outputs=["z: bool"],
                attrs=["T: type", "incompatible_shape_error: bool = true"], commutative=True,
                compute=lambda x, y, _fn=_fn: np.asarray(_fn(x, y), dtype=bool),
                shape=_helpers.broadcast_shape)

for _op_type, _fn in (("LogicalAnd", np.logical_and), ("LogicalOr", np.logical_or)):
    register_op(_op_type, inputs=["x: bool", "y: bool"], outputs=["z: bool"], commutative=True,
                compute=lambda x, y, _fn=_fn: np.asarray(_fn(x, y)),
                shape=_helpers.broadcast_shape)
register_op("LogicalNot", inputs=["x: bool"], outputs=["y: bool"],
            compute=lambda x: np.asarray(np.logical_not(x)), shape=_helpers.unchanged_shape)


def _keep_dtype_unary(fn):
    def run(x):
        x = np.asarray(x)
        with np.errstate(all="ignore"):
            result = np.asarray(fn(x))
        return result if result.dtype == x.dtype else result.astype(x.dtype)
    return run


def _reciprocal(x):
    if x.dtype.kind in "iu":
        return np.floor_divide(np.ones_like(x), x)
    return np.reciprocal(x)


_unary("Neg", _keep_dtype_unary(np.negative), _SIGNED)
_unary("Abs", _keep_dtype_unary(np.abs), "{bfloat16, half, float, double, int8, int16, int32, "
       "int64}")
_unary("Square", _keep_dtype_unary(np.square),
       "{bfloat16, half, float, double, int8, int16, int32, int64, uint8, uint16, uint32, uint64, "
       "complex64, complex128}")
_unary("Sign", _keep_dtype_unary(np.sign), _SIGNED)
_unary("Reciprocal", _keep_dtype_unary(_reciprocal), _SIGNED)
_unary("Inv", _keep_dtype_unary(_reciprocal), _SIGNED)
for _op_type, _fn in (("Sqrt", np.sqrt), ("Exp", np.exp), ("Log", np.log), ("Log1p", np.log1p),
                      ("Expm1", np.expm1), ("Sin", np.sin), ("Cos", np.cos), ("Tan", np.tan),
                      ("Asin", np.arcsin), ("Acos", np.arccos), ("Atan", np.arctan),
                      ("Sinh", np.sinh), ("Cosh", np.cosh), ("Asinh", np.arcsinh),
                      ("Acosh", np.arccosh), ("Atanh", np.arctanh),
                      ("Rsqrt", lambda x: np.reciprocal(np.sqrt(x)))):
    _unary(_op_type, _keep_dtype_unary(_fn), _FLOAT_COMPLEX)
for _op_type, _fn in (("Floor", np.floor), ("Ceil", np.ceil), ("Rint", np.rint)):
    _unary(_op_type, _keep_dtype_unary(_fn), _FLOAT)
_unary("Round", _keep_dtype_unary(lambda x: x if x.dtype.kind in "iu" else np.round(x)), _SIGNED)
for _op_type, _fn in (("IsNan", np.isnan), ("IsInf", np.isinf), ("IsFinite", np.isfinite)):
    register_op(_op_type, inputs=["x: T"], outputs=["y: bool"], attrs=["T: " + _FLOAT],
                compute=lambda x, _fn=_fn: np.asarray(_fn(x)), shape=_helpers.unchanged_shape)

# The derivative kernels of sqrt, rsqrt and reciprocal, fed y = f(x) and the incoming dy.
for _op_type, _fn in (("SqrtGrad", lambda y, dy: dy * 0.5 / y),
                      ("RsqrtGrad", lambda y, dy: -0.5 * dy * y * y * y),
                      ("ReciprocalGrad", lambda y, dy: -dy * y * y),
                      ("InvGrad", lambda y, dy: -dy * y * y)):
    register_op(_op_type, inputs=["y: T", "dy: T"], outputs=["z: T"],
                attrs=["T: " + _FLOAT_COMPLEX],
                compute=_same_dtype(_fn), shape=_helpers.unchanged_shape)

register_op("Conj", inputs=["input: T"], outputs=["output: T"],
            attrs=["T: {complex64, complex128, variant} = DT_COMPLEX64"],
            compute=np.conj, shape=_helpers.unchanged_shape)

for _op_type in ("Less", "LessEqual", "Greater", "GreaterEqual", "Equal", "NotEqual",
                 "LogicalAnd", "LogicalOr", "LogicalNot", "IsNan", "IsInf", "IsFinite",
                 "FloorDiv", "TruncateDiv", "Floor", "Ceil", "Round", "Rint"):
    register_gradient(_op_type, None)


# --- builders ------------------------------------------------------------------------------------
# Most are TensorFlow's generated wrappers: one op, python values converted inside its scope.

def _gen(op_type, *arg_names):
    def build(*args, name=None):
        return apply_op(op_type, name=name, **dict(zip(arg_names, args)))
    build.__name__ = op_type
    return build


subtract = _gen("Sub", "x", "y")
multiply = _gen("Mul", "x", "y")
realdiv = _gen("RealDiv", "x", "y")
floor_div = _gen("FloorDiv", "x", "y")
floormod = _gen("FloorMod", "x", "y")
truncatediv = _gen("TruncateDiv", "x", "y")
truncatemod = _gen("TruncateMod", "x", "y")
maximum = _gen("Maximum", "x", "y")
minimum = _gen("Minimum", "x", "y")
squared_difference = _gen("SquaredDifference", "x", "y")
less = _gen("Less", "x", "y")
less_equal = _gen("LessEqual", "x", "y")
greater = _gen("Greater", "x", "y")
greater_equal = _gen("GreaterEqual", "x", "y")
logical_and = _gen("LogicalAnd", "x", "y")
logical_or = _gen("LogicalOr", "x", "y")
atan2 = _gen("Atan2", "y", "x")
negative = _gen("Neg", "x")
square = _gen("Square", "x")
sqrt = _gen("Sqrt", "x")
rsqrt = _gen("Rsqrt", "x")
exp = _gen("Exp", "x")
log = _gen("Log", "x")
log1p = _gen("Log1p", "x")
expm1 = _gen("Expm1", "x")
sign = _gen("Sign", "x")
reciprocal = _gen("Reciprocal", "x")
floor = _gen("Floor", "x")
ceil = _gen("Ceil", "x")
rint = _gen("Rint", "x")
sin = _gen("Sin", "x")
cos = _gen("Cos", "x")
tan = _gen("Tan", "x")
asin = _gen("Asin", "x")
acos = _gen("Acos", "x")
atan = _gen("Atan", "x")
sinh = _gen("Sinh", "x")
cosh = _gen("Cosh", "x")
asinh = _gen("Asinh", "x")
acosh = _gen("Acosh", "x")
atanh = _gen("Atanh", "x")
logical_not = _gen("LogicalNot", "x")
is_nan = _gen("IsNan", "x")
is_inf = _gen("IsInf", "x")
is_finite = _gen("IsFinite", "x")


def equal(x, y, name=None):
    return apply_op("Equal", x=x, y=y, name=name)


def not_equal(x, y, name=None):
    return apply_op("NotEqual", x=x, y=y, name=name)


def add(x, y, name=None):
    with ops.name_scope(name, "Add", [x]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        y = ops.convert_to_tensor(y, dtype_hint=x.dtype.base_dtype, name="y")
        if x.dtype.base_dtype is dtypes.string:
            return apply_op("Add", x=x, y=y, name=scope)
        return apply_op("AddV2", x=x, y=y, name=scope)


def pow(x, y, name=None):  # noqa: A001 (TF's name)
    with ops.name_scope(name, "Pow", [x]) as scope:
        return apply_op("Pow", x=x, y=y, name=scope)


def mod(x, y, name=None):
    with ops.name_scope(name, "mod", [x, y]) as scope:
        return apply_op("FloorMod", x=x, y=y, name=scope)


def floordiv(x, y, name=None):
    with ops.name_scope(name, "floordiv", [x, y]) as scope:
        return apply_op("FloorDiv", x=x, y=y, name=scope)


def logical_xor(x, y, name="LogicalXor"):
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)), name=name)


def round(x, name=None):  # noqa: A001
    x = ops.convert_to_tensor(x, name="x")
    if x.dtype.is_integer:
        return x
    return apply_op("Round", x=x, name=name)


def abs(x, name=None):  # noqa: A001
    with ops.name_scope(name, "Abs", [x]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        if x.dtype.is_complex:  # the magnitude, a real tensor
            return apply_op("ComplexAbs", x=x, Tout=x.dtype.real_dtype, name=scope)
        return apply_op("Abs", x=x, name=scope)


def conj(x, name=None):
    """Complex conjugate; real tensors are returned unchanged (no op)."""
    if isinstance(x, ops.Tensor) and (x.dtype.is_floating or x.dtype.is_integer):
        return x
    with ops.name_scope(name, "Conj", [x]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        if x.dtype.is_complex or x.dtype.base_dtype is dtypes.variant:
            return apply_op("Conj", input=x, name=scope)
        return x


# Python-3 division casts integers to floats first (TensorFlow's table).
_TRUEDIV_CAST = {dtypes.uint8: dtypes.float32, dtypes.int8: dtypes.float32,
                 dtypes.uint16: dtypes.float32, dtypes.int16: dtypes.float32,
                 dtypes.uint32: dtypes.float64, dtypes.uint64: dtypes.float64,
                 dtypes.int32: dtypes.float64, dtypes.int64: dtypes.float64}
_TRUEDIV_TYPES = frozenset(list(_TRUEDIV_CAST) + [
    dtypes.bfloat16, dtypes.float16, dtypes.float32, dtypes.float64, dtypes.complex64,
    dtypes.complex128])


def _truediv_cast(x, y, what):
    x_dtype = x.dtype.base_dtype
    if x_dtype != y.dtype.base_dtype:
        raise TypeError("`x` and `y` must have the same dtype, got %r != %r."
                        % (x_dtype, y.dtype.base_dtype))
    if x_dtype not in _TRUEDIV_TYPES:
        raise TypeError("Invalid dtype %r in %s." % (x_dtype, what))
    target = _TRUEDIV_CAST.get(x_dtype)
    if target is not None:
        return cast(x, target), cast(y, target)
    return x, y


def truediv(x, y, name=None):
    """Python-3 division: integers are cast to floats first (int32 -> float64 as TF does)."""
    with ops.name_scope(name, "truediv", [x, y]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        y = ops.convert_to_tensor(y, dtype_hint=x.dtype.base_dtype, name="y")
        x, y = _truediv_cast(x, y, "__truediv__")
        return apply_op("RealDiv", x=x, y=y, name=scope)


def divide(x, y, name=None):
    if name is not None:
        return truediv(x, y, name=name)
    if not isinstance(x, ops.Tensor):
        x = ops.convert_to_tensor(x, dtype=y.dtype.base_dtype if isinstance(y, ops.Tensor)
                                  else None)
    return x / y


def div(x, y, name=None):
    """TF1 tf.div: Python-2 semantics (floor division for integers)."""
    with ops.name_scope(name, "div", [x, y]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        y = ops.convert_to_tensor(y, name="y", dtype=x.dtype.base_dtype)
        if x.dtype.is_floating or x.dtype.is_complex:
            return apply_op("RealDiv", x=x, y=y, name=scope)
        return apply_op("FloorDiv", x=x, y=y, name=scope)


def div_no_nan(x, y, name=None):
    with ops.name_scope(name, "div_no_nan", [x, y]) as scope:
        if not isinstance(x, ops.Tensor) and isinstance(y, ops.Tensor):
            y = ops.convert_to_tensor(y, name="y")
            x = ops.convert_to_tensor(x, dtype=y.dtype.base_dtype, name="x")
        else:
            x = ops.convert_to_tensor(x, name="x")
            y = ops.convert_to_tensor(y, dtype_hint=x.dtype.base_dtype, name="y")
        x, y = _truediv_cast(x, y, "tf.math.divide_no_nan")
        return apply_op("DivNoNan", x=x, y=y, name=scope)


def multiply_no_nan(x, y, name=None):
    with ops.name_scope(name, "multiply_no_nan", [x, y]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        y = ops.convert_to_tensor(y, name="y", dtype=x.dtype.base_dtype)
        return apply_op("MulNoNan", x=x, y=y, name=scope)


def scalar_mul(scalar, x, name=None):
    scalar = ops.convert_to_tensor(scalar, dtype=x.dtype.base_dtype, name="scalar")
    if scalar.shape.ndims != 0:
        raise ValueError("The input scalar must be a 0-D value. Received shape %s."
                         % scalar.shape)
    if isinstance(x, IndexedSlices):
        return IndexedSlices(apply_op("Mul", x=scalar, y=x.values, name=name), x.indices,
                             x.dense_shape)
    return apply_op("Mul", x=scalar, y=x, name=name)


# --- gradients of elementwise ops ---------------------------------------------------------------

def _reduction_axes(x_shape, y_shape):
    """The axes along which each input was broadcast, when the static shapes decide it; else
    (None, None)."""
    if x_shape.ndims is None or y_shape.ndims is None:
        return None, None
    x_dims = x_shape.as_list()
    y_dims = y_shape.as_list()
    out_rank = max(len(x_dims), len(y_dims))
    x_axes, y_axes = [], []
    for axis in builtins.range(out_rank):
        x_dim = 1 if axis < out_rank - len(x_dims) else x_dims[axis - (out_rank - len(x_dims))]
        y_dim = 1 if axis < out_rank - len(y_dims) else y_dims[axis - (out_rank - len(y_dims))]
        if x_dim == 1 and y_dim != 1:
            x_axes.append(axis)
        elif y_dim == 1 and x_dim != 1:
            y_axes.append(axis)
        elif x_dim is None or y_dim is None:
            return None, None
    return x_axes, y_axes


def _smart_broadcast_gradient_args(x, y):
    """(shape, reduction axes, must reduce) for each input of a broadcasting binary op: static
    axes when the shapes decide them, BroadcastGradientArgs otherwise."""
    x_shape = array_ops.shape(x)
    y_shape = array_ops.shape(y)
    x_axes, y_axes = _reduction_axes(x.shape, y.shape)
    if x_axes is None or y_axes is None:
        x_axes, y_axes = array_ops.broadcast_gradient_args(x_shape, y_shape)
        x_must_reduce = y_must_reduce = True
    else:
        x_must_reduce = bool(x_axes) or x.shape.ndims < y.shape.ndims
        y_must_reduce = bool(y_axes) or y.shape.ndims < x.shape.ndims
    return (x_shape, x_axes, x_must_reduce), (y_shape, y_axes, y_must_reduce)


def _reduce_gradient_arg(grad, shape_axes_must_reduce):
    input_shape, axes, must_reduce = shape_axes_must_reduce
    if grad is not None and must_reduce:
        grad = reduce_sum(grad, axes, keepdims=True)
        grad = array_ops.reshape(grad, input_shape)
    return grad


def _reduce_gradient_args(x, y, gx, gy):
    """Sums each input's gradient over the axes it was broadcast along."""
    if gx is not None or gy is not None:
        bx, by = _smart_broadcast_gradient_args(x, y)
        gx = _reduce_gradient_arg(gx, bx)
        gy = _reduce_gradient_arg(gy, by)
    return [gx, gy]


def _shapes_fully_specified_and_equal(x, y, grad):
    return (isinstance(grad, ops.Tensor) and x.shape.is_fully_defined() and
            x.shape == y.shape and x.shape == grad.shape)


def _add_grad(op, grad):
    x, y = op._inputs
    if _shapes_fully_specified_and_equal(x, y, grad):
        return [grad, grad]
    return _reduce_gradient_args(x, y, grad, grad)


def _sub_grad(op, grad):
    x, y = op._inputs
    if _shapes_fully_specified_and_equal(x, y, grad):
        return [grad, -grad]
    return _reduce_gradient_args(x, y, grad, -grad)


def _mul_grad(op, grad):
    x, y = op._inputs
    if _shapes_fully_specified_and_equal(x, y, grad) and grad.dtype in (dtypes.int32,
                                                                        dtypes.float32):
        return [multiply(grad, y), multiply(grad, x)]
    gx = multiply(grad, conj(y))
    gy = multiply(conj(x), grad)
    return _reduce_gradient_args(x, y, gx, gy)


def _mul_no_nan_grad(op, grad):
    x, y = op._inputs
    gx = apply_op("MulNoNan", x=grad, y=y)
    gy = apply_op("MulNoNan", x=x, y=grad)
    if _shapes_fully_specified_and_equal(x, y, grad):
        return [gx, gy]
    return _reduce_gradient_args(x, y, gx, gy)


def _quotient_grad(quotient):
    """The gradient of x / y, built with `quotient` (Div's with the generic division, RealDiv's
    with RealDiv ops)."""
    def grad_fn(op, grad):
        x, y = op._inputs
        cx, cy = conj(x), conj(y)
        gx = quotient(grad, cy)
        gy = grad * quotient(quotient(-cx, cy), cy)
        return _reduce_gradient_args(x, y, gx, gy)
    return grad_fn


def _div_no_nan_grad(op, grad):
    x, y = conj(op._inputs[0]), conj(op._inputs[1])
    gx = div_no_nan(grad, y)
    gy = grad * div_no_nan(div_no_nan(-x, y), y)
    return _reduce_gradient_args(x, y, gx, gy)


def _floor_mod_grad(op, grad):
    x, y = conj(op._inputs[0]), conj(op._inputs[1])
    floor_xy = floor_div(x, y)
    gy = grad * negative(floor_xy)
    return _reduce_gradient_args(x, y, grad, gy)


def _pow_grad(op, grad):
    x, y = op._inputs
    cx, cy = conj(x), conj(y)
    gx = grad * cy * pow(cx, cy - 1)
    # log(x) is only taken where x > 0 (x != 0 for complex); elsewhere the gradient is 0.
    mask = not_equal(cx, 0) if x.dtype.is_complex else cx > 0
    safe_x = array_ops.where(mask, cx, array_ops.ones_like(x))
    log_x = array_ops.where(mask, log(safe_x), array_ops.zeros_like(x))
    gy = grad * conj(op._outputs[0]) * log_x
    return _reduce_gradient_args(x, y, gx, gy)


def _maximum_minimum_grad(op, grad, selector):
    x, y = op._inputs
    zeros = array_ops.zeros_like(grad)
    xmask = selector(x, y)
    gx = array_ops.where_v2(xmask, grad, zeros)
    gy = array_ops.where_v2(xmask, zeros, grad)
    return _reduce_gradient_args(x, y, gx, gy)


def _squared_difference_grad(op, grad):
    x, y = op._inputs
    with ops.control_dependencies([grad]):
        x_grad = scalar_mul(2.0, grad) * (x - y)
    if _shapes_fully_specified_and_equal(x, y, grad):
        return [x_grad, -x_grad]
    return _reduce_gradient_args(x, y, x_grad, -x_grad)


def _atan2_grad(op, grad):
    y, x = op._inputs
    with ops.control_dependencies([grad]):
        grad_inv = grad / (square(y) + square(x))
        return _reduce_gradient_args(y, x, x * grad_inv, -y * grad_inv)


for _op_type in ("Add", "AddV2"):
    register_gradient(_op_type, _add_grad)
register_gradient("Sub", _sub_grad)
register_gradient("Mul", _mul_grad)
register_gradient("MulNoNan", _mul_no_nan_grad)
register_gradient("Div", _quotient_grad(divide))
register_gradient("RealDiv", _quotient_grad(realdiv))
register_gradient("DivNoNan", _div_no_nan_grad)
register_gradient("FloorMod", _floor_mod_grad)
register_gradient("Pow", _pow_grad)
register_gradient("Maximum", lambda op, grad: _maximum_minimum_grad(op, grad, greater_equal))
register_gradient("Minimum", lambda op, grad: _maximum_minimum_grad(op, grad, less_equal))
register_gradient("SquaredDifference", _squared_difference_grad)
register_gradient("Atan2", _atan2_grad)


def _unary_grad(fn):
    """Gradients of the form grad * f'(x): built after `grad`, as TensorFlow orders them."""
    def grad_fn(op, grad):
        with ops.control_dependencies([grad]):
            return [fn(op, conj(op._inputs[0]), grad)]
    return grad_fn


def _one(grad):
    return array_ops.constant(1, dtype=grad.dtype)


def _square_grad(op, grad):
    with ops.control_dependencies([grad]):
        x = conj(op._inputs[0])
        two = array_ops.constant(2.0, dtype=x.dtype)
        return [multiply(grad, multiply(x, two))]


def _exp_grad(op, grad):
    with ops.control_dependencies([grad]):
        return [grad * conj(op._outputs[0])]


def _inverse_hyperbolic_grad(fn):
    def grad_fn(op, grad):
        with ops.control_dependencies([grad]):
            return [grad / fn(conj(op._outputs[0]))]
    return grad_fn


register_gradient("Neg", lambda op, grad: [-grad])
register_gradient("Abs", lambda op, grad: [grad * sign(op._inputs[0])])
register_gradient("Sign", lambda op, grad: [array_ops.zeros_like(op._inputs[0])])
register_gradient("Square", _square_grad)
register_gradient("Sqrt", lambda op, grad: [apply_op("SqrtGrad", y=op._outputs[0], dy=grad)])
register_gradient("Rsqrt", lambda op, grad: [apply_op("RsqrtGrad", y=op._outputs[0], dy=grad)])
for _op_type in ("Reciprocal", "Inv"):
    register_gradient(_op_type, lambda op, grad: [apply_op("ReciprocalGrad", y=op._outputs[0],
                                                           dy=grad)])
register_gradient("Exp", _exp_grad)
register_gradient("Expm1", _unary_grad(lambda op, x, grad: grad * exp(x)))
register_gradient("Log", _unary_grad(lambda op, x, grad: grad * reciprocal(x)))
register_gradient("Log1p", _unary_grad(lambda op, x, grad: grad * reciprocal(1 + x)))
register_gradient("Sin", _unary_grad(lambda op, x, grad: grad * cos(x)))
register_gradient("Cos", _unary_grad(lambda op, x, grad: -grad * sin(x)))
register_gradient("Tan", _unary_grad(lambda op, x, grad: square(reciprocal(cos(x))) * grad))
register_gradient("Asin", _unary_grad(lambda op, x, grad: grad * reciprocal(
    sqrt(subtract(_one(grad), square(x))))))
register_gradient("Acos", _unary_grad(lambda op, x, grad: -grad * reciprocal(
    sqrt(subtract(_one(grad), square(x))))))
register_gradient("Atan", _unary_grad(lambda op, x, grad: grad * reciprocal(
    add(_one(grad), square(x)))))
register_gradient("Sinh", _unary_grad(lambda op, x, grad: grad * cosh(x)))
register_gradient("Cosh", _unary_grad(lambda op, x, grad: grad * sinh(x)))
register_gradient("Asinh", _inverse_hyperbolic_grad(cosh))
register_gradient("Acosh", _inverse_hyperbolic_grad(sinh))
register_gradient("Atanh", _unary_grad(lambda op, x, grad: grad * reciprocal(
    subtract(_one(grad), square(x)))))
register_gradient("Conj", lambda op, grad: [conj(grad)])


def _sqrt_grad_grad(op, grad):
    a = op._inputs[0]
    y = op._outputs[0]
    with ops.control_dependencies([grad]):
        ga = grad / a
        return [-conj(ga) * y, 0.5 * ga]


def _rsqrt_grad_grad(op, grad):
    a, b = op._inputs
    with ops.control_dependencies([grad]):
        ca = conj(a)
        cg = conj(grad)
        return [-1.5 * cg * b * square(ca), apply_op("RsqrtGrad", y=ca, dy=grad)]


def _reciprocal_grad_grad(op, grad):
    b = op._inputs[1]
    with ops.control_dependencies([grad]):
        ca = conj(op._inputs[0])
        cg = conj(grad)
        return [cg * -2.0 * b * ca, apply_op("ReciprocalGrad", y=ca, dy=grad)]


register_gradient("SqrtGrad", _sqrt_grad_grad)
register_gradient("RsqrtGrad", _rsqrt_grad_grad)
register_gradient("ReciprocalGrad", _reciprocal_grad_grad)
register_gradient("InvGrad", _reciprocal_grad_grad)


# --- Cast -----------------------------------------------------------------------------------------

def _cast_kernel(op, ctx):
    dst = op._attrs["DstT"]
    np_dst = dst.as_numpy

    if dst is dtypes.bool_:
        return lambda x: np.asarray(np.asarray(x) != 0)

    def run(x):
        x = np.asarray(x)
        if x.dtype.kind == "c" and np_dst.kind != "c":
            x = x.real
        if x.dtype.kind == "f" and np_dst.kind in "iu":
            # C++ static_cast truncates toward zero; NaN/inf give the type's minimum.
            with np.errstate(invalid="ignore"):
                return np.trunc(x).astype(np_dst)
        return x.astype(np_dst)
    return run


register_op("Cast", inputs=["x: SrcT"], outputs=["y: DstT"],
            attrs=["SrcT: type", "DstT: type", "Truncate: bool = false"],
            kernel=_cast_kernel, shape=_helpers.unchanged_shape)


def cast(x, dtype, name=None):
    dtype = dtypes.as_dtype(dtype).base_dtype
    # As in TensorFlow: a tensor, or a resource variable, of the wanted dtype is returned as is
    # (a resource variable unread; reference variables are converted, under the Cast scope).
    if (isinstance(x, ops.Tensor) or getattr(x, "_IS_RESOURCE", False)) and \
            x.dtype.base_dtype is dtype:
        return x
    with ops.name_scope(name, "Cast", [x]) as scope:
        if isinstance(x, IndexedSlices):
            return IndexedSlices(cast(x.values, dtype, name=scope), x.indices, x.dense_shape)
        x = ops.convert_to_tensor(x, name="x")
        if x.dtype.base_dtype is dtype:
            return x
        return apply_op("Cast", x=x, DstT=dtype, name=scope)


def to_float(x, name="ToFloat"):
    return cast(x, dtypes.float32, name=name)


def to_double(x, name="ToDouble"):
    return cast(x, dtypes.float64, name=name)


def to_int32(x, name="ToInt32"):
    return cast(x, dtypes.int32, name=name)


def to_int64(x, name="ToInt64"):
    return cast(x, dtypes.int64, name=name)


_DIFFERENTIABLE_CASTS = frozenset([dtypes.float16, dtypes.float32, dtypes.float64,
                                   dtypes.bfloat16, dtypes.complex64, dtypes.complex128])


def _cast_grad(op, grad):
    src_type = op._inputs[0].dtype.base_dtype
    if src_type in _DIFFERENTIABLE_CASTS and grad.dtype.base_dtype in _DIFFERENTIABLE_CASTS:
        return [cast(grad, src_type)]
    return [None]


register_gradient("Cast", _cast_grad)


# --- MatMul / BatchMatMul -------------------------------------------------------------------------

# Products split over threads (kernel_threads) are the dtypes NumPy hands to BLAS.
_BLAS_DTYPES = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.complex64,
                                               np.complex128))
# Row blocks of a product split at multiples of this many rows. OpenBLAS computes a block of
# rows with the same micro-kernels and summation order as the whole product when the block
# starts at a multiple of its row unroll (measured: 12 for float32 and 2 for float64 with its
# Haswell kernels, 12 for float64 with its SkylakeX ones; 48 is a multiple of all the usual
# unrolls), so split products are bit-identical to unsplit ones (tests/test_kernel_threads.py
# checks it). Products with fewer than two such blocks of rows are not split.
_MATMUL_ROW_QUANTUM = 48


def _split_matmul(a, b, threads):
    """a @ b for 2-D BLAS operands, rows computed in blocks on `threads` kernel threads: two
    blocks a thread where the rows allow, so that the calling thread, which starts at once,
    takes on more than a pool thread, which starts some 30 µs later."""
    ranges = kernel_threads.split_ranges(a.shape[0], 2 * threads, _MATMUL_ROW_QUANTUM)
    # Largest blocks first: the caller claims the first and starts at once, a pool thread
    # some 20 µs later (100 rows: the caller's 52 and a pool thread's 48 end together).
    ranges.sort(key=lambda bounds: bounds[0] - bounds[1])
    out = np.empty((a.shape[0], b.shape[1]), dtype=a.dtype)

    def rows(index):
        start, stop = ranges[index]
        np.matmul(a[start:stop], b, out=out[start:stop])
    kernel_threads.run_parts(rows, len(ranges), threads)
    return out


def _matmul_split_limit(a, b):
    """How many row blocks a @ b may be split into (1: none): at least two blocks of
    _MATMUL_ROW_QUANTUM rows (column blocks would not be bit-identical). Each block's product
    packs all of `b` again, so whether a split of few rows pays (1.3x on two cores for
    100x784 @ 784x500, a 0.35 ms product) is left to the op's kernel_threads.Site."""
    rows, inner = a.shape
    if rows < 2 * _MATMUL_ROW_QUANTUM or a.dtype not in _BLAS_DTYPES or b.dtype != a.dtype \
            or b.shape[0] != inner:
        return 1
    return rows // _MATMUL_ROW_QUANTUM


def _matmul_kernel(op, ctx):
    ta = op._attrs["transpose_a"]
    tb = op._attrs["transpose_b"]
    site = kernel_threads.Site()

    def run(a, b):
        a = a.T if ta else a
        b = b.T if tb else b
        if a.ndim == 2 and b.ndim == 2:
            limit = _matmul_split_limit(a, b)
            if limit > 1:
                return site.run(a.shape[0] * a.shape[1] * b.shape[1], lambda: np.matmul(a, b),
                                lambda parts: _split_matmul(a, b, parts), limit)
        return np.matmul(a, b)
    return run


def _matmul_shape(op):
    a = op._inputs[0]._shape_val
    b = op._inputs[1]._shape_val
    for s in (a, b):
        if s.ndims not in (None, 2):
            raise array_ops.shape_error(op, "Shape must be rank 2 but is rank %d" % s.ndims)
    a_dims = a.as_list() if a.ndims is not None else [None, None]
    b_dims = b.as_list() if b.ndims is not None else [None, None]
    if op._attrs["transpose_a"]:
        a_dims = a_dims[::-1]
    if op._attrs["transpose_b"]:
        b_dims = b_dims[::-1]
    if a_dims[1] is not None and b_dims[0] is not None and a_dims[1] != b_dims[0]:
        raise array_ops.shape_error(op, "Dimensions must be equal, but are %d and %d"
                                    % (a_dims[1], b_dims[0]))
    return [tensor_shape.TensorShape([a_dims[0], b_dims[1]])]


register_op("MatMul", inputs=["a: T", "b: T"], outputs=["product: T"],
            attrs=["transpose_a: bool = false", "transpose_b: bool = false",
                   "T: {bfloat16, half, float, double, int32, int64, uint8, uint16, uint32, "
                   "uint64, complex64, complex128}",
                   "grad_a: bool = false", "grad_b: bool = false"],
            kernel=_matmul_kernel, shape=_matmul_shape)


def _batch_matmul_kernel(op, ctx):
    adj_x = op._attrs["adj_x"]
    adj_y = op._attrs["adj_y"]
    same_batch = op.type == "BatchMatMul"
    site = kernel_threads.Site()

    def run(x, y):
        if adj_x:
            x = np.conj(np.swapaxes(x, -1, -2))
        if adj_y:
            y = np.conj(np.swapaxes(y, -1, -2))
        if x.shape[-1] != y.shape[-2]:
            raise ValueError("Matrix size-incompatible: In[0]: %s, In[1]: %s"
                             % (list(x.shape), list(y.shape)))
        if same_batch and x.shape[:-2] != y.shape[:-2]:
            raise ValueError("Batch dimensions must be equal: %s vs. %s"
                             % (list(x.shape), list(y.shape)))
        if _batch_matmul_splits(x, y):
            batch = 1
            for x_dim, y_dim in zip(x.shape[:-2], y.shape[:-2]):
                batch *= max(x_dim, y_dim)
            return site.run(batch * x.shape[-2] * x.shape[-1] * y.shape[-1],
                            lambda: np.matmul(x, y), lambda parts: _split_batch_matmul(x, y, parts),
                            limit=x.shape[0])
        return np.matmul(x, y)
    return run


def _batch_matmul_splits(x, y):
    """Whether x @ y may be split along the first batch axis: only when both operands have
    that axis (NumPy multiplies matrix by matrix, so any split of it gives the same bits)."""
    return not (x.ndim != y.ndim or x.ndim < 3 or x.shape[0] != y.shape[0] or x.shape[0] < 2
                or x.dtype not in _BLAS_DTYPES or y.dtype != x.dtype)


def _split_batch_matmul(x, y, parts):
    ranges = kernel_threads.split_ranges(x.shape[0], parts)
    batch = np.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    out = np.empty(batch + (x.shape[-2], y.shape[-1]), dtype=x.dtype)

    def block(index):
        start, stop = ranges[index]
        np.matmul(x[start:stop], y[start:stop], out=out[start:stop])
    kernel_threads.run_parts(block, len(ranges))
    return out


def _batch_matmul_shape(op):
    x = op._inputs[0]._shape_val
    y = op._inputs[1]._shape_val
    for s in (x, y):
        if s.ndims is not None and s.ndims < 2:
            raise array_ops.shape_error(op, "Shape must be at least rank 2 but is rank %d"
                                        % s.ndims)
    if x.ndims is None or y.ndims is None:
        return [tensor_shape.unknown_shape()]
    x_rows, x_cols = x.as_list()[-2:]
    y_rows, y_cols = y.as_list()[-2:]
    if op._attrs["adj_x"]:
        x_rows, x_cols = x_cols, x_rows
    if op._attrs["adj_y"]:
        y_rows, y_cols = y_cols, y_rows
    if x_cols is not None and y_rows is not None and x_cols != y_rows:
        raise array_ops.shape_error(op, "Dimensions must be equal, but are %d and %d"
                                    % (x_cols, y_rows))
    try:
        batch = _helpers.broadcast_static_shapes(x[:-2], y[:-2])
    except ValueError as exc:
        raise array_ops.shape_error(op, str(exc))
    return [batch.concatenate([x_rows, y_cols])]


_BATCH_MATMUL_ATTRS = ["adj_x: bool = false", "adj_y: bool = false", "grad_x: bool = false",
                       "grad_y: bool = false"]
register_op("BatchMatMul", inputs=["x: T", "y: T"], outputs=["output: T"],
            attrs=["T: {bfloat16, half, float, double, int32, int64, complex64, complex128}"] +
            _BATCH_MATMUL_ATTRS, kernel=_batch_matmul_kernel, shape=_batch_matmul_shape)
register_op("BatchMatMulV2", inputs=["x: T", "y: T"], outputs=["output: T"],
            attrs=["T: {bfloat16, half, float, double, int16, int32, int64, uint8, uint16, "
                   "uint32, uint64, complex64, complex128}"] + _BATCH_MATMUL_ATTRS,
            kernel=_batch_matmul_kernel, shape=_batch_matmul_shape)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, grad_a=False, grad_b=False,
           name=None):
    with ops.name_scope(name, "MatMul", [a, b]) as scope:
        if transpose_a and adjoint_a:
            raise ValueError("Only one of `transpose_a` and `adjoint_a` can be True.")
        if transpose_b and adjoint_b:
            raise ValueError("Only one of `transpose_b` and `adjoint_b` can be True.")
        a = ops.convert_to_tensor(a, name="a")
        b = ops.convert_to_tensor(b, dtype_hint=a.dtype.base_dtype, name="b")
        a_rank = a.shape.ndims
        b_rank = b.shape.ndims
        if a_rank is None or a_rank > 2 or b_rank is None or b_rank > 2:
            if transpose_a:
                a = conj(a)
                adjoint_a = True
            if transpose_b:
                b = conj(b)
                adjoint_b = True
            return apply_op("BatchMatMulV2", x=a, y=b, adj_x=adjoint_a, adj_y=adjoint_b,
                            grad_x=grad_a, grad_y=grad_b, name=scope)
        if adjoint_a:
            a = conj(a)
            transpose_a = True
        if adjoint_b:
            b = conj(b)
            transpose_b = True
        return apply_op("MatMul", a=a, b=b, transpose_a=transpose_a, transpose_b=transpose_b,
                        grad_a=grad_a, grad_b=grad_b, name=scope)


def _mat_mul(a, b, transpose_a=False, transpose_b=False, grad_a=False, grad_b=False):
    return apply_op("MatMul", a=a, b=b, transpose_a=transpose_a, transpose_b=transpose_b,
                    grad_a=grad_a, grad_b=grad_b)


def _matmul_grad(op, grad):
    t_a = op._attrs["transpose_a"]
    t_b = op._attrs["transpose_b"]
    a = conj(op._inputs[0])
    b = conj(op._inputs[1])
    if not t_a and not t_b:
        grad_a = _mat_mul(grad, b, transpose_b=True, grad_a=True)
        grad_b = _mat_mul(a, grad, transpose_a=True, grad_b=True)
    elif not t_a and t_b:
        grad_a = _mat_mul(grad, b, grad_a=True)
        grad_b = _mat_mul(grad, a, transpose_a=True, grad_b=True)
    elif t_a and not t_b:
        grad_a = _mat_mul(b, grad, transpose_b=True, grad_a=True)
        grad_b = _mat_mul(a, grad, grad_b=True)
    else:
        grad_a = _mat_mul(b, grad, transpose_a=True, transpose_b=True, grad_a=True)
        grad_b = _mat_mul(grad, a, transpose_a=True, transpose_b=True, grad_b=True)
    return [grad_a, grad_b]


register_gradient("MatMul", _matmul_grad)


def _batch_matmul_grads(op, grad, pass_grad_flags):
    x, y = op._inputs
    flags_a = {"grad_a": True} if pass_grad_flags else {}
    flags_b = {"grad_b": True} if pass_grad_flags else {}
    if not op._attrs["adj_x"]:
        if not op._attrs["adj_y"]:
            grad_x = matmul(grad, y, adjoint_a=False, adjoint_b=True, **flags_a)
            grad_y = matmul(x, grad, adjoint_a=True, adjoint_b=False, **flags_b)
        else:
            grad_x = matmul(grad, y, adjoint_a=False, adjoint_b=False, **flags_a)
            grad_y = matmul(grad, x, adjoint_a=True, adjoint_b=False, **flags_b)
    else:
        if not op._attrs["adj_y"]:
            grad_x = matmul(y, grad, adjoint_a=False, adjoint_b=True, **flags_a)
            grad_y = matmul(x, grad, adjoint_a=False, adjoint_b=False, **flags_b)
        else:
            grad_x = matmul(y, grad, adjoint_a=True, adjoint_b=True, **flags_a)
            grad_y = matmul(grad, x, adjoint_a=True, adjoint_b=True, **flags_b)
    return grad_x, grad_y


def _batch_matmul_v2_grad(op, grad):
    x, y = op._inputs
    grad_x, grad_y = _batch_matmul_grads(op, grad, pass_grad_flags=True)
    # Sum over the batch dimensions an input was broadcast along.
    x_static, y_static = x.shape, y.shape
    may_have_batch = (x_static.ndims is None or x_static.ndims > 2 or y_static.ndims is None or
                      y_static.ndims > 2)
    batch_shapes_match = (x_static[:-2].is_fully_defined() and
                          y_static[:-2].is_fully_defined() and x_static[:-2] == y_static[:-2])
    if not may_have_batch or batch_shapes_match:
        return [grad_x, grad_y]
    sx = array_ops.shape(x)
    sy = array_ops.shape(y)
    rx, ry = array_ops.broadcast_gradient_args(sx[:-2], sy[:-2])
    grad_x = array_ops.reshape(reduce_sum(grad_x, rx), sx)
    grad_y = array_ops.reshape(reduce_sum(grad_y, ry), sy)
    return [grad_x, grad_y]


register_gradient("BatchMatMul", lambda op, grad: list(_batch_matmul_grads(op, grad, False)))
register_gradient("BatchMatMulV2", _batch_matmul_v2_grad)


def matvec(a, b, transpose_a=False, adjoint_a=False, a_is_sparse=False, b_is_sparse=False,
           name=None):
    with ops.name_scope(name, "MatVec", [a, b]):
        output = matmul(a, array_ops.expand_dims(b, axis=-1), transpose_a=transpose_a,
                        adjoint_a=adjoint_a)
        return array_ops.squeeze(output, axis=-1)


# --- reductions -----------------------------------------------------------------------------------

def _reduction_kernel(np_fn):
    def factory(op, ctx):
        keep_dims = op._attrs["keep_dims"]

        def run(x, axis):
            axes = [int(a) for a in np.ravel(axis)]
            for a in axes:
                if not -max(x.ndim, 1) <= a < max(x.ndim, 1):
                    raise ValueError("Invalid reduction dimension (%d for input with %d "
                                     "dimension(s)" % (a, x.ndim))
            axes = tuple(sorted(set(a % x.ndim for a in axes))) if x.ndim else ()
            with np.errstate(all="ignore"):
                result = np_fn(x, axes, keep_dims)
            return np.asarray(result, dtype=x.dtype)
        return run
    return factory


def _reduction_shape(op):
    in_shape = op._inputs[0]._shape_val
    axes = array_ops.constant_input(op, 1)
    keep_dims = op._attrs["keep_dims"]
    if in_shape.ndims is None:
        return [tensor_shape.unknown_shape()]
    if axes is None:
        axes_shape = op._inputs[1]._shape_val
        if keep_dims:
            return [tensor_shape.unknown_shape(in_shape.ndims)]
        if axes_shape.ndims == 1 and axes_shape[0].value == 0:
            return [in_shape]
        return [tensor_shape.unknown_shape()]
    rank = in_shape.ndims
    wanted = set()
    for a in np.ravel(axes).tolist():
        if not -max(rank, 1) <= a < max(rank, 1):
            raise array_ops.shape_error(op, "Invalid reduction dimension %d for input with %d "
                                        "dimensions." % (a, rank), [1])
        wanted.add(a % rank if rank else 0)
    dims = []
    for i, d in enumerate(in_shape.as_list()):
        if i in wanted:
            if keep_dims:
                dims.append(1)
        else:
            dims.append(d)
    return [tensor_shape.TensorShape(dims)]


def _mean(x, axis, keepdims):
    if x.dtype.kind in "iu":
        # The sum in the input's type, then C's truncating division.
        total = np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
        count = x.size // max(np.size(total), 1) if x.size else 0
        if not count:
            return total
        quotient = np.abs(total) // count
        return np.where(total < 0, -quotient, quotient)
    return np.mean(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


def _sum(x, axis, keepdims):
    return np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


def _prod(x, axis, keepdims):
    return np.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


def _extreme(np_fn, identity_of):
    def run(x, axis, keepdims):
        if x.size == 0:
            return np.full(_reduced_dims(x.shape, axis, keepdims), identity_of(x.dtype),
                           dtype=x.dtype)
        return np_fn(x, axis=axis, keepdims=keepdims)
    return run


def _reduced_dims(shape, axis, keepdims):
    return [1 if i in axis else d for i, d in enumerate(shape) if keepdims or i not in axis]


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _highest(dtype):
    return np.inf if dtype.kind == "f" else np.iinfo(dtype).max


_MAX_MIN_TYPES = ("{float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, half, "
                  "uint32, uint64, qint8, quint8, qint32, qint16, quint16}")
for _op_type, _fn, _types in (
        ("Sum", _sum, _NUMBER_TYPES), ("Mean", _mean, _NUMBER_TYPES),
        ("Prod", _prod, _NUMBER_TYPES), ("Max", _extreme(np.max, _lowest), _MAX_MIN_TYPES),
        ("Min", _extreme(np.min, _highest), _MAX_MIN_TYPES)):
    register_op(_op_type, inputs=["input: T", "reduction_indices: Tidx"], outputs=["output: T"],
                attrs=["keep_dims: bool = false", "T: " + _types, "Tidx: " + _INDEX],
                kernel=_reduction_kernel(_fn), shape=_reduction_shape)

for _op_type, _fn in (("All", np.all), ("Any", np.any)):
    register_op(_op_type, inputs=["input: bool", "reduction_indices: Tidx"],
                outputs=["output: bool"], attrs=["keep_dims: bool = false", "Tidx: " + _INDEX],
                kernel=_reduction_kernel(lambda x, axis, keepdims, _fn=_fn: _fn(
                    x, axis=axis, keepdims=keepdims)),
                shape=_reduction_shape)
    register_gradient(_op_type, None)


def _reduction_dims(x, axis):
    """The axis argument, or all dimensions (a Const, or Range over Rank) when it is None."""
    if axis is not None:
        return axis
    rank = x.shape.ndims if isinstance(x, ops.Tensor) else None
    if rank:
        return array_ops.constant(np.arange(rank, dtype=np.int32))
    return range(0, array_ops.rank(x))


def _may_reduce_to_scalar(keepdims, axis, output):
    if not output.shape.is_fully_defined() and not keepdims and axis is None:
        output.set_shape(())
    return output


def _reduce_builder(op_type):
    def build(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
              keep_dims=None):
        if axis is not None and reduction_indices is not None:
            raise ValueError("Cannot specify both 'axis' and 'reduction_indices'")
        if keepdims is not None and keep_dims is not None:
            raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'")
        axis = reduction_indices if axis is None else axis
        keepdims = bool(keep_dims if keepdims is None else keepdims)
        if not isinstance(input_tensor, ops.Tensor):
            input_tensor = ops.convert_to_tensor(input_tensor)
        result = apply_op(op_type, input=input_tensor,
                          reduction_indices=_reduction_dims(input_tensor, axis),
                          keep_dims=keepdims, name=name)
        return _may_reduce_to_scalar(keepdims, axis, result)
    build.__name__ = "reduce_" + op_type.lower()
    return build


reduce_sum = _reduce_builder("Sum")
reduce_mean = _reduce_builder("Mean")
reduce_prod = _reduce_builder("Prod")
reduce_max = _reduce_builder("Max")
reduce_min = _reduce_builder("Min")
reduce_all = _reduce_builder("All")
reduce_any = _reduce_builder("Any")


def reduced_shape(input_shape, axes):
    """The shape of a reduction's output with kept dims (1 along `axes`)."""
    constant_shape = tensor_util.constant_value(input_shape) if isinstance(
        input_shape, ops.Tensor) else np.asarray(input_shape)
    if constant_shape is not None:
        constant_axes = tensor_util.constant_value(axes) if isinstance(
            axes, ops.Tensor) else np.asarray(axes)
        if constant_axes is not None:
            result = np.array(constant_shape, dtype=np.int32)
            result[np.array(constant_axes, dtype=np.int32)] = 1
            return result
    axes = ops.convert_to_tensor(axes)
    input_rank = array_ops.size(input_shape, out_type=axes.dtype)
    axes = (axes + input_rank) % input_rank
    axes_shape = array_ops.shape(axes)
    return array_ops.dynamic_stitch([range(input_rank), axes],
                                    [input_shape, array_ops.ones(axes_shape,
                                                                 dtype=input_shape.dtype)])


def _kept_dims_and_tile_scaling(dims, axes):
    """For a reduction of a static shape: the kept-dims output shape and the tile multiples
    that undo it. TensorFlow computes the multiples with graph ops (x // maximum(kept, 1)) once
    per graph and shape, then caches them on the graph; the same ops are built here."""
    graph = ops.get_default_graph()
    cache = graph.__dict__.setdefault("_reduced_shape_cache", {})
    key = (dims, tuple(axes.tolist()))
    if key not in cache:
        kept = tuple(reduced_shape(dims, axes).tolist())
        scaling = dims // maximum(kept, 1)
        cache[key] = (kept, tuple(int(d) for d in array_ops.static_value(scaling)))
    return cache[key]


def _sum_grad(op, grad):
    input_shape_static = op._inputs[0].shape
    if input_shape_static.ndims is not None:
        axes = tensor_util.constant_value(op._inputs[1])
        if axes is not None:
            rank = input_shape_static.ndims
            dims = input_shape_static.as_list()
            if np.array_equal(axes, np.arange(rank)):
                # Reducing everything: reshape to all-ones and tile back.
                grad = array_ops.reshape(grad, [1] * rank)
                if None not in dims:
                    input_shape = array_ops.constant(dims, dtype=dtypes.int32)
                else:
                    input_shape = array_ops.shape(op._inputs[0])
                return [array_ops.tile(grad, input_shape), None]
            if None not in dims:
                kept, scaling = _kept_dims_and_tile_scaling(tuple(dims), np.ravel(axes))
                grad = array_ops.reshape(grad, kept)
                return [array_ops.tile(grad, scaling), None]
    input_shape = array_ops.shape(op._inputs[0])
    if not op._attrs["keep_dims"]:
        with ops.colocate_with(input_shape):
            kept = reduced_shape(input_shape, op._inputs[1])
        grad = array_ops.reshape(grad, kept)
    return [array_ops.broadcast_to(grad, input_shape), None]


def _min_or_max_grad(op, grad):
    input_shape = array_ops.shape(op._inputs[0])
    y = op._outputs[0]
    if not op._attrs["keep_dims"]:
        kept = reduced_shape(input_shape, op._inputs[1])
        y = array_ops.reshape(y, kept)
        grad = array_ops.reshape(grad, kept)
    else:
        kept = array_ops.shape(y)
    # Ties share the gradient equally.
    indicators = cast(equal(y, op._inputs[0]), grad.dtype)
    num_selected = array_ops.reshape(reduce_sum(indicators, op._inputs[1]), kept)
    return [divide(indicators, num_selected) * grad, None]


def _mean_grad(op, grad):
    sum_grad = _sum_grad(op, grad)[0]
    input_shape = op._inputs[0].shape
    output_shape = op._outputs[0].shape
    if input_shape.is_fully_defined() and output_shape.is_fully_defined():
        factor = input_shape.num_elements() // max(output_shape.num_elements(), 1)
        factor = array_ops.constant(factor, dtype=sum_grad.dtype)
    else:
        input_shape = array_ops.shape(op._inputs[0])
        input_rank = array_ops.size(input_shape)
        axes = cast(op._inputs[1], input_rank.dtype)
        axes = (axes + input_rank) % input_rank
        factor = reduce_prod(array_ops.gather(input_shape, axes))
    return [truediv(sum_grad, cast(factor, sum_grad.dtype)), None]


def _prod_grad(op, grad):
    input_shape = array_ops.shape(op._inputs[0])
    reduction_indices = array_ops.reshape(op._inputs[1], [-1])
    if not op._attrs["keep_dims"]:
        grad = array_ops.reshape(grad, reduced_shape(input_shape, op._inputs[1]))
    grad = array_ops.broadcast_to(grad, input_shape)
    # Move the reduced dims first and flatten them into one, so two exclusive cumprods (from
    # the left and from the right) give each entry the product of all the others, zeros
    # included.
    rank = array_ops.rank(op._inputs[0])
    reduction_indices = cast(reduction_indices, rank.dtype)
    reduced = (reduction_indices + rank) % rank
    idx = range(0, rank)
    other, _ = apply_op("ListDiff", x=idx, y=reduced, out_idx=reduced.dtype)
    perm = array_ops.concat([reduced, other], 0)
    reduced_num = reduce_prod(array_ops.gather(input_shape, reduced))
    other_num = reduce_prod(array_ops.gather(input_shape, other))
    permuted = array_ops.transpose(op._inputs[0], perm)
    permuted_shape = array_ops.shape(permuted)
    reshaped = array_ops.reshape(permuted, (reduced_num, other_num))
    left = cumprod(reshaped, axis=0, exclusive=True)
    right = cumprod(reshaped, axis=0, exclusive=True, reverse=True)
    y = array_ops.reshape(conj(left) * conj(right), permuted_shape)
    out = grad * array_ops.transpose(y, array_ops.invert_permutation(perm))
    return [array_ops.reshape(out, input_shape), None]


register_gradient("Sum", _sum_grad)
register_gradient("Mean", _mean_grad)
register_gradient("Prod", _prod_grad)
register_gradient("Max", _min_or_max_grad)
register_gradient("Min", _min_or_max_grad)


# --- ArgMax / ArgMin ------------------------------------------------------------------------------

def _arg_kernel(np_fn):
    def factory(op, ctx):
        out = op._attrs["output_type"].as_numpy

        def run(x, dimension):
            axis = int(dimension)
            if not -x.ndim <= axis < x.ndim:
                raise ValueError("Expected dimension in the range [%d, %d), but got %d"
                                 % (-x.ndim, x.ndim, axis))
            if x.shape[axis] == 0:
                raise ValueError("Reduction axis %d is empty in shape %s"
                                 % (axis, list(x.shape)))
            return np_fn(x, axis=axis).astype(out)
        return run
    return factory


def _arg_shape(op):
    in_shape = op._inputs[0]._shape_val
    dimension = array_ops.constant_input(op, 1)
    if in_shape.ndims is None:
        return [tensor_shape.unknown_shape()]
    if dimension is None:
        return [tensor_shape.unknown_shape(max(in_shape.ndims - 1, 0))]
    rank = in_shape.ndims
    axis = int(dimension)
    if not -rank <= axis < rank:
        raise array_ops.shape_error(op, "Expected dimension in the range [%d, %d), but got %d"
                                    % (-rank, rank, axis), [1])
    dims = in_shape.as_list()
    del dims[axis % rank]
    return [tensor_shape.TensorShape(dims)]


_ARG_TYPES = ("{float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, half, uint32, "
              "uint64, qint8, quint8, qint32, qint16, quint16, bool}")
register_op("ArgMax", inputs=["input: T", "dimension: Tidx"], outputs=["output: output_type"],
            attrs=["T: " + _ARG_TYPES, "Tidx: {int16, int32, int64} = DT_INT32",
                   "output_type: {int16, uint16, int32, int64} = DT_INT64"],
            kernel=_arg_kernel(np.argmax), shape=_arg_shape)
register_op("ArgMin", inputs=["input: T", "dimension: Tidx"], outputs=["output: output_type"],
            attrs=["T: " + _ARG_TYPES, "Tidx: " + _INDEX,
                   "output_type: {int32, int64} = DT_INT64"],
            kernel=_arg_kernel(np.argmin), shape=_arg_shape)
register_gradient("ArgMax", lambda op, grad: [None, None])
register_gradient("ArgMin", lambda op, grad: [None, None])


def _arg_reduce(op_type, input, axis, name, dimension, output_type):  # noqa: A002
    if axis is not None and dimension is not None:
        raise ValueError("Cannot specify both 'axis' and 'dimension'")
    axis = dimension if axis is None else axis
    return apply_op(op_type, input=input, dimension=0 if axis is None else axis,
                    output_type=output_type, name=name)


def argmax(input, axis=None, name=None, dimension=None,  # noqa: A002
           output_type=dtypes.int64):
    return _arg_reduce("ArgMax", input, axis, name, dimension, output_type)


def argmin(input, axis=None, name=None, dimension=None,  # noqa: A002
           output_type=dtypes.int64):
    return _arg_reduce("ArgMin", input, axis, name, dimension, output_type)


# --- AddN -----------------------------------------------------------------------------------------

def _add_n(*xs):
    total = np.array(xs[0], copy=True)
    with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN as TensorFlow, silently
        for x in xs[1:]:
            total = total + x
    return total.astype(np.asarray(xs[0]).dtype, copy=False)


def _add_n_shape(op):
    merged = tensor_shape.unknown_shape()
    for t in op._inputs:
        try:
            merged = merged.merge_with(t._shape_val)
        except ValueError:
            raise array_ops.shape_error(op, "Shapes must be equal rank, but are %s and %s"
                                        % (merged.ndims, t._shape_val.ndims)
                                        if merged.ndims != t._shape_val.ndims else
                                        "Shapes %s and %s are not compatible"
                                        % (merged, t._shape_val))
    return [merged]


register_op("AddN", inputs=["inputs: N * T"], outputs=["sum: T"],
            attrs=["N: int >= 1",
                   "T: {float, double, int32, uint8, int16, int8, complex64, int64, qint8, "
                   "quint8, qint32, bfloat16, qint16, quint16, uint16, complex128, half, uint32, "
                   "uint64, variant}"],
            commutative=True, is_aggregate=True, compute=_add_n, shape=_add_n_shape)
register_gradient("AddN", lambda op, grad: [grad] * len(op._inputs))


def add_n(inputs, name=None):
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("Inputs must be an iterable of at least one Tensor/IndexedSlices with "
                         "the same dtype and shape.")
    inputs = [t if isinstance(t, IndexedSlices) else ops.convert_to_tensor(t) for t in inputs]
    if len(inputs) == 1:
        values = ops.convert_to_tensor(inputs[0])
        if name:
            return array_ops.identity(values, name=name)
        return values
    return apply_op("AddN", inputs=inputs, name=name)


def accumulate_n(inputs, shape=None, tensor_dtype=None, name=None):
    if len(inputs) == 1 and name is None:
        return ops.convert_to_tensor(inputs[0])
    return add_n(inputs, name=name)


# --- Select / SelectV2 / ClipByValue -----------------------------------------------------------

def _select_compute(condition, t, e):
    t = np.asarray(t)
    condition = np.asarray(condition)
    if condition.ndim == 1 and t.ndim > 1:
        if condition.shape[0] != t.shape[0]:
            raise ValueError("Number of batches of 'then' must match size of 'cond', but saw: %d"
                             " vs. %d" % (t.shape[0], condition.shape[0]))
        condition = condition.reshape((-1,) + (1,) * (t.ndim - 1))
    elif condition.shape != t.shape and condition.ndim != 0:
        raise ValueError("'then' and 'cond' must have the same size.  but received: %s vs. %s"
                         % (list(t.shape), list(condition.shape)))
    if t.shape != np.shape(e):
        raise ValueError("'then' and 'else' must have the same size.  but received: %s vs. %s"
                         % (list(t.shape), list(np.shape(e))))
    return _helpers.select(condition, t, e)


def _select_shape(op):
    cond, t, e = (x._shape_val for x in op._inputs)
    try:
        data = t.merge_with(e)
    except ValueError:
        raise _merge_error(op, t, e)
    if cond.ndims is None or data.ndims is None or cond.ndims == 0:
        return [data]
    if cond.ndims == 1 and data.ndims > 1:
        cond_rows = cond[0].value
        data_rows = data[0].value
        if cond_rows is not None and data_rows is not None and cond_rows != data_rows:
            raise array_ops.shape_error(op, "Dimensions must be equal, but are %d and %d"
                                        % (cond_rows, data_rows))
        return [data]
    try:
        return [data.merge_with(cond)]
    except ValueError:
        raise _merge_error(op, cond, data)


def _merge_error(op, a, b):
    if a.ndims != b.ndims:
        return array_ops.shape_error(op, "Shapes must be equal rank, but are %d and %d"
                                     % (a.ndims, b.ndims))
    for i, (x, y) in enumerate(zip(a.as_list(), b.as_list())):
        if x is not None and y is not None and x != y:
            return array_ops.shape_error(
                op, "Dimension %d in both shapes must be equal, but are %d and %d. Shapes are %s "
                "and %s." % (i, x, y, _helpers._shape_str(a), _helpers._shape_str(b)))
    return array_ops.shape_error(op, "Shapes %s and %s are not compatible" % (a, b))


def _select_v2_shape(op):
    cond, t, e = (x._shape_val for x in op._inputs)
    try:
        return [_helpers.broadcast_static_shapes(cond, _helpers.broadcast_static_shapes(t, e))]
    except ValueError as exc:
        raise array_ops.shape_error(op, str(exc).split(" for shapes")[0])


register_op("Select", inputs=["condition: bool", "t: T", "e: T"], outputs=["output: T"],
            attrs=["T: type"], compute=_select_compute, shape=_select_shape)
register_op("SelectV2", inputs=["condition: bool", "t: T", "e: T"], outputs=["output: T"],
            attrs=["T: type"],
            compute=_helpers.select,
            shape=_select_v2_shape)


def _select_grad(op, grad):
    c = op._inputs[0]
    x = op._inputs[1]
    zeros = array_ops.zeros_like(x)
    return [None, array_ops.where(c, grad, zeros), array_ops.where(c, zeros, grad)]


def _select_v2_grad(op, grad):
    c, x, y = op._inputs
    z = op._outputs[0]
    zeros = array_ops.zeros([], dtype=grad.dtype.base_dtype)
    gx = array_ops.where_v2(c, grad, zeros)
    gy = array_ops.where_v2(c, zeros, grad)
    gx = _reduce_gradient_args(x, z, gx, None)[0]
    gy = _reduce_gradient_args(y, z, gy, None)[0]
    return [None, gx, gy]


register_gradient("Select", _select_grad)
register_gradient("SelectV2", _select_v2_grad)


def _clip_by_value_compute(t, low, high):
    t = np.asarray(t)
    if np.ndim(low) and np.shape(low) != t.shape or np.ndim(high) and np.shape(high) != t.shape:
        raise ValueError("clip_value_min and clip_value_max must be either scalars or have the "
                         "same shape as the input: %s, %s vs %s"
                         % (list(np.shape(low)), list(np.shape(high)), list(t.shape)))
    return np.minimum(np.maximum(t, low), high).astype(t.dtype, copy=False)


register_op("ClipByValue", inputs=["t: T", "clip_value_min: T", "clip_value_max: T"],
            outputs=["output: T"], attrs=["T: " + _NUMBER_TYPES],
            compute=_clip_by_value_compute, shape=_helpers.unchanged_shape)


def _clip_by_value_grad(op, grad):
    x, y, z = op._inputs
    sx = array_ops.shape(x)
    sy = array_ops.shape(y)
    sz = array_ops.shape(z)
    gradshape = array_ops.shape(grad)
    zeros = array_ops.zeros(gradshape, grad.dtype)
    xymask = less(x, y)
    xzmask = greater(x, z)
    _, ry = array_ops.broadcast_gradient_args(sx, sy)
    _, rz = array_ops.broadcast_gradient_args(sx, sz)
    xgrad = array_ops.where(logical_or(xymask, xzmask), zeros, grad)
    ygrad = array_ops.where(xymask, grad, zeros)
    zgrad = array_ops.where(xzmask, grad, zeros)
    gy = array_ops.reshape(reduce_sum(ygrad, ry), sy)
    gz = array_ops.reshape(reduce_sum(zgrad, rz), sz)
    return [xgrad, gy, gz]


register_gradient("ClipByValue", _clip_by_value_grad)


# --- Range / LinSpace -----------------------------------------------------------------------------

def _range_kernel(op, ctx):
    dtype = op._attrs["Tidx"].as_numpy

    def run(start, limit, delta):
        start, limit, delta = start.item(), limit.item(), delta.item()
        if delta == 0:
            raise ValueError("Requires delta != 0: %s" % delta)
        if delta > 0 and start > limit:
            raise ValueError("Requires start <= limit when delta > 0: %s/%s" % (start, limit))
        if delta < 0 and start < limit:
            raise ValueError("Requires start >= limit when delta < 0: %s/%s" % (start, limit))
        if dtype.kind in "iu":
            count = -((limit - start) // -delta) if delta > 0 else -((start - limit) // delta)
        else:
            count = int(np.ceil(builtins.abs((limit - start) / delta)))
        return (start + np.arange(count, dtype=np.float64 if dtype.kind == "f" else np.int64) *
                delta).astype(dtype)
    return run


def _range_shape(op):
    start, limit, delta = (array_ops.constant_input(op, i) for i in builtins.range(3))
    if start is None or limit is None or delta is None or delta == 0:
        return [tensor_shape.TensorShape([None])]
    start, limit, delta = start.item(), limit.item(), delta.item()
    if (delta > 0 and start > limit) or (delta < 0 and start < limit):
        raise array_ops.shape_error(op, "Requires start %s limit when delta %s 0: %s/%s" % (
            "<=" if delta > 0 else ">=", ">" if delta > 0 else "<", start, limit), [0, 1, 2])
    return [tensor_shape.TensorShape([int(np.ceil(builtins.abs((limit - start) / delta)))])]


register_op("Range", inputs=["start: Tidx", "limit: Tidx", "delta: Tidx"],
            outputs=["output: Tidx"],
            attrs=["Tidx: {bfloat16, half, float, double, int8, int16, int32, int64, uint16, "
                   "uint32, uint64} = DT_INT32"],
            kernel=_range_kernel, shape=_range_shape)
register_gradient("Range", None)

_RANGE_DTYPE_ORDER = [dtypes.int32, dtypes.int64, dtypes.float16, dtypes.bfloat16, dtypes.float32,
                      dtypes.float64]


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001
    if limit is None:
        start, limit = 0, start
    with ops.name_scope(name, "Range", [start, limit, delta]) as scope:
        if not isinstance(start, ops.Tensor):
            start = ops.convert_to_tensor(start, dtype=dtype, name="start")
        if not isinstance(limit, ops.Tensor):
            limit = ops.convert_to_tensor(limit, dtype=dtype, name="limit")
        if not isinstance(delta, ops.Tensor):
            delta = ops.convert_to_tensor(delta, dtype=dtype, name="delta")
        if dtype is None:
            inferred = builtins.max([t.dtype.base_dtype for t in (start, limit, delta)],
                                    key=_RANGE_DTYPE_ORDER.index)
        else:
            inferred = dtypes.as_dtype(dtype)
        start = cast(start, inferred)
        limit = cast(limit, inferred)
        delta = cast(delta, inferred)
        return apply_op("Range", start=start, limit=limit, delta=delta, name=scope)


def _lin_space_kernel(op, ctx):
    dtype = op._attrs["T"].as_numpy

    def run(start, stop, num):
        num = int(num)
        if num <= 0:
            raise ValueError("Requires num > 0: %d" % num)
        return np.linspace(start, stop, num).astype(dtype)
    return run


def _lin_space_shape(op):
    num = array_ops.constant_input(op, 2)
    return [tensor_shape.TensorShape([None if num is None else int(num)])]


register_op("LinSpace", inputs=["start: T", "stop: T", "num: Tidx"], outputs=["output: T"],
            attrs=["T: " + _FLOAT, "Tidx: " + _INDEX],
            kernel=_lin_space_kernel, shape=_lin_space_shape)
register_gradient("LinSpace", None)


def linspace(start, stop, num, name=None):
    """tf.linspace / tf.lin_space (TF1): one LinSpace op."""
    return apply_op("LinSpace", start=start, stop=stop, num=num, name=name)


lin_space = linspace


# --- Cumsum / Cumprod -----------------------------------------------------------------------------

def _scan_kernel(np_fn, identity):
    def factory(op, ctx):
        exclusive = op._attrs["exclusive"]
        reverse = op._attrs["reverse"]

        def run(x, axis):
            axis = int(axis)
            if not -max(x.ndim, 1) <= axis < max(x.ndim, 1):
                raise ValueError("ScanOp: Expected scan axis in the range [%d, %d), but got %d"
                                 % (-x.ndim, x.ndim, axis))
            data = np.flip(x, axis) if reverse else x
            out = np_fn(data, axis=axis, dtype=x.dtype)
            if exclusive:
                out = np.moveaxis(out, axis, 0)
                shifted = np.empty_like(out)
                shifted[0] = identity
                shifted[1:] = out[:-1]
                out = np.moveaxis(shifted, 0, axis)
            return np.flip(out, axis) if reverse else out
        return run
    return factory


for _op_type, _fn, _identity in (("Cumsum", np.cumsum, 0), ("Cumprod", np.cumprod, 1)):
    register_op(_op_type, inputs=["x: T", "axis: Tidx"], outputs=["out: T"],
                attrs=["exclusive: bool = false", "reverse: bool = false", "T: " + _NUMBER_TYPES,
                       "Tidx: " + _INDEX],
                kernel=_scan_kernel(_fn, _identity), shape=_helpers.unchanged_shape)


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    with ops.name_scope(name, "Cumsum", [x]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        return apply_op("Cumsum", x=x, axis=axis, exclusive=exclusive, reverse=reverse,
                        name=scope)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    with ops.name_scope(name, "Cumprod", [x]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        return apply_op("Cumprod", x=x, axis=axis, exclusive=exclusive, reverse=reverse,
                        name=scope)


def _cumsum_grad(op, grad):
    return [cumsum(grad, op._inputs[1], exclusive=op._attrs["exclusive"],
                   reverse=not op._attrs["reverse"]), None]


def _cumprod_grad(op, grad):
    x, axis = op._inputs
    exclusive = op._attrs["exclusive"]
    reverse = op._attrs["reverse"]
    prod = cumprod(x, axis, exclusive=exclusive, reverse=reverse)
    out = cumsum(prod * grad, axis, exclusive=exclusive, reverse=not reverse)
    return [div_no_nan(out, x), None]


register_gradient("Cumsum", _cumsum_grad)
register_gradient("Cumprod", _cumprod_grad)


# --- SegmentSum / UnsortedSegmentSum --------------------------------------------------------------

def _segment_sum(data, segment_ids):
    ids = np.ravel(segment_ids)
    if segment_ids.shape != data.shape[:segment_ids.ndim] or segment_ids.ndim != 1:
        raise ValueError("segment_ids should be the same size as dimension 0 of input.")
    if ids.size and (np.any(np.diff(ids) < 0) or ids[0] < 0):
        raise ValueError("segment ids are not increasing")
    rows = int(ids[-1]) + 1 if ids.size else 0
    out = np.zeros((rows,) + data.shape[1:], dtype=data.dtype)
    np.add.at(out, ids, data)
    return out


def _unsorted_segment_sum_kernel(op, ctx):
    def run(data, segment_ids, num_segments):
        num_segments = int(num_segments)
        if data.shape[:segment_ids.ndim] != segment_ids.shape:
            raise ValueError("data.shape = %s does not start with segment_ids.shape = %s"
                             % (list(data.shape), list(segment_ids.shape)))
        if np.any(segment_ids >= num_segments):
            bad = np.argwhere(segment_ids >= num_segments)[0]
            raise ValueError("segment_ids[%s] = %d is out of range [0, %d)"
                             % (",".join(str(i) for i in bad), segment_ids[tuple(bad)],
                                num_segments))
        inner = data.shape[segment_ids.ndim:]
        ids = segment_ids.ravel()
        rows = data.reshape((ids.size,) + inner)
        keep = ids >= 0
        out = np.zeros((num_segments,) + inner, dtype=data.dtype)
        np.add.at(out, ids[keep], rows[keep])
        return out
    return run


def _segment_sum_shape(op):
    data = op._inputs[0]._shape_val
    ids_rank = op._inputs[1]._shape_val.ndims
    if data.ndims is None or ids_rank is None:
        return [tensor_shape.unknown_shape()]
    return [tensor_shape.TensorShape([None]).concatenate(data[ids_rank:])]


def _unsorted_segment_sum_shape(op):
    data = op._inputs[0]._shape_val
    ids_rank = op._inputs[1]._shape_val.ndims
    num = array_ops.constant_input(op, 2)
    if data.ndims is None or ids_rank is None:
        return [tensor_shape.unknown_shape()]
    return [tensor_shape.TensorShape([None if num is None else int(num)]).concatenate(
        data[ids_rank:])]


register_op("SegmentSum", inputs=["data: T", "segment_ids: Tindices"], outputs=["output: T"],
            attrs=["T: " + _NUMBER_TYPES, "Tindices: {int32, int64}"],
            compute=_segment_sum, shape=_segment_sum_shape)
register_op("UnsortedSegmentSum",
            inputs=["data: T", "segment_ids: Tindices", "num_segments: Tnumsegments"],
            outputs=["output: T"],
            attrs=["T: " + _NUMBER_TYPES, "Tindices: {int16, int32, int64}",
                   "Tnumsegments: " + _INDEX],
            kernel=_unsorted_segment_sum_kernel, shape=_unsorted_segment_sum_shape)


def segment_sum(data, segment_ids, name=None):
    return apply_op("SegmentSum", data=data, segment_ids=segment_ids, name=name)


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    return apply_op("UnsortedSegmentSum", data=data, segment_ids=segment_ids,
                    num_segments=num_segments, name=name)


def _gather_drop_negatives(params, ids):
    """Gathers params at ids, with zeros where an id is negative."""
    zero_clipped_indices = maximum(ids, array_ops.zeros_like(ids))
    gathered = array_ops.gather(params, zero_clipped_indices)
    is_positive = greater_equal(ids, 0)
    is_positive_shape = array_ops.shape(is_positive)
    broadcastable_shape = array_ops.concat(
        [is_positive_shape,
         array_ops.ones([array_ops.rank(gathered) - array_ops.rank(is_positive)],
                        dtype=is_positive_shape.dtype)], axis=0)
    is_positive = array_ops.reshape(is_positive, broadcastable_shape)
    is_positive = is_positive & array_ops.ones_like(gathered, dtype=dtypes.bool_)
    zero_slice = array_ops.zeros_like(gathered)
    return array_ops.where_v2(is_positive, gathered, zero_slice)


register_gradient("SegmentSum", lambda op, grad: [array_ops.gather(grad, op._inputs[1]), None])
register_gradient("UnsortedSegmentSum",
                  lambda op, grad: [_gather_drop_negatives(grad, op._inputs[1]), None, None])


# --- TopKV2 / InTopKV2 --------------------------------------------------------------------------

def _top_k_kernel(op, ctx):
    index_type = op._attrs["index_type"].as_numpy

    def run(x, k):
        k = int(k)
        if x.ndim < 1:
            raise ValueError("input must be >= 1-D, got shape %s" % list(x.shape))
        if k < 0 or k > x.shape[-1]:
            raise ValueError("input must have at least k columns. Had %d, needed %d"
                             % (x.shape[-1], k))
        # Descending order; equal values keep their original order (lower index first).
        order = np.argsort(x[..., ::-1], axis=-1, kind="stable")[..., ::-1]
        indices = (x.shape[-1] - 1 - order)[..., :k]
        return [np.take_along_axis(x, indices, axis=-1), indices.astype(index_type)]
    return run


def _top_k_shape(op):
    in_shape = op._inputs[0]._shape_val
    k = array_ops.constant_input(op, 1)
    if in_shape.ndims is None:
        return [tensor_shape.unknown_shape(), tensor_shape.unknown_shape()]
    if in_shape.ndims < 1:
        raise array_ops.shape_error(op, "Shape must be at least rank 1 but is rank 0")
    last = in_shape[-1].value
    if k is not None and last is not None and int(k) > last:
        raise array_ops.shape_error(op, "input must have last dimension >= k = %d but is %d"
                                    % (int(k), last), [1])
    out = in_shape[:-1].concatenate([None if k is None else int(k)])
    return [out, out]


register_op("TopKV2", inputs=["input: T", "k: Tk"], outputs=["values: T", "indices: index_type"],
            attrs=["sorted: bool = true", "T: " + _REAL_NUMBER_TYPES,
                   "Tk: {int16, int32, int64} = DT_INT32",
                   "index_type: {int16, int32, int64} = DT_INT32"],
            kernel=_top_k_kernel, shape=_top_k_shape)


_TopKOutput = collections.namedtuple("TopKV2", ["values", "indices"])


def top_k(input, k=1, sorted=True, index_type=dtypes.int32, name=None):  # noqa: A002
    return _TopKOutput(*apply_op("TopKV2", input=input, k=k, sorted=sorted,
                                 index_type=index_type, name=name))


def _top_k_grad(op, grad, _):
    in_shape = array_ops.shape(op._inputs[0])
    ind_shape = array_ops.shape(op._outputs[1])
    ind_lastdim = array_ops.gather(cast(ind_shape, dtypes.int64), array_ops.size(ind_shape) - 1)
    ind_2d = array_ops.reshape(op._outputs[1], array_ops.stack([-1, ind_lastdim]))
    in_lastdim = array_ops.gather(cast(in_shape, dtypes.int64), array_ops.size(in_shape) - 1)
    outerdim = array_ops.shape(ind_2d)[0]
    # Flat positions of the selected entries in the flattened input.
    ind = array_ops.reshape(ind_2d + cast(array_ops.expand_dims(
        range(0, cast(outerdim, dtypes.int64) * in_lastdim, in_lastdim), -1), dtypes.int32), [-1])
    return [array_ops.reshape(array_ops.scatter_nd(array_ops.expand_dims(ind, -1),
                                                   array_ops.reshape(grad, [-1]),
                                                   [reduce_prod(in_shape)]), in_shape),
            array_ops.zeros([], dtype=dtypes.int32)]


register_gradient("TopKV2", _top_k_grad)


def _in_top_k_kernel(op, ctx):
    def run(predictions, targets, k):
        k = int(k)
        rows = np.arange(predictions.shape[0])
        valid = (targets >= 0) & (targets < predictions.shape[1])
        target_values = predictions[rows, np.where(valid, targets, 0)]
        larger = np.sum(predictions > target_values[:, None], axis=1)
        # A non-finite prediction anywhere in the row makes the answer false.
        return valid & np.all(np.isfinite(predictions), axis=1) & (larger < k)
    return run


register_op("InTopKV2", inputs=["predictions: float", "targets: T", "k: T"],
            outputs=["precision: bool"], attrs=["T: " + _INDEX], kernel=_in_top_k_kernel,
            shape=lambda op: [op._inputs[1]._shape_val])
register_gradient("InTopKV2", None)


# --- Einsum ---------------------------------------------------------------------------------------

def _einsum_kernel(op, ctx):
    equation = op._attrs["equation"].decode()
    return lambda *inputs: np.asarray(np.einsum(equation, *inputs))


def _einsum_shape(op):
    equation = op._attrs["equation"].decode().replace(" ", "")
    if "..." in equation or "->" not in equation:
        return [tensor_shape.unknown_shape()]
    inputs_spec, output_spec = equation.split("->")
    sizes = {}
    for spec, t in zip(inputs_spec.split(","), op._inputs):
        dims = t._shape_val.as_list() if t._shape_val.ndims is not None else None
        if dims is None:
            continue
        if len(dims) != len(spec):
            raise array_ops.shape_error(op, "Expected %d dimensions for an operand with "
                                        "subscripts %s, got %d" % (len(spec), spec, len(dims)))
        for label, d in zip(spec, dims):
            if d is not None and sizes.get(label) not in (None, 1, d) and d != 1:
                raise array_ops.shape_error(op, "Expected dimension %d at axis of the input "
                                            "for label %s, got %d" % (sizes[label], label, d))
            if d is not None and sizes.get(label) in (None, 1):
                sizes[label] = d
    return [tensor_shape.TensorShape([sizes.get(label) for label in output_spec])]


register_op("Einsum", inputs=["inputs: N * T"], outputs=["output: T"],
            attrs=["equation: string", "N: int >= 1", "T: type"],
            kernel=_einsum_kernel, shape=_einsum_shape)


def einsum(equation, *inputs, **kwargs):
    name = kwargs.pop("name", None)
    kwargs.pop("optimize", None)
    if kwargs:
        raise TypeError("Invalid keyword arguments for einsum: %s. Valid arguments: name, "
                        "optimize, greedy." % ", ".join(kwargs))
    with ops.name_scope(name, "einsum", [equation, inputs]):
        inputs = [ops.convert_to_tensor(t) for t in inputs]
        equation = equation.replace(" ", "")
        if "->" not in equation:
            # Implicit output: the labels used once, in alphabetical order.
            labels = equation.replace(",", "")
            equation += "->" + "".join(sorted(c for c in set(labels) if labels.count(c) == 1))
        return apply_op("Einsum", inputs=inputs, equation=equation)


def _einsum_grad(op, grad):
    equation = op._attrs["equation"].decode()
    inputs_spec, output_spec = equation.split("->")
    specs = inputs_spec.split(",")
    if "." in equation or any(len(set(s)) != len(s) for s in specs + [output_spec]):
        raise NotImplementedError("tensorkeep's Einsum gradient supports equations without "
                                  "ellipsis or repeated labels; got %r" % equation)
    grads = []
    for i, spec in enumerate(specs):
        others = [(s, t) for j, (s, t) in enumerate(zip(specs, op._inputs)) if j != i]
        available = output_spec + "".join(s for s, _ in others)
        # Labels only this operand has were summed away: reduce to the rest, then broadcast.
        kept = "".join(c for c in spec if c in available)
        subscripts = ",".join([output_spec] + [s for s, _ in others]) + "->" + kept
        g = apply_op("Einsum", inputs=[grad] + [t for _, t in others], equation=subscripts)
        if kept != spec:
            for position, label in enumerate(spec):
                if label not in kept:
                    g = array_ops.expand_dims(g, position)
            g = array_ops.broadcast_to(g, array_ops.shape(op._inputs[i]))
        grads.append(g)
    return grads


register_gradient("Einsum", _einsum_grad)


# --- composite reductions, products and norms -----------------------------------------------------

def count_nonzero(input_tensor=None, axis=None, keepdims=None, dtype=dtypes.int64, name=None,
                  reduction_indices=None, keep_dims=None, input=None):  # noqa: A002
    input_tensor = input if input_tensor is None else input_tensor
    axis = reduction_indices if axis is None else axis
    keepdims = bool(keep_dims if keepdims is None else keepdims)
    with ops.name_scope(name, "count_nonzero", [input_tensor]):
        input_tensor = ops.convert_to_tensor(input_tensor, name="input")
        if input_tensor.dtype == dtypes.bool_:
            predicate = input_tensor
        else:
            zero = array_ops.zeros([], dtype=input_tensor.dtype)
            predicate = not_equal(input_tensor, zero)
        return cast(reduce_sum(cast(predicate, dtypes.int64), axis=axis, keepdims=keepdims),
                    dtype=dtype)


def reduce_logsumexp(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                     keep_dims=None):
    axis = reduction_indices if axis is None else axis
    keepdims = bool(keep_dims if keepdims is None else keepdims)
    with ops.name_scope(name, "ReduceLogSumExp", [input_tensor]) as scope:
        raw_max = reduce_max(input_tensor, axis=axis, keepdims=True)
        my_max = array_ops.stop_gradient(apply_op("SelectV2", condition=is_finite(raw_max),
                                                  t=raw_max, e=0))
        result = log(reduce_sum(exp(subtract(input_tensor, my_max)), axis=axis,
                                keepdims=keepdims))
        if not keepdims:
            my_max = array_ops.reshape(my_max, apply_op("Shape", input=result))
        result = add(result, my_max, name=scope)
        return _may_reduce_to_scalar(keepdims, axis, result)


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    with ops.name_scope(name or "reduce_variance"):
        input_tensor = ops.convert_to_tensor(input_tensor)
        means = reduce_mean(input_tensor, axis=axis, keepdims=True)
        if means.dtype.is_integer:
            raise TypeError("Input must be either real or complex. Received integer type %s."
                            % means.dtype)
        squared_deviations = square(input_tensor - means)
        return reduce_mean(squared_deviations, axis=axis, keepdims=keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    with ops.name_scope(name or "reduce_std"):
        input_tensor = ops.convert_to_tensor(input_tensor)
        return sqrt(reduce_variance(input_tensor, axis=axis, keepdims=keepdims))


def tensordot(a, b, axes, name=None):
    """Contracts `axes` of a with `axes` of b through one transpose+reshape per operand and a
    MatMul, as TensorFlow builds it."""
    def reshape_operand(x, axes, flipped=False):
        if x.shape.is_fully_defined() and isinstance(axes, (list, tuple)):
            dims = x.shape.as_list()
            axes = [i if i >= 0 else i + len(dims) for i in axes]
            free = [i for i in builtins.range(len(dims)) if i not in axes]
            free_dims = [dims[i] for i in free]
            prod_free = int(np.prod([dims[i] for i in free]))
            prod_axes = int(np.prod([dims[i] for i in axes]))
            perm = list(axes) + free if flipped else free + list(axes)
            new_shape = [prod_axes, prod_free] if flipped else [prod_free, prod_axes]
            x_trans = array_ops.transpose(x, perm) if perm != list(
                builtins.range(len(dims))) else x
            if x_trans.shape.as_list() != new_shape:
                return array_ops.reshape(x_trans, new_shape), free_dims, free_dims
            return x_trans, free_dims, free_dims
        if x.shape.ndims is not None and isinstance(axes, (list, tuple)):
            dims = x.shape.as_list()
            axes = [i if i >= 0 else i + len(dims) for i in axes]
            free = [i for i in builtins.range(len(dims)) if i not in axes]
            free_dims_static = [dims[i] for i in free]
            axes = ops.convert_to_tensor(axes, dtype=dtypes.int32, name="axes")
            free = ops.convert_to_tensor(free, dtype=dtypes.int32, name="free")
            shape_x = array_ops.shape(x)
        else:
            free_dims_static = None
            shape_x = array_ops.shape(x)
            rank_x = array_ops.rank(x)
            axes = ops.convert_to_tensor(axes, dtype=dtypes.int32, name="axes")
            axes = array_ops.where(axes >= 0, axes, axes + rank_x)
            free, _ = apply_op("ListDiff", x=range(rank_x), y=axes, out_idx=dtypes.int32)
        free_dims = array_ops.gather(shape_x, free)
        axes_dims = array_ops.gather(shape_x, axes)
        prod_free_dims = reduce_prod(free_dims)
        prod_axes_dims = reduce_prod(axes_dims)
        if flipped:
            perm = array_ops.concat([axes, free], 0)
            new_shape = array_ops.stack([prod_axes_dims, prod_free_dims])
        else:
            perm = array_ops.concat([free, axes], 0)
            new_shape = array_ops.stack([prod_free_dims, prod_axes_dims])
        return (array_ops.reshape(array_ops.transpose(x, perm), new_shape), free_dims,
                free_dims_static)

    def operand_axes(x, axes):
        x_shape = x.shape
        if isinstance(axes, (int, np.integer)):
            if axes < 0:
                raise ValueError("`axes` must be at least 0. Received: %d." % axes)
            if x_shape.ndims is not None:
                if axes > x_shape.ndims:
                    raise ValueError("`axes` must not be larger than the number of dimensions "
                                     "of tensor %s.  Received %d, vs tensor dimensions %d."
                                     % (x, axes, x_shape.ndims))
                return (list(builtins.range(x_shape.ndims - axes, x_shape.ndims)),
                        list(builtins.range(axes)))
            rank_x = array_ops.rank(x)
            return (range(rank_x - axes, rank_x, dtype=dtypes.int32),
                    range(axes, dtype=dtypes.int32))
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2:
                raise ValueError("`axes` must be an integer or have length 2. Received %s."
                                 % (axes,))
            a_axes, b_axes = axes
            if isinstance(a_axes, (int, np.integer)) and isinstance(b_axes, (int, np.integer)):
                a_axes, b_axes = [a_axes], [b_axes]
            if len(a_axes) != len(b_axes):
                raise ValueError("Different number of contraction axes `a` and `b`, %d != %d."
                                 % (len(a_axes), len(b_axes)))
            return a_axes, b_axes
        axes = ops.convert_to_tensor(axes, name="axes", dtype=dtypes.int32)
        return axes[0], axes[1]

    with ops.name_scope(name, "Tensordot", [a, b, axes]) as scope:
        a = ops.convert_to_tensor(a, name="a")
        b = ops.convert_to_tensor(b, name="b")
        a_axes, b_axes = operand_axes(a, axes)
        a_reshape, a_free_dims, a_free_dims_static = reshape_operand(a, a_axes)
        b_reshape, b_free_dims, b_free_dims_static = reshape_operand(b, b_axes, True)
        ab_matmul = matmul(a_reshape, b_reshape)
        if isinstance(a_free_dims, list) and isinstance(b_free_dims, list):
            if ab_matmul.shape.is_fully_defined() and \
                    ab_matmul.shape.as_list() == a_free_dims + b_free_dims:
                return ab_matmul
            return array_ops.reshape(ab_matmul, a_free_dims + b_free_dims, name=scope)
        a_free_dims = ops.convert_to_tensor(a_free_dims, dtype=dtypes.int32)
        b_free_dims = ops.convert_to_tensor(b_free_dims, dtype=dtypes.int32)
        product = array_ops.reshape(ab_matmul, array_ops.concat([a_free_dims, b_free_dims], 0),
                                    name=scope)
        if a_free_dims_static is not None and b_free_dims_static is not None:
            product.set_shape(a_free_dims_static + b_free_dims_static)
        return product


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None,  # noqa: A002
         keep_dims=None):
    """Vector norms (euclidean, 1, inf, p > 0) and the fro/1/inf matrix norms."""
    keepdims = bool(keep_dims if keepdims is None else keepdims)
    is_matrix_norm = isinstance(axis, (tuple, list)) and len(axis) == 2
    if is_matrix_norm:
        axis = tuple(axis)
        if not all(isinstance(a, int) for a in axis) or axis[0] == axis[1]:
            raise ValueError("'axis' must be None, an integer, or a tuple of 2 unique integers, "
                             "got %s" % (axis,))
        if ord not in ("euclidean", "fro", 1, np.inf):
            raise ValueError("'ord' must be a supported matrix norm in ['euclidean', 'fro', 1, "
                             "inf], got %s" % (ord,))
    else:
        if not (isinstance(axis, int) or axis is None):
            raise ValueError("'axis' must be None, an integer, or a tuple of 2 unique integers, "
                             "got %s" % (axis,))
        if ord not in ("euclidean", 1, 2, np.inf) and (not np.isreal(ord) or ord <= 0):
            raise ValueError("'ord' must be a supported vector norm, got %s" % (ord,))
        if axis is not None:
            axis = (axis,)
    with ops.name_scope(name, "norm", [tensor]):
        tensor = ops.convert_to_tensor(tensor)
        if ord in ("fro", "euclidean", 2, 2.0):
            result = sqrt(reduce_sum(tensor * conj(tensor), axis, keepdims=True))
        else:
            result = abs(tensor)
            if ord == 1:
                result = reduce_sum(result, None if axis is None else axis[0], keepdims=True)
                if is_matrix_norm:
                    result = reduce_max(result, axis[-1], keepdims=True)
            elif ord == np.inf:
                if is_matrix_norm:
                    result = reduce_sum(result, axis[1], keepdims=True)
                result = reduce_max(result, None if axis is None else axis[0], keepdims=True)
            else:
                result = pow(reduce_sum(pow(result, ord), axis, keepdims=True), 1.0 / ord)
        if not keepdims:
            result = array_ops.squeeze(result, axis)
        return result


# --- clipping -------------------------------------------------------------------------------------

def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """Minimum then Maximum (the ClipByValue op is only read from imported graphs)."""
    with ops.name_scope(name, "clip_by_value", [t, clip_value_min, clip_value_max]) as scope:
        values = ops.convert_to_tensor(t.values if isinstance(t, IndexedSlices) else t,
                                       name="t")
        t_min = minimum(values, clip_value_max)
        values.shape.assert_is_compatible_with(t_min.shape)
        t_max = maximum(t_min, clip_value_min, name=scope)
        values.shape.assert_is_compatible_with(t_max.shape)
        if isinstance(t, IndexedSlices):
            return IndexedSlices(t_max, t.indices, t.dense_shape)
        return t_max


def clip_by_norm(t, clip_norm, axes=None, name=None):
    with ops.name_scope(name, "clip_by_norm", [t, clip_norm]) as scope:
        values = ops.convert_to_tensor(t.values if isinstance(t, IndexedSlices) else t,
                                       name="t")
        if np.isscalar(clip_norm):
            clip_norm = builtins.max(clip_norm, 0)
        else:
            clip_norm = cast(maximum(clip_norm, 0), dtype=values.dtype)
        l2sum = reduce_sum(values * values, axes, keepdims=True)
        pred = l2sum > 0
        # Avoid the NaN gradient of sqrt at 0.
        l2sum_safe = array_ops.where(pred, l2sum, array_ops.ones_like(l2sum))
        l2norm = array_ops.where(pred, sqrt(l2sum_safe), l2sum)
        intermediate = values * clip_norm
        values.shape.assert_is_compatible_with(intermediate.shape)
        values_clip = array_ops.identity(intermediate / maximum(l2norm, clip_norm), name=scope)
        if isinstance(t, IndexedSlices):
            return IndexedSlices(values_clip, t.indices, t.dense_shape)
        return values_clip


def global_norm(t_list, name=None):
    """sqrt(sum of squares of every element of every tensor), via L2Loss as TensorFlow does."""
    if not isinstance(t_list, (list, tuple)):
        raise TypeError("`t_list` should be a sequence of tensors. Received %s." % type(t_list))
    t_list = list(t_list)
    with ops.name_scope(name, "global_norm", t_list):
        values = [ops.convert_to_tensor(t.values if isinstance(t, IndexedSlices) else t,
                                        name="t_%d" % i) if t is not None else t
                  for i, t in enumerate(t_list)]
        half_squared_norms = []
        for v in values:
            if v is not None:
                with ops.colocate_with(v):
                    half_squared_norms.append(apply_op("L2Loss", t=v))
        half_squared_norm = reduce_sum(array_ops.stack(half_squared_norms))
        return sqrt(half_squared_norm * array_ops.constant(2.0, dtype=half_squared_norm.dtype),
                    name="global_norm")


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    if not isinstance(t_list, (list, tuple)):
        raise TypeError("`t_list` should be a sequence of tensors. Received %s." % type(t_list))
    t_list = list(t_list)
    if use_norm is None:
        use_norm = global_norm(t_list, name)
    with ops.name_scope(name, "clip_by_global_norm", t_list + [clip_norm]) as scope:
        scale_for_finite = clip_norm * minimum(
            1.0 / use_norm, array_ops.constant(1.0, dtype=use_norm.dtype) / clip_norm)
        # A non-finite norm makes every value NaN, as TensorFlow does.
        scale = scale_for_finite + (use_norm - use_norm)
        values = [ops.convert_to_tensor(t.values if isinstance(t, IndexedSlices) else t,
                                        name="t_%d" % i) if t is not None else t
                  for i, t in enumerate(t_list)]
        values_clipped = []
        for i, v in enumerate(values):
            if v is None:
                values_clipped.append(None)
                continue
            with ops.colocate_with(v):
                values_clipped.append(array_ops.identity(v * cast(scale, v.dtype),
                                                         name="%s_%d" % (scope, i)))
        list_clipped = [IndexedSlices(c, t.indices, t.dense_shape)
                        if isinstance(t, IndexedSlices) else c
                        for c, t in zip(values_clipped, t_list)]
    return list_clipped, use_norm


# --- operator overloads ---------------------------------------------------------------------------

def _overload_binary(func, op_name):
    def binary_op_wrapper(x, y):
        with ops.name_scope(None, op_name, [x, y]) as name:
            try:
                return func(x, y, name=name)
            except (TypeError, ValueError) as exc:
                reverse = getattr(type(y), "__r%s__" % op_name, None)
                if reverse is None or isinstance(y, ops.Tensor):
                    raise
                try:
                    out = reverse(y, x)
                except (TypeError, ValueError):
                    raise exc
                if out is NotImplemented:
                    raise
                return out

    def r_binary_op_wrapper(y, x):
        with ops.name_scope(None, op_name, [x, y]) as name:
            x = ops.convert_to_tensor(x, dtype=y.dtype.base_dtype, name="x")
            return func(x, y, name=name)
    return binary_op_wrapper, r_binary_op_wrapper


def _add_dispatch(x, y, name=None):
    if not isinstance(y, ops.Tensor):
        y = ops.convert_to_tensor(y, dtype_hint=x.dtype.base_dtype, name="y")
    if x.dtype.base_dtype is dtypes.string:
        return apply_op("Add", x=x, y=y, name=name)
    return apply_op("AddV2", x=x, y=y, name=name)


def _mul_dispatch(x, y, name=None):
    if (isinstance(x, ops.Tensor) and x.dtype == dtypes.bool_) or (
            isinstance(y, ops.Tensor) and y.dtype == dtypes.bool_):
        return cast(multiply(cast(x, dtypes.int32), cast(y, dtypes.int32), name=name),
                    dtypes.bool_)
    return multiply(x, y, name=name)


def _logical_dispatch(op_type):
    def dispatch(x, y, name=None):
        if x.dtype != dtypes.bool_:
            raise TypeError("tensorkeep implements `%s` for bool tensors only, got %s"
                            % (op_type, x.dtype.name))
        if op_type == "LogicalXor":
            return logical_xor(x, y, name)
        return apply_op(op_type, x=x, y=y, name=name)
    return dispatch


OVERLOADS = [
    ("add", _add_dispatch),
    ("sub", subtract),
    ("mul", _mul_dispatch),
    ("truediv", truediv),
    ("div", div),
    ("floordiv", floordiv),
    ("mod", mod),
    ("pow", pow),
    ("matmul", matmul),
    ("and", _logical_dispatch("LogicalAnd")),
    ("or", _logical_dispatch("LogicalOr")),
    ("xor", _logical_dispatch("LogicalXor")),
]


def _invert(x, name=None):
    if x.dtype != dtypes.bool_:
        raise TypeError("tensorkeep implements `~` for bool tensors only, got %s" % x.dtype.name)
    return apply_op("LogicalNot", x=x, name=name)


def _install_operators(clazz):
    for op_name, func in OVERLOADS:
        forward, reverse = _overload_binary(func, op_name)
        setattr(clazz, "__%s__" % op_name, forward)
        setattr(clazz, "__r%s__" % op_name, reverse)
    clazz.__neg__ = lambda self, name=None: negative(self, name=name)
    clazz.__abs__ = lambda self, name=None: abs(self, name=name)
    clazz.__invert__ = _invert
    clazz.__lt__ = lambda self, other: less(self, other)
    clazz.__le__ = lambda self, other: less_equal(self, other)
    clazz.__gt__ = lambda self, other: greater(self, other)
    clazz.__ge__ = lambda self, other: greater_equal(self, other)


_install_operators(ops.Tensor)


def log_sigmoid(x, name=None):
    """log(1 / (1 + exp(-x))), computed as -softplus(-x) for stability."""
    with ops.name_scope(name, "LogSigmoid", [x]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        return apply_op("Neg", x=apply_op("Softplus", features=-x), name=scope)
