"""Array ops: constants, placeholders, identity, shapes and reshaping.

Each op: its schema (TensorFlow's OpDef spelling), kernel, shape function, builder, gradient.
"""

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework import tensor_util
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient
from tensorkeep.ops import _helpers


# --- Const ---------------------------------------------------------------------------------------

def _const_kernel(op, ctx):
    value = _helpers.readonly(tensor_util.make_ndarray(op._attrs["value"])
                              if _is_proto(op._attrs["value"]) else op._attrs["value"])
    return lambda: value


def _is_proto(value):
    return type(value).__name__ == "TensorProto"


def _const_shape(op):
    value = op._attrs["value"]
    if _is_proto(value):
        return [tensor_shape.TensorShape([d.size for d in value.tensor_shape.dim])]
    return [tensor_shape.TensorShape(np.shape(value))]


register_op("Const", outputs=["output: dtype"], attrs=["value: tensor", "dtype: type"],
            kernel=_const_kernel, shape=_const_shape)


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """tf.constant (TF1): a Const op holding `value`, broadcast to `shape` when given."""
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    proto = tensor_util.make_tensor_proto(value, dtype=dtype, shape=shape,
                                          verify_shape=verify_shape)
    graph = ops.get_default_graph()
    dtype_value = dtypes.as_dtype(proto.dtype)
    op = graph._create_op("Const", [], {"value": proto, "dtype": dtype_value}, name=name)
    return op._outputs[0]


def constant_v2(value, dtype=None, shape=None, name="Const"):
    if shape is not None:
        arr = np.asarray(value) if not isinstance(value, np.ndarray) else value
        if arr.size == 1 and int(np.prod(shape)) != 1:
            proto = tensor_util.make_tensor_proto(value, dtype=dtype, shape=shape)
        else:
            proto = tensor_util.make_tensor_proto(value, dtype=dtype, shape=shape,
                                                  allow_broadcast=True)
        graph = ops.get_default_graph()
        op = graph._create_op("Const", [], {"value": proto,
                                            "dtype": dtypes.as_dtype(proto.dtype)}, name=name)
        return op._outputs[0]
    return constant(value, dtype=dtype, name=name)


def _constant_conversion(value, dtype=None, name=None, as_ref=False):
    if as_ref:
        raise TypeError("Cannot use a constant (%r) where a mutable tensor (tf.Variable) is "
                        "required." % (value,))
    return constant(value, dtype=dtype, name=name or "Const")


for _type in (list, tuple, int, float, bool, complex, str, bytes, np.ndarray, np.generic):
    ops.register_tensor_conversion_function(_type, _constant_conversion, priority=100)


def _shape_conversion(value, dtype=None, name=None, as_ref=False):
    if not value.is_fully_defined():
        raise ValueError("Cannot convert a partially known TensorShape %s to a Tensor." % value)
    return constant(value.as_list(), dtype=dtype or dtypes.int32, name=name or "Const")


def _dimension_conversion(value, dtype=None, name=None, as_ref=False):
    if value.value is None:
        raise ValueError("Cannot convert an unknown Dimension to a Tensor: %s" % value)
    return constant(value.value, dtype=dtype or dtypes.int32, name=name or "Const")


ops.register_tensor_conversion_function(tensor_shape.TensorShape, _shape_conversion, 90)
ops.register_tensor_conversion_function(tensor_shape.Dimension, _dimension_conversion, 90)


# --- Placeholders -------------------------------------------------------------------------------

def _placeholder_kernel(op, ctx):
    def run():
        raise _unfed_placeholder_error(op)
    return run


def _unfed_placeholder_error(op):
    from tensorkeep.framework import errors

    return errors.InvalidArgumentError(
        None, op, "You must feed a value for placeholder tensor '%s' with dtype %s%s\n\t "
        "[[{{node %s}}]]" % (op.name, op._attrs["dtype"].name,
                             "" if op._attrs["shape"].ndims is None else
                             " and shape %s" % _helpers._shape_str(op._attrs["shape"]), op.name))


