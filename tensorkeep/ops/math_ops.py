"""Math ops: elementwise arithmetic and comparisons with broadcasting, matmul, reductions, cast,
and the Tensor operator overloads (`+ - * / // % **`, unary `-`, `abs`, `~`, `&`, `|`, `^`,
`< <= > >=`, `@`, `[]`).

Each op: schema (TensorFlow's OpDef spelling), NumPy kernel, shape function, builder and gradient
side by side.
"""

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op
from tensorkeep.ops import _helpers

_NUMERIC = ("T: {bfloat16, half, float, double, uint8, int8, uint16, int16, int32, uint32, "
            "uint64, int64, complex64, complex128}")
_FLOATS = "T: {bfloat16, half, float, double, complex64, complex128}"
_REAL_NUMERIC = ("T: {bfloat16, half, float, double, int8, int16, int32, int64, uint8, uint16, "
                 "uint32, uint64}")


def _binary(op_type, compute, attrs=_NUMERIC, commutative=False, out="z: T"):
    register_op(op_type, inputs=["x: T", "y: T"], outputs=[out], attrs=[attrs],
                commutative=commutative, compute=compute, shape=_helpers.broadcast_shape)


def _unary(op_type, compute, attrs=_NUMERIC):
    register_op(op_type, inputs=["x: T"], outputs=["y: T"], attrs=[attrs], compute=compute,
                shape=_helpers.unchanged_shape)


def _truncate_div(x, y):
    if np.asarray(x).dtype.kind in "iu":
        q = np.floor_divide(x, y)
        fix = (np.remainder(x, y) != 0) & ((np.asarray(x) < 0) != (np.asarray(y) < 0))
        return (q + fix).astype(np.asarray(x).dtype)
    return np.true_divide(x, y).astype(np.result_type(x, y), copy=False)


def _same_dtype(fn):
    """Wraps a NumPy ufunc so that integer/float results keep the input dtype (NumPy may
    promote, e.g. int8 * int8 scalar math)."""
    def run(x, y):
        result = fn(x, y)
        dtype = np.asarray(x).dtype
        if isinstance(result, np.ndarray):
            return result if result.dtype == dtype else result.astype(dtype)
        return np.asarray(result, dtype=dtype)
    return run


def _pow(x, y):
    x = np.asarray(x)
    if x.dtype.kind in "iu" and np.any(np.asarray(y) < 0):
        raise ValueError("Integers to negative integer powers are not allowed")
    return _same_dtype(np.power)(x, y)


_binary("AddV2", _same_dtype(np.add), commutative=True)
_binary("Add", _same_dtype(np.add), attrs=_NUMERIC[:-1] + ", string}")
_binary("Sub", _same_dtype(np.subtract))
_binary("Mul", _same_dtype(np.multiply), commutative=True)
_binary("RealDiv", _same_dtype(np.true_divide))
_binary("Div", _same_dtype(_truncate_div))
_binary("DivNoNan", _same_dtype(lambda x, y: np.where(y == 0, np.zeros_like(x),
                                                      np.true_divide(x, np.where(y == 0, 1, y)))))
_binary("FloorDiv", _same_dtype(np.floor_divide))
_binary("FloorMod", _same_dtype(np.mod), attrs=_REAL_NUMERIC)
_binary("TruncateMod", _same_dtype(np.fmod), attrs=_REAL_NUMERIC)
_binary("TruncateDiv", _same_dtype(_truncate_div))
_binary("Pow", _pow)
_binary("Maximum", _same_dtype(np.maximum), attrs=_REAL_NUMERIC, commutative=True)
_binary("Minimum", _same_dtype(np.minimum), attrs=_REAL_NUMERIC, commutative=True)
_binary("SquaredDifference", _same_dtype(lambda x, y: np.square(np.subtract(x, y))),
        commutative=True)
_binary("Atan2", _same_dtype(np.arctan2), attrs="T: {bfloat16, half, float, double}")

for _op_type, _fn in (("Less", np.less), ("LessEqual", np.less_equal), ("Greater", np.greater),
                      ("GreaterEqual", np.greater_equal)):
    _binary(_op_type, lambda x, y, _fn=_fn: np.asarray(_fn(x, y)), attrs=_REAL_NUMERIC,
            out="z: bool")

