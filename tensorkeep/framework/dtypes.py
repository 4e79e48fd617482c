"""TensorFlow's data types: names, DataType enum values, NumPy equivalents, ref types."""

import numpy as np
import ml_dtypes

# TensorFlow's DataType enum (types.proto); ref types are the base value + 100.
_REF_OFFSET = 100

# (enum, name, numpy dtype or None, TF1 "python name" used by repr)
_TYPE_TABLE = [
    (0, "invalid", None),
    (1, "float32", np.float32),
    (2, "float64", np.float64),
    (3, "int32", np.int32),
    (4, "uint8", np.uint8),
    (5, "int16", np.int16),
    (6, "int8", np.int8),
    (7, "string", np.object_),
    (8, "complex64", np.complex64),
    (9, "int64", np.int64),
    (10, "bool", np.bool_),
    (11, "qint8", np.int8),
    (12, "quint8", np.uint8),
    (13, "qint32", np.int32),
    (14, "bfloat16", ml_dtypes.bfloat16),
    (15, "qint16", np.int16),
    (16, "quint16", np.uint16),
    (17, "uint16", np.uint16),
    (18, "complex128", np.complex128),
    (19, "float16", np.float16),
    (20, "resource", np.object_),
    (21, "variant", np.object_),
    (22, "uint32", np.uint32),
    (23, "uint64", np.uint64),
]

# Names used in OpDef specs (REGISTER_OP style) for each enum value.
_OPDEF_NAMES = {
    1: "float", 2: "double", 3: "int32", 4: "uint8", 5: "int16", 6: "int8", 7: "string",
    8: "complex64", 9: "int64", 10: "bool", 11: "qint8", 12: "quint8", 13: "qint32",
    14: "bfloat16", 15: "qint16", 16: "quint16", 17: "uint16", 18: "complex128", 19: "half",
    20: "resource", 21: "variant", 22: "uint32", 23: "uint64",
}


class DType:
    """A TensorFlow data type (tf.float32, tf.float32_ref, ...)."""

    __slots__ = ("_enum", "_name", "_np", "_base", "_ref")

    def __init__(self, enum, name, numpy_type, base=None):
        self._enum = enum
        self._name = name
        self._np = np.dtype(numpy_type) if numpy_type is not None else None
        self._base = base if base is not None else self
        self._ref = None

    # --- identity -----------------------------------------------------------------------
    @property
    def name(self):
        return self._name

    @property
    def as_datatype_enum(self):
        return self._enum

    @property
    def _type_enum(self):
        return self._enum

    @property
    def is_ref_dtype(self):
        return self._enum > _REF_OFFSET

    @property
    def base_dtype(self):
        return self._base

    @property
    def real_dtype(self):
        if self._base is complex64:
            return float32
        if self._base is complex128:
            return float64
        return self._base

    @property
    def _as_ref(self):
        return self._base._ref

    @property
    def as_numpy_dtype(self):
        return self._np.type if self._np is not None else None

    @property
    def as_numpy(self):
        return self._np

    # --- classification -------------------------------------------------------------------
    @property
    def is_floating(self):
        return self._base._enum in (1, 2, 14, 19)

    @property
    def is_complex(self):
        return self._base._enum in (8, 18)

    @property
    def is_integer(self):
        return self._base._enum in (3, 4, 5, 6, 9, 17, 22, 23)

    @property
    def is_unsigned(self):
        return self._base._enum in (4, 17, 22, 23)

    @property
    def is_bool(self):
        return self._base is bool_

    @property
    def is_quantized(self):
        return self._base._enum in (11, 12, 13, 15, 16)

    @property
    def is_numpy_compatible(self):
        return self._base._enum not in (20, 21)

    @property
    def size(self):
        if self._base._enum in (7, 20, 21):
            return 1
        return self._np.itemsize

    @property
    def min(self):
        return _limits(self)[0]

    @property
    def max(self):
        return _limits(self)[1]

    @property
    def limits(self):
        return _limits(self)

    def is_compatible_with(self, other):
        other = as_dtype(other)
        return self._enum in (other._enum, other._base._enum)

    # --- python protocol --------------------------------------------------------------------
    def __eq__(self, other):
        if other is None:
            return False
        if isinstance(other, DType):
            return self is other
        try:
            return self is as_dtype(other)
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return self._enum

    def __repr__(self):
        return "tf." + self._name

    def __str__(self):
        return "<dtype: %r>" % self._name

    def __reduce__(self):
        return as_dtype, (self._name,)


def _limits(dtype):
    base = dtype._base
    if base.is_floating:
        info = ml_dtypes.finfo(base._np) if base is bfloat16 else np.finfo(base._np)
        return float(info.min), float(info.max)
    if base.is_integer or base.is_quantized:
        info = np.iinfo(base._np)
        return int(info.min), int(info.max)
    if base is bool_:
        return False, True
    raise TypeError("Cannot find minimum/maximum value for %s" % base.name)