register_op("Placeholder", outputs=["output: dtype"],
            attrs=["dtype: type", "shape: shape = unknown"],
            kernel=_placeholder_kernel, shape=lambda op: [op._attrs["shape"]])


def placeholder(dtype, shape=None, name=None):
    shape = tensor_shape.unknown_shape() if shape is None else tensor_shape.as_shape(shape)
    return apply_op("Placeholder", dtype=dtype, shape=shape, name=name)


register_op("PlaceholderWithDefault", inputs=["input: dtype"], outputs=["output: dtype"],
            attrs=["dtype: type", "shape: shape"],
            compute=lambda x: x, shape=lambda op: [op._attrs["shape"]])


def placeholder_with_default(input, shape, name=None):  # noqa: A002 (TF's argument name)
    value = ops.convert_to_tensor(input)
    return apply_op("PlaceholderWithDefault", input=value, shape=tensor_shape.as_shape(shape),
                    name=name)


register_op("PlaceholderV2", outputs=["output: dtype"], attrs=["dtype: type", "shape: shape"],
            kernel=_placeholder_kernel, shape=lambda op: [op._attrs["shape"]])


# --- Identity and friends --------------------------------------------------------------------------

register_op("Identity", inputs=["input: T"], outputs=["output: T"], attrs=["T: type"],
            compute=lambda x: x, shape=_helpers.unchanged_shape)
register_op("Snapshot", inputs=["input: T"], outputs=["output: T"], attrs=["T: type"],
            compute=lambda x: np.array(x, copy=True), shape=_helpers.unchanged_shape)
register_op("StopGradient", inputs=["input: T"], outputs=["output: T"], attrs=["T: type"],
            compute=lambda x: x, shape=_helpers.unchanged_shape)
register_op("PreventGradient", inputs=["input: T"], outputs=["output: T"],
            attrs=["T: type", "message: string = ''"],
            compute=lambda x: x, shape=_helpers.unchanged_shape)


def _identity_n_kernel(op, ctx):
    return lambda *xs: list(xs)


register_op("IdentityN", inputs=["input: T"], outputs=["output: T"], attrs=["T: list(type) >= 1"],
            kernel=_identity_n_kernel,
            shape=lambda op: [t._shape_val for t in op._inputs])


def identity(input, name=None):  # noqa: A002
    if hasattr(input, "_as_graph_element") and not isinstance(input, ops.Tensor) and \
            hasattr(input, "value"):
        input = input.value()
    return apply_op("Identity", input=input, name=name)


def stop_gradient(input, name=None):  # noqa: A002
    return apply_op("StopGradient", input=input, name=name)


register_gradient("Identity", lambda op, grad: [grad])
register_gradient("Snapshot", lambda op, grad: [grad])
register_gradient("IdentityN", lambda op, *grads: list(grads))
register_gradient("StopGradient", None)
register_gradient("PlaceholderWithDefault", lambda op, grad: [grad])


# --- Shape, Size, Rank ------------------------------------------------------------------------------

def _shape_kernel(op, ctx):
    out = op._attrs["out_type"].as_numpy
    return lambda x: np.array(np.shape(x), dtype=out)


def _shape_static(op):
    rank = op._inputs[0]._shape_val.ndims
    return [tensor_shape.TensorShape([rank])]


register_op("Shape", inputs=["input: T"], outputs=["output: out_type"],
            attrs=["T: type", "out_type: {int32, int64} = DT_INT32"],
            kernel=_shape_kernel, shape=_shape_static)


def shape(input, name=None, out_type=dtypes.int32):  # noqa: A002
    return apply_op("Shape", input=input, out_type=out_type, name=name)


def _shape_n_kernel(op, ctx):
    out = op._attrs["out_type"].as_numpy
    return lambda *xs: [np.array(np.shape(x), dtype=out) for x in xs]


