"""TensorProto <-> NumPy (make_tensor_proto / make_ndarray) and static constant folding."""

import math
import numbers

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import tensor_shape

# Dtypes TensorFlow packs into `tensor_content` (raw little-endian bytes) when every element is
# given; the others go to the typed repeated fields.
_TENSOR_CONTENT_TYPES = frozenset([
    dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64, dtypes.int32, dtypes.uint8,
    dtypes.int16, dtypes.int8, dtypes.int64, dtypes.qint8, dtypes.quint8, dtypes.qint16,
    dtypes.quint16, dtypes.qint32, dtypes.uint32, dtypes.uint64,
])


def _cast(array, np_dtype):
    """array.astype(np_dtype): TensorFlow casts out of range values (a uint64 from -1, an int32
    from 2**40) rather than rejecting them. Integers NumPy inferred as float64 (a list mixing
    negatives and values over 2**63) are cast without NumPy's warning."""
    if array.dtype.kind in "fc" and np_dtype.kind in "iu":
        with np.errstate(invalid="ignore"):
            return array.astype(np_dtype)
    return array.astype(np_dtype)


def _first_mismatch(values, accepted):
    """The first leaf of nested lists/tuples `values` that is no instance of `accepted`."""
    if isinstance(values, (list, tuple)):
        for value in values:
            found = _first_mismatch(value, accepted)
            if found is not _NO_MISMATCH:
                return found
        return _NO_MISMATCH
    return _NO_MISMATCH if isinstance(values, accepted) else values


_NO_MISMATCH = object()


# How Python values given with a dtype are checked and converted, per dtype: the kinds of NumPy
# inference showing every element acceptable (else each element must be one of the Python
# types TensorFlow accepts), and whether NumPy's inference comes first and a cast after (for
# NumPy's numeric types, so that out of range integers wrap around rather than fail).
_CONVERSIONS = {}


def _conversion(dtype):
    conversion = _CONVERSIONS.get(dtype)
    if conversion is None:
        if dtype.is_bool:
            inferred_kinds, accepted = "b", (bool, np.bool_)
        elif dtype.is_integer:
            inferred_kinds, accepted = "iub", (numbers.Integral, tensor_shape.Dimension)
        elif dtype.is_floating:
            inferred_kinds, accepted = "iubf", numbers.Real
        elif dtype.is_complex:
            inferred_kinds, accepted = "iubfc", numbers.Complex
        else:
            inferred_kinds, accepted = None, None
        conversion = _CONVERSIONS[dtype] = (inferred_kinds, accepted,
                                            np.issubdtype(dtype.as_numpy, np.number))
    return conversion


def _converted(values, dtype):
    """Python `values` as an array of `dtype`, TensorFlow's way: integers only for an integer
    dtype (even a float of integral value is refused), bools only for bool, numbers for the
    others, then NumPy's inference and a cast, or NumPy's conversion for bool and bfloat16."""
    arr = np.asarray(values)
    inferred_kinds, accepted, numeric = _conversion(dtype)
    if accepted is not None and arr.size and arr.dtype.kind not in inferred_kinds:
        found = _first_mismatch(values, accepted)
        if found is not _NO_MISMATCH:
            raise TypeError("Expected %s, but got %r of type '%s'." % (
                dtype.name, found, type(found).__name__))
    if numeric:
        return _cast(arr, dtype.as_numpy)
    return np.array(values, dtype=dtype.as_numpy)


def _infer_numpy_array(values, dtype):
    """np.array of `values` as TensorFlow's make_tensor_proto makes it: NumPy's own inference,
    then float64 made float32 and int64 made int32 when no value is lost; with a dtype, for
    NumPy's numeric types a cast after NumPy's inference (so out of range integers wrap
    around, and a list mixing integers under and over 2**63 goes through float64)."""
    if isinstance(values, (np.ndarray, np.generic)):
        if dtype is None:
            return np.asarray(values)
        if dtype.base_dtype is dtypes.string:
            return np.asarray(values, dtype=object)
        if values.dtype != dtype.as_numpy:
            return _cast(np.asarray(values), dtype.as_numpy)
        return np.asarray(values)
    if dtype is not None:
        if dtype.base_dtype is dtypes.string:
            return _string_array(values)
        return _converted(values, dtype)
    arr = np.asarray(values)
    if arr.dtype == np.float64:
        return arr.astype(np.float32)
    if arr.dtype == np.int64:
        if arr.size and (arr.min() < -2 ** 31 or arr.max() >= 2 ** 31):
            return arr
        return arr.astype(np.int32)
    kind = arr.dtype.kind
    if kind in ("U", "S") or (kind == "O" and _all_strings(arr)):
        return _string_array(values)
    if kind == "O":
        raise TypeError("Failed to convert elements of %r to Tensor. Consider casting elements "
                        "to a supported type." % (values,))
    return arr


