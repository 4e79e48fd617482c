"""Array ops: constants, placeholders, identity, shapes and reshaping, joining and splitting,
transposing and tiling, slicing (Slice, StridedSlice and `Tensor.__getitem__`), gathering and
scattering, padding, selection, and their gradients.

Each op: its schema (TensorFlow's OpDef spelling), kernel, shape function, builder, gradient.
Builders create the same nodes, with the same names, as TensorFlow's Python builders.
"""

import builtins
import collections
import numbers
import weakref

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework import tensor_util
from tensorkeep.framework.indexed_slices import IndexedSlices
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient
from tensorkeep.ops import _helpers
from tensorkeep.ops import math_ops

newaxis = None

_INDEX = "{int32, int64} = DT_INT32"


# --- shape-inference errors ------------------------------------------------------------------

def shape_error(op, message, computed_inputs=(), partial_shape_inputs=()):
    """A ValueError worded like TensorFlow's shape-inference errors: the message, the node with
    its attrs and inputs, the input shapes, the static values of `computed_inputs` and the
    shapes that `partial_shape_inputs` (shape tensors) denote."""
    attrs = ", ".join("%s=%s" % (key, _attr_summary(op._attrs[key]))
                      for key in sorted(op._attrs) if not key.startswith("_"))
    text = "%s for '{{node %s}} = %s[%s](%s)' with input shapes: %s" % (
        message, op.name, op.type, attrs, ", ".join(t._as_node_def_input() for t in op._inputs),
        ", ".join(_helpers._shape_str(t._shape_val) for t in op._inputs))
    known = []
    for index in computed_inputs:
        value = static_value(op._inputs[index])
        if value is not None:
            known.append("input[%d] = <%s>" % (index, " ".join(str(v) for v in np.ravel(value))))
    if known:
        text += " and with computed input tensors: " + ", ".join(known)
    if partial_shape_inputs:
        text += " and with input tensors computed as partial shapes: " + ", ".join(
            "input[%d] = %s" % (i, _helpers._shape_str(shape_from_tensor(op._inputs[i])))
            for i in partial_shape_inputs)
    return ValueError(text + ".")


def _attr_summary(value):
    from tensorkeep.io import protos

    if isinstance(value, dtypes.DType):
        return protos.DataType.Name(value.as_datatype_enum)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[%s]" % ", ".join(_attr_summary(v) for v in value)
    if isinstance(value, bytes):
        return '"%s"' % value.decode("utf-8", "replace")
    if isinstance(value, tensor_shape.TensorShape):
        return _helpers._shape_str(value)
    if type(value).__name__ == "TensorProto":
        return "Tensor<type: %s shape: %s>" % (
            protos.DataType.Name(value.dtype)[3:].lower(),
            _helpers._shape_str(tensor_shape.TensorShape(value.tensor_shape)))
    return str(value)


# --- static values for shape inference ------------------------------------------------------------
# Like TensorFlow's shape inference, shape functions see through small constant subgraphs: a
# tensor computed by stateless ops from constants (and from statically known shapes) has a
# static value, obtained by running the ops' kernels once.

_FOLD_LIMIT = 1000  # elements; larger values are not folded
_FOLD_DEPTH = 64
_UNFOLDABLE = frozenset(["Placeholder", "PlaceholderV2", "PlaceholderWithDefault", "Switch",
                         "RefSwitch", "Merge", "RefMerge", "Enter", "RefEnter", "Exit",
                         "RefExit", "NextIteration", "RefNextIteration", "LoopCond"])
_folded = weakref.WeakKeyDictionary()


def static_value(tensor, _depth=0):
    """The value of `tensor` when the graph determines it statically, else None."""
    value = tensor_util.constant_value(tensor)
    if value is not None or not isinstance(tensor, ops.Tensor):
        return value
    if tensor in _folded:
        return _folded[tensor]
    if _depth > _FOLD_DEPTH:
        return None
    _folded[tensor] = None
    value = _fold(tensor, _depth)
    _folded[tensor] = value
    return value


def _fold(tensor, depth):
    op = tensor.op
    schema = op._schema
    if schema is None or schema.kernel is None or schema.is_stateful or op.type in _UNFOLDABLE \
            or any(t.dtype.base_dtype in (dtypes.resource, dtypes.variant) for t in op._outputs):
        return None
    inputs = []
    for t in op._inputs:
        if t.dtype.is_ref_dtype:
            return None
        value = static_value(t, depth + 1)
        if value is None or np.size(value) > _FOLD_LIMIT:
            return None
        inputs.append(np.asarray(value))
    try:
        with np.errstate(all="ignore"):
            value = schema.kernel(op, None)(*inputs)
    except Exception:  # a kernel rejecting these inputs leaves the value unknown
        return None
    if len(op._outputs) > 1:
        value = value[tensor.value_index]
    value = np.asarray(value)
    return value if value.size <= _FOLD_LIMIT else None


def constant_input(op, index):
    """Input `index`'s static value, or None (for shape functions)."""
    return static_value(op._inputs[index])



def shape_from_tensor(tensor):
    """The TensorShape a 1-D shape tensor denotes, as far as it is static (-1 = unknown)."""
    value = static_value(tensor)
    if value is not None and np.ndim(value) == 1:
        return tensor_shape.TensorShape([None if d < 0 else int(d) for d in value.tolist()])
    return tensor_util.constant_value_as_shape(tensor)


def _rank_error(op, want, have, at_least=False):
    return shape_error(op, "Shape must be %srank %d but is rank %d"
                       % ("at least " if at_least else "", want, have))


# --- Const ---------------------------------------------------------------------------------------

def _const_kernel(op, ctx):
    attr = op._attrs["value"]
    declared = op._attrs["dtype"]
    if _is_proto(attr) and attr.dtype != declared.as_datatype_enum:
        from tensorkeep.framework import errors
        raise errors.InvalidArgumentError(
            None, op, "Type mismatch between value (%s) and dtype (%s) in Const node %s"
            % (dtypes.opdef_type_name(dtypes.as_dtype(attr.dtype)),
               dtypes.opdef_type_name(declared), op.name))
    value = tensor_util.const_op_array(op) if _is_proto(attr) else _helpers.readonly(attr)
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
register_gradient("Const", None)


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """tf.constant (TF1): a Const op holding `value`, broadcast to `shape` when given."""
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    decoded = tensor_util.constant_proto_and_value(value, dtype=dtype, shape=shape,
                                                   verify_shape=verify_shape)
    proto, array = decoded
    graph = ops.get_default_graph()
    dtype_value = dtypes.as_dtype(proto.dtype)
    if array is None:
        op = graph._create_op("Const", [], {"value": proto, "dtype": dtype_value}, name=name)
    else:  # its shape is the array's (what _const_shape would read from the proto)
        op = graph._create_op("Const", [], {"value": proto, "dtype": dtype_value}, name=name,
                              output_shapes=[tensor_shape.TensorShape(array.shape)])
        op._decoded_value = decoded  # (proto, array): what tensor_util.const_op_array decodes
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
    return constant(value.as_list(), dtype=dtype or dtypes.int32,
                    name=name or "shape_as_tensor")


def _dimension_conversion(value, dtype=None, name=None, as_ref=False):
    if value.value is None:
        raise ValueError("Cannot convert an unknown Dimension to a Tensor: %s" % value)
    return constant(value.value, dtype=dtype or dtypes.int32, name=name or "Const")


ops.register_tensor_conversion_function(tensor_shape.TensorShape, _shape_conversion, 90)
ops.register_tensor_conversion_function(tensor_shape.Dimension, _dimension_conversion, 90)


# --- lists holding tensors become Pack ops ("autopacking") ----------------------------------------

def _is_tensor_like(value):
    return isinstance(value, ops.Tensor) or (
        hasattr(value, "_as_graph_element") and isinstance(getattr(value, "dtype", None),
                                                           dtypes.DType))


def _nested_tensor_dtype(values):
    for item in values:
        if _is_tensor_like(item):
            return item.dtype.base_dtype
        if isinstance(item, (list, tuple)):
            found = _nested_tensor_dtype(item)
            if found is not None:
                return found
    return None


def _autopack(values, dtype, name):
    """Packs a (nested) list holding tensors; python elements become Consts named by position."""
    with ops.name_scope(name) as scope:
        elements = []
        must_pack = False
        for i, item in enumerate(values):
            if _is_tensor_like(item):
                item = ops.convert_to_tensor(item)
                must_pack = True
            elif isinstance(item, (list, tuple)):
                item = _autopack(item, dtype, str(i))
                must_pack = must_pack or isinstance(item, ops.Tensor)
            elements.append(item)
        if not must_pack:
            return elements
        elements = [item if isinstance(item, ops.Tensor) else
                    constant(item, dtype=dtype, name=str(i)) for i, item in enumerate(elements)]
        return apply_op("Pack", values=elements, name=scope)


def _cast_nested_tensors(values, dtype):
    return [_cast_nested_tensors(item, dtype) if isinstance(item, (list, tuple)) else
            math_ops.cast(item, dtype) if _is_tensor_like(item) else item for item in values]


def _autopacking_conversion(value, dtype=None, name=None, as_ref=False):
    if as_ref:
        return NotImplemented
    inferred = _nested_tensor_dtype(value)
    if inferred is None:
        return NotImplemented
    if dtype is None:
        dtype = inferred
    else:
        dtype = dtypes.as_dtype(dtype).base_dtype
        if dtype != inferred:
            value = _cast_nested_tensors(value, dtype)
    return _autopack(value, dtype, name or "packed")


ops.register_tensor_conversion_function((list, tuple), _autopacking_conversion, priority=99)


# --- IndexedSlices -> dense -----------------------------------------------------------------------

def _indexed_slices_to_tensor(value, dtype=None, name=None, as_ref=False):
    if dtype is not None and not dtypes.as_dtype(dtype).is_compatible_with(value.dtype):
        raise ValueError("Tensor conversion requested dtype %s for IndexedSlices with dtype %s"
                         % (dtypes.as_dtype(dtype).name, value.dtype.name))
    if value.dense_shape is None:
        raise ValueError("Tensor conversion requested for IndexedSlices without dense_shape: %s"
                         % (value,))
    return math_ops.unsorted_segment_sum(value.values, value.indices, value.dense_shape[0],
                                         name=name)


ops.register_tensor_conversion_function(IndexedSlices, _indexed_slices_to_tensor)


def _dense(grad):
    """A gradient as a dense Tensor (IndexedSlices are summed into place)."""
    if isinstance(grad, IndexedSlices):
        return _indexed_slices_to_tensor(grad)
    return grad


def _list_kernel(factory):
    """Kernel factories of ops with a list output: the executor hands a single output over as
    a value, not as a one-element list."""
    def single_output_aware(op, ctx):
        fn = factory(op, ctx)
        if len(op._outputs) == 1:
            return lambda *args: fn(*args)[0]
        return fn
    return single_output_aware


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
    # A literal default becomes the constant `<name>/input`, inside the op's name scope.
    return apply_op("PlaceholderWithDefault", input=input, shape=tensor_shape.as_shape(shape),
                    name=name)


register_op("PlaceholderV2", outputs=["output: dtype"], attrs=["dtype: type", "shape: shape"],
            kernel=_placeholder_kernel, shape=lambda op: [op._attrs["shape"]],
            deprecation=(23, "Placeholder now behaves the same as PlaceholderV2."))


# --- Identity and friends -------------------------------------------------------------------------

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
            kernel=_list_kernel(_identity_n_kernel),
            shape=lambda op: [t._shape_val for t in op._inputs])


def identity(input, name=None):  # noqa: A002
    if hasattr(input, "_as_graph_element") and not isinstance(input, ops.Tensor) and \
            hasattr(input, "value"):
        input = input.value()
    return apply_op("Identity", input=input, name=name)


def stop_gradient(input, name=None):  # noqa: A002
    return apply_op("StopGradient", input=input, name=name)


def _prevent_gradient_grad(op, grad):
    raise LookupError("Gradient explicitly disabled. Reason: %s"
                      % op._attrs["message"].decode("utf-8", "replace"))


register_gradient("Identity", lambda op, grad: [grad])
register_gradient("Snapshot", lambda op, grad: [grad])
register_gradient("IdentityN", lambda op, *grads: list(grads))
register_gradient("StopGradient", None)
register_gradient("PlaceholderWithDefault", lambda op, grad: [grad])
register_gradient("PreventGradient", _prevent_gradient_grad)


# --- Shape, Size, Rank ----------------------------------------------------------------------------
# The builders return a Const when the answer is statically known, as TensorFlow's do.

def _shape_kernel(op, ctx):
    out = op._attrs["out_type"].as_numpy
    return lambda x: np.array(np.shape(x), dtype=out)


def _shape_static(op):
    rank = op._inputs[0]._shape_val.ndims
    return [tensor_shape.TensorShape([rank])]


register_op("Shape", inputs=["input: T"], outputs=["output: out_type"],
            attrs=["T: type", "out_type: " + _INDEX],
            kernel=_shape_kernel, shape=_shape_static,
            output_full_types={"output": 'type_id: TFT_SHAPE_TENSOR '
                                         'args { type_id: TFT_VAR s: "out_type" }'})


def shape(input, name=None, out_type=None):  # noqa: A002
    return shape_internal(input, name, optimize=True,
                          out_type=dtypes.int32 if out_type is None else out_type)


def shape_internal(input, name=None, optimize=True, out_type=None):  # noqa: A002
    """The Shape op, or a Const when the shape is static (named `shape_as_tensor` inside the
    `Shape` scope when no out_type is given, as TensorFlow names it)."""
    with ops.name_scope(name, "Shape", [input]) as scope:
        input = ops.convert_to_tensor(input)
        if optimize and input.shape.is_fully_defined():
            if out_type is None:
                return _shape_conversion(input.shape)
            return constant(input.shape.as_list(), out_type, name=scope)
        return apply_op("Shape", input=input,
                        out_type=dtypes.int32 if out_type is None else out_type, name=scope)


def _shape_n_kernel(op, ctx):
    out = op._attrs["out_type"].as_numpy
    return lambda *xs: [np.array(np.shape(x), dtype=out) for x in xs]


register_op("ShapeN", inputs=["input: N * T"], outputs=["output: N * out_type"],
            attrs=["N: int >= 1", "T: type", "out_type: " + _INDEX],
            kernel=_list_kernel(_shape_n_kernel),
            shape=lambda op: [tensor_shape.TensorShape([t._shape_val.ndims]) for t in op._inputs])


def shape_n(input, out_type=dtypes.int32, name=None):  # noqa: A002
    return apply_op("ShapeN", input=list(input), out_type=out_type, name=name)[0]