register_op("ShapeN", inputs=["input: N * T"], outputs=["output: N * out_type"],
            attrs=["N: int >= 1", "T: type", "out_type: {int32, int64} = DT_INT32"],
            kernel=_shape_n_kernel,
            shape=lambda op: [tensor_shape.TensorShape([t._shape_val.ndims]) for t in op._inputs])


def shape_n(input, out_type=dtypes.int32, name=None):  # noqa: A002
    return apply_op("ShapeN", input=list(input), out_type=out_type, name=name)[0]


def _size_kernel(op, ctx):
    out = op._attrs["out_type"].as_numpy
    return lambda x: np.array(np.size(x), dtype=out)


register_op("Size", inputs=["input: T"], outputs=["output: out_type"],
            attrs=["T: type", "out_type: {int32, int64} = DT_INT32"],
            kernel=_size_kernel, shape=_helpers.scalar_shape)


def size(input, name=None, out_type=dtypes.int32):  # noqa: A002
    return apply_op("Size", input=input, out_type=out_type, name=name)


register_op("Rank", inputs=["input: T"], outputs=["output: int32"], attrs=["T: type"],
            compute=lambda x: np.array(np.ndim(x), dtype=np.int32), shape=_helpers.scalar_shape)


def rank(input, name=None):  # noqa: A002
    return apply_op("Rank", input=input, name=name)


for _op_type in ("Shape", "ShapeN", "Size", "Rank"):
    register_gradient(_op_type, None)


# --- Reshape -----------------------------------------------------------------------------------------

def _reshape_compute(x, new_shape):
    return np.reshape(x, [int(d) for d in new_shape])