def _all_strings(arr):
    return all(isinstance(v, (str, bytes)) for v in arr.ravel())


def _string_array(values):
    arr = np.asarray(values, dtype=object)
    flat = arr.ravel()
    for i, v in enumerate(flat):
        if isinstance(v, str):
            flat[i] = v.encode("utf-8")
        elif isinstance(v, np.bytes_):
            flat[i] = bytes(v)
        elif not isinstance(v, bytes):
            raise TypeError("Failed to convert %r to a string tensor element" % (v,))
    return flat.reshape(arr.shape)


def make_tensor_proto(values, dtype=None, shape=None, verify_shape=False, allow_broadcast=False):
    """Builds a TensorProto the way TensorFlow lays them out (tensor_content or typed values)."""
    return tensor_proto_and_value(values, dtype, shape, verify_shape, allow_broadcast)[0]


def tensor_proto_and_value(values, dtype=None, shape=None, verify_shape=False,
                           allow_broadcast=False):
    """(make_tensor_proto's TensorProto, the read-only array it decodes to, or None when that
    would take a decode): tf.constant keeps the array so nothing decodes the proto again."""
    from tensorkeep.io import protos

    if isinstance(values, protos.TensorProto):
        return values, None
    if values is None:
        raise ValueError("None values not supported.")
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype).base_dtype
    if shape is not None:
        shape = [int(d) for d in shape]
        shape_size = math.prod(shape)
        if shape_size == 0 and not isinstance(values, (np.ndarray, np.generic)):
            return _no_elements_proto(values, dtype, shape)
    nparray = _infer_numpy_array(values, dtype)
    if dtype is None:
        dtype = dtypes.as_dtype(nparray.dtype)
    if shape is None:
        shape = nparray.shape
        is_same_size = True
        shape_size = nparray.size
    else:
        is_same_size = shape_size == nparray.size
        if allow_broadcast:
            if nparray.shape == (1,) or nparray.shape == tuple():
                pass
            elif nparray.size != shape_size:
                raise TypeError("Expected Tensor's shape: %s, but got %s." % (tuple(shape),
                                                                         nparray.shape))
        else:
            if verify_shape and nparray.shape != tuple(shape):
                raise TypeError("Expected Tensor's shape: %s, but got %s." % (tuple(shape),
                                                                         nparray.shape))
            if nparray.size > shape_size:
                raise ValueError("Too many elements provided. Takes at most %d, but got %d."
                                 % (shape_size, nparray.size))
    proto = protos.TensorProto(dtype=dtype.as_datatype_enum)
    proto.tensor_shape.SetInParent()  # present even for scalars, as TensorFlow writes it
    dims = proto.tensor_shape.dim
    for size in shape:
        if size < 0:
            raise ValueError("Dimension %d must be >= 0" % size)
        dims.add(size=size)
    if is_same_size and dtype in _TENSOR_CONTENT_TYPES and shape_size > 1:
        proto.tensor_content = np.ascontiguousarray(nparray).astype(
            nparray.dtype.newbyteorder("<"), copy=False).tobytes()
        return proto, _exact_value(values, nparray, shape, dtype)
    flat = nparray.ravel()
    if dtype is dtypes.string:
        proto.string_val.extend(flat.tolist())
    elif dtype in (dtypes.float16, dtypes.bfloat16):
        proto.half_val.extend(flat.view(np.uint16).astype(np.int32).tolist())
    elif dtype is dtypes.float32:
        proto.float_val.extend(flat.tolist())
    elif dtype is dtypes.float64:
        proto.double_val.extend(flat.tolist())
    elif dtype in (dtypes.int32, dtypes.int16, dtypes.int8, dtypes.uint8, dtypes.uint16,
                   dtypes.qint8, dtypes.quint8, dtypes.qint16, dtypes.quint16, dtypes.qint32):
        proto.int_val.extend(flat.astype(np.int64).tolist())
    elif dtype is dtypes.int64:
        proto.int64_val.extend(flat.tolist())
    elif dtype is dtypes.uint32:
        proto.uint32_val.extend(flat.tolist())
    elif dtype is dtypes.uint64:
        proto.uint64_val.extend(flat.tolist())
    elif dtype is dtypes.bool_:
        proto.bool_val.extend(flat.tolist())
    elif dtype is dtypes.complex64:
        proto.scomplex_val.extend(np.stack([flat.real, flat.imag], -1).ravel().tolist())
    elif dtype is dtypes.complex128:
        proto.dcomplex_val.extend(np.stack([flat.real, flat.imag], -1).ravel().tolist())
    else:
        raise TypeError("Unsupported dtype for a TensorProto: %s" % dtype.name)
    return proto, (_exact_value(values, nparray, shape, dtype) if is_same_size else None)