def _size_kernel(op, ctx):
    out = op._attrs["out_type"].as_numpy
    return lambda x: np.array(np.size(x), dtype=out)


register_op("Size", inputs=["input: T"], outputs=["output: out_type"],
            attrs=["T: type", "out_type: " + _INDEX],
            kernel=_size_kernel, shape=_helpers.scalar_shape)


def size(input, name=None, out_type=dtypes.int32):  # noqa: A002
    return size_internal(input, name, optimize=True, out_type=out_type)


def size_internal(input, name=None, optimize=True, out_type=dtypes.int32):  # noqa: A002
    with ops.name_scope(name, "Size", [input]) as scope:
        input = ops.convert_to_tensor(input)
        static = input.shape
        if optimize:
            if static.is_fully_defined():
                return constant(static.num_elements(), out_type, name=scope)
            if static.ndims and any(d.value == 0 for d in static.dims):
                return constant(0, out_type, name=scope)
        return apply_op("Size", input=input, out_type=out_type, name=scope)


register_op("Rank", inputs=["input: T"], outputs=["output: int32"], attrs=["T: type"],
            compute=lambda x: np.array(np.ndim(x), dtype=np.int32), shape=_helpers.scalar_shape)


def rank(input, name=None):  # noqa: A002
    return rank_internal(input, name, optimize=True)


def rank_internal(input, name=None, optimize=True):  # noqa: A002
    with ops.name_scope(name, "Rank", [input]) as scope:
        input = ops.convert_to_tensor(input)
        if optimize and input.shape.ndims is not None:
            return constant(input.shape.ndims, dtypes.int32, name=scope)
        return apply_op("Rank", input=input, name=scope)


for _op_type in ("Shape", "ShapeN", "Size", "Rank"):
    register_gradient(_op_type, None)


# --- Reshape --------------------------------------------------------------------------------------

def _reshape_compute(x, new_shape):
    return np.reshape(x, [int(d) for d in new_shape])


def _reshape_shape(op):
    in_shape = op._inputs[0]._shape_val
    target = shape_from_tensor(op._inputs[1])
    if target.ndims is None:
        return [target]
    value = constant_input(op, 1)
    dims = target.as_list()
    if value is not None and -1 in value.ravel().tolist():
        if value.ravel().tolist().count(-1) > 1:
            raise shape_error(op, "Cannot infer multiple unknown dimensions in shape %s"
                              % _helpers._shape_str(tensor_shape.TensorShape(dims)))
    known_in = in_shape.num_elements()
    unknown = [i for i, d in enumerate(dims) if d is None]
    known_out = int(np.prod([d for d in dims if d is not None], dtype=np.int64))
    if known_in is not None:
        if not unknown and known_in != known_out:
            raise shape_error(op, "Cannot reshape a tensor with %d elements to shape %s (%d "
                              "elements)" % (known_in, _helpers._shape_str(target), known_out),
                              partial_shape_inputs=[1])
        if len(unknown) == 1:
            if known_out == 0 or known_in % known_out:
                if known_out or known_in:
                    raise shape_error(op, "Cannot reshape a tensor with %d elements to shape "
                                      "%s" % (known_in, _helpers._shape_str(target)),
                                      partial_shape_inputs=[1])
            else:
                dims[unknown[0]] = known_in // known_out
    return [tensor_shape.TensorShape(dims)]


register_op("Reshape", inputs=["tensor: T", "shape: Tshape"], outputs=["output: T"],
            attrs=["T: type", "Tshape: " + _INDEX],
            compute=_reshape_compute, shape=_reshape_shape)


def reshape(tensor, shape, name=None):  # noqa: A002
    return apply_op("Reshape", tensor=tensor, shape=shape, name=name)


def _reshape_grad(op, grad):
    input_shape = op._inputs[0].shape
    if input_shape.ndims is not None and not input_shape.is_fully_defined():
        dims = input_shape.as_list()
        undefined = [i for i, d in enumerate(dims) if d is None]
        # A single unknown dimension becomes -1, avoiding a data dependency on Shape.
        if len(undefined) == 1 and 0 not in dims:
            dims[undefined[0]] = -1
            return [reshape(_dense(grad), dims), None]
    return [reshape(_dense(grad), shape(op._inputs[0])), None]


register_gradient("Reshape", _reshape_grad)


def _reshape_to_input(op, grad):
    return reshape(_dense(grad), shape(op._inputs[0]))


# --- Fill / zeros / ones -------------------------------------------------------------------------

def _fill_shape(op):
    value_shape = op._inputs[1]._shape_val
    if value_shape.ndims not in (None, 0):
        raise _rank_error(op, 0, value_shape.ndims)
    return [shape_from_tensor(op._inputs[0])]


register_op("Fill", inputs=["dims: index_type", "value: T"], outputs=["output: T"],
            attrs=["T: type", "index_type: " + _INDEX],
            compute=lambda dims, value: np.full([int(d) for d in dims], value,
                                                dtype=np.asarray(value).dtype),
            shape=_fill_shape)


def fill(dims, value, name=None):
    return apply_op("Fill", dims=dims, value=value, name=name)


register_gradient("Fill", lambda op, grad: [None, math_ops.reduce_sum(grad)])


def _constant_if_small(value, shape, dtype, name):
    try:
        if np.prod(shape) < 1000:
            return constant(value, shape=shape, dtype=dtype, name=name)
    except (NotImplementedError, TypeError, ValueError):
        pass  # the shape holds tensors
    return None


def _filled(shape, dtype, name, fill_value, default_name):
    """tf.zeros / tf.ones: a Const when small and static, else Fill."""
    dtype = dtypes.as_dtype(dtype).base_dtype
    with ops.name_scope(name, default_name, [shape]) as scope:
        if dtype is dtypes.bool_:
            fill_value = bool(fill_value)
        elif dtype is dtypes.string and default_name == "zeros":
            fill_value = b""  # (ones of strings fail as in TensorFlow, after its shape tensor)
        if not isinstance(shape, ops.Tensor):
            # (A scalar shape fails as a Const's shape, as in TensorFlow: it gets a Fill.)
            if isinstance(shape, tensor_shape.TensorShape) and shape.is_fully_defined():
                shape = shape.as_list()
            output = _constant_if_small(fill_value, shape, dtype, scope)
            if output is not None:
                return output
            try:
                shape = _shape_conversion(tensor_shape.TensorShape(shape))
            except (TypeError, ValueError):
                shape = ops.convert_to_tensor(shape, dtype=dtypes.int32)
        if not shape.shape.ndims:
            shape = reshape(shape, [-1])
        return fill(shape, constant(fill_value, dtype=dtype), name=scope)


def zeros(shape, dtype=dtypes.float32, name=None):
    return _filled(shape, dtype, name, 0, "zeros")


def ones(shape, dtype=dtypes.float32, name=None):
    return _filled(shape, dtype, name, 1, "ones")


register_op("ZerosLike", inputs=["x: T"], outputs=["y: T"], attrs=["T: type"],
            compute=np.zeros_like, shape=_helpers.unchanged_shape)
register_op("OnesLike", inputs=["x: T"], outputs=["y: T"],
            attrs=["T: {bfloat16, half, float, double, int8, uint8, int16, uint16, int32, uint32, "
                   "int64, uint64, complex64, complex128, bool}"],
            compute=np.ones_like, shape=_helpers.unchanged_shape)
register_gradient("ZerosLike", None)
register_gradient("OnesLike", None)


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    """A Const of zeros when the shape is static, else ZerosLike (or zeros(Shape) for a dtype
    change), as TensorFlow builds it."""
    with ops.name_scope(name, "zeros_like", [tensor]) as scope:
        tensor = ops.convert_to_tensor(tensor, name="tensor")
        dtype = tensor.dtype.base_dtype if dtype is None else dtypes.as_dtype(dtype).base_dtype
        if optimize and tensor.shape.is_fully_defined() and tensor.dtype != dtypes.variant:
            return zeros(tensor.shape, dtype=dtype, name=scope)
        if dtype != tensor.dtype.base_dtype:
            return zeros(shape_internal(tensor, optimize=optimize), dtype=dtype, name=scope)
        return apply_op("ZerosLike", x=tensor, name=scope)


def ones_like(tensor, dtype=None, name=None, optimize=True):
    with ops.name_scope(name, "ones_like", [tensor]) as scope:
        tensor = ops.convert_to_tensor(tensor, name="tensor")
        ones_shape = shape_internal(tensor, optimize=optimize)
        result = ones(ones_shape, dtype=tensor.dtype if dtype is None else dtype, name=scope)
        result.set_shape(tensor.shape)
        return result


# --- Pack / Unpack --------------------------------------------------------------------------------

def _pack_kernel(op, ctx):
    axis = op._attrs["axis"]
    return lambda *xs: np.stack(xs, axis=axis)


def _pack_shape(op):
    merged = tensor_shape.unknown_shape()
    for i, t in enumerate(op._inputs):
        try:
            merged = merged.merge_with(t._shape_val)
        except ValueError:
            if merged.ndims != t._shape_val.ndims:
                raise shape_error(op, "Shapes must be equal rank, but are %d and %d\n\tFrom "
                                  "merging shape %d with other shapes."
                                  % (merged.ndims, t._shape_val.ndims, max(i - 1, 0)))
            raise shape_error(op, "Shapes %s and %s are not compatible\n\tFrom merging shape "
                              "%d with other shapes." % (merged, t._shape_val, max(i - 1, 0)))
    if merged.ndims is None:
        return [merged]
    dims = merged.as_list()
    axis = op._attrs["axis"]
    if not -len(dims) - 1 <= axis <= len(dims):
        raise shape_error(op, "Invalid axis: %d; must be in [%d,%d)"
                          % (axis, -len(dims) - 1, len(dims) + 1))
    if axis < 0:
        axis += len(dims) + 1
    dims.insert(axis, op._attrs["N"])
    return [tensor_shape.TensorShape(dims)]


register_op("Pack", inputs=["values: N * T"], outputs=["output: T"],
            attrs=["N: int >= 1", "T: type", "axis: int = 0"],
            kernel=_pack_kernel, shape=_pack_shape)


def stack(values, axis=0, name="stack"):
    """tf.stack: packs rank-R tensors into one rank-(R+1) tensor (a Const when all are python
    values and axis is 0)."""
    if axis == 0:
        try:
            return ops.convert_to_tensor(values, name=name)
        except (TypeError, ValueError, NotImplementedError):
            pass  # the list holds tensors that could not be packed as one constant
    value_shape = ops.convert_to_tensor(values[0], name=name).shape
    if value_shape.ndims is not None:
        expanded = value_shape.ndims + 1
        if axis < -expanded or axis >= expanded:
            raise ValueError("Argument `axis` = %d not in range [%d, %d)"
                             % (axis, -expanded, expanded))
    return apply_op("Pack", values=list(values), axis=axis, name=name)


def parallel_stack(values, name="parallel_stack"):
    return stack(values, name=name)


def _unpack_kernel(op, ctx):
    axis = op._attrs["axis"]
    num = op._attrs["num"]

    def run(x):
        if x.shape[axis] != num:
            raise ValueError("Input shape axis %d must equal %d, got shape %s"
                             % (axis % x.ndim, num, list(x.shape)))
        return [np.take(x, i, axis=axis) for i in range(num)]
    return run


def _unpack_shape(op):
    value_shape = op._inputs[0]._shape_val
    num = op._attrs["num"]
    if value_shape.ndims is None:
        return [tensor_shape.unknown_shape() for _ in range(num)]
    dims = value_shape.as_list()
    axis = op._attrs["axis"]
    if not -len(dims) <= axis < len(dims):
        raise shape_error(op, "Invalid axis: %d; must be in [%d,%d)" % (axis, -len(dims),
                                                                         len(dims)))
    axis %= len(dims)
    if dims[axis] is not None and dims[axis] != num:
        raise shape_error(op, "Dimension must be %d but is %d" % (num, dims[axis]))
    del dims[axis]
    return [tensor_shape.TensorShape(dims) for _ in range(num)]


register_op("Unpack", inputs=["value: T"], outputs=["output: num * T"],
            attrs=["num: int >= 0", "T: type", "axis: int = 0"],
            kernel=_list_kernel(_unpack_kernel), shape=_unpack_shape)


def unstack(value, num=None, axis=0, name="unstack"):
    if num is None:
        value = ops.convert_to_tensor(value)
        value_shape = value.shape
        if value_shape.ndims is not None:
            if axis < -value_shape.ndims or axis >= value_shape.ndims:
                raise ValueError("Argument `axis` = %d not in range [%d, %d)"
                                 % (axis, -value_shape.ndims, value_shape.ndims))
            num = value_shape[axis].value
        if num is None:
            raise ValueError("Cannot infer argument `num` from shape %s" % value_shape)
    return apply_op("Unpack", value=value, num=num, axis=axis, name=name)[0]


register_gradient("Pack", lambda op, grad: unstack(grad, num=op._attrs["N"],
                                                   axis=op._attrs["axis"]))
register_gradient("Unpack", lambda op, *grads: [stack(grads, axis=op._attrs["axis"])])


# --- ConcatV2 / Concat / ConcatOffset ------------------------------------------------------------

def _concat_arrays(values, axis):
    if values[0].ndim == 0:
        raise ValueError("ConcatOp : Can't concatenate scalars (use tf.stack instead)")
    return np.concatenate(values, axis=int(axis))


def _concat_shape(op, values, axis_index):
    axis = constant_input(op, axis_index)
    shapes = [t._shape_val for t in values]
    rank = next((s.ndims for s in shapes if s.ndims is not None), None)
    if rank is None:
        return [tensor_shape.unknown_shape()]
    for s in shapes:
        if s.ndims is not None and s.ndims != rank:
            raise _rank_error(op, rank, s.ndims)
    if axis is None:
        return [tensor_shape.unknown_shape(rank)]
    axis = int(axis)
    if not -rank <= axis < rank:
        raise shape_error(op, "ConcatOp : Expected concatenating dimensions in the range [%d, "
                          "%d), but got %d" % (-rank, rank, axis), [axis_index])
    axis %= rank
    known = [s.as_list() for s in shapes if s.ndims is not None]
    out = list(known[0])
    for dims in known[1:]:
        for part in (range(axis), range(axis + 1, rank)):
            for i in part:
                if out[i] is not None and dims[i] is not None and out[i] != dims[i]:
                    sub = builtins.slice(0, axis) if i < axis else builtins.slice(axis + 1, rank)
                    raise shape_error(
                        op, "Dimension %d in both shapes must be equal, but are %d and %d. Shapes "
                        "are %s and %s." % (i - sub.start, out[i], dims[i],
                                            _helpers._shape_str(tensor_shape.TensorShape(
                                                out[sub])),
                                            _helpers._shape_str(tensor_shape.TensorShape(
                                                dims[sub]))), [axis_index])
                if out[i] is None:
                    out[i] = dims[i]
    if len(known) < len(shapes) or any(d[axis] is None for d in known):
        out[axis] = None
    else:
        out[axis] = sum(d[axis] for d in known)
    return [tensor_shape.TensorShape(out)]