def _reshape_shape(op):
    target = tensor_util.constant_value_as_shape(op._inputs[1])
    in_shape = op._inputs[0]._shape_val
    if target.ndims is None:
        return [target]
    dims = target.as_list()
    value = tensor_util.constant_value(op._inputs[1])
    if value is not None:
        dims = [int(d) for d in value.ravel()]
        if -1 in dims:
            known = in_shape.num_elements()
            rest = int(np.prod([d for d in dims if d != -1])) if len(dims) > 1 else 1
            if known is not None and rest:
                if known % rest:
                    raise ValueError("Cannot reshape a tensor with %d elements to shape %s"
                                     % (known, dims))
                dims = [known // rest if d == -1 else d for d in dims]
            else:
                dims = [None if d == -1 else d for d in dims]
        else:
            known = in_shape.num_elements()
            total = int(np.prod(dims)) if dims else 1
            if known is not None and known != total:
                raise ValueError("Cannot reshape a tensor with %d elements to shape %s (%d "
                                 "elements) for '{{node %s}} = Reshape[T=%s, Tshape=%s]'"
                                 % (known, dims, total, op.name, op._attrs["T"].name,
                                    op._attrs["Tshape"].name))
    return [tensor_shape.TensorShape(dims)]


register_op("Reshape", inputs=["tensor: T", "shape: Tshape"], outputs=["output: T"],
            attrs=["T: type", "Tshape: {int32, int64} = DT_INT32"],
            compute=_reshape_compute, shape=_reshape_shape)


def reshape(tensor, shape, name=None):  # noqa: A002
    return apply_op("Reshape", tensor=tensor, shape=shape, name=name)


# --- Fill / zeros / ones -------------------------------------------------------------------------

register_op("Fill", inputs=["dims: index_type", "value: T"], outputs=["output: T"],
            attrs=["T: type", "index_type: {int32, int64} = DT_INT32"],
            compute=lambda dims, value: np.full([int(d) for d in dims], value,
                                                dtype=np.asarray(value).dtype),
            shape=lambda op: [tensor_util.constant_value_as_shape(op._inputs[0])])


def fill(dims, value, name=None):
    return apply_op("Fill", dims=dims, value=value, name=name)


def _zeros_or_ones(shape, dtype, name, fill_value, default_name):
    dtype = dtypes.as_dtype(dtype).base_dtype
    with ops.name_scope(name, default_name, [shape]) as scope:
        if isinstance(shape, ops.Tensor):
            return fill(shape, constant(fill_value, dtype=dtype), name=scope)
        if isinstance(shape, tensor_shape.TensorShape):
            shape = shape.as_list()
        if isinstance(shape, (int, np.integer)):
            shape = [shape]
        shape = list(shape) if shape is not None else []
        if any(isinstance(s, ops.Tensor) for s in shape):
            return fill(stack_values(shape), constant(fill_value, dtype=dtype), name=scope)
        num = int(np.prod(shape)) if shape else 1
        if num < 1000:
            return constant(fill_value, dtype=dtype, shape=shape, name=scope)
        shape_t = constant(shape, dtype=dtypes.int32, name="shape")
        return fill(shape_t, constant(fill_value, dtype=dtype, name="Const"), name=scope)


def zeros(shape, dtype=dtypes.float32, name=None):
    value = b"" if dtypes.as_dtype(dtype).base_dtype is dtypes.string else 0
    return _zeros_or_ones(shape, dtype, name, value, "zeros")


def ones(shape, dtype=dtypes.float32, name=None):
    return _zeros_or_ones(shape, dtype, name, 1, "ones")


def stack_values(values):
    return stack(values)


register_op("ZerosLike", inputs=["x: T"], outputs=["y: T"], attrs=["T: type"],
            compute=np.zeros_like, shape=_helpers.unchanged_shape)
register_op("OnesLike", inputs=["x: T"], outputs=["y: T"], attrs=["T: type"],
            compute=np.ones_like, shape=_helpers.unchanged_shape)
register_gradient("ZerosLike", None)
register_gradient("OnesLike", None)
register_gradient("Fill", lambda op, grad: [None, _reduce_sum_all(grad)])


def _reduce_sum_all(grad):
    from tensorkeep.ops import math_ops
    return math_ops.reduce_sum(grad)


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    with ops.name_scope(name, "zeros_like", [tensor]) as scope:
        tensor = ops.convert_to_tensor(tensor, name="tensor")
        if dtype is not None and dtypes.as_dtype(dtype) != tensor.dtype.base_dtype:
            return zeros(shape(tensor), dtype=dtype, name=scope)
        return apply_op("ZerosLike", x=tensor, name=scope)


def ones_like(tensor, dtype=None, name=None, optimize=True):
    with ops.name_scope(name, "ones_like", [tensor]) as scope:
        tensor = ops.convert_to_tensor(tensor, name="tensor")
        if dtype is not None and dtypes.as_dtype(dtype) != tensor.dtype.base_dtype:
            return ones(shape(tensor), dtype=dtype, name=scope)
        return apply_op("OnesLike", x=tensor, name=scope)


# --- Pack / Unpack -----------------------------------------------------------------------------------

def _pack_kernel(op, ctx):
    axis = op._attrs["axis"]
    return lambda *xs: np.stack(xs, axis=axis)


def _pack_shape(op):
    shape = tensor_shape.unknown_shape()
    for t in op._inputs:
        shape = shape.merge_with(t._shape_val)
    if shape.ndims is None:
        return [shape]
    dims = shape.as_list()
    axis = op._attrs["axis"]
    if axis < 0:
        axis += len(dims) + 1
    dims.insert(axis, op._attrs["N"])
    return [tensor_shape.TensorShape(dims)]


register_op("Pack", inputs=["values: N * T"], outputs=["output: T"],
            attrs=["N: int >= 1", "T: type", "axis: int = 0"],
            kernel=_pack_kernel, shape=_pack_shape)


def stack(values, axis=0, name="stack"):
    """tf.stack: packs a list of rank-R tensors into one rank-(R+1) tensor."""
    if not any(isinstance(v, ops.Tensor) or hasattr(v, "_as_graph_element") for v in values):
        try:
            value = np.stack([np.asarray(v) for v in values], axis=axis)
        except ValueError:
            value = None
        if value is not None and value.dtype.kind != "O":
            return ops.convert_to_tensor(value if value.dtype.kind != "f" else
                                         value.astype(np.float32), name=name)
    return apply_op("Pack", values=list(values), axis=axis, name=name)