def _no_elements_proto(values, dtype, shape):
    """tensor_proto_and_value of Python values for a shape of no elements. TensorFlow then
    looks at the values only for strings, which it still writes out (a scalar "a" with shape
    [0] gives string_val "a"); other values are ignored, and without a dtype it is float32."""
    from tensorkeep.io import protos

    if dtype is None:
        dtype = dtypes.float32
    if not dtype.is_numpy_compatible:
        raise TypeError("`dtype` %s is not compatible with %r of dtype float64." % (dtype,
                                                                                  values))
    proto = protos.TensorProto(dtype=dtype.as_datatype_enum)
    proto.tensor_shape.SetInParent()
    for size in shape:
        if size < 0:
            raise ValueError("Dimension %d must be >= 0" % size)
        proto.tensor_shape.dim.add(size=size)
    if dtype is dtypes.string:
        strings = list(_flattened(values))
        if not all(isinstance(value, (str, bytes)) for value in strings):
            raise TypeError("Failed to convert elements of %r to Tensor. Consider casting "
                            "elements to a supported type." % (values,))
        proto.string_val.extend(value.encode("utf-8") if isinstance(value, str) else value
                                for value in strings)
    array = np.empty(shape, dtype=dtype.as_numpy)
    array.flags.writeable = False
    return proto, array


def _flattened(values):
    if isinstance(values, (list, tuple)):
        for value in values:
            yield from _flattened(value)
    else:
        yield values


# tf.constant's (TensorProto, value) for small Python literals, shared by every Const holding
# the same literal: a model repeats a few of them (shapes, 0.0, 1.0, a stddev) thousands of
# times, and building the proto was a fifth of building a variable. Safe to share because no
# code changes a Const's proto in place (Operation.get_attr hands out copies).
_literal_protos = {}
_LITERAL_PROTOS_KEPT = 4096
_LITERAL_ELEMENTS = 16


def _scalar_key(value):
    kind = type(value)
    if kind is float:
        return value.hex()  # tells -0.0 from 0.0, and matches a NaN
    if kind is int or kind is bool:
        return kind, value
    return None


def _literal_key(values, dtype, shape, verify_shape):
    """A key naming the proto of these arguments, or None when they are not a small literal."""
    key = _scalar_key(values)
    if key is None:
        if type(values) not in (list, tuple) or len(values) > _LITERAL_ELEMENTS:
            return None
        key = tuple(_scalar_key(v) for v in values)
        if None in key:
            return None
    if shape is not None:
        if type(shape) not in (list, tuple) or len(shape) > _LITERAL_ELEMENTS or \
                any(type(d) is not int for d in shape):
            return None
        shape = tuple(shape)
    return key, dtype, shape, bool(verify_shape)


def constant_proto_and_value(values, dtype=None, shape=None, verify_shape=False):
    """tensor_proto_and_value for tf.constant: the same proto object for equal small literals
    (the caller must not change it), built once."""
    key = _literal_key(values, dtype, shape, verify_shape)
    if key is None:
        return tensor_proto_and_value(values, dtype, shape, verify_shape)
    cached = _literal_protos.get(key)
    if cached is None:
        cached = tensor_proto_and_value(values, dtype, shape, verify_shape)
        if len(_literal_protos) >= _LITERAL_PROTOS_KEPT:
            _literal_protos.clear()
        _literal_protos[key] = cached
    return cached


def _exact_value(values, nparray, shape, dtype):
    """`nparray` as the proto stores it, read-only and not shared with the caller's array
    (None if decoding would give another NumPy dtype, e.g. from a big-endian input)."""
    if nparray.dtype != dtype.as_numpy:
        return None
    array = nparray.reshape(shape)
    if isinstance(values, np.ndarray) or array.base is not None:
        array = array.copy()
    array.flags.writeable = False
    return array


def const_op_array(op):
    """The read-only NumPy value of Const `op`'s TensorProto, decoded once per proto: shape
    inference and the Const kernel both need it, and decoding dominates a first run."""
    proto = op._attrs["value"]
    cached = getattr(op, "_decoded_value", None)
    if cached is not None and cached[0] is proto:
        return cached[1]
    array = np.asarray(make_ndarray(proto))
    array.flags.writeable = False
    op._decoded_value = (proto, array)
    return array


