"""Stateful variable ops with TF1 ref semantics: VariableV2, Assign, AssignAdd, AssignSub,
IsVariableInitialized, and the scatter updates.

The session keeps one VarRef per variable. A kernel writes into the variable's array only when
nothing but the VarRef holds it (_helpers.sole_owner_buffer) and use_locking is off; otherwise
it stores a new read-only array in `value`. Either way tensors read earlier keep their values,
and the results have the same bits.
"""

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import tensor_shape
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient
from tensorkeep.ops import _helpers


def write_into(buffer, write, *args):
    """Calls write(buffer, *args) with the (read-only) variable array `buffer` writeable for
    the duration."""
    buffer.setflags(write=True)
    try:
        write(buffer, *args)
    finally:
        buffer.setflags(write=False)


def combine_into(buffer, np_fn, value):
    """buffer = np_fn(buffer, value) (an element-wise ufunc, operands of one dtype), written
    into the variable's own array: the same bits as into a new array."""
    buffer.setflags(write=True)
    try:
        if buffer.ndim:
            np_fn(buffer, value, out=buffer)
        else:  # a scalar (a global step): NumPy's `out=` costs more than the operation
            buffer[()] = np_fn(buffer, value)
    finally:
        buffer.setflags(write=False)


def _variable_kernel(op, ctx):
    return ctx.variable(op)  # a VarRef: calling it returns itself


def _variable_shape(op):
    return [op._attrs["shape"]]


register_op("VariableV2", outputs=["ref: Ref(dtype)"],
            attrs=["shape: shape", "dtype: type", "container: string = ''",
                   "shared_name: string = ''"],
            stateful=True, kernel=_variable_kernel, shape=_variable_shape)
# The pre-1.0 spelling found in old graphs.
register_op("Variable", outputs=["ref: Ref(dtype)"],
            attrs=["shape: shape", "dtype: type", "container: string = ''",
                   "shared_name: string = ''"],
            stateful=True, kernel=_variable_kernel, shape=_variable_shape)


def variable_op_v2(shape, dtype, name="Variable", container="", shared_name=""):
    return apply_op("VariableV2", shape=tensor_shape.as_shape(shape), dtype=dtype, name=name,
                    container=container, shared_name=shared_name)


def _check_assign_shape(op, ref, value):
    declared = ref.shape
    if declared is not None and declared.ndims is not None:
        if tuple(declared.as_list()) != tuple(np.shape(value)) and declared.is_fully_defined():
            raise errors.InvalidArgumentError(
                None, op, "Assign requires shapes of both tensors to match. lhs shape= %s rhs "
                "shape= %s\n\t [[{{node %s}}]]" % (_dims(declared.as_list()),
                                                   _dims(np.shape(value)), op.name))
    if ref.value is not None and tuple(ref.value.shape) != tuple(np.shape(value)):
        raise errors.InvalidArgumentError(
            None, op, "Assign requires shapes of both tensors to match. lhs shape= %s rhs "
            "shape= %s\n\t [[{{node %s}}]]" % (_dims(ref.value.shape), _dims(np.shape(value)),
                                               op.name))


def _dims(shape):
    return "[%s]" % ",".join(str(d) for d in shape)


class _AssignKernel:
    """Assign's kernel: `ref` = `value`. A class rather than a closure: an initializer's plan
    holds one per variable, and a closure is a function and a cell per captured name, every
    one an object for the garbage collector to scan."""

    __slots__ = ("op", "validate", "np_dtype", "may_write_in_place", "declared_ref",
                 "declared_dims")

    def __init__(self, op, ctx):
        self.op = op
        self.validate = op._attrs["validate_shape"]
        self.np_dtype = op._attrs["T"].as_numpy
        self.may_write_in_place = not op._attrs["use_locking"]
        self.declared_ref = None  # the VarRef last assigned, and its declared shape as a
        self.declared_dims = None  # tuple (None unless fully defined)

    def _declared_dims(self, ref):
        if self.declared_ref is not ref:
            shape = ref.shape
            self.declared_dims = tuple(shape.as_list()) \
                if shape is not None and shape.is_fully_defined() else None
            self.declared_ref = ref
        return self.declared_dims

    def __call__(self, ref, value):
        np_dtype = self.np_dtype
        # A frozen array (e.g. a tensor RestoreV2 just read) can never change: it is adopted
        # instead of copied, so restoring costs one read and no copy.
        adopt = type(value) is np.ndarray and value.dtype == np_dtype and \
            value.flags.owndata and not value.flags.writeable
        # Ownership first: `current` below would count as a holder.
        buffer = None if adopt or type(value) is not np.ndarray or value.dtype != np_dtype \
            else _helpers.update_buffer(ref, self.may_write_in_place, np_dtype, value.shape)
        if self.validate:
            current = ref.value
            # The common case (a value of the variable's current and declared shape, as a
            # restore assigns) is accepted without building shapes.
            if current is None or type(value) is not np.ndarray or current.shape != value.shape \
                    or self._declared_dims(ref) not in (None, value.shape):
                _check_assign_shape(self.op, ref, value)
        if adopt:
            ref.value = value
        elif buffer is not None:
            write_into(buffer, np.copyto, value)
        else:
            new = np.array(value, dtype=np_dtype, copy=True)
            new.flags.writeable = False
            ref.value = new
        return ref