register_op("ConcatV2", inputs=["values: N * T", "axis: Tidx"], outputs=["output: T"],
            attrs=["N: int >= 2", "T: type", "Tidx: " + _INDEX],
            compute=lambda *args: _concat_arrays(args[:-1], args[-1]),
            shape=lambda op: _concat_shape(op, op._inputs[:-1], len(op._inputs) - 1))
register_op("Concat", inputs=["concat_dim: int32", "values: N * T"], outputs=["output: T"],
            attrs=["N: int >= 2", "T: type"],
            compute=lambda axis, *values: _concat_arrays(values, axis),
            shape=lambda op: _concat_shape(op, op._inputs[1:], 0))


def _concat_offset_kernel(op, ctx):
    out = op._attrs["shape_type"].as_numpy

    def run(concat_dim, *shapes):
        axis = int(concat_dim) % len(shapes[0])
        offsets = []
        position = 0
        for s in shapes:
            offset = np.zeros(len(s), dtype=out)
            offset[axis] = position
            position += int(s[axis])
            offsets.append(offset)
        return offsets
    return run


register_op("ConcatOffset", inputs=["concat_dim: int32", "shape: N * shape_type"],
            outputs=["offset: N * shape_type"],
            attrs=["N: int >= 2", "shape_type: " + _INDEX],
            kernel=_concat_offset_kernel,
            shape=lambda op: [t._shape_val for t in op._inputs[1:]])
register_gradient("ConcatOffset", None)


def concat(values, axis, name="concat"):
    if not isinstance(values, (list, tuple)):
        values = [values]
    if len(values) == 1:
        with ops.name_scope(name):
            ops.convert_to_tensor(axis, name="concat_dim",
                                  dtype=dtypes.int32).shape.assert_has_rank(0)
            # Inside the scope, so the Identity is named e.g. `concat/concat`.
            return identity(values[0], name=name)
    return apply_op("ConcatV2", values=list(values), axis=axis, name=name)


def _concat_grad(op, grad, values, concat_dim, dim_first):
    if isinstance(grad, IndexedSlices):
        grads = _concat_grad_indexed_slices(grad, values, concat_dim)
    else:
        if concat_dim.op.type == "Const":
            # A constant axis from another control-flow context (a concat inside a while loop
            # seen from its gradient loop) is cloned here rather than entered, as TensorFlow.
            from tensorkeep.ops.control_flow_ops import _output_context

            if _output_context(concat_dim.op) != _output_context(grad.op):
                concat_dim = constant(tensor_util.constant_value(concat_dim),
                                      dtype=concat_dim.dtype)
        non_neg_concat_dim = concat_dim % rank(values[0])
        sizes = _static_or_dynamic_shapes(values)
        grads = []
        if len(sizes) > 16:
            sizes = squeeze(slice(stack(sizes, axis=1), [non_neg_concat_dim, 0], [1, -1]))
            grads = split(grad, sizes, non_neg_concat_dim)
        else:
            offsets = apply_op("ConcatOffset", concat_dim=non_neg_concat_dim, shape=sizes)[0]
            for begin, size_ in zip(offsets, sizes):
                grads.append(slice(grad, begin, size_))
    return [None] + grads if dim_first else grads + [None]


def _static_or_dynamic_shapes(values):
    """Const shapes when every input's shape is static, else one ShapeN."""
    sizes = []
    for value in values:
        value_shape = shape(value)
        if value_shape.op.type != "Const":
            return shape_n(values)
        sizes.append(value_shape)
    return sizes


def _concat_grad_indexed_slices(grad, values, concat_dim):
    non_neg_concat_dim = concat_dim % rank(values[0])
    static_dim = tensor_util.constant_value(concat_dim)
    if static_dim is None:
        raise ValueError("Can only compute IndexedSlices gradient with statically-known "
                         "concat_dim")
    if static_dim < 0:
        static_rank = tensor_util.constant_value(rank(values[0]))
        if static_rank is None:
            raise ValueError("Can only compute IndexedSlices gradient with negative "
                             "concat_dim when first value rank is statically-known.")
        static_dim %= static_rank
    sizes = [shape(v) for v in values]
    grads = []
    if static_dim > 0:
        # Every input gets all the indices, with its own columns of the values.
        shape_of_shape = shape(sizes[0])
        mask = concat([zeros(expand_dims(non_neg_concat_dim, 0), dtype=dtypes.int32), [1],
                       zeros(shape_of_shape - non_neg_concat_dim - 1, dtype=dtypes.int32)], 0)
        begin = zeros(shape_of_shape, dtype=dtypes.int32)
        for size_ in sizes:
            new_values = slice(grad.values, begin, concat([[-1], slice(size_, [1], [-1])], 0))
            grads.append(IndexedSlices(new_values, grad.indices, size_))
            begin = math_ops.add(begin, size_ * mask)
    else:
        # Every input gets the rows whose indices fall in its range.
        start = constant(0, dtype=grad.indices.dtype)
        for size_ in sizes:
            size_concat_dim = gather(size_, non_neg_concat_dim)
            if size_concat_dim.dtype != grad.indices.dtype:
                size_concat_dim = math_ops.cast(size_concat_dim, dtype=grad.indices.dtype)
            end = start + size_concat_dim
            indices_to_select = squeeze(where(math_ops.logical_and(grad.indices >= start,
                                                                   grad.indices < end)),
                                        axis=[1])
            new_indices = gather(grad.indices, indices_to_select) - start
            new_values = gather(grad.values, indices_to_select)
            grads.append(IndexedSlices(new_values, new_indices, size_))
            start = end
    return grads


register_gradient("ConcatV2", lambda op, grad: _concat_grad(op, grad, op._inputs[:-1],
                                                            op._inputs[-1], dim_first=False))
register_gradient("Concat", lambda op, grad: _concat_grad(op, grad, op._inputs[1:],
                                                          op._inputs[0], dim_first=True))


# --- Split / SplitV -------------------------------------------------------------------------------

def _split_kernel(op, ctx):
    num = op._attrs["num_split"]

    def run(split_dim, value):
        axis = int(split_dim)
        if value.shape[axis] % num:
            raise ValueError("Number of ways to split should evenly divide the split dimension, "
                             "but got split_dim %d (size = %d) and num_split %d"
                             % (axis, value.shape[axis], num))
        return np.split(value, num, axis=axis)
    return run


def _split_shape(op):
    num = op._attrs["num_split"]
    value_shape = op._inputs[1]._shape_val
    axis = constant_input(op, 0)
    if value_shape.ndims is None:
        return [tensor_shape.unknown_shape() for _ in range(num)]
    if axis is None:
        return [tensor_shape.unknown_shape(value_shape.ndims) for _ in range(num)]
    rank_ = value_shape.ndims
    axis = int(axis)
    if not -rank_ <= axis < rank_:
        raise shape_error(op, "Dimension %d must be in range [%d, %d)" % (axis, -rank_, rank_),
                          [0])
    dims = value_shape.as_list()
    axis %= rank_
    if dims[axis] is not None:
        if dims[axis] % num:
            raise shape_error(op, "Dimension size must be evenly divisible by %d but is %d\n\t"
                              "Number of ways to split should evenly divide the split dimension"
                              % (num, dims[axis]), [0])
        dims[axis] //= num
    return [tensor_shape.TensorShape(dims) for _ in range(num)]


register_op("Split", inputs=["split_dim: int32", "value: T"], outputs=["output: num_split * T"],
            attrs=["num_split: int >= 1", "T: type"], kernel=_list_kernel(_split_kernel),
            shape=_split_shape)


def _resolved_split_sizes(sizes, total):
    sizes = [int(s) for s in np.ravel(sizes)]
    if sizes.count(-1) > 1:
        raise ValueError("Only one dimension can have a value of -1. Second one found at "
                         "dimension %d" % [i for i, s in enumerate(sizes) if s == -1][1])
    if -1 in sizes and total is not None:
        sizes[sizes.index(-1)] = total - (sum(sizes) + 1)
    return sizes


def _split_v_kernel(op, ctx):
    def run(value, size_splits, split_dim):
        axis = int(split_dim)
        sizes = _resolved_split_sizes(size_splits, value.shape[axis])
        if sum(sizes) != value.shape[axis] or min(sizes) < 0:
            raise ValueError("Determined shape must either match input shape along split_dim "
                             "exactly if fully specified, or be less than the size of the input "
                             "along split_dim if not fully specified.  Got: %d" % sum(sizes))
        return np.split(value, np.cumsum(sizes)[:-1], axis=axis)
    return run


def _split_v_shape(op):
    num = op._attrs["num_split"]
    value_shape = op._inputs[0]._shape_val
    axis = constant_input(op, 2)
    sizes = constant_input(op, 1)
    if value_shape.ndims is None or axis is None:
        return [tensor_shape.unknown_shape(value_shape.ndims) for _ in range(num)]
    dims = value_shape.as_list()
    axis = int(axis) % max(len(dims), 1)
    if sizes is None:
        return [tensor_shape.TensorShape(dims[:axis] + [None] + dims[axis + 1:])
                for _ in range(num)]
    if np.size(sizes) != num:
        raise shape_error(op, "Length of size_splits should be equal to num_split", [1, 2])
    try:
        resolved = _resolved_split_sizes(sizes, dims[axis])
    except ValueError as exc:
        raise shape_error(op, str(exc), [1, 2])
    if dims[axis] is not None and (sum(resolved) != dims[axis] or min(resolved) < 0):
        raise shape_error(op, "Determined shape must either match input shape along split_dim "
                          "exactly if fully specified, or be less than the size of the input "
                          "along split_dim if not fully specified.  Got: %d" % sum(resolved),
                          [1, 2])
    return [tensor_shape.TensorShape(dims[:axis] + [None if s < 0 else s] + dims[axis + 1:])
            for s in resolved]


register_op("SplitV", inputs=["value: T", "size_splits: Tlen", "split_dim: int32"],
            outputs=["output: num_split * T"],
            attrs=["num_split: int >= 1", "T: type", "Tlen: {int8, int32, int64} = DT_INT64"],
            kernel=_list_kernel(_split_v_kernel), shape=_split_v_shape)


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    if isinstance(num_or_size_splits, (numbers.Integral, tensor_shape.Dimension)):
        return apply_op("Split", split_dim=axis, num_split=int(num_or_size_splits), value=value,
                        name=name)[0]
    size_splits = ops.convert_to_tensor(num_or_size_splits)
    if size_splits.shape.ndims == 0:
        raise ValueError("Rank-0 tensors are not supported as the num_or_size_splits argument "
                         "to split. Argument provided: %s" % (num_or_size_splits,))
    if num is None:
        if size_splits.shape.ndims is not None:
            num = size_splits.shape[0].value
        if num is None:
            raise ValueError("Cannot infer argument `num` from shape %s" % (num_or_size_splits,))
    return apply_op("SplitV", value=value, size_splits=size_splits, split_dim=axis,
                    num_split=num, name=name)[0]


register_gradient("Split", lambda op, *grads: [None, concat(list(grads), op._inputs[0])])
register_gradient("SplitV", lambda op, *grads: [concat(list(grads), op._inputs[2]), None, None])


# --- Transpose / InvertPermutation ----------------------------------------------------------------

def _transpose_shape(op):
    in_shape = op._inputs[0]._shape_val
    perm = constant_input(op, 1)
    perm_shape = op._inputs[1]._shape_val
    rank_ = in_shape.ndims
    if rank_ is None and perm_shape.ndims == 1 and perm_shape[0].value is not None:
        rank_ = perm_shape[0].value
    if perm is None:
        return [tensor_shape.unknown_shape(rank_)]
    perm = [int(p) for p in np.ravel(perm)]
    if rank_ is None:
        rank_ = len(perm)
    if len(perm) != rank_:
        raise shape_error(op, "Dimension must be %d but is %d" % (rank_, len(perm)), [1])
    for p in perm:
        if not -rank_ <= p < rank_:
            raise shape_error(op, "perm dim %d is out of range of input rank %d" % (p, rank_), [1])
    if in_shape.ndims is None:
        return [tensor_shape.unknown_shape(rank_)]
    dims = in_shape.as_list()
    return [tensor_shape.TensorShape([dims[p] for p in perm])]


register_op("Transpose", inputs=["x: T", "perm: Tperm"], outputs=["y: T"],
            attrs=["T: type", "Tperm: " + _INDEX],
            compute=lambda x, perm: np.transpose(x, [int(p) for p in perm]),
            shape=_transpose_shape)


def _invert_permutation(x):
    x = np.asarray(x)
    if x.ndim != 1 or sorted(x.tolist()) != list(range(x.size)):
        raise ValueError("invert_permutation requires a permutation of 0..%d, got %s"
                         % (x.size - 1, x.tolist()))
    inverse = np.empty_like(x)
    inverse[x] = np.arange(x.size, dtype=x.dtype)
    return inverse


register_op("ConjugateTranspose", inputs=["x: T", "perm: Tperm"], outputs=["y: T"],
            attrs=["T: type", "Tperm: " + _INDEX],
            compute=lambda x, perm: np.conj(np.transpose(x, [int(p) for p in perm])),
            shape=_transpose_shape)


register_op("InvertPermutation", inputs=["x: T"], outputs=["y: T"],
            attrs=["T: {int32, int64} = DT_INT32"],
            compute=_invert_permutation, shape=_helpers.unchanged_shape)
register_gradient("InvertPermutation", None)


def invert_permutation(x, name=None):
    return apply_op("InvertPermutation", x=x, name=name)


def transpose(a, perm=None, name="transpose", conjugate=False):
    with ops.name_scope(name, "transpose", [a]) as scope:
        a = ops.convert_to_tensor(a, name="a")
        if perm is None:
            if a.shape.ndims is None:
                perm = math_ops.range(rank(a) - 1, -1, -1)
            else:
                perm = np.arange(a.shape.ndims - 1, -1, -1, dtype=np.int32)
        if conjugate and a.dtype.is_complex:
            return apply_op("ConjugateTranspose", x=a, perm=perm, name=scope)
        return apply_op("Transpose", x=a, perm=perm, name=scope)


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    with ops.name_scope(name, values=[a]):
        a = ops.convert_to_tensor(a, name="a")
        ndims = a.shape.ndims
        if ndims is None:
            a_rank = rank(a)
            # TensorFlow calls the generated Range op here (nodes `Range`, not `range`).
            perm = concat((apply_op("Range", start=0, limit=a_rank - 2, delta=1),
                           [a_rank - 1, a_rank - 2]), 0)
        else:
            if ndims < 2:
                raise ValueError("Argument `a` should be a (batch) matrix with rank >= 2.  "
                                 "Received `a` = %s with shape: %s" % (a, a.shape))
            perm = list(range(ndims - 2)) + [ndims - 1, ndims - 2]
        return transpose(a, perm=perm, conjugate=conjugate)