def make_ndarray(tensor):
    """The NumPy value of a TensorProto (missing trailing values repeat the last one)."""
    shape = [d.size for d in tensor.tensor_shape.dim]
    num_elements = math.prod(shape)
    dtype = dtypes.as_dtype(tensor.dtype)
    np_dtype = dtype.as_numpy
    if tensor.tensor_content:
        if dtype is dtypes.string:
            raise TypeError("String tensors cannot use tensor_content")
        expected = num_elements * np_dtype.itemsize
        if len(tensor.tensor_content) != expected:
            raise ValueError("TensorProto's tensor_content has %d bytes, but its shape %s and "
                             "dtype %s need %d." % (len(tensor.tensor_content), shape,
                                                   dtype.name, expected))
        return np.frombuffer(tensor.tensor_content,
                             dtype=np_dtype.newbyteorder("<")).astype(np_dtype).reshape(shape)
    if dtype is dtypes.string:
        values = np.empty(len(tensor.string_val), dtype=object)
        values[:] = list(tensor.string_val)
    elif dtype in (dtypes.float16, dtypes.bfloat16):
        values = np.asarray(tensor.half_val, dtype=np.uint16).view(np_dtype)
    elif dtype is dtypes.float32:
        values = np.asarray(tensor.float_val, dtype=np.float32)
    elif dtype is dtypes.float64:
        values = np.asarray(tensor.double_val, dtype=np.float64)
    elif dtype in (dtypes.int32, dtypes.int16, dtypes.int8, dtypes.uint8, dtypes.uint16,
                   dtypes.qint8, dtypes.quint8, dtypes.qint16, dtypes.quint16, dtypes.qint32):
        values = np.asarray(tensor.int_val, dtype=np.int64).astype(np_dtype)
    elif dtype is dtypes.int64:
        values = np.asarray(tensor.int64_val, dtype=np.int64)
    elif dtype is dtypes.uint32:
        values = np.asarray(tensor.uint32_val, dtype=np.uint32)
    elif dtype is dtypes.uint64:
        values = np.asarray(tensor.uint64_val, dtype=np.uint64)
    elif dtype is dtypes.bool_:
        values = np.asarray(tensor.bool_val, dtype=np.bool_)
    elif dtype is dtypes.complex64:
        pairs = np.asarray(tensor.scomplex_val, dtype=np.float32).reshape(-1, 2)
        values = (pairs[:, 0] + 1j * pairs[:, 1]).astype(np.complex64)
    elif dtype is dtypes.complex128:
        pairs = np.asarray(tensor.dcomplex_val, dtype=np.float64).reshape(-1, 2)
        values = pairs[:, 0] + 1j * pairs[:, 1]
    elif dtype in (dtypes.resource, dtypes.variant):
        values = np.empty(0, dtype=object)
    else:
        raise TypeError("Unsupported tensor type: %s" % tensor.dtype)
    if values.size == num_elements:
        return values.reshape(shape)
    if values.size == 0:
        if dtype is dtypes.string:
            out = np.empty(num_elements, dtype=object)
            out[:] = b""
            return out.reshape(shape)
        return np.zeros(shape, dtype=np_dtype)
    if values.size > num_elements:
        raise ValueError("TensorProto has %d values, more than its shape %s holds."
                         % (values.size, shape))
    out = np.empty(num_elements, dtype=values.dtype)
    out[:values.size] = values
    out[values.size:] = values[-1]
    return out.reshape(shape)


