"""NumPy <-> TensorFlow DataType enums, and TensorProto values as NumPy arrays.

Strings are numpy object arrays of `bytes`. Quantized types (qint8, quint8, ...) are held in
their storage integer type. bfloat16, float8 and 4/2-bit types come from ml_dtypes, which is
imported only when such a type is met.
"""

import math

import numpy as np

from .errors import InvalidArgumentError

DT_STRING = 7
DT_HALF = 19
DT_BFLOAT16 = 14
DT_RESOURCE = 20
DT_VARIANT = 21
REF_OFFSET = 100  # DT_FLOAT_REF == DT_FLOAT + 100, and so on.

# DataType enum -> numpy (or ml_dtypes) type name of the element storage.
_STORAGE_TYPE_NAMES = {
    1: "float32",      # DT_FLOAT
    2: "float64",      # DT_DOUBLE
    3: "int32",        # DT_INT32
    4: "uint8",        # DT_UINT8
    5: "int16",        # DT_INT16
    6: "int8",         # DT_INT8
    8: "complex64",    # DT_COMPLEX64
    9: "int64",        # DT_INT64
    10: "bool",        # DT_BOOL
    11: "int8",        # DT_QINT8
    12: "uint8",       # DT_QUINT8
    13: "int32",       # DT_QINT32
    14: "bfloat16",    # DT_BFLOAT16
    15: "int16",       # DT_QINT16
    16: "uint16",      # DT_QUINT16
    17: "uint16",      # DT_UINT16
    18: "complex128",  # DT_COMPLEX128
    19: "float16",     # DT_HALF
    22: "uint32",      # DT_UINT32
    23: "uint64",      # DT_UINT64
    24: "float8_e5m2",
    25: "float8_e4m3fn",
    26: "float8_e4m3fnuz",
    27: "float8_e4m3b11fnuz",
    28: "float8_e5m2fnuz",
    29: "int4",
    30: "uint4",
    31: "int2",
    32: "uint2",
    33: "float4_e2m1fn",
}
_QUANTIZED = {11, 12, 13, 15, 16}
_DATATYPE_OF_STORAGE_NAME = {
    name: datatype for datatype, name in _STORAGE_TYPE_NAMES.items() if datatype not in _QUANTIZED
}
_ML_DTYPES_NAMES = {
    "bfloat16", "float8_e5m2", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e4m3b11fnuz",
    "float8_e5m2fnuz", "int4", "uint4", "int2", "uint2", "float4_e2m1fn",
}


def numpy_dtype(datatype):
    """The numpy dtype holding elements of DataType enum `datatype` (object for strings)."""
    datatype = int(datatype)
    if datatype > REF_OFFSET:
        datatype -= REF_OFFSET
    if datatype == DT_STRING:
        return np.dtype(object)
    name = _STORAGE_TYPE_NAMES.get(datatype)
    if name is None:
        raise InvalidArgumentError(None, None, f"DataType {datatype} has no numpy representation")
    if name in _ML_DTYPES_NAMES:
        import ml_dtypes

        return np.dtype(getattr(ml_dtypes, name))
    return np.dtype(name)


