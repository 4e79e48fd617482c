"""Small pieces shared by the op modules: common shape functions and kernel utilities."""

import sys

import numpy as np

from tensorkeep.framework import tensor_shape
from tensorkeep.framework import tensor_util


def unchanged_shape(op):
    """Output 0 has input 0's shape (elementwise unary ops)."""
    return [op._inputs[0]._shape_val]


def unknown_shapes(op):
    return [tensor_shape.unknown_shape() for _ in op._outputs]


def scalar_shape(op):
    return [tensor_shape.TensorShape([]) for _ in op._outputs]


def broadcast_static_shapes(a, b):
    """NumPy broadcasting of two (possibly partial) TensorShapes; raises ValueError if they
    cannot broadcast."""
    if a.ndims is None or b.ndims is None:
        return tensor_shape.unknown_shape()
    da = a.as_list()
    db = b.as_list()
    n = max(len(da), len(db))
    da = [1] * (n - len(da)) + da
    db = [1] * (n - len(db)) + db
    out = []
    for x, y in zip(da, db):
        if x is None or y is None:
            if x == 1:
                out.append(y)
            elif y == 1:
                out.append(x)
            elif x is None and y is None:
                out.append(None)
            else:
                out.append(x if x is not None else y)
        elif x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise ValueError("Dimensions must be equal, but are %d and %d for shapes %s and %s"
                             % (x, y, a, b))
    return tensor_shape.TensorShape(out)


def broadcast_shape(op):
    """Binary elementwise ops: the broadcast of the two input shapes."""
    try:
        return [broadcast_static_shapes(op._inputs[0]._shape_val, op._inputs[1]._shape_val)]
    except ValueError as exc:
        raise ValueError("%s for '{{node %s}} = %s[T=%s](%s, %s)' with input shapes: %s, %s."
                         % (exc.args[0].split(" for shapes")[0], op.name, op.type,
                            _enum_name(op._attrs.get("T")),
                            op._inputs[0].name.split(":")[0], op._inputs[1].name.split(":")[0],
                            _shape_str(op._inputs[0]._shape_val),
                            _shape_str(op._inputs[1]._shape_val)))


def _enum_name(dtype):
    """A dtype as TensorFlow spells it in node descriptions (DT_FLOAT)."""
    from tensorkeep.framework import dtypes
    return "?" if dtype is None else "DT_" + dtypes.opdef_type_name(dtype).upper()


def _shape_str(shape):
    if shape.ndims is None:
        return "?"
    return "[%s]" % ",".join("?" if d is None else str(d) for d in shape.as_list())


def attr(op, name):
    """An attr value as kernels want it (DType -> numpy dtype is left to the caller)."""
    return op._attrs[name]


def np_dtype(op, name):
    return op._attrs[name].as_numpy


def const_input(op, index):
    """The statically known value of input `index` (or None)."""
    return tensor_util.constant_value(op._inputs[index])


def as_array(value, dtype):
    """A numpy array of the given numpy dtype (kernels return arrays of the op's dtype)."""
    if isinstance(value, np.ndarray) and value.dtype == dtype:
        return value
    return np.asarray(value, dtype=dtype)


def readonly(array):
    array = np.asarray(array)
    array.flags.writeable = False
    return array


# False: kernels that update variables never write into a variable's buffer (the tests compare
# both ways).
IN_PLACE = True


def update_buffer(ref, may_write_in_place=True, dtype=None, shape=None):
    """sole_owner_buffer for a kernel updating the variable `ref`: None as well when writing in
    place is off (`may_write_in_place` False, as for use_locking=True, or IN_PLACE False).
    Call it before taking a reference to `ref.value`: that would count as a holder."""
    if not (may_write_in_place and IN_PLACE):
        return None
    return sole_owner_buffer(ref, dtype, shape)


def sole_owner_buffer(ref, dtype=None, shape=None):
    """The current array of a variable (`ref`: a VarRef or resource storage, anything with a
    `value`) if the variable's kernel may write into it in place: nothing but `ref` holds the
    array — no view of it, no value slot of a running step, no array handed to the user, no
    constant or other variable that adopted it — and it is a plain, aligned, C-contiguous
    ndarray owning its memory (of `dtype` and `shape` when given). Otherwise None.

    Call it before taking any reference to `ref.value` of your own: those count as holders."""
    # Two references when nobody else holds it: ref's slot and getrefcount's argument.
    if sys.getrefcount(ref.value) != 2:
        return None
    array = ref.value
    if type(array) is not np.ndarray:
        return None
    flags = array.flags
    if not (flags.owndata and flags.c_contiguous and flags.aligned) or \
            (dtype is not None and array.dtype != dtype) or \
            (shape is not None and array.shape != tuple(shape)):
        return None
    return array


_SELECT_BITS = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}
_SELECT_BRANCH_FREE_FROM = 4096  # elements


def select(condition, t, e, overwrite_t=False):
    """np.where(condition, t, e) in t's dtype. NumPy's where branches on every element, so a
    mask without long runs costs a misprediction per element (115 µs for 100x500 float32 on
    the benchmark machine); a condition, t and e of one shape and dtype are selected by their
    bits instead, (t & mask) | (e & ~mask), ten times faster, with the same bits.

    overwrite_t: t is a scratch array of the caller's, which may receive the result (one
    allocation fewer)."""
    t = np.asarray(t)
    e = np.asarray(e)
    condition = np.asarray(condition)
    bits = _SELECT_BITS.get(t.dtype.itemsize)
    if bits is None or t.size < _SELECT_BRANCH_FREE_FROM or t.dtype.hasobject or \
            t.dtype.kind in "SU" or e.dtype != t.dtype or condition.dtype != np.bool_ or \
            condition.shape != t.shape or e.shape != t.shape:
        return np.where(condition, t, e).astype(t.dtype, copy=False)
    t, e, condition = (np.ascontiguousarray(x) for x in (t, e, condition))
    mask = condition.view(np.int8).astype(bits)  # 0 or 1
    np.negative(mask, out=mask)  # 0 or all ones
    out = np.bitwise_and(t.view(bits), mask,
                         out=t.view(bits) if overwrite_t and t.flags.writeable else None)
    np.invert(mask, out=mask)
    np.bitwise_and(e.view(bits), mask, out=mask)
    np.bitwise_or(out, mask, out=out)
    return out.view(t.dtype)