register_gradient("Transpose", lambda op, grad: [transpose(grad, invert_permutation(
    op._inputs[1])), None])
register_gradient("ConjugateTranspose", lambda op, grad: [transpose(
    grad, invert_permutation(op._inputs[1]), conjugate=True), None])


# --- ExpandDims / Squeeze -------------------------------------------------------------------------

def _expand_dims_compute(x, dim):
    axis = int(np.ravel(dim)[0])
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise ValueError("Tried to expand dim index %d for tensor with %d dimensions."
                         % (axis, x.ndim))
    return np.expand_dims(x, axis % (x.ndim + 1))


def _expand_dims_shape(op):
    in_shape = op._inputs[0]._shape_val
    dim = constant_input(op, 1)
    if in_shape.ndims is None:
        return [tensor_shape.unknown_shape()]
    if dim is None:
        return [tensor_shape.unknown_shape(in_shape.ndims + 1)]
    if np.size(dim) != 1:
        raise shape_error(op, "'dim' input must be a tensor with a single value", [1])
    axis = int(np.ravel(dim)[0])
    rank_ = in_shape.ndims
    if not -rank_ - 1 <= axis <= rank_:
        raise shape_error(op, "dim %d not in the interval [%d, %d]." % (axis, -rank_ - 1, rank_),
                          [1])
    dims = in_shape.as_list()
    dims.insert(axis % (rank_ + 1), 1)
    return [tensor_shape.TensorShape(dims)]


register_op("ExpandDims", inputs=["input: T", "dim: Tdim"], outputs=["output: T"],
            attrs=["T: type", "Tdim: " + _INDEX],
            compute=_expand_dims_compute, shape=_expand_dims_shape)


def expand_dims(input, axis=None, name=None, dim=None):  # noqa: A002
    if axis is None:
        axis = dim
    elif dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    return apply_op("ExpandDims", input=input, dim=axis, name=name)


register_gradient("ExpandDims", lambda op, grad: [_reshape_to_input(op, grad), None])


def _squeeze_kernel(op, ctx):
    wanted = op._attrs["squeeze_dims"]

    def run(x):
        if not wanted:
            return np.reshape(x, [d for d in x.shape if d != 1])
        axes = []
        for axis in wanted:
            if not -x.ndim <= axis < x.ndim:
                raise ValueError("Tried to squeeze dim index %d for tensor with %d dimensions."
                                 % (axis, x.ndim))
            axis %= x.ndim
            if x.shape[axis] != 1:
                raise ValueError("Can not squeeze dim[%d], expected a dimension of 1, got %d"
                                 % (axis, x.shape[axis]))
            axes.append(axis)
        return np.squeeze(x, axis=tuple(set(axes)))
    return run


def _squeeze_shape(op):
    in_shape = op._inputs[0]._shape_val
    wanted = op._attrs["squeeze_dims"]
    if in_shape.ndims is None:
        return [tensor_shape.unknown_shape()]
    dims = in_shape.as_list()
    rank_ = len(dims)
    axes = set()
    for axis in wanted:
        if not -rank_ <= axis < rank_:
            raise shape_error(op, "Tried to squeeze dim index %d for tensor with %d dimensions"
                              % (axis, rank_))
        axis %= rank_
        if dims[axis] is not None and dims[axis] != 1:
            raise shape_error(op, "Can not squeeze dim[%d], expected a dimension of 1, got %d"
                              % (axis, dims[axis]))
        axes.add(axis)
    if not wanted:
        if None in dims:
            return [tensor_shape.unknown_shape()]
        return [tensor_shape.TensorShape([d for d in dims if d != 1])]
    return [tensor_shape.TensorShape([d for i, d in enumerate(dims) if i not in axes])]


register_op("Squeeze", inputs=["input: T"], outputs=["output: T"],
            attrs=["T: type", "squeeze_dims: list(int) >= 0 = []"],
            kernel=_squeeze_kernel, shape=_squeeze_shape)


def squeeze(input, axis=None, name=None, squeeze_dims=None):  # noqa: A002
    if axis is None:
        axis = squeeze_dims
    elif squeeze_dims is not None:
        raise ValueError("Cannot specify both 'axis' and 'squeeze_dims'")
    if np.isscalar(axis):
        axis = [axis]
    return apply_op("Squeeze", input=input, squeeze_dims=list(axis or []), name=name)


register_gradient("Squeeze", lambda op, grad: [_reshape_to_input(op, grad)])


# --- Tile -----------------------------------------------------------------------------------------

def _tile_compute(x, multiples):
    multiples = [int(m) for m in np.ravel(multiples)]
    if len(multiples) != x.ndim:
        raise ValueError("Expected multiples argument to be a vector of length %d but got "
                         "length %d" % (x.ndim, len(multiples)))
    if any(m < 0 for m in multiples):
        raise ValueError("Expected multiples to be non-negative, got %s" % multiples)
    return np.tile(x, multiples) if x.ndim else x.copy()


def _tile_shape(op):
    in_shape = op._inputs[0]._shape_val
    multiples_shape = op._inputs[1]._shape_val
    multiples = constant_input(op, 1)
    if multiples_shape.ndims not in (None, 1):
        raise _rank_error(op, 1, multiples_shape.ndims)
    length = multiples_shape[0].value if multiples_shape.ndims == 1 else None
    if in_shape.ndims is not None and length is not None and in_shape.ndims != length:
        raise _rank_error(op, in_shape.ndims, length)
    rank_ = in_shape.ndims if in_shape.ndims is not None else length
    if rank_ is None:
        return [tensor_shape.unknown_shape()]
    dims = in_shape.as_list() if in_shape.ndims is not None else [None] * rank_
    if multiples is None:
        return [tensor_shape.TensorShape([0 if d == 0 else None for d in dims])]
    return [tensor_shape.TensorShape([None if d is None else d * int(m)
                                      for d, m in zip(dims, np.ravel(multiples))])]


register_op("Tile", inputs=["input: T", "multiples: Tmultiples"], outputs=["output: T"],
            attrs=["T: type", "Tmultiples: " + _INDEX],
            compute=_tile_compute, shape=_tile_shape)


def tile(input, multiples, name=None):  # noqa: A002
    return apply_op("Tile", input=input, multiples=multiples, name=name)


def _tile_grad(op, grad):
    input_shape = shape(op._inputs[0], out_type=op._inputs[1].dtype)
    # Interleave multiples and input dims ([m0, d0, m1, d1, ...]), reshape the gradient to it
    # and sum over the even (tiled) dimensions.
    split_shape = reshape(transpose(stack([op._inputs[1], input_shape])), [-1])
    axes = math_ops.range(0, size(split_shape), 2)
    if isinstance(grad, IndexedSlices):
        input_shape_0 = math_ops.cast(input_shape[0], grad.indices.dtype)
        grad = math_ops.unsorted_segment_sum(
            grad.values, math_ops.mod(grad.indices, input_shape_0), input_shape_0)
        split_shape = concat([[1], split_shape[1:]], axis=0)
    input_grad = math_ops.reduce_sum(reshape(grad, split_shape), axes)
    input_grad.set_shape(op._inputs[0].shape)
    return [input_grad, None]


register_gradient("Tile", _tile_grad)


# --- Slice ---------------------------------------------------------------------------------------

def _slice_compute(x, begin, size_):
    index = []
    for i, (b, s) in enumerate(zip(np.ravel(begin).tolist(), np.ravel(size_).tolist())):
        end = x.shape[i] if s == -1 else b + s
        if b < 0 or end > x.shape[i] or end < b:
            raise ValueError("Expected begin[%d] in [0, %d] and size[%d] in [0, %d], but got %d "
                             "and %d" % (i, x.shape[i], i, x.shape[i] - b, b, s))
        index.append(builtins.slice(b, end))
    if len(index) != x.ndim:
        raise ValueError("Expected begin and size arguments to be 1-D tensors of size %d, but "
                         "got shapes [%d] and [%d] instead." % (x.ndim, len(index), len(index)))
    return x[tuple(index)]


def _slice_shape(op):
    in_shape = op._inputs[0]._shape_val
    begin = constant_input(op, 1)
    size_ = constant_input(op, 2)
    size_shape = op._inputs[2]._shape_val
    rank_ = in_shape.ndims
    if rank_ is None and size_shape.ndims == 1:
        rank_ = size_shape[0].value
    if size_ is None:
        partial = shape_from_tensor(op._inputs[2])
        if partial.ndims is None:
            return [tensor_shape.unknown_shape(rank_)]
        return [tensor_shape.TensorShape([d if d is None or d >= 0 else None
                                          for d in partial.as_list()])]
    size_ = [int(s) for s in np.ravel(size_)]
    if rank_ is not None and len(size_) != rank_:
        raise shape_error(op, "Shape must be rank %d but is rank %d" % (len(size_), rank_), [1, 2])
    dims = in_shape.as_list() if in_shape.ndims is not None else [None] * len(size_)
    out = []
    for i, s in enumerate(size_):
        if s >= 0:
            if dims[i] is not None and begin is not None and int(np.ravel(begin)[i]) + s > dims[i]:
                raise shape_error(op, "Expected size[%d] in [0, %d], but got %d"
                                  % (i, dims[i] - int(np.ravel(begin)[i]), s), [1, 2])
            out.append(s)
        elif s == -1 and dims[i] is not None and begin is not None:
            out.append(dims[i] - int(np.ravel(begin)[i]))
        elif s == -1:
            out.append(None)
        else:
            raise shape_error(op, "Negative dimension size caused by subtracting %d from %d" % (
                -s, 0), [1, 2])
    return [tensor_shape.TensorShape(out)]


register_op("Slice", inputs=["input: T", "begin: Index", "size: Index"], outputs=["output: T"],
            attrs=["T: type", "Index: {int32, int64}"],
            compute=_slice_compute, shape=_slice_shape)


def slice(input_, begin, size, name=None):  # noqa: A001 (TF's name)
    return apply_op("Slice", input=input_, begin=begin, size=size, name=name)


def _slice_grad(op, grad):
    # Pad the gradient back to the input's shape: begin zeros before, the rest after.
    input_vec = op._inputs[0]
    begin_vec = op._inputs[1]
    input_rank = rank(input_vec)
    index_dtype = begin_vec.dtype
    slice_size = shape(op._outputs[0], out_type=index_dtype)
    pad_shape = stack([input_rank, 1])
    before_pad = reshape(begin_vec, pad_shape)
    after_pad = reshape(shape(input_vec, out_type=index_dtype) - slice_size - begin_vec, pad_shape)
    paddings = concat([before_pad, after_pad], 1)
    return [pad(grad, paddings), None, None]


register_gradient("Slice", _slice_grad)


# --- StridedSlice ---------------------------------------------------------------------------------
# A "sparse" spec (one entry per slice item, with ellipsis and new axes) is expanded to a "dense"
# spec (one entry per input dimension), then each dimension's range is made explicit and clamped
# like Python slices; shrunk dimensions must index inside the input.

_NEW_AXIS = -1
_SHRINK_AXIS = -2


class _DenseSlice:
    """The explicit per-input-dimension form of a strided slice."""

    def __init__(self):
        self.begin = []      # canonical begin per input dim (None: not static)
        self.end = []
        self.strides = []
        self.shrink = []
        self.sizes = []      # processing size per input dim (None: not static)
        self.final_gather = []  # per output dim: input dim index, or _NEW_AXIS

    @property
    def final_shape(self):
        return [1 if g == _NEW_AXIS else self.sizes[g] for g in self.final_gather
                if g != _SHRINK_AXIS]

    def index(self):
        """A NumPy basic index selecting the slice (shrunk dims as ints)."""
        index = []
        for b, e, s, shrink, n in zip(self.begin, self.end, self.strides, self.shrink,
                                      self.sizes):
            if shrink:
                index.append(b)
            elif n == 0:
                index.append(builtins.slice(0, 0))
            else:
                index.append(builtins.slice(b, None if e < 0 else e, s))
        return tuple(index)

    def view_shape(self):
        return [n for n, shrink in zip(self.sizes, self.shrink) if not shrink]


def _dense_slice(dims, begin, end, strides, begin_mask, end_mask, ellipsis_mask, new_axis_mask,
                 shrink_axis_mask):
    """Expands a strided-slice spec against input dims (None = unknown dim); begin/end may be None
    when not statically known. Raises ValueError with TensorFlow's messages."""
    n_sparse = len(strides)
    if ellipsis_mask & (ellipsis_mask - 1):
        raise ValueError("Multiple ellipses in slice spec not allowed")
    new_axes_after_ellipsis = 0
    ellipsis_seen = False
    for i in range(n_sparse):
        if ellipsis_seen and (new_axis_mask >> i) & 1:
            new_axes_after_ellipsis += 1
        if (ellipsis_mask >> i) & 1:
            ellipsis_seen = True
    if not ellipsis_seen:
        # An implicit ellipsis at the end covers the remaining dimensions.
        ellipsis_mask |= 1 << n_sparse
        n_sparse += 1
    rank_ = len(dims)
    dense = _DenseSlice()
    full_masks = []  # (begin masked, end masked) per dense dim
    for i in range(n_sparse):
        if (ellipsis_mask >> i) & 1:
            stop = min(rank_ - (n_sparse - i) + 1 + new_axes_after_ellipsis, rank_)
            while len(dense.strides) < stop:
                dense.final_gather.append(len(dense.strides))
                dense.begin.append(0)
                dense.end.append(0)
                dense.strides.append(1)
                dense.shrink.append(False)
                full_masks.append((True, True))
        elif (new_axis_mask >> i) & 1:
            dense.final_gather.append(_NEW_AXIS)
        else:
            if len(dense.strides) == rank_:
                raise ValueError("Index out of range using input dim %d; input has only %d dims"
                                 % (rank_, rank_))
            shrink = bool((shrink_axis_mask >> i) & 1)
            dense.final_gather.append(_SHRINK_AXIS if shrink else len(dense.strides))
            dense.begin.append(None if begin is None else int(begin[i]))
            dense.end.append(None if end is None else int(end[i]))
            dense.strides.append(int(strides[i]))
            dense.shrink.append(shrink)
            full_masks.append((bool((begin_mask >> i) & 1), bool((end_mask >> i) & 1)))
    for i, dim in enumerate(dims):
        stride = dense.strides[i]
        shrink = dense.shrink[i]
        begin_masked, end_masked = full_masks[i]
        if stride == 0:
            raise ValueError("strides[%d] must be non-zero" % i)
        if shrink and stride <= 0:
            raise ValueError("only stride 1 allowed on non-range indexing.")
        b, e = dense.begin[i], dense.end[i]
        if dim is None:
            dense.sizes.append(1 if shrink else None)
            continue
        known = (b is not None or begin_masked) and (e is not None or end_masked or shrink)
        if known:
            if shrink:
                b = b + dim if b < 0 else b
                if not 0 <= b < dim:
                    raise ValueError("slice index %d of dimension %d out of bounds." % (b, i))
                e = b + 1
            else:
                low, high = (0, dim) if stride > 0 else (-1, dim - 1)
                b = _canonical_bound(b, begin_masked, stride, dim, low, high, True)
                e = _canonical_bound(e, end_masked, stride, dim, low, high, False)
            dense.begin[i], dense.end[i] = b, e
            interval = e - b
        elif shrink:
            interval = 1
        else:
            dense.sizes.append(None)
            continue
        if interval == 0 or (interval < 0) != (stride < 0):
            dense.sizes.append(0)
        else:
            dense.sizes.append((abs(interval) + abs(stride) - 1) // abs(stride))
    return dense


def _canonical_bound(x, masked, stride, dim, low, high, is_begin):
    if masked:
        if is_begin:
            return low if stride > 0 else high
        return high if stride > 0 else low
    x = x + dim if x < 0 else x
    return min(max(x, low), high)


def _slice_attrs(op):
    return [op._attrs[k] for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                   "shrink_axis_mask")]