for _op_type, _fn in (("Equal", np.equal), ("NotEqual", np.not_equal)):
    register_op(_op_type, inputs=["x: T", "y: T"], outputs=["z: bool"],
                attrs=["T: type", "incompatible_shape_error: bool = true"], commutative=True,
                compute=lambda x, y, _fn=_fn: np.asarray(_fn(x, y)), shape=_helpers.broadcast_shape)

for _op_type, _fn in (("LogicalAnd", np.logical_and), ("LogicalOr", np.logical_or)):
    register_op(_op_type, inputs=["x: bool", "y: bool"], outputs=["z: bool"], commutative=True,
                compute=lambda x, y, _fn=_fn: np.asarray(_fn(x, y)), shape=_helpers.broadcast_shape)
register_op("LogicalNot", inputs=["x: bool"], outputs=["y: bool"],
            compute=lambda x: np.asarray(np.logical_not(x)), shape=_helpers.unchanged_shape)


def _keep_dtype_unary(fn):
    def run(x):
        result = fn(x)
        dtype = np.asarray(x).dtype
        return np.asarray(result, dtype=dtype) if np.asarray(result).dtype != dtype else \
            np.asarray(result)
    return run


_unary("Neg", _keep_dtype_unary(np.negative))
_unary("Abs", _keep_dtype_unary(np.abs), attrs=_REAL_NUMERIC)
_unary("Square", _keep_dtype_unary(np.square))
_unary("Sign", _keep_dtype_unary(np.sign))
_unary("Reciprocal", _keep_dtype_unary(lambda x: np.reciprocal(x)))
_unary("Inv", _keep_dtype_unary(lambda x: np.reciprocal(x)))
for _op_type, _fn in (("Sqrt", np.sqrt), ("Exp", np.exp), ("Log", np.log), ("Log1p", np.log1p),
                      ("Expm1", np.expm1), ("Sin", np.sin), ("Cos", np.cos), ("Tan", np.tan),
                      ("Asin", np.arcsin), ("Acos", np.arccos), ("Atan", np.arctan),
                      ("Sinh", np.sinh), ("Cosh", np.cosh), ("Asinh", np.arcsinh),
                      ("Acosh", np.arccosh), ("Atanh", np.arctanh),
                      ("Rsqrt", lambda x: np.reciprocal(np.sqrt(x)))):
    _unary(_op_type, _keep_dtype_unary(_fn), attrs=_FLOATS)
for _op_type, _fn in (("Floor", np.floor), ("Ceil", np.ceil), ("Rint", np.rint),
                      ("Round", np.round)):
    _unary(_op_type, _keep_dtype_unary(_fn), attrs="T: {bfloat16, half, float, double}")
register_op("IsNan", inputs=["x: T"], outputs=["y: bool"], attrs=["T: {bfloat16, half, float, double}"],
            compute=lambda x: np.asarray(np.isnan(x)), shape=_helpers.unchanged_shape)
register_op("IsInf", inputs=["x: T"], outputs=["y: bool"], attrs=["T: {bfloat16, half, float, double}"],
            compute=lambda x: np.asarray(np.isinf(x)), shape=_helpers.unchanged_shape)
register_op("IsFinite", inputs=["x: T"], outputs=["y: bool"],
            attrs=["T: {bfloat16, half, float, double}"],
            compute=lambda x: np.asarray(np.isfinite(x)), shape=_helpers.unchanged_shape)


# --- builders ------------------------------------------------------------------------------------

def _binary_builder(op_type, default_name):
    def build(x, y, name=None):
        with ops.name_scope(name, default_name, [x, y]) as scope:
            x = ops.convert_to_tensor(x, name="x")
            y = ops.convert_to_tensor(y, dtype=x.dtype.base_dtype, name="y")
            return apply_op(op_type, x=x, y=y, name=scope)
    build.__name__ = default_name
    return build