def _assign_shape(op):
    if op._attrs["validate_shape"]:
        return [op._inputs[0]._shape_val.merge_with(op._inputs[1]._shape_val)]
    return [op._inputs[1]._shape_val]


register_op("Assign", inputs=["ref: Ref(T)", "value: T"], outputs=["output_ref: Ref(T)"],
            attrs=["T: type", "validate_shape: bool = true", "use_locking: bool = true"],
            kernel=_AssignKernel, shape=_assign_shape, allows_uninitialized_input=True)


def _update_kernel(np_fn):
    def factory(op, ctx):
        may_write_in_place = not op._attrs["use_locking"]
        np_dtype = op._attrs["T"].as_numpy

        def run(ref, value):
            # Ownership first: `current` below would count as a holder.
            buffer = _helpers.update_buffer(ref, may_write_in_place, np_dtype)
            current = ref.get(op.name)
            if np.shape(value) != current.shape:
                raise errors.InvalidArgumentError(
                    None, op, "Must have the same shape as the variable: %s vs %s\n\t "
                    "[[{{node %s}}]]" % (_dims(current.shape), _dims(np.shape(value)), op.name))
            if buffer is not None and type(value) is np.ndarray and value.dtype == np_dtype:
                combine_into(buffer, np_fn, value)
                return ref
            new = np.asarray(np_fn(current, value), dtype=current.dtype)
            if new is current:
                new = new.copy()
            new.flags.writeable = False
            ref.value = new
            return ref
        return run
    return factory


# TensorFlow's `numbertype` in its own order (the order is part of the OpDef).
_NUMERIC = ("T: {float, double, int32, uint8, int16, int8, complex64, int64, qint8, quint8, "
            "qint32, bfloat16, qint16, quint16, uint16, complex128, half, uint32, uint64}")
register_op("AssignAdd", inputs=["ref: Ref(T)", "value: T"], outputs=["output_ref: Ref(T)"],
            attrs=[_NUMERIC, "use_locking: bool = false"],
            kernel=_update_kernel(np.add), shape=_helpers.unchanged_shape)
register_op("AssignSub", inputs=["ref: Ref(T)", "value: T"], outputs=["output_ref: Ref(T)"],
            attrs=[_NUMERIC, "use_locking: bool = false"],
            kernel=_update_kernel(np.subtract), shape=_helpers.unchanged_shape)


def _is_initialized_kernel(op, ctx):
    return lambda ref: np.asarray(ref.value is not None)


register_op("IsVariableInitialized", inputs=["ref: Ref(dtype)"], outputs=["is_initialized: bool"],
            attrs=["dtype: type"], kernel=_is_initialized_kernel, shape=_helpers.scalar_shape,
            allows_uninitialized_input=True)

for _op_type in ("Assign", "AssignAdd", "AssignSub", "IsVariableInitialized", "VariableV2",
                 "Variable"):
    register_gradient(_op_type, None)


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    """tf.assign: stores `value` in the ref variable; returns the ref."""
    if hasattr(ref, "assign") and not _is_ref_tensor(ref):
        return ref.assign(value, use_locking=use_locking, name=name)
    return apply_op("Assign", ref=ref, value=value, validate_shape=validate_shape,
                    use_locking=use_locking, name=name)


def assign_add(ref, value, use_locking=None, name=None):
    if hasattr(ref, "assign_add") and not _is_ref_tensor(ref):
        return ref.assign_add(value, use_locking=use_locking, name=name)
    return apply_op("AssignAdd", ref=ref, value=value, use_locking=use_locking, name=name)


def assign_sub(ref, value, use_locking=None, name=None):
    if hasattr(ref, "assign_sub") and not _is_ref_tensor(ref):
        return ref.assign_sub(value, use_locking=use_locking, name=name)
    return apply_op("AssignSub", ref=ref, value=value, use_locking=use_locking, name=name)


def _is_ref_tensor(value):
    from tensorkeep.framework import ops
    return isinstance(value, ops.Tensor)


def is_variable_initialized(ref, name=None):
    from tensorkeep.framework import ops
    if not isinstance(ref, ops.Tensor):
        ref = ref._ref()
    return apply_op("IsVariableInitialized", ref=ref, name=name)


# --- scatter updates (embedding and sparse optimizers) -------------------------------------------

def _scatter_update(new, indices, updates):
    # Repeated indices: the last update wins, as NumPy's assignment gives.
    new[indices] = updates