def _strided_slice_kernel(op, ctx):
    masks = _slice_attrs(op)

    def run(x, begin, end, strides):
        dense = _dense_slice(list(x.shape), np.ravel(begin), np.ravel(end), np.ravel(strides),
                             *masks)
        return np.reshape(x[dense.index()], dense.final_shape)
    return run


def _strided_slice_shape(op):
    in_shape = op._inputs[0]._shape_val
    strides = constant_input(op, 3)
    if in_shape.ndims is None or strides is None:
        return [tensor_shape.unknown_shape()]
    begin = constant_input(op, 1)
    end = constant_input(op, 2)
    try:
        dense = _dense_slice(in_shape.as_list(), None if begin is None else np.ravel(begin),
                             None if end is None else np.ravel(end), np.ravel(strides),
                             *_slice_attrs(op))
    except ValueError as exc:
        raise shape_error(op, str(exc), [1, 2, 3])
    return [tensor_shape.TensorShape(dense.final_shape)]


register_op("StridedSlice", inputs=["input: T", "begin: Index", "end: Index", "strides: Index"],
            outputs=["output: T"],
            attrs=["T: type", "Index: {int16, int32, int64}", "begin_mask: int = 0",
                   "end_mask: int = 0", "ellipsis_mask: int = 0", "new_axis_mask: int = 0",
                   "shrink_axis_mask: int = 0"],
            kernel=_strided_slice_kernel, shape=_strided_slice_shape)


def _strided_slice_grad_kernel(op, ctx):
    masks = _slice_attrs(op)
    dtype = op._attrs["T"].as_numpy

    def run(input_shape, begin, end, strides, dy):
        dims = [int(d) for d in np.ravel(input_shape)]
        dense = _dense_slice(dims, np.ravel(begin), np.ravel(end), np.ravel(strides), *masks)
        out = np.zeros(dims, dtype=dtype)
        out[dense.index()] = np.reshape(dy, dense.view_shape())
        return out
    return run


register_op("StridedSliceGrad",
            inputs=["shape: Index", "begin: Index", "end: Index", "strides: Index", "dy: T"],
            outputs=["output: T"],
            attrs=["T: type", "Index: {int32, int64}", "begin_mask: int = 0", "end_mask: int = 0",
                   "ellipsis_mask: int = 0", "new_axis_mask: int = 0",
                   "shrink_axis_mask: int = 0"],
            kernel=_strided_slice_grad_kernel,
            shape=lambda op: [shape_from_tensor(op._inputs[0])])


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None):
    if strides is None:
        strides = ones_like(begin)
    return apply_op("StridedSlice", input=input_, begin=begin, end=end, strides=strides,
                    begin_mask=begin_mask, end_mask=end_mask, ellipsis_mask=ellipsis_mask,
                    new_axis_mask=new_axis_mask, shrink_axis_mask=shrink_axis_mask, name=name)


def strided_slice_grad(shape, begin, end, strides, dy, begin_mask=0, end_mask=0,  # noqa: A002
                       ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=0, name=None):
    return apply_op("StridedSliceGrad", shape=shape, begin=begin, end=end, strides=strides, dy=dy,
                    begin_mask=begin_mask, end_mask=end_mask, ellipsis_mask=ellipsis_mask,
                    new_axis_mask=new_axis_mask, shrink_axis_mask=shrink_axis_mask, name=name)