def constant_value(tensor, partial=False):
    """The value of `tensor` if it can be computed statically from constants, else None."""
    from tensorkeep.framework import ops

    if isinstance(tensor, np.ndarray):
        return tensor
    if not isinstance(tensor, ops.Tensor):
        return None
    op = tensor.op
    op_type = op.type
    if op_type == "Const":
        value = op._attrs["value"]
        if type(value).__name__ == "TensorProto":
            return const_op_array(op).copy()  # a caller may write to the array it gets
        return np.asarray(value)
    if op_type == "Shape":
        shape = op.inputs[0].shape
        if shape.is_fully_defined():
            return np.array(shape.as_list(), dtype=op.get_attr("out_type").as_numpy_dtype)
        return None
    if op_type == "Size":
        n = op.inputs[0].shape.num_elements()
        return None if n is None else np.array(n, dtype=op.get_attr("out_type").as_numpy_dtype)
    if op_type == "Rank":
        nd = op.inputs[0].shape.ndims
        return None if nd is None else np.array(nd, dtype=np.int32)
    if op_type in ("Identity", "StopGradient", "Snapshot", "CheckNumericsV2",
                   "DebugIdentityV2"):
        return constant_value(op.inputs[0], partial)
    if op_type == "Cast":
        value = constant_value(op.inputs[0])
        return None if value is None else value.astype(op.get_attr("DstT").as_numpy_dtype)
    if op_type == "Range":
        bounds = [constant_value(t) for t in op.inputs]
        if any(v is None for v in bounds):
            return None
        return np.arange(*bounds, dtype=tensor.dtype.as_numpy_dtype)
    if op_type == "Pack":
        # As TensorFlow: only stacking along axis 0; with `partial`, unknown parts are None.
        if not op.inputs or op.get_attr("axis") != 0:
            return None
        values = [constant_value(t, partial) for t in op.inputs]
        if any(v is None for v in values) and not partial:
            return None
        try:
            return np.array(values)
        except ValueError:  # ragged when some parts are unknown
            return np.array(values, dtype=object)
    if op_type == "Unpack":
        if op.get_attr("axis") != 0:
            return None
        value = constant_value(op.inputs[0], partial)
        return None if value is None else value[tensor.value_index]
    if op_type == "Split":
        axis = constant_value(op.inputs[0])
        value = constant_value(op.inputs[1], partial)
        if axis is None or value is None:
            return None
        return np.split(value, op.get_attr("num_split"), int(axis))[tensor.value_index]
    if op_type in ("Concat", "ConcatV2"):
        axis_input = op.inputs[0] if op_type == "Concat" else op.inputs[-1]
        parts = op.inputs[1:] if op_type == "Concat" else op.inputs[:-1]
        values = [constant_value(t) for t in [axis_input] + list(parts)]
        if any(v is None for v in values):
            return None
        return np.concatenate(values[1:], axis=int(values[0]))
    if op_type in ("Equal", "NotEqual"):
        first = constant_value(op.inputs[0])
        second = None if first is None else constant_value(op.inputs[1])
        if second is None:
            return None
        return np.equal(first, second) if op_type == "Equal" else np.not_equal(first, second)
    if op_type == "Fill":
        dims = constant_value(op.inputs[0])
        value = constant_value(op.inputs[1])
        if dims is None or value is None:
            return None
        return np.full(dims, value)
    return None


def _strided_slice_of_shape(op):
    """A plain 1-D slice (no ellipsis, new or shrunk axes) of a partly known shape tensor."""
    bounds = [constant_value(t) for t in op.inputs[1:4]]
    if any(b is None for b in bounds):
        return None
    begin, end, stride = (int(np.ravel(b)[0]) for b in bounds)
    begin_mask, end_mask = op.get_attr("begin_mask"), op.get_attr("end_mask")
    if (op.get_attr("ellipsis_mask") or op.get_attr("new_axis_mask")
            or op.get_attr("shrink_axis_mask") or begin_mask not in (0, 1)
            or end_mask not in (0, 1)):
        return None
    dims = constant_value_as_shape(op.inputs[0])
    if dims.ndims is None:
        return None
    return tensor_shape.TensorShape(dims.dims[None if begin_mask else begin:
                                              None if end_mask else end:stride])


def constant_value_as_shape(tensor):
    """A TensorShape from a 1-D shape tensor, as far as it is statically known."""
    from tensorkeep.framework import ops

    shape = tensor.shape.with_rank(1) if tensor.shape.ndims is not None else tensor.shape
    if tensor.op.type == "Shape":
        return tensor.op.inputs[0].shape
    if tensor.op.type == "Pack":
        dims = []
        for t in tensor.op.inputs:
            value = constant_value(t)
            dims.append(None if value is None or int(value) < 0 else int(value))
        return tensor_shape.TensorShape(dims)
    if tensor.op.type == "ConcatV2":
        result = tensor_shape.TensorShape([])
        for t in tensor.op.inputs[:-1]:
            result = result.concatenate(constant_value_as_shape(t))
        return result
    if tensor.op.type == "StridedSlice":
        sliced = _strided_slice_of_shape(tensor.op)
        if sliced is not None:
            return sliced
    value = constant_value(tensor)
    if value is not None:
        return tensor_shape.TensorShape([None if d < 0 else int(d) for d in value.ravel()])
    if shape.ndims == 1 and shape[0].value is not None:
        return tensor_shape.unknown_shape(shape[0].value)
    del ops
    return tensor_shape.unknown_shape()


def is_tensor(x):
    from tensorkeep.framework import ops

    return isinstance(x, ops.Tensor)