_BY_ENUM = {}
_BY_NAME = {}
for _enum, _name, _np_type in _TYPE_TABLE:
    _dt = DType(_enum, _name, _np_type)
    _ref = DType(_enum + _REF_OFFSET, _name + "_ref", _np_type, base=_dt)
    _dt._ref = _ref
    _ref._ref = _ref
    _BY_ENUM[_enum] = _dt
    _BY_ENUM[_enum + _REF_OFFSET] = _ref
    _BY_NAME[_name] = _dt
    _BY_NAME[_name + "_ref"] = _ref

invalid = _BY_NAME["invalid"]
float16 = half = _BY_NAME["float16"]
float32 = _BY_NAME["float32"]
float64 = double = _BY_NAME["float64"]
bfloat16 = _BY_NAME["bfloat16"]
int8 = _BY_NAME["int8"]
int16 = _BY_NAME["int16"]
int32 = _BY_NAME["int32"]
int64 = _BY_NAME["int64"]
uint8 = _BY_NAME["uint8"]
uint16 = _BY_NAME["uint16"]
uint32 = _BY_NAME["uint32"]
uint64 = _BY_NAME["uint64"]
bool_ = _BY_NAME["bool"]
string = _BY_NAME["string"]
complex64 = _BY_NAME["complex64"]
complex128 = _BY_NAME["complex128"]
qint8 = _BY_NAME["qint8"]
quint8 = _BY_NAME["quint8"]
qint16 = _BY_NAME["qint16"]
quint16 = _BY_NAME["quint16"]
qint32 = _BY_NAME["qint32"]
resource = _BY_NAME["resource"]
variant = _BY_NAME["variant"]

float16_ref = float16._ref
float32_ref = float32._ref
float64_ref = float64._ref
bfloat16_ref = bfloat16._ref
int8_ref = int8._ref
int16_ref = int16._ref
int32_ref = int32._ref
int64_ref = int64._ref
uint8_ref = uint8._ref
uint16_ref = uint16._ref
uint32_ref = uint32._ref
uint64_ref = uint64._ref
bool_ref = bool_._ref
string_ref = string._ref
complex64_ref = complex64._ref
complex128_ref = complex128._ref

# Extra spellings accepted by as_dtype (OpDef names, TF enum names).
for _enum, _opdef_name in _OPDEF_NAMES.items():
    _BY_NAME.setdefault(_opdef_name, _BY_ENUM[_enum])
_BY_NAME["half"] = float16
_BY_NAME["float"] = float32
_BY_NAME["double"] = float64

_NUMPY_TO_DTYPE = {
    np.dtype(np.float16): float16,
    np.dtype(np.float32): float32,
    np.dtype(np.float64): float64,
    np.dtype(ml_dtypes.bfloat16): bfloat16,
    np.dtype(np.int8): int8,
    np.dtype(np.int16): int16,
    np.dtype(np.int32): int32,
    np.dtype(np.int64): int64,
    np.dtype(np.uint8): uint8,
    np.dtype(np.uint16): uint16,
    np.dtype(np.uint32): uint32,
    np.dtype(np.uint64): uint64,
    np.dtype(np.bool_): bool_,
    np.dtype(np.complex64): complex64,
    np.dtype(np.complex128): complex128,
    np.dtype(np.object_): string,
}


def as_dtype(type_value):
    """Converts a DType, enum value, name, NumPy type or Python type to a DType."""
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, (int, np.integer)) and not isinstance(type_value, bool):
        try:
            return _BY_ENUM[int(type_value)]
        except KeyError:
            raise TypeError("Cannot convert value %r to a TensorFlow DType." % (type_value,))
    if isinstance(type_value, str):
        try:
            return _BY_NAME[type_value]
        except KeyError:
            if type_value.startswith("DT_"):
                return as_dtype(type_value[3:].lower())
            raise TypeError("Cannot convert value %r to a TensorFlow DType." % (type_value,))
    if type_value is float:
        return float32
    if type_value is int:
        return int32
    if type_value is bool:
        return bool_
    if type_value in (bytes, str):
        return string
    if type_value is complex:
        return complex128
    try:
        np_dtype = np.dtype(type_value)
    except TypeError:
        np_dtype = None
    if np_dtype is not None:
        if np_dtype.kind in ("S", "U", "O"):
            return string
        found = _NUMPY_TO_DTYPE.get(np_dtype)
        if found is not None:
            return found
    raise TypeError("Cannot convert value %r to a TensorFlow DType." % (type_value,))


def opdef_type_name(dtype):
    """The spelling of a type in OpDef attr specs (`float`, `half`, `int32`...)."""
    return _OPDEF_NAMES[as_dtype(dtype).base_dtype._enum]


QUANTIZED_DTYPES = frozenset([qint8, quint8, qint16, quint16, qint32])