def datatype_of(dtype):
    """The DataType enum for numpy dtype `dtype` (bytes, str and object arrays are strings)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "OSU":
        return DT_STRING
    datatype = _DATATYPE_OF_STORAGE_NAME.get(dtype.name)
    if datatype is None:
        raise InvalidArgumentError(None, None, f"numpy dtype {dtype} has no TensorFlow DataType")
    return datatype


def to_bytes_array(values):
    """An object array of `bytes` (str encoded as UTF-8) with the shape of `values`."""
    values = np.asarray(values, dtype=object)
    flat = values.reshape(-1)
    out = np.empty(flat.shape, dtype=object)
    for index, element in enumerate(flat):
        if isinstance(element, bytes):
            out[index] = element
        elif isinstance(element, str):
            out[index] = element.encode("utf-8")
        elif isinstance(element, (bytearray, memoryview, np.bytes_)):
            out[index] = bytes(element)
        else:
            raise InvalidArgumentError(None, None, f"string tensor element {element!r} is not bytes or str")
    return out.reshape(values.shape)


def tensor_shape_dims(shape_proto):
    """The dimension sizes of a TensorShapeProto (-1 for unknown); None for unknown rank."""
    if shape_proto.unknown_rank:
        return None
    return tuple(dim.size for dim in shape_proto.dim)


def _typed_values(proto, datatype):
    """The values held in the typed repeated field that TensorFlow uses for `datatype`."""
    if datatype == DT_STRING:
        return list(proto.string_val)
    if datatype in (DT_HALF, DT_BFLOAT16):
        return np.asarray(proto.half_val, dtype=np.uint16)
    if datatype == 1:
        return np.asarray(proto.float_val, dtype=np.float32)
    if datatype == 2:
        return np.asarray(proto.double_val, dtype=np.float64)
    if datatype == 9:
        return np.asarray(proto.int64_val, dtype=np.int64)
    if datatype == 10:
        return np.asarray(proto.bool_val, dtype=bool)
    if datatype == 22:
        return np.asarray(proto.uint32_val, dtype=np.uint32)
    if datatype == 23:
        return np.asarray(proto.uint64_val, dtype=np.uint64)
    if datatype == 8:
        pairs = np.asarray(proto.scomplex_val, dtype=np.float32)
        return pairs[: len(pairs) // 2 * 2].view(np.complex64)
    if datatype == 18:
        pairs = np.asarray(proto.dcomplex_val, dtype=np.float64)
        return pairs[: len(pairs) // 2 * 2].view(np.complex128)
    if 24 <= datatype <= 28 or datatype == 33:
        return np.frombuffer(proto.float8_val, dtype=np.uint8)
    if datatype in _STORAGE_TYPE_NAMES:
        return np.asarray(proto.int_val, dtype=np.int64)
    raise InvalidArgumentError(None, None, f"cannot decode TensorProto values of DataType {datatype}")


def tensor_proto_to_ndarray(proto, datatype=None, shape=None):
    """The value of a TensorProto as a numpy array.

    `datatype` and `shape` override the proto's own (V1 checkpoints store them elsewhere).
    As in TensorFlow, fewer typed values than elements repeat the last value, and none
    means all zeros.
    """
    datatype = int(proto.dtype if datatype is None else datatype)
    if datatype > REF_OFFSET:
        datatype -= REF_OFFSET
    if shape is None:
        shape = tensor_shape_dims(proto.tensor_shape)
        if shape is None or any(size < 0 for size in shape):
            raise InvalidArgumentError(None, None, "TensorProto has a shape that is not fully defined")
    shape = tuple(int(size) for size in shape)
    count = math.prod(shape)
    dtype = numpy_dtype(datatype)

    if proto.tensor_content and datatype != DT_STRING:
        content = proto.tensor_content
        if len(content) != count * dtype.itemsize:
            raise InvalidArgumentError(
                None, None, f"TensorProto content has {len(content)} bytes; shape {list(shape)} of "
                            f"{dtype} needs {count * dtype.itemsize}")
        return np.frombuffer(content, dtype=dtype.newbyteorder("<")).astype(dtype).reshape(shape)

    values = _typed_values(proto, datatype)
    if len(values) > count:
        raise InvalidArgumentError(
            None, None, f"TensorProto has {len(values)} values but shape {list(shape)} holds {count}")
    if datatype == DT_STRING:
        out = np.empty(count, dtype=object)
        out[:] = b""
        if values:
            out[: len(values)] = values
            out[len(values):] = values[-1]
        return out.reshape(shape)
    if datatype in (DT_HALF, DT_BFLOAT16) or 24 <= datatype <= 28 or datatype == 33:
        storage = np.uint16 if dtype.itemsize == 2 else np.uint8
        values = np.asarray(values, dtype=storage).view(dtype)
    out = np.zeros(count, dtype=dtype)
    if len(values):
        out[: len(values)] = np.asarray(values).astype(dtype, copy=False)
        out[len(values):] = out[len(values) - 1]
    return out.reshape(shape)