def _divide_at(array, indices, updates):
    """array[indices] /= updates, every update of a repeated index in order, as TensorFlow's
    ScatterDiv: integers divide truncating toward zero (C++'s /), and an integer division by
    zero raises (TensorFlow's process dies of SIGFPE)."""
    if array.dtype.kind not in "iu":
        np.divide.at(array, indices, updates)
        return
    if np.any(updates == 0):
        raise ZeroDivisionError("Integer division by zero")
    rows = np.asarray(indices).reshape(-1)
    updates = np.asarray(updates).reshape(rows.shape + array.shape[1:])
    if np.unique(rows).size == rows.size:
        array[rows] = _truncated_quotient(array[rows], updates)
        return
    for row, update in zip(rows.tolist(), updates):
        array[row] = _truncated_quotient(array[row], update)


def _truncated_quotient(a, b):
    with np.errstate(over="ignore", divide="ignore"):  # INT_MIN / -1 wraps, as in C++
        quotient = np.floor_divide(a, b)
        quotient += ((np.remainder(a, b) != 0) & ((a < 0) != (b < 0))).astype(quotient.dtype)
    return quotient


# np.<ufunc>.at applies every update of a repeated index, in order. (Shared with the resource
# variables' scatter ops.)
SCATTER_COMBINE = {"update": _scatter_update, "add": np.add.at, "sub": np.subtract.at,
                   "mul": np.multiply.at, "div": _divide_at, "max": np.maximum.at,
                   "min": np.minimum.at}


def _scatter_kernel(mode):
    combine = SCATTER_COMBINE[mode]

    def factory(op, ctx):
        may_write_in_place = not op._attrs["use_locking"]

        def run(ref, indices, updates):
            # Ownership first: `current` below would count as a holder.
            buffer = _helpers.update_buffer(ref, may_write_in_place)
            current = ref.get(op.name)
            idx = np.asarray(indices)
            upd = np.asarray(updates, dtype=current.dtype)
            if idx.size and (idx.min() < 0 or idx.max() >= current.shape[0]):
                raise errors.InvalidArgumentError(
                    None, op, "indices[%d] = %d is not in [0, %d)" % (
                        int(np.argmax((idx < 0) | (idx >= current.shape[0]))),
                        int(idx.ravel()[np.argmax(((idx < 0) | (idx >= current.shape[0])).ravel())]),
                        current.shape[0]))
            upd = upd.reshape(idx.shape + current.shape[1:])
            if buffer is not None:
                write_into(buffer, combine, idx, upd)
                return ref
            new = np.array(current, copy=True)
            combine(new, idx, upd)
            new.flags.writeable = False
            ref.value = new
            return ref
        return run
    return factory


# ScatterUpdate takes any type, ScatterMax/ScatterMin ordered ones, the others numbertype.
_SCATTER_TYPES = {"update": "T: type", "max": "T: {half, bfloat16, float, double, int32, int64}",
                  "min": "T: {half, bfloat16, float, double, int32, int64}"}
for _op_type, _mode in (("ScatterUpdate", "update"), ("ScatterAdd", "add"),
                        ("ScatterSub", "sub"), ("ScatterMul", "mul"), ("ScatterDiv", "div"),
                        ("ScatterMax", "max"), ("ScatterMin", "min")):
    register_op(_op_type, inputs=["ref: Ref(T)", "indices: Tindices", "updates: T"],
                outputs=["output_ref: Ref(T)"],
                attrs=[_SCATTER_TYPES.get(_mode, _NUMERIC), "Tindices: {int32, int64}",
                       "use_locking: bool = %s" % ("true" if _mode == "update" else "false")],
                kernel=_scatter_kernel(_mode), shape=_helpers.unchanged_shape)
    register_gradient(_op_type, None)


def _scatter(op_type, ref, indices, updates, use_locking, name):
    if getattr(ref, "_IS_RESOURCE", False):  # a resource variable: its op, then a lazy read
        return ref._resource_scatter("Resource" + op_type, indices, updates, name)
    return apply_op(op_type, ref=ref, indices=indices, updates=updates, use_locking=use_locking,
                    name=name)


def scatter_update(ref, indices, updates, use_locking=True, name=None):
    return _scatter("ScatterUpdate", ref, indices, updates, use_locking, name)


def scatter_add(ref, indices, updates, use_locking=False, name=None):
    return _scatter("ScatterAdd", ref, indices, updates, use_locking, name)


def scatter_sub(ref, indices, updates, use_locking=False, name=None):
    return _scatter("ScatterSub", ref, indices, updates, use_locking, name)


def scatter_mul(ref, indices, updates, use_locking=False, name=None):
    return _scatter("ScatterMul", ref, indices, updates, use_locking, name)


def scatter_div(ref, indices, updates, use_locking=False, name=None):
    return _scatter("ScatterDiv", ref, indices, updates, use_locking, name)


def scatter_max(ref, indices, updates, use_locking=False, name=None):
    return _scatter("ScatterMax", ref, indices, updates, use_locking, name)


def scatter_min(ref, indices, updates, use_locking=False, name=None):
    return _scatter("ScatterMin", ref, indices, updates, use_locking, name)


del dtypes