def add(x, y, name=None):
    with ops.name_scope(name, "Add", [x]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        y = ops.convert_to_tensor(y, dtype=x.dtype.base_dtype, name="y")
        if x.dtype.base_dtype is dtypes.string:
            return apply_op("Add", x=x, y=y, name=scope)
        return apply_op("AddV2", x=x, y=y, name=scope)


subtract = _binary_builder("Sub", "Sub")
multiply = _binary_builder("Mul", "Mul")
realdiv = _binary_builder("RealDiv", "RealDiv")
floordiv_op = _binary_builder("FloorDiv", "FloorDiv")
floormod = _binary_builder("FloorMod", "FloorMod")
truncatediv = _binary_builder("TruncateDiv", "TruncateDiv")
truncatemod = _binary_builder("TruncateMod", "TruncateMod")
maximum = _binary_builder("Maximum", "Maximum")
minimum = _binary_builder("Minimum", "Minimum")
squared_difference = _binary_builder("SquaredDifference", "SquaredDifference")
less = _binary_builder("Less", "Less")
less_equal = _binary_builder("LessEqual", "LessEqual")
greater = _binary_builder("Greater", "Greater")
greater_equal = _binary_builder("GreaterEqual", "GreaterEqual")
logical_and = _binary_builder("LogicalAnd", "LogicalAnd")
logical_or = _binary_builder("LogicalOr", "LogicalOr")
div_no_nan = _binary_builder("DivNoNan", "div_no_nan")
atan2 = _binary_builder("Atan2", "Atan2")


def equal(x, y, name=None):
    return _binary_builder("Equal", "Equal")(x, y, name=name)


def not_equal(x, y, name=None):
    return _binary_builder("NotEqual", "NotEqual")(x, y, name=name)


def pow(x, y, name=None):  # noqa: A001 (TF's name)
    with ops.name_scope(name, "Pow", [x]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        y = ops.convert_to_tensor(y, dtype=x.dtype.base_dtype, name="y")
        return apply_op("Pow", x=x, y=y, name=scope)


def logical_xor(x, y, name="LogicalXor"):
    with ops.name_scope(name, "LogicalXor", [x, y]) as scope:
        return logical_and(logical_or(x, y), logical_not(logical_and(x, y)), name=scope)


def _unary_builder(op_type):
    def build(x, name=None):
        return apply_op(op_type, x=x, name=name)
    build.__name__ = op_type.lower()
    return build


negative = _unary_builder("Neg")
square = _unary_builder("Square")
sqrt = _unary_builder("Sqrt")
rsqrt = _unary_builder("Rsqrt")
exp = _unary_builder("Exp")
log = _unary_builder("Log")
log1p = _unary_builder("Log1p")
expm1 = _unary_builder("Expm1")
sign = _unary_builder("Sign")
reciprocal = _unary_builder("Reciprocal")
floor = _unary_builder("Floor")
ceil = _unary_builder("Ceil")
rint = _unary_builder("Rint")
sin = _unary_builder("Sin")
cos = _unary_builder("Cos")
tan = _unary_builder("Tan")
asin = _unary_builder("Asin")
acos = _unary_builder("Acos")
atan = _unary_builder("Atan")
sinh = _unary_builder("Sinh")
cosh = _unary_builder("Cosh")
logical_not = _unary_builder("LogicalNot")
is_nan = _unary_builder("IsNan")
is_inf = _unary_builder("IsInf")
is_finite = _unary_builder("IsFinite")


def round(x, name=None):  # noqa: A001
    x = ops.convert_to_tensor(x, name="x")
    if x.dtype.is_integer:
        return x
    return apply_op("Round", x=x, name=name)


def abs(x, name=None):  # noqa: A001
    with ops.name_scope(name, "Abs", [x]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        return apply_op("Abs", x=x, name=scope)


def truediv(x, y, name=None):
    """Python-3 division: integers are cast to floats first (int32 -> float64 as TF does)."""
    with ops.name_scope(name, "truediv", [x, y]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        y = ops.convert_to_tensor(y, dtype=x.dtype.base_dtype, name="y")
        x_dtype = x.dtype.base_dtype
        cast_to = {dtypes.uint8: dtypes.float32, dtypes.int8: dtypes.float32,
                   dtypes.uint16: dtypes.float32, dtypes.int16: dtypes.float32,
                   dtypes.int32: dtypes.float64, dtypes.int64: dtypes.float64,
                   dtypes.uint32: dtypes.float64, dtypes.uint64: dtypes.float64}.get(x_dtype)
        if cast_to is not None:
            x = cast(x, cast_to)
            y = cast(y, cast_to)
        return apply_op("RealDiv", x=x, y=y, name=scope)


def divide(x, y, name=None):
    if name is not None:
        return truediv(x, y, name=name)
    return truediv(x, y)


def div(x, y, name=None):
    """TF1 tf.div: Python-2 semantics (floor division for integers)."""
    with ops.name_scope(name, "div", [x, y]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        y = ops.convert_to_tensor(y, dtype=x.dtype.base_dtype, name="y")
        if x.dtype.is_floating or x.dtype.is_complex:
            return apply_op("RealDiv", x=x, y=y, name=scope)
        return apply_op("FloorDiv", x=x, y=y, name=scope)


def floordiv(x, y, name=None):
    with ops.name_scope(name, "floordiv", [x, y]) as scope:
        x = ops.convert_to_tensor(x, name="x")
        y = ops.convert_to_tensor(y, dtype=x.dtype.base_dtype, name="y")
        return apply_op("FloorDiv", x=x, y=y, name=scope)


# --- Cast ------------------------------------------------------------------------------------------

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
    if isinstance(x, ops.Tensor) and x.dtype.base_dtype is dtype:
        return x
    with ops.name_scope(name, "Cast", [x]) as scope:
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


# --- MatMul -------------------------------------------------------------------------------------------

def _matmul_kernel(op, ctx):
    ta = op._attrs["transpose_a"]
    tb = op._attrs["transpose_b"]

    def run(a, b):
        if ta:
            a = a.T
        if tb:
            b = b.T
        return np.matmul(a, b)
    return run


def _matmul_shape(op):
    a = op._inputs[0]._shape_val
    b = op._inputs[1]._shape_val
    if a.ndims is None or b.ndims is None:
        return [tensor_shape.unknown_shape(2)]
    if a.ndims != 2 or b.ndims != 2:
        raise ValueError("Shape must be rank 2 but is rank %d for '{{node %s}} = MatMul' with "
                         "input shapes: %s, %s." % (a.ndims if a.ndims != 2 else b.ndims,
                                                    op.name, _helpers._shape_str(a),
                                                    _helpers._shape_str(b)))
    a_dims = a.as_list()[::-1] if op._attrs["transpose_a"] else a.as_list()
    b_dims = b.as_list()[::-1] if op._attrs["transpose_b"] else b.as_list()
    if a_dims[1] is not None and b_dims[0] is not None and a_dims[1] != b_dims[0]:
        raise ValueError("Dimensions must be equal, but are %d and %d for '{{node %s}} = "
                         "MatMul[T=%s, transpose_a=%s, transpose_b=%s](%s, %s)' with input "
                         "shapes: %s, %s." % (
                             a_dims[1], b_dims[0], op.name, op._attrs["T"].name,
                             str(op._attrs["transpose_a"]).lower(),
                             str(op._attrs["transpose_b"]).lower(),
                             op._inputs[0].name.split(":")[0], op._inputs[1].name.split(":")[0],
                             _helpers._shape_str(a), _helpers._shape_str(b)))
    return [tensor_shape.TensorShape([a_dims[0], b_dims[1]])]


register_op("MatMul", inputs=["a: T", "b: T"], outputs=["product: T"],
            attrs=["transpose_a: bool = false", "transpose_b: bool = false",
                   "T: {bfloat16, half, float, double, int32, int64, complex64, complex128}",
                   "grad_a: bool = false", "grad_b: bool = false"],
            kernel=_matmul_kernel, shape=_matmul_shape)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, name=None, output_type=None):
    with ops.name_scope(name, "MatMul", [a, b]) as scope:
        a = ops.convert_to_tensor(a, name="a")
        b = ops.convert_to_tensor(b, dtype=a.dtype.base_dtype, name="b")
        transpose_a = transpose_a or adjoint_a
        transpose_b = transpose_b or adjoint_b
        a_rank = a.shape.ndims
        b_rank = b.shape.ndims
        if (a_rank is not None and a_rank > 2) or (b_rank is not None and b_rank > 2):
            return apply_op("BatchMatMulV2", x=a, y=b, adj_x=transpose_a, adj_y=transpose_b,
                            name=scope)
        return apply_op("MatMul", a=a, b=b, transpose_a=transpose_a, transpose_b=transpose_b,
                        name=scope)


# --- reductions ---------------------------------------------------------------------------------------

def _reduction_kernel(np_fn, keep_dtype=True):
    def factory(op, ctx):
        keep_dims = op._attrs["keep_dims"]

        def run(x, axis):
            x = np.asarray(x)
            axes = tuple(int(a) % max(x.ndim, 1) for a in np.ravel(axis)) if np.size(axis) else ()
            if x.ndim == 0:
                axes = None if not axes else ()
            result = np_fn(x, axis=axes, keepdims=keep_dims)
            if keep_dtype:
                return np.asarray(result, dtype=x.dtype)
            return np.asarray(result)
        return run
    return factory


def _reduction_shape(op):
    in_shape = op._inputs[0]._shape_val
    axes = _helpers.const_input(op, 1)
    keep_dims = op._attrs["keep_dims"]
    if in_shape.ndims is None:
        return [tensor_shape.unknown_shape()]
    if axes is None:
        if keep_dims:
            return [tensor_shape.unknown_shape(in_shape.ndims)]
        return [tensor_shape.unknown_shape()]
    rank = in_shape.ndims
    axes = set(int(a) % rank if rank else 0 for a in np.ravel(axes))
    dims = []
    for i, d in enumerate(in_shape.as_list()):
        if i in axes:
            if keep_dims:
                dims.append(1)
        else:
            dims.append(d)
    return [tensor_shape.TensorShape(dims)]


def _mean(x, axis, keepdims):
    if x.dtype.kind in "iu":
        total = np.sum(x, axis=axis, keepdims=keepdims, dtype=np.int64)
        count = x.size // max(np.size(total), 1) if x.size else 1
        return (total // max(count, 1)).astype(x.dtype)
    return np.mean(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


def _sum(x, axis, keepdims):
    return np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


def _prod(x, axis, keepdims):
    return np.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


def _max(x, axis, keepdims):
    if x.size == 0:
        return np.full(_reduced_shape(x.shape, axis, keepdims), _lowest(x.dtype), dtype=x.dtype)
    return np.max(x, axis=axis, keepdims=keepdims)


def _min(x, axis, keepdims):
    if x.size == 0:
        return np.full(_reduced_shape(x.shape, axis, keepdims), _highest(x.dtype), dtype=x.dtype)
    return np.min(x, axis=axis, keepdims=keepdims)


def _reduced_shape(shape, axis, keepdims):
    axes = range(len(shape)) if axis is None else axis
    return [1 if i in axes else d for i, d in enumerate(shape) if keepdims or i not in axes]


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _highest(dtype):
    return np.inf if dtype.kind == "f" else np.iinfo(dtype).max


for _op_type, _fn, _attrs in (
        ("Sum", _sum, _NUMERIC), ("Mean", _mean, _NUMERIC), ("Prod", _prod, _NUMERIC),
        ("Max", _max, _REAL_NUMERIC), ("Min", _min, _REAL_NUMERIC)):
    register_op(_op_type, inputs=["input: T", "reduction_indices: Tidx"], outputs=["output: T"],
                attrs=["keep_dims: bool = false", _attrs, "Tidx: {int32, int64} = DT_INT32"],
                kernel=_reduction_kernel(_fn), shape=_reduction_shape)

for _op_type, _fn in (("All", np.all), ("Any", np.any)):
    register_op(_op_type, inputs=["input: bool", "reduction_indices: Tidx"],
                outputs=["output: bool"],
                attrs=["keep_dims: bool = false", "Tidx: {int32, int64} = DT_INT32"],
                kernel=_reduction_kernel(_fn), shape=_reduction_shape)


def _reduce_builder(op_type, default_name):
    def build(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
              keep_dims=None):
        if keepdims is None:
            keepdims = bool(keep_dims)
        if axis is None:
            axis = reduction_indices
        with ops.name_scope(name, default_name, [input_tensor]) as scope:
            x = ops.convert_to_tensor(input_tensor, name="input_tensor")
            if axis is None:
                rank = x.shape.ndims
                if rank is not None:
                    axis_t = ops.convert_to_tensor(np.arange(rank, dtype=np.int32), name="Const")
                else:
                    axis_t = apply_op("Range", start=0, limit=apply_op("Rank", input=x),
                                      delta=1)
            else:
                axis_t = ops.convert_to_tensor(axis, dtype=dtypes.int32 if not isinstance(
                    axis, ops.Tensor) else None, name="Const" if not isinstance(
                    axis, ops.Tensor) else None)
            return apply_op(op_type, input=x, reduction_indices=axis_t, keep_dims=keepdims,
                            name=scope)
    build.__name__ = default_name
    return build


reduce_sum = _reduce_builder("Sum", "Sum")
reduce_mean = _reduce_builder("Mean", "Mean")
reduce_prod = _reduce_builder("Prod", "Prod")
reduce_max = _reduce_builder("Max", "Max")
reduce_min = _reduce_builder("Min", "Min")
reduce_all = _reduce_builder("All", "All")
reduce_any = _reduce_builder("Any", "Any")


# --- AddN ------------------------------------------------------------------------------------------

def _add_n(*xs):
    total = np.array(xs[0], copy=True)
    for x in xs[1:]:
        total = total + x
    return total.astype(np.asarray(xs[0]).dtype, copy=False)


register_op("AddN", inputs=["inputs: N * T"], outputs=["sum: T"],
            attrs=["N: int >= 1", "T: type"],
            commutative=True, compute=_add_n,
            shape=lambda op: [_merge_all([t._shape_val for t in op._inputs])])


def _merge_all(shapes):
    out = tensor_shape.unknown_shape()
    for s in shapes:
        out = out.merge_with(s)
    return out


def add_n(inputs, name=None):
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("inputs must be a list of at least one Tensor/IndexedSlices with the "
                         "same dtype and shape")
    inputs = [ops.convert_to_tensor(t) for t in inputs]
    if len(inputs) == 1:
        from tensorkeep.ops import array_ops
        return array_ops.identity(inputs[0], name=name)
    return apply_op("AddN", inputs=inputs, name=name)


# --- operator overloads ------------------------------------------------------------------------------

def _overload_binary(func, op_name, clazz_object=ops.Tensor):
    def binary_op_wrapper(x, y):
        with ops.name_scope(None, op_name, [x, y]) as name:
            x = ops.convert_to_tensor(x)
            try:
                y = ops.convert_to_tensor(y, dtype=x.dtype.base_dtype, name="y")
            except TypeError:
                if hasattr(type(y), "__r%s__" % op_name):
                    return NotImplemented
                raise
            return func(x, y, name=name)

    def r_binary_op_wrapper(y, x):
        with ops.name_scope(None, op_name, [x, y]) as name:
            y = ops.convert_to_tensor(y)
            x = ops.convert_to_tensor(x, dtype=y.dtype.base_dtype, name="x")
            return func(x, y, name=name)
    return binary_op_wrapper, r_binary_op_wrapper


def _add_dispatch(x, y, name=None):
    if x.dtype.base_dtype is dtypes.string:
        return apply_op("Add", x=x, y=y, name=name)
    return apply_op("AddV2", x=x, y=y, name=name)


def _truediv_dispatch(x, y, name=None):
    return truediv(x, y, name=name)


def _floordiv_dispatch(x, y, name=None):
    return apply_op("FloorDiv", x=x, y=y, name=name)


def _mod_dispatch(x, y, name=None):
    return apply_op("FloorMod", x=x, y=y, name=name)


def _pow_dispatch(x, y, name=None):
    return apply_op("Pow", x=x, y=y, name=name)


def _matmul_dispatch(x, y, name=None):
    return matmul(x, y, name=name)


def _and_dispatch(x, y, name=None):
    return apply_op("LogicalAnd", x=x, y=y, name=name)


def _or_dispatch(x, y, name=None):
    return apply_op("LogicalOr", x=x, y=y, name=name)


def _xor_dispatch(x, y, name=None):
    return logical_xor(x, y, name=name)


OVERLOADS = [
    ("add", _add_dispatch),
    ("sub", lambda x, y, name=None: apply_op("Sub", x=x, y=y, name=name)),
    ("mul", lambda x, y, name=None: apply_op("Mul", x=x, y=y, name=name)),
    ("truediv", _truediv_dispatch),
    ("div", _truediv_dispatch),
    ("floordiv", _floordiv_dispatch),
    ("mod", _mod_dispatch),
    ("pow", _pow_dispatch),
    ("matmul", _matmul_dispatch),
    ("and", _and_dispatch),
    ("or", _or_dispatch),
    ("xor", _xor_dispatch),
]


def _install_operators(clazz):
    for op_name, func in OVERLOADS:
        forward, reverse = _overload_binary(func, op_name if op_name != "div" else "truediv")
        setattr(clazz, "__%s__" % op_name, forward)
        setattr(clazz, "__r%s__" % op_name, reverse)
    clazz.__neg__ = lambda self, name=None: apply_op("Neg", x=self, name=name)
    clazz.__abs__ = lambda self, name=None: abs(self, name=name)
    clazz.__invert__ = lambda self, name=None: apply_op("LogicalNot", x=self, name=name)
    clazz.__lt__ = lambda self, other: less(self, other)
    clazz.__le__ = lambda self, other: less_equal(self, other)
    clazz.__gt__ = lambda self, other: greater(self, other)
    clazz.__ge__ = lambda self, other: greater_equal(self, other)


_install_operators(ops.Tensor)