def _strided_slice_grad(op, grad):
    begin, end, strides = op._inputs[1:4]
    x = shape(op._inputs[0], out_type=begin.dtype)
    # Statically known inputs are passed as (new) constants, as TensorFlow does.
    args = []
    for tensor in (x, begin, end, strides):
        value = tensor_util.constant_value(tensor)
        args.append(tensor if value is None else value)
    masks = dict(zip(("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                      "shrink_axis_mask"), _slice_attrs(op)))
    return [strided_slice_grad(*args, grad, **masks), None, None, None]


def _strided_slice_grad_grad(op, grad):
    masks = dict(zip(("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                      "shrink_axis_mask"), _slice_attrs(op)))
    return [None, None, None, None,
            strided_slice(grad, op._inputs[1], op._inputs[2], op._inputs[3], **masks)]


register_gradient("StridedSlice", _strided_slice_grad)
register_gradient("StridedSliceGrad", _strided_slice_grad_grad)


_SLICE_TYPE_ERROR = ("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and "
                     "scalar tf.int32/tf.int64 tensors are valid indices")
_SLICE_INDEX_DTYPES = (dtypes.int16, dtypes.int32, dtypes.int64)


def _check_index(index):
    if isinstance(index, (numbers.Integral, tensor_shape.Dimension)):
        return
    dtype = getattr(index, "dtype", None)
    if dtype is None or dtypes.as_dtype(dtype).base_dtype not in _SLICE_INDEX_DTYPES or (
            index.shape.ndims == 1):
        raise TypeError(_SLICE_TYPE_ERROR + ", got %r" % (index,))


def _index_value(index):
    return int(index) if isinstance(index, tensor_shape.Dimension) else index


def _slice_helper(tensor, slice_spec):
    """Tensor.__getitem__: builds one StridedSlice (named `strided_slice`, with its begin, end
    and strides stacked as `strided_slice/stack`, `stack_1`, `stack_2`) as TensorFlow does."""
    tensor = ops.convert_to_tensor(tensor)
    if isinstance(slice_spec, bool) or (
            isinstance(slice_spec, ops.Tensor) and slice_spec.dtype == dtypes.bool_) or (
            isinstance(slice_spec, np.ndarray) and slice_spec.dtype == bool):
        return boolean_mask(tensor=tensor, mask=slice_spec)
    if not isinstance(slice_spec, (list, tuple)):
        slice_spec = [slice_spec]
    begin, end, strides = [], [], []
    begin_mask = end_mask = ellipsis_mask = new_axis_mask = shrink_axis_mask = 0
    for index, item in enumerate(slice_spec):
        if isinstance(item, builtins.slice):
            dtype = None
            for part in (item.start, item.stop, item.step):
                if isinstance(part, ops.Tensor):
                    if part.dtype == dtypes.int64:
                        dtype = dtypes.int64
                    elif part.dtype == dtypes.int32 and dtype != dtypes.int64:
                        dtype = dtypes.int32
                    elif part.dtype == dtypes.int16 and dtype is None:
                        dtype = dtypes.int16
            for part, out, default, mask_name in ((item.start, begin, 0, "begin"),
                                                  (item.stop, end, 0, "end"),
                                                  (item.step, strides, 1, None)):
                if part is not None and not (isinstance(part, tensor_shape.Dimension)
                                             and part.value is None):
                    _check_index(part)
                    out.append(_index_value(part))
                else:
                    out.append(default if dtype is None else constant(default, dtype=dtype))
                    if mask_name == "begin":
                        begin_mask |= 1 << index
                    elif mask_name == "end":
                        end_mask |= 1 << index
        elif item is Ellipsis:
            begin.append(0)
            end.append(0)
            strides.append(1)
            ellipsis_mask |= 1 << index
        elif item is newaxis:
            begin.append(0)
            end.append(0)
            strides.append(1)
            new_axis_mask |= 1 << index
        else:
            _check_index(item)
            item = _index_value(item)
            begin.append(item)
            end.append(item + 1)
            if isinstance(item, ops.Tensor) and item.dtype in (dtypes.int16, dtypes.int64):
                strides.append(constant(1, dtype=item.dtype))
            else:
                strides.append(1)
            shrink_axis_mask |= 1 << index
    with ops.name_scope(None, "strided_slice", [tensor] + begin + end + strides) as name:
        if begin:
            packed = [stack(begin), stack(end), stack(strides)]
            dtypes_ = set(p.dtype for p in packed)
            if dtypes.int64 in dtypes_:
                packed = [math_ops.cast(p, dtypes.int64) for p in packed]
        else:
            empty = constant([], dtype=dtypes.int32)
            packed = [empty, empty, empty]
        return strided_slice(tensor, packed[0], packed[1], packed[2], begin_mask=begin_mask,
                             end_mask=end_mask, shrink_axis_mask=shrink_axis_mask,
                             new_axis_mask=new_axis_mask, ellipsis_mask=ellipsis_mask, name=name)


ops.Tensor.__getitem__ = _slice_helper


# --- Pad / PadV2 / MirrorPad -------------------------------------------------------------------

def _paddings_array(paddings, rank_):
    paddings = np.asarray(paddings)
    if paddings.shape != (rank_, 2):
        raise ValueError("The first dimension of paddings must be the rank of inputs[%d,2], "
                         "paddings shape %s" % (rank_, list(paddings.shape)))
    if np.any(paddings < 0):
        raise ValueError("Paddings must be non-negative: %s" % paddings.tolist())
    return [(int(a), int(b)) for a, b in paddings]


def _pad_compute(x, paddings, constant_values=None):
    pads = _paddings_array(paddings, x.ndim)
    if constant_values is None:
        constant_values = np.zeros((), dtype=x.dtype) if x.dtype != object else b""
    return np.pad(x, pads, mode="constant", constant_values=constant_values)


def _pad_shape(op):
    in_shape = op._inputs[0]._shape_val
    paddings_shape = op._inputs[1]._shape_val
    if paddings_shape.ndims not in (None, 2):
        raise _rank_error(op, 2, paddings_shape.ndims)
    rows = paddings_shape[0].value if paddings_shape.ndims == 2 else None
    if paddings_shape.ndims == 2 and paddings_shape[1].value not in (None, 2):
        raise shape_error(op, "Dimension must be 2 but is %d" % paddings_shape[1].value)
    if in_shape.ndims is not None and rows is not None and in_shape.ndims != rows:
        raise _rank_error(op, rows, in_shape.ndims)
    rank_ = in_shape.ndims if in_shape.ndims is not None else rows
    if rank_ is None:
        return [tensor_shape.unknown_shape()]
    paddings = constant_input(op, 1)
    dims = in_shape.as_list() if in_shape.ndims is not None else [None] * rank_
    if paddings is None:
        return [tensor_shape.unknown_shape(rank_)]
    paddings = np.reshape(paddings, (rank_, 2))
    if np.any(paddings < 0):
        raise shape_error(op, "Paddings must be non-negative", [1])
    return [tensor_shape.TensorShape([None if d is None else d + int(a) + int(b)
                                      for d, (a, b) in zip(dims, paddings)])]


register_op("Pad", inputs=["input: T", "paddings: Tpaddings"], outputs=["output: T"],
            attrs=["T: type", "Tpaddings: " + _INDEX], compute=_pad_compute, shape=_pad_shape)


def _pad_v2_shape(op):
    value_shape = op._inputs[2]._shape_val
    if value_shape.ndims not in (None, 0):
        raise _rank_error(op, 0, value_shape.ndims)
    return _pad_shape(op)


register_op("PadV2", inputs=["input: T", "paddings: Tpaddings", "constant_values: T"],
            outputs=["output: T"], attrs=["T: type", "Tpaddings: " + _INDEX],
            compute=_pad_compute, shape=_pad_v2_shape)

_MIRROR_MODES = {b"REFLECT": "reflect", b"SYMMETRIC": "symmetric"}


def _mirror_pad_kernel(op, ctx):
    mode = op._attrs["mode"]
    offset = 1 if mode == b"REFLECT" else 0

    def run(x, paddings):
        pads = _paddings_array(paddings, x.ndim)
        for dim, (a, b) in zip(x.shape, pads):
            if max(a, b) > dim - offset:
                raise ValueError("paddings must be no greater than the dimension size: %d, %d "
                                 "greater than %d" % (a, b, dim - offset))
        return np.pad(x, pads, mode=_MIRROR_MODES[mode])
    return run


def _mirror_pad_grad_kernel(op, ctx):
    offset = 1 if op._attrs["mode"] == b"REFLECT" else 0

    def run(grad, paddings):
        pads = _paddings_array(paddings, grad.ndim)
        out = grad
        # Fold each padded border back onto the values it mirrors, one axis at a time.
        for axis, (a, b) in enumerate(pads):
            out = np.moveaxis(out, axis, 0)
            core = np.array(out[a:out.shape[0] - b], copy=True)
            if a:
                core[offset:offset + a] += out[:a][::-1]
            if b:
                stop = core.shape[0] - offset
                core[stop - b:stop] += out[out.shape[0] - b:][::-1]
            out = np.moveaxis(core, 0, axis)
        return out
    return run


def _mirror_pad_shape(op):
    return _pad_shape(op)


def _mirror_pad_grad_shape(op):
    in_shape = op._inputs[0]._shape_val
    paddings = constant_input(op, 1)
    if in_shape.ndims is None or paddings is None:
        return [tensor_shape.unknown_shape(in_shape.ndims)]
    paddings = np.reshape(paddings, (in_shape.ndims, 2))
    return [tensor_shape.TensorShape([None if d is None else d - int(a) - int(b)
                                      for d, (a, b) in zip(in_shape.as_list(), paddings)])]


register_op("MirrorPad", inputs=["input: T", "paddings: Tpaddings"], outputs=["output: T"],
            attrs=["T: type", "Tpaddings: " + _INDEX, "mode: {'REFLECT', 'SYMMETRIC'}"],
            kernel=_mirror_pad_kernel, shape=_mirror_pad_shape)
register_op("MirrorPadGrad", inputs=["input: T", "paddings: Tpaddings"], outputs=["output: T"],
            attrs=["T: type", "Tpaddings: " + _INDEX, "mode: {'REFLECT', 'SYMMETRIC'}"],
            kernel=_mirror_pad_grad_kernel, shape=_mirror_pad_grad_shape)


def _paddings_constant(paddings):
    if isinstance(paddings, ops.Tensor):
        return tensor_util.constant_value(paddings)
    if isinstance(paddings, (list, tuple)):
        return [_paddings_constant(p) for p in paddings]
    return paddings


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    mode = mode.upper()
    if mode == "CONSTANT":
        if not isinstance(constant_values, ops.Tensor) and np.ndim(constant_values) == 0 and \
                constant_values == np.zeros_like(constant_values):
            result = apply_op("Pad", input=tensor, paddings=paddings, name=name)
        else:
            result = apply_op("PadV2", input=tensor, paddings=paddings,
                              constant_values=constant_values, name=name)
    elif mode in ("REFLECT", "SYMMETRIC"):
        result = apply_op("MirrorPad", input=tensor, paddings=paddings, mode=mode, name=name)
    else:
        raise ValueError("Value of argument `mode` expected to be one of \"CONSTANT\", "
                         "\"REFLECT\", or \"SYMMETRIC\". Received `mode` = %s" % mode)
    # Partially known paddings still give partially known output dims.
    paddings_constant = _paddings_constant(paddings)
    input_shape = result.op._inputs[0].shape
    if input_shape.ndims is not None and not result.shape.is_fully_defined() and \
            paddings_constant is not None:
        new_shape = []
        for padding, dim in zip(paddings_constant, input_shape.as_list()):
            if padding is None or dim is None or any(p is None for p in padding):
                new_shape.append(None)
            else:
                new_shape.append(int(sum(padding)) + dim)
        result.set_shape(new_shape)
    return result


def _pad_grad(op, grad):
    x = op._inputs[0]
    a = op._inputs[1]
    pad_before = slice(a, [0, 0], stack([rank(x), 1]))
    begin = reshape(pad_before, [-1])
    sizes = shape(x, out_type=begin.dtype)
    x_grad = slice(grad, begin, sizes)
    return [x_grad, None] + ([None] if len(op._inputs) == 3 else [])


register_gradient("Pad", _pad_grad)
register_gradient("PadV2", _pad_grad)
register_gradient("MirrorPad", lambda op, grad: [apply_op(
    "MirrorPadGrad", input=grad, paddings=op._inputs[1], mode=op._attrs["mode"]), None])
register_gradient("MirrorPadGrad", lambda op, grad: [apply_op(
    "MirrorPad", input=grad, paddings=op._inputs[1], mode=op._attrs["mode"]), None])


# --- Gather / GatherV2 / GatherNd / ScatterNd -----------------------------------------------------

def _check_indices(indices, limit, what="indices"):
    bad = (indices < 0) | (indices >= limit)
    if np.any(bad):
        position = np.argwhere(bad)[0]
        raise ValueError("%s[%s] = %d is not in [0, %d)" % (
            what, ",".join(str(p) for p in position), indices[tuple(position)], limit))


def _gather(params, indices, axis, batch_dims):
    axis = int(axis)
    if axis < 0:
        axis += params.ndim
    if batch_dims < 0:
        batch_dims += indices.ndim
    if not 0 <= axis < params.ndim:
        raise ValueError("Expected axis in the range [%d, %d), but got %d"
                         % (-params.ndim, params.ndim, axis))
    _check_indices(indices, params.shape[axis])
    if batch_dims == 0:
        return np.take(params, indices, axis=axis)
    out_shape = params.shape[:axis] + indices.shape[batch_dims:] + params.shape[axis + 1:]
    flat_params = params.reshape((-1,) + params.shape[batch_dims:])
    flat_indices = indices.reshape((-1,) + indices.shape[batch_dims:])
    if flat_params.shape[0] == 0:
        return np.zeros(out_shape, dtype=params.dtype)
    parts = [np.take(p, i, axis=axis - batch_dims) for p, i in zip(flat_params, flat_indices)]
    return np.stack(parts).reshape(out_shape)


def _gather_v2_kernel(op, ctx):
    batch_dims = op._attrs["batch_dims"]
    return lambda params, indices, axis: _gather(params, indices, axis, batch_dims)


def _gather_shape(op, axis, batch_dims):
    params_shape = op._inputs[0]._shape_val
    indices_shape = op._inputs[1]._shape_val
    if axis is None or params_shape.ndims is None or indices_shape.ndims is None:
        if params_shape.ndims is not None and indices_shape.ndims is not None:
            return [tensor_shape.unknown_shape(params_shape.ndims + indices_shape.ndims - 1 -
                                               (batch_dims % max(indices_shape.ndims, 1)
                                                if batch_dims < 0 else batch_dims))]
        return [tensor_shape.unknown_shape()]
    axis = int(axis)
    if axis < 0:
        if params_shape.ndims < -axis:
            raise shape_error(op, "Shape must be at least rank %d but is rank %d"
                              % (-axis, params_shape.ndims), [2])
        axis += params_shape.ndims
    elif params_shape.ndims < axis + 1:
        raise shape_error(op, "Shape must be at least rank %d but is rank %d"
                          % (axis + 1, params_shape.ndims), [2])
    if batch_dims < 0:
        batch_dims += indices_shape.ndims
    params_dims = params_shape.as_list()
    return [tensor_shape.TensorShape(params_dims[:axis] +
                                     indices_shape.as_list()[batch_dims:] +
                                     params_dims[axis + 1:])]


register_op("GatherV2", inputs=["params: Tparams", "indices: Tindices", "axis: Taxis"],
            outputs=["output: Tparams"],
            attrs=["batch_dims: int = 0", "Tparams: type", "Tindices: {int16, int32, int64}",
                   "Taxis: {int32, int64}"],
            kernel=_gather_v2_kernel,
            shape=lambda op: _gather_shape(op, constant_input(op, 2), op._attrs["batch_dims"]))
register_op("Gather", inputs=["params: Tparams", "indices: Tindices"],
            outputs=["output: Tparams"],
            attrs=["validate_indices: bool = true", "Tparams: type", "Tindices: {int32, int64}"],
            compute=lambda params, indices: _gather(params, indices, 0, 0),
            shape=lambda op: _gather_shape(op, 0, 0))


def _python_or_constant_value(value):
    """A python/NumPy value as is, a Tensor's statically known value, else None."""
    if isinstance(value, ops.Tensor):
        return tensor_util.constant_value(value)
    return value


def gather(params, indices, validate_indices=None, name=None, axis=None, batch_dims=0):
    if axis is None:
        axis = batch_dims
    if _python_or_constant_value(axis) != 0:
        return apply_op("GatherV2", params=params, indices=indices, axis=axis,
                        batch_dims=batch_dims, name=name)
    sparse_read = getattr(params, "sparse_read", None)
    if sparse_read is not None:
        return sparse_read(indices, name=name)
    return apply_op("GatherV2", params=params, indices=indices, axis=axis, name=name)


def _gather_grad(op, grad):
    params = op._inputs[0]
    with ops.colocate_with(params):
        params_shape = shape(params)
    indices = op._inputs[1]
    indices_size = expand_dims(size(indices), 0)
    values_shape = concat([indices_size, params_shape[1:]], 0)
    values = reshape(_dense(grad), values_shape)
    indices = reshape(indices, indices_size)
    return [IndexedSlices(values, indices, params_shape), None]


def _batch_indices(params_shape, indices, batch_dims):
    """Adds each batch's offset (in the flattened batch) to its indices."""
    batch_indices = indices
    indices_dtype = indices.dtype.base_dtype
    casted_params_shape = math_ops.cast(params_shape, indices_dtype)
    accum_dim_value = ones((), dtype=indices_dtype)
    for dim in range(batch_dims, 0, -1):
        dim_value = casted_params_shape[dim - 1]
        accum_dim_value *= casted_params_shape[dim]
        start = zeros((), dtype=indices_dtype)
        step = ones((), dtype=indices_dtype)
        dim_indices = math_ops.range(start, dim_value, step)
        dim_indices *= accum_dim_value
        dim_shape = concat([tile([1], [dim - 1]), [dim_value],
                            tile([1], [rank(indices) - dim])], axis=0)
        batch_indices += reshape(dim_indices, dim_shape)
    return batch_indices


def _batch_gather_grad(params_shape, values, indices, batch_dims, gather_dim_size):
    indices_size = expand_dims(size(indices), 0)
    if batch_dims:
        values_shape = shape(values)
        outer_shape = values_shape[:batch_dims]
        inner_shape = values_shape[batch_dims:][1:]
        batch_size = apply_op("Prod", input=outer_shape, reduction_indices=[0], keep_dims=False)
        flat_values_shape = concat([[-1], inner_shape], 0)
        gather_dim_size *= batch_size
        indices = _batch_indices(params_shape, indices, batch_dims)
        values = reshape(_dense(values), flat_values_shape)
    indices = reshape(indices, indices_size)
    params_grad = math_ops.unsorted_segment_sum(values, indices, gather_dim_size)
    if batch_dims:
        params_grad = reshape(params_grad, concat([outer_shape, flat_values_shape], 0))
    return params_grad


def _gather_v2_grad(op, grad):
    params = op._inputs[0]
    with ops.colocate_with(params):
        params_shape = shape(params)
    indices = op._inputs[1]
    indices_size = expand_dims(size(indices), 0)
    axis = op._inputs[2]
    axis_static = tensor_util.constant_value(axis)
    batch_dims = int(op._attrs["batch_dims"])
    if batch_dims < 0:
        if indices.shape.ndims is None:
            raise ValueError("Currently, it is unsupported to take the gradient of tf.gather "
                             "when batch_dims < 0 and the rank of the indices is unknown.")
        batch_dims += indices.shape.ndims
    if axis_static == 0:
        # Rows of the gradient go back to the gathered rows: an IndexedSlices.
        values_shape = concat([indices_size, params_shape[1:]], 0)
        values = reshape(_dense(grad), values_shape)
        indices = reshape(indices, indices_size)
        return [IndexedSlices(values, indices, params_shape), None, None]
    # Move the gathered axis right after the batch dims, sum the gradient into place there,
    # and move it back.
    outer_shape = params_shape[:axis]
    inner_shape = params_shape[axis:][1:]
    values_shape = concat([outer_shape, [-1], inner_shape], 0)
    values_dims = size(values_shape)
    axis_dims = size(outer_shape)
    outer_batches_indices = math_ops.range(batch_dims)
    batch_axis_indices = math_ops.range(batch_dims, axis_dims)
    inner_axes_indices = math_ops.range(axis_dims + 1, values_dims)
    values = reshape(_dense(grad), values_shape)
    transpose_dims = concat([outer_batches_indices, [axis_dims], batch_axis_indices,
                             inner_axes_indices], 0)
    values_transpose = transpose(values, transpose_dims)
    params_shape_transpose = gather(params_shape, transpose_dims)
    params_grad = _batch_gather_grad(params_shape_transpose, values_transpose, indices,
                                     batch_dims, params_shape[axis])
    invert_transpose_dims = concat([outer_batches_indices, batch_axis_indices + 1, [batch_dims],
                                    inner_axes_indices], 0)
    params_grad = transpose(params_grad, invert_transpose_dims)
    params_grad = reshape(params_grad, shape(params))
    return [params_grad, None, None]


register_gradient("Gather", _gather_grad)
register_gradient("GatherV2", _gather_v2_grad)


def _gather_nd(params, indices):
    depth = indices.shape[-1]
    if depth > params.ndim:
        raise ValueError("index innermost dimension length must be <= params rank; saw: %d vs. "
                         "%d" % (depth, params.ndim))
    out_shape = indices.shape[:-1] + params.shape[depth:]
    if depth == 0:
        return np.array(np.broadcast_to(params, out_shape))
    flat = indices.reshape(-1, depth)
    bad = np.any((flat < 0) | (flat >= np.array(params.shape[:depth])), axis=1)
    if np.any(bad):
        row = int(np.argmax(bad))
        raise ValueError("indices%s = [%s] does not index into param shape [%s], node name: "
                         "GatherNd" % (list(np.unravel_index(row, indices.shape[:-1])),
                                       ", ".join(str(v) for v in flat[row]),
                                       ",".join(str(d) for d in params.shape)))
    return params[tuple(flat.T)].reshape(out_shape)


def _gather_nd_shape(op):
    params_shape = op._inputs[0]._shape_val
    indices_shape = op._inputs[1]._shape_val
    if indices_shape.ndims is None or indices_shape[-1].value is None or \
            params_shape.ndims is None:
        return [tensor_shape.unknown_shape()]
    depth = indices_shape[-1].value
    if depth > params_shape.ndims:
        raise shape_error(op, "indices.shape[-1] must be <= params.rank, but saw indices shape: "
                          "%s and params shape: %s" % (_helpers._shape_str(indices_shape),
                                                       _helpers._shape_str(params_shape)))
    return [indices_shape[:-1].concatenate(params_shape[depth:])]


register_op("GatherNd", inputs=["params: Tparams", "indices: Tindices"],
            outputs=["output: Tparams"],
            attrs=["Tparams: type", "Tindices: {int16, int32, int64}",
                   "bad_indices_policy: string = ''"],
            compute=_gather_nd, shape=_gather_nd_shape)


def gather_nd(params, indices, name=None, batch_dims=0, bad_indices_policy=""):
    if batch_dims:
        raise NotImplementedError("tensorkeep's gather_nd supports batch_dims=0 only")
    return apply_op("GatherNd", params=params, indices=indices,
                    bad_indices_policy=bad_indices_policy, name=name)


def _gather_nd_grad(op, grad):
    ref = op._inputs[0]
    indices = op._inputs[1]
    ref_shape = shape(ref, out_type=indices.dtype)
    if indices.shape.ndims == 2 and indices.shape[-1].value == 1:
        return [IndexedSlices(grad, squeeze(indices, axis=-1), ref_shape), None]
    return [scatter_nd(indices, grad, ref_shape,
                       bad_indices_policy=op._attrs["bad_indices_policy"]), None]


register_gradient("GatherNd", _gather_nd_grad)


def _scatter_nd_kernel(op, ctx):
    dtype = op._attrs["T"].as_numpy

    def run(indices, updates, out_shape):
        out_shape = [int(d) for d in out_shape]
        depth = indices.shape[-1]
        flat = indices.reshape(-1, depth)
        bad = np.any((flat < 0) | (flat >= np.array(out_shape[:depth], dtype=np.int64)), axis=1)
        if np.any(bad):
            row = int(np.argmax(bad))
            raise ValueError("indices[%d] = [%s] does not index into shape [%s]" % (
                row, ", ".join(str(v) for v in flat[row]), ",".join(str(d) for d in out_shape)))
        out = np.zeros(out_shape, dtype=dtype)
        np.add.at(out, tuple(flat.T), updates.reshape((flat.shape[0],) +
                                                      tuple(out_shape[depth:])))
        return out
    return run


register_op("ScatterNd", inputs=["indices: Tindices", "updates: T", "shape: Tindices"],
            outputs=["output: T"],
            attrs=["T: type", "Tindices: {int16, int32, int64}",
                   "bad_indices_policy: string = ''"],
            kernel=_scatter_nd_kernel,
            shape=lambda op: [shape_from_tensor(op._inputs[2])])


def scatter_nd(indices, updates, shape, name=None, bad_indices_policy=""):  # noqa: A002
    return apply_op("ScatterNd", indices=indices, updates=updates, shape=shape,
                    bad_indices_policy=bad_indices_policy, name=name)


register_gradient("ScatterNd", lambda op, grad: [None, gather_nd(grad, op._inputs[0]), None])


# --- Where / tf.where ---------------------------------------------------------------------------

register_op("Where", inputs=["input: T"], outputs=["index: int64"],
            attrs=["T: {float, double, int32, uint8, int16, int8, complex64, int64, qint8, "
                   "quint8, qint32, bfloat16, qint16, quint16, uint16, complex128, half, uint32, "
                   "uint64, bool} = DT_BOOL"],
            compute=lambda x: np.argwhere(x).astype(np.int64),
            shape=lambda op: [tensor_shape.TensorShape([None, op._inputs[0]._shape_val.ndims])])
register_gradient("Where", None)


def where(condition, x=None, y=None, name=None):
    """TF1 tf.where: the coordinates of true elements, or Select(condition, x, y)."""
    if x is None and y is None:
        with ops.name_scope(name, "Where", [condition]) as scope:
            condition = ops.convert_to_tensor(condition, preferred_dtype=dtypes.bool_,
                                              name="condition")
            return apply_op("Where", input=condition, name=scope)
    if x is not None and y is not None:
        return apply_op("Select", condition=condition, t=x, e=y, name=name)
    raise ValueError("x and y must both be non-None or both be None.")


def where_v2(condition, x=None, y=None, name=None):
    if x is None and y is None:
        return where(condition, name=name)
    if x is not None and y is not None:
        return apply_op("SelectV2", condition=condition, t=x, e=y, name=name)
    raise ValueError("x and y must both be non-None or both be None.")


# --- OneHot ---------------------------------------------------------------------------------------

def _one_hot_kernel(op, ctx):
    axis = op._attrs["axis"]
    dtype = op._attrs["T"].as_numpy

    def run(indices, depth, on_value, off_value):
        depth = int(depth)
        if depth < 0:
            raise ValueError("depth must be non-negative, got: %d" % depth)
        mask = indices[..., np.newaxis] == np.arange(depth, dtype=indices.dtype)
        if axis != -1:
            mask = np.moveaxis(mask, -1, axis)
        return np.where(mask, on_value, off_value).astype(dtype)
    return run


def _one_hot_shape(op):
    indices_shape = op._inputs[0]._shape_val
    axis = op._attrs["axis"]
    if axis < -1:
        raise shape_error(op, "axis must be >= -1")
    depth = constant_input(op, 1)
    if indices_shape.ndims is None:
        return [tensor_shape.unknown_shape()]
    dims = indices_shape.as_list()
    if axis > len(dims):
        raise shape_error(op, "Expected axis to be -1 or between [0, %d).  But received: %d"
                          % (len(dims) + 1, axis))
    dims.insert(len(dims) if axis == -1 else axis, None if depth is None else int(depth))
    return [tensor_shape.TensorShape(dims)]


register_op("OneHot", inputs=["indices: TI", "depth: int32", "on_value: T", "off_value: T"],
            outputs=["output: T"],
            attrs=["axis: int = -1", "T: type", "TI: {uint8, int8, int32, int64} = DT_INT64"],
            kernel=_one_hot_kernel, shape=_one_hot_shape)
register_gradient("OneHot", None)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    with ops.name_scope(name, "one_hot", [indices, depth, on_value, off_value, axis,
                                          dtype]) as scope:
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype).base_dtype
        on_exists = on_value is not None
        off_exists = off_value is not None
        if on_exists:
            on_value = ops.convert_to_tensor(on_value, dtype_hint=dtype)
        if off_exists:
            off_value = ops.convert_to_tensor(off_value, dtype_hint=dtype)
        on_dtype = on_value.dtype.base_dtype if on_exists else None
        off_dtype = off_value.dtype.base_dtype if off_exists else None
        if on_exists or off_exists:
            if dtype is not None:
                if on_exists and on_dtype != dtype:
                    raise TypeError("dtype {0} of on_value does not match dtype parameter {1}"
                                    .format(on_dtype, dtype))
                if off_exists and off_dtype != dtype:
                    raise TypeError("dtype {0} of off_value does not match dtype parameter {1}"
                                    .format(off_dtype, dtype))
            else:
                dtype = on_dtype if on_exists else off_dtype
        elif dtype is None:
            dtype = dtypes.float32
        if not on_exists:
            on_value = ops.convert_to_tensor(1, dtype, name="on_value")
            on_dtype = dtype
        if not off_exists:
            off_value = ops.convert_to_tensor(0, dtype, name="off_value")
            off_dtype = dtype
        if on_dtype != off_dtype:
            raise TypeError("dtype {0} of on_value does not match dtype {1} of off_value"
                            .format(on_dtype, off_dtype))
        return apply_op("OneHot", indices=indices, depth=depth, on_value=on_value,
                        off_value=off_value, axis=axis, name=scope)


# --- Reverse / ReverseV2 ------------------------------------------------------------------------

_REVERSE_TYPES = ("{uint8, int8, uint16, int16, uint32, int32, uint64, int64, bool, bfloat16, "
                  "half, float, double, complex64, complex128, string}")


def _reverse_v2_compute(x, axis):
    axes = [int(a) for a in np.ravel(axis)]
    for a in axes:
        if not -x.ndim <= a < x.ndim:
            raise ValueError("'axis'[%d] = %d is out of valid range [0, %d)"
                             % (axes.index(a), a, x.ndim))
    if len(set(a % x.ndim for a in axes)) != len(axes):
        raise ValueError("axis %s specified more than once." % axes)
    return np.flip(x, axis=tuple(a % x.ndim for a in axes)) if axes else x


def _reverse_compute(x, dims):
    dims = np.ravel(dims)
    if dims.size != x.ndim:
        raise ValueError("'dims' must have the same number of values as 'input' has "
                         "dimensions. 'input' has %d'dims' has %d values" % (x.ndim, dims.size))
    return np.flip(x, axis=tuple(np.flatnonzero(dims))) if dims.any() else x


register_op("Reverse", inputs=["tensor: T", "dims: bool"], outputs=["output: T"],
            attrs=["T: " + _REVERSE_TYPES], compute=_reverse_compute,
            shape=_helpers.unchanged_shape)
register_op("ReverseV2", inputs=["tensor: T", "axis: Tidx"], outputs=["output: T"],
            attrs=["Tidx: " + _INDEX,
                   "T: {uint8, int8, uint16, int16, int32, uint32, int64, uint64, bool, "
                   "bfloat16, half, float, double, complex64, complex128, string}"],
            compute=_reverse_v2_compute, shape=_helpers.unchanged_shape)


def reverse(tensor, axis, name=None):
    return apply_op("ReverseV2", tensor=tensor, axis=axis, name=name)


reverse_v2 = reverse

register_gradient("Reverse", lambda op, grad: [apply_op("Reverse", tensor=grad,
                                                        dims=op._inputs[1]), None])
register_gradient("ReverseV2", lambda op, grad: [reverse(grad, op._inputs[1]), None])


# --- BroadcastTo / BroadcastArgs / BroadcastGradientArgs ------------------------------------------

def _shape_text(dims):
    return "[%s]" % ",".join(str(int(d)) for d in dims)


def _broadcast_shapes(s0, s1):
    try:
        return np.broadcast_shapes(tuple(int(d) for d in s0), tuple(int(d) for d in s1))
    except ValueError:
        raise ValueError("Incompatible shapes: %s vs. %s" % (_shape_text(s0), _shape_text(s1)))


def _broadcast_to_compute(x, target):
    target = tuple(int(d) for d in target)
    try:
        return np.array(np.broadcast_to(x, target))
    except ValueError:
        raise ValueError("Unable to broadcast tensor of shape %s to tensor of shape %s"
                         % (_shape_text(x.shape), _shape_text(target)))


def _broadcast_to_shape(op):
    target = shape_from_tensor(op._inputs[1])
    in_shape = op._inputs[0]._shape_val
    if target.ndims is None or in_shape.ndims is None:
        return [target]
    if in_shape.ndims > target.ndims:
        raise shape_error(op, "Rank of input (%d) must be no greater than rank of output shape "
                          "(%d)." % (in_shape.ndims, target.ndims))
    dims = target.as_list()
    offset = len(dims) - in_shape.ndims
    for i, d in enumerate(in_shape.as_list()):
        out = dims[offset + i]
        if d is not None and out is not None and d != 1 and d != out:
            raise shape_error(op, "Dimensions must be equal, but are %d and %d" % (out, d), [1])
    return [target]


register_op("BroadcastTo", inputs=["input: T", "shape: Tidx"], outputs=["output: T"],
            attrs=["T: type", "Tidx: " + _INDEX],
            compute=_broadcast_to_compute, shape=_broadcast_to_shape)


def broadcast_to(input, shape, name=None):  # noqa: A002
    return apply_op("BroadcastTo", input=input, shape=shape, name=name)


def _broadcast_to_grad(op, grad):
    input_value = op._inputs[0]
    broadcast_shape = op._inputs[1]
    shape_dtype = broadcast_shape.dtype
    input_value_shape = shape(input_value, out_type=shape_dtype)
    static = static_value(broadcast_shape)
    if static is not None:
        broadcast_shape = constant(static.tolist(), dtype=shape_dtype)
    _, reduction_axes = broadcast_gradient_args(broadcast_shape, input_value_shape)
    summed = math_ops.reduce_sum(grad, axis=reduction_axes, keepdims=True)
    return [reshape(summed, input_value_shape), None]


register_gradient("BroadcastTo", _broadcast_to_grad)


def _broadcast_args_kernel(op, ctx):
    dtype = op._attrs["T"].as_numpy
    return lambda s0, s1: np.array(_broadcast_shapes(s0, s1), dtype=dtype)


def _broadcast_args_shape(op):
    lengths = [t._shape_val[0].value if t._shape_val.ndims == 1 else None for t in op._inputs]
    return [tensor_shape.TensorShape([None if None in lengths else max(lengths)])]


register_op("BroadcastArgs", inputs=["s0: T", "s1: T"], outputs=["r0: T"],
            attrs=["T: " + _INDEX], kernel=_broadcast_args_kernel, shape=_broadcast_args_shape)


def _broadcast_gradient_args_kernel(op, ctx):
    dtype = op._attrs["T"].as_numpy

    def run(s0, s1):
        s0 = [int(d) for d in s0]
        s1 = [int(d) for d in s1]
        _broadcast_shapes(s0, s1)
        if s0 == s1:
            return [np.zeros(0, dtype=dtype), np.zeros(0, dtype=dtype)]
        n = max(len(s0), len(s1))
        x = [1] * (n - len(s0)) + s0
        y = [1] * (n - len(s1)) + s1
        # An axis is reduced for an input whose dim is 1 there (both when both are 1).
        r0 = [i for i in range(n) if x[i] == 1 and (y[i] != 1 or y[i] == x[i])]
        r1 = [i for i in range(n) if y[i] == 1 and (x[i] != 1 or y[i] == x[i])]
        return [np.array(r0, dtype=dtype), np.array(r1, dtype=dtype)]
    return run


register_op("BroadcastGradientArgs", inputs=["s0: T", "s1: T"], outputs=["r0: T", "r1: T"],
            attrs=["T: " + _INDEX], kernel=_broadcast_gradient_args_kernel,
            shape=lambda op: [tensor_shape.TensorShape([None]), tensor_shape.TensorShape([None])])
register_gradient("BroadcastGradientArgs", None)
register_gradient("BroadcastArgs", None)


def broadcast_dynamic_shape(shape_x, shape_y):
    return apply_op("BroadcastArgs", s0=shape_x, s1=shape_y)


def broadcast_static_shape(shape_x, shape_y):
    return _helpers.broadcast_static_shapes(tensor_shape.as_shape(shape_x),
                                            tensor_shape.as_shape(shape_y))


def broadcast_gradient_args(s0, s1, name=None):
    return apply_op("BroadcastGradientArgs", s0=s0, s1=s1, name=name)


# --- Unique / ListDiff --------------------------------------------------------------------------

def _unique_kernel(op, ctx):
    out_idx = op._attrs["out_idx"].as_numpy

    def run(x):
        if x.ndim != 1:
            raise ValueError("unique expects a 1D vector.")
        if x.size == 0:
            return [x.copy(), np.zeros(0, dtype=out_idx)]
        _, first, inverse = np.unique(x, return_index=True, return_inverse=True)
        # TensorFlow orders the unique values by first occurrence.
        order = np.argsort(first, kind="stable")
        position = np.empty_like(order)
        position[order] = np.arange(order.size)
        return [x[first[order]], position[np.ravel(inverse)].astype(out_idx)]
    return run


register_op("Unique", inputs=["x: T"], outputs=["y: T", "idx: out_idx"],
            attrs=["T: type", "out_idx: " + _INDEX], kernel=_unique_kernel,
            shape=lambda op: [tensor_shape.TensorShape([None]), op._inputs[0]._shape_val])
register_gradient("Unique", None)


_UniqueOutput = collections.namedtuple("Unique", ["y", "idx"])
_ListDiffOutput = collections.namedtuple("ListDiff", ["out", "idx"])


def unique(x, out_idx=dtypes.int32, name=None):
    return _UniqueOutput(*apply_op("Unique", x=x, out_idx=out_idx, name=name))


def _list_diff_kernel(op, ctx):
    out_idx = op._attrs["out_idx"].as_numpy

    def run(x, y):
        keep = ~np.isin(x, y)
        return [x[keep], np.flatnonzero(keep).astype(out_idx)]
    return run


register_op("ListDiff", inputs=["x: T", "y: T"], outputs=["out: T", "idx: out_idx"],
            attrs=["T: type", "out_idx: " + _INDEX], kernel=_list_diff_kernel,
            shape=lambda op: [tensor_shape.TensorShape([None]), tensor_shape.TensorShape([None])])
register_gradient("ListDiff", None)


def setdiff1d(x, y, index_dtype=dtypes.int32, name=None):
    return _ListDiffOutput(*apply_op("ListDiff", x=x, y=y, out_idx=index_dtype, name=name))


# --- DynamicStitch / DynamicPartition -------------------------------------------------------------

def _dynamic_stitch(*args):
    n = len(args) // 2
    indices, data = args[:n], args[n:]
    first_rows = 1 + max((int(i.max()) for i in indices if i.size), default=-1)
    slice_shape = data[0].shape[indices[0].ndim:]
    out = np.zeros((first_rows,) + slice_shape, dtype=data[0].dtype)
    for idx, values in zip(indices, data):
        if values.shape[:idx.ndim] != idx.shape:
            raise ValueError("data[i].shape = %s does not start with indices[i].shape = %s"
                             % (_shape_text(values.shape), _shape_text(idx.shape)))
        out[idx.ravel()] = values.reshape((-1,) + slice_shape)
    return out


def _dynamic_stitch_shape(op):
    n = op._attrs["N"]
    indices, data = op._inputs[:n], op._inputs[n:]
    values = [static_value(t) for t in indices]
    rows = None
    if all(v is not None for v in values):
        rows = 1 + max((int(np.max(v)) for v in values if np.size(v)), default=-1)
    index_rank = indices[0]._shape_val.ndims
    data_shape = data[0]._shape_val
    if index_rank is None or data_shape.ndims is None:
        return [tensor_shape.unknown_shape()]
    return [tensor_shape.TensorShape([rows]).concatenate(data_shape[index_rank:])]


for _op_type in ("DynamicStitch", "ParallelDynamicStitch"):
    register_op(_op_type, inputs=["indices: N * int32", "data: N * T"], outputs=["merged: T"],
                attrs=["N: int >= 1", "T: type"], compute=_dynamic_stitch,
                shape=_dynamic_stitch_shape)


def dynamic_stitch(indices, data, name=None):
    return apply_op("DynamicStitch", indices=list(indices), data=list(data), name=name)


def parallel_dynamic_stitch(indices, data, name=None):
    return apply_op("ParallelDynamicStitch", indices=list(indices), data=list(data), name=name)


def _dynamic_stitch_grad(op, grad):
    num_values = len(op._inputs) // 2
    if isinstance(grad, IndexedSlices):
        output_rows = shape(op._outputs[0])[0]
        grad = math_ops.unsorted_segment_sum(grad.values, grad.indices, output_rows)
    return [None] * num_values + [gather(grad, op._inputs[i]) for i in range(num_values)]


register_gradient("DynamicStitch", _dynamic_stitch_grad)
register_gradient("ParallelDynamicStitch", _dynamic_stitch_grad)


def _dynamic_partition_kernel(op, ctx):
    num = op._attrs["num_partitions"]

    def run(data, partitions):
        if data.shape[:partitions.ndim] != partitions.shape:
            raise ValueError("data.shape must start with partitions.shape, got data.shape = %s, "
                             "partitions.shape = %s" % (_shape_text(data.shape),
                                                        _shape_text(partitions.shape)))
        _check_indices(partitions, num, what="partitions")
        return [data[partitions == i] for i in range(num)]
    return run


def _dynamic_partition_shape(op):
    data_shape = op._inputs[0]._shape_val
    partitions_rank = op._inputs[1]._shape_val.ndims
    num = op._attrs["num_partitions"]
    if data_shape.ndims is None or partitions_rank is None:
        return [tensor_shape.unknown_shape() for _ in range(num)]
    return [tensor_shape.TensorShape([None]).concatenate(data_shape[partitions_rank:])
            for _ in range(num)]


register_op("DynamicPartition", inputs=["data: T", "partitions: int32"],
            outputs=["outputs: num_partitions * T"],
            attrs=["num_partitions: int >= 1", "T: type"],
            kernel=_list_kernel(_dynamic_partition_kernel), shape=_dynamic_partition_shape)


def dynamic_partition(data, partitions, num_partitions, name=None):
    return apply_op("DynamicPartition", data=data, partitions=partitions,
                    num_partitions=num_partitions, name=name)[0]


def _dynamic_partition_grad(op, *grads):
    data = op._inputs[0]
    indices = op._inputs[1]
    num_partitions = op._attrs["num_partitions"]
    prefix_shape = shape(indices)
    original_indices = reshape(math_ops.range(math_ops.reduce_prod(prefix_shape)), prefix_shape)
    partitioned_indices = dynamic_partition(original_indices, indices, num_partitions)
    reconstructed = parallel_dynamic_stitch(partitioned_indices, grads)
    return [reshape(reconstructed, shape(data)), None]


register_gradient("DynamicPartition", _dynamic_partition_grad)


# --- SparseToDense / Bitcast ----------------------------------------------------------------------

def _validate_sparse_indices(indices, dense_shape):
    """TensorFlow's checks of SparseTensor indices: in bounds, strictly increasing."""
    def text(row):
        return "[" + ",".join(str(int(x)) for x in row) + "]"
    bounds = np.array(dense_shape, dtype=np.int64)
    out_of_bounds = np.flatnonzero(np.any((indices < 0) | (indices >= bounds), axis=1))
    first_bad = int(out_of_bounds[0]) if len(out_of_bounds) else len(indices)
    # TensorFlow checks each index's bounds, then its order after the previous one.
    flat = np.ravel_multi_index(tuple(indices[:first_bad].T), tuple(int(d) for d in bounds)) \
        if first_bad and len(bounds) else np.zeros(first_bad, np.int64)
    not_increasing = np.flatnonzero(np.diff(flat) <= 0)
    if len(not_increasing):
        i = int(not_increasing[0]) + 1
        if flat[i] == flat[i - 1]:
            raise ValueError("indices[%d] = %s is repeated" % (i, text(indices[i])))
        raise ValueError("indices[%d] = %s is out of order. Many sparse ops require sorted "
                         "indices.\n    Use `tf.sparse.reorder` to create a correctly ordered "
                         "copy.\n\n" % (i, text(indices[i])))
    if first_bad < len(indices):
        raise ValueError("indices[%d] = %s is out of bounds: need 0 <= index < %s"
                         % (first_bad, text(indices[first_bad]), text(bounds)))


def _sparse_to_dense_kernel(op, ctx):
    validate = op._attrs["validate_indices"]

    def run(sparse_indices, output_shape, sparse_values, default_value):
        out_shape = [int(d) for d in np.ravel(output_shape)]
        indices = np.reshape(sparse_indices, (-1, len(out_shape)) if sparse_indices.ndim
                             else (1, 1))
        out = np.full(out_shape, default_value, dtype=sparse_values.dtype)
        if validate:
            _validate_sparse_indices(indices, out_shape)
        elif np.any((indices < 0) | (indices >= np.array(out_shape, dtype=np.int64))):
            raise ValueError("indices is out of bounds of the dense shape %s"
                             % _shape_text(out_shape))
        values = np.broadcast_to(sparse_values, (len(indices),))
        out[tuple(indices.T)] = values
        return out
    return run


register_op("SparseToDense",
            inputs=["sparse_indices: Tindices", "output_shape: Tindices", "sparse_values: T",
                    "default_value: T"],
            outputs=["dense: T"],
            attrs=["validate_indices: bool = true", "T: type", "Tindices: {int32, int64}"],
            kernel=_sparse_to_dense_kernel,
            shape=lambda op: [shape_from_tensor(op._inputs[1])])


def sparse_to_dense(sparse_indices, output_shape, sparse_values, default_value=0,
                    validate_indices=True, name=None):
    return apply_op("SparseToDense", sparse_indices=sparse_indices, output_shape=output_shape,
                    sparse_values=sparse_values, default_value=default_value,
                    validate_indices=validate_indices, name=name)


def _sparse_to_dense_grad(op, grad):
    sparse_indices, output_shape, _, _ = op._inputs
    sparse_values_grad = gather_nd(grad, sparse_indices)
    default_value_grad = math_ops.reduce_sum(grad) - math_ops.reduce_sum(sparse_values_grad)
    return [None, None, sparse_values_grad, default_value_grad]


register_gradient("SparseToDense", _sparse_to_dense_grad)

_BITCAST_TYPES = ("{bfloat16, half, float, double, int64, int32, uint8, uint16, uint32, uint64, "
                  "int8, int16, complex64, complex128, qint8, quint8, qint16, quint16, qint32}")


def _bitcast_kernel(op, ctx):
    out = op._attrs["type"].as_numpy

    def run(x):
        in_size = x.dtype.itemsize
        if in_size == out.itemsize:
            return x.view(out)
        if in_size > out.itemsize:
            return np.ascontiguousarray(x).view(out).reshape(x.shape + (in_size // out.itemsize,))
        if x.shape[-1:] != (out.itemsize // in_size,):
            raise ValueError("Cannot bitcast from %s to %s: shape %s" % (x.dtype, out,
                                                                         list(x.shape)))
        return np.ascontiguousarray(x).view(out).reshape(x.shape[:-1])
    return run


def _bitcast_shape(op):
    in_shape = op._inputs[0]._shape_val
    in_size = op._attrs["T"].size
    out_size = op._attrs["type"].size
    if in_shape.ndims is None or in_size == out_size:
        return [in_shape]
    if in_size > out_size:
        return [in_shape.concatenate([in_size // out_size])]
    return [in_shape[:-1]]


register_op("Bitcast", inputs=["input: T"], outputs=["output: type"],
            attrs=["T: " + _BITCAST_TYPES, "type: " + _BITCAST_TYPES],
            kernel=_bitcast_kernel, shape=_bitcast_shape)
register_gradient("Bitcast", None)


def bitcast(input, type, name=None):  # noqa: A002 (TF's argument names)
    return apply_op("Bitcast", input=input, type=type, name=name)


# --- boolean_mask / sequence_mask / meshgrid ------------------------------------------------------

def boolean_mask(tensor, mask, name="boolean_mask", axis=None):
    with ops.name_scope(name, values=[tensor, mask]):
        tensor = ops.convert_to_tensor(tensor, name="tensor")
        mask = ops.convert_to_tensor(mask, name="mask")
        ndims_mask = mask.shape.ndims
        shape_tensor = tensor.shape
        if ndims_mask == 0:
            raise ValueError("mask cannot be scalar.")
        if ndims_mask is None:
            raise ValueError("Number of mask dimensions must be specified, even if some "
                             "dimensions are None.  E.g. shape=[None] is ok, but shape=None is "
                             "not.")
        axis = 0 if axis is None else axis
        axis_value = _python_or_constant_value(axis)
        if axis_value is not None:
            axis = int(axis_value)
            shape_tensor[axis:axis + ndims_mask].assert_is_compatible_with(mask.shape)
        leading_size = apply_op("Prod", input=shape(tensor)[axis:axis + ndims_mask],
                                reduction_indices=[0], keep_dims=False)
        tensor = reshape(tensor, concat([shape(tensor)[:axis], [leading_size],
                                         shape(tensor)[axis + ndims_mask:]], 0))
        if axis_value is not None:
            first_dim = shape_tensor[axis:axis + ndims_mask].num_elements()
            tensor.set_shape(shape_tensor[:axis].concatenate([first_dim]).concatenate(
                shape_tensor[axis + ndims_mask:]))
        mask = reshape(mask, [-1])
        indices = squeeze(where_v2(mask), axis=[1])
        return gather(tensor, indices, axis=axis)


def _all_dimensions(x):
    if isinstance(x, ops.Tensor) and x.shape.ndims is not None:
        return constant(np.arange(x.shape.ndims), dtype=dtypes.int32)
    return apply_op("Range", start=0, limit=rank(x), delta=1)


def sequence_mask(lengths, maxlen=None, dtype=dtypes.bool_, name=None):
    with ops.name_scope(name, "SequenceMask", [lengths, maxlen]):
        lengths = ops.convert_to_tensor(lengths)
        if maxlen is None:
            maxlen = apply_op("Max", input=lengths, reduction_indices=_all_dimensions(lengths))
            maxlen = apply_op("Maximum", x=constant(0, maxlen.dtype), y=maxlen)
        else:
            maxlen = ops.convert_to_tensor(maxlen)
        if maxlen.shape.ndims not in (None, 0):
            raise ValueError("Argument `maxlen` must be scalar for sequence_mask, received "
                             "`maxlen` = %s with shape '%s' instead" % (maxlen, maxlen.shape))
        row_vector = apply_op("Range", start=constant(0, maxlen.dtype), limit=maxlen,
                              delta=constant(1, maxlen.dtype))
        matrix = apply_op("Cast", x=expand_dims(lengths, -1), DstT=maxlen.dtype)
        result = row_vector < matrix
        if dtype is None or result.dtype.is_compatible_with(dtypes.as_dtype(dtype)):
            return result
        return apply_op("Cast", x=result, DstT=dtype)


def meshgrid(*args, **kwargs):
    indexing = kwargs.pop("indexing", "xy")
    name = kwargs.pop("name", "meshgrid")
    if kwargs:
        raise TypeError("'{}' is an invalid keyword argument for this function"
                        .format(list(kwargs)[0]))
    if indexing not in ("xy", "ij"):
        raise ValueError("Argument `indexing` parameter must be either 'xy' or 'ij', got '%s'"
                         % indexing)
    with ops.name_scope(name, "meshgrid", args):
        ndim = len(args)
        if not ndim:
            return []
        ones_shape = (1,) * ndim
        output = [reshape(stack(x), ones_shape[:i] + (-1,) + ones_shape[i + 1:])
                  for i, x in enumerate(args)]
        shapes = [size(x) for x in args]
        output_dtype = ops.convert_to_tensor(args[0]).dtype.base_dtype
        if indexing == "xy" and ndim > 1:
            output[0] = reshape(output[0], (1, -1) + (1,) * (ndim - 2))
            output[1] = reshape(output[1], (-1, 1) + (1,) * (ndim - 2))
            shapes[0], shapes[1] = shapes[1], shapes[0]
        mult_fact = ones(shapes, output_dtype)
        return [x * mult_fact for x in output]
