"""Slot variables: per-variable state kept by optimizers (`w/Adam`, `w/Momentum`) and moving
averages (`w/ExponentialMovingAverage`).

A slot for primary `w` named `Adam` is built as TensorFlow builds it: `get_variable` inside a
fresh variable scope `w/Adam` (then `w/Adam_1`, ... for further slots of the same name), so it
is not trainable, lives in GLOBAL_VARIABLES, is colocated with `w`, and is named from the
variable scope whatever name scope is current — checkpoints written here carry TensorFlow's keys.
"""

import contextlib

from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.ops import array_ops
from tensorkeep.ops import control_flow_ops
from tensorkeep.ops import init_ops
from tensorkeep.ops import resource_variable_ops
from tensorkeep.ops import state_ops
from tensorkeep.ops import variables
from tensorkeep.training import variable_scope


def current_or_initial_value(var):
    """`var`'s value if it is initialized, else its initial value: the tf.cond on
    IsVariableInitialized that TensorFlow 2.x's compat.v1 starts slots and shadows from."""
    if resource_variable_ops.is_resource_variable(var):
        initialized = var.is_initialized()
    else:
        initialized = state_ops.is_variable_initialized(var)
    return control_flow_ops.cond(initialized, var.read_value, lambda: var.initial_value)


def _primary_name(primary):
    if isinstance(primary, variables.Variable):
        return primary._shared_name
    return primary.op.name


def _create_slot_var(primary, val, validate_shape, shape, dtype):
    """get_variable('') in the current (slot) variable scope, without its partitioner."""
    scope = variable_scope.get_variable_scope()
    partitioner = scope.partitioner
    scope.set_partitioner(None)
    try:
        slot = variable_scope.get_variable("", initializer=val, trainable=False,
                                           shape=shape if callable(val) else None, dtype=dtype,
                                           validate_shape=validate_shape,
                                           use_resource=_slot_uses_resource(primary))
    finally:
        scope.set_partitioner(partitioner)
    slice_info = getattr(primary, "_save_slice_info", None)
    if slice_info is not None:
        # A slot of a partitioned variable's part is itself a part of the full slot.
        real_slot_name = slot.name[len(primary.op.name + "/"):-2]
        rank = slot.shape.ndims
        if rank is None or rank > 0:
            slot._set_save_slice_info(variables.SaveSliceInfo(
                slice_info.full_name + "/" + real_slot_name, slice_info.full_shape[:rank],
                slice_info.var_offset[:rank], slice_info.var_shape[:rank]))
    return slot


def _slot_uses_resource(primary):
    """Slots of resource variables are resource variables, of ref variables ref ones."""
    if resource_variable_ops.is_resource_variable(primary):
        return True
    if isinstance(primary, variables.Variable):
        return False
    return None


def _slot_scope(primary, name, colocate_with_primary):
    """The fresh variable scope `<primary>/<name>` and, if asked, colocation with primary."""
    stack = contextlib.ExitStack()
    stack.enter_context(variable_scope.variable_scope(None, _primary_name(primary) + "/" + name))
    if colocate_with_primary:
        stack.enter_context(ops.colocate_with(primary.op))
    return stack


def create_slot(primary, val, name, colocate_with_primary=True):
    """A slot for `primary` initialized from the tensor `val`."""
    val = ops.convert_to_tensor(val)
    validate_shape = val.shape.is_fully_defined()
    with _slot_scope(primary, name, colocate_with_primary):
        return _create_slot_var(primary, val, validate_shape, None, None)


def create_slot_with_initializer(primary, initializer, shape, dtype, name,
                                 colocate_with_primary=True):
    """A slot for `primary` whose value `initializer(shape, dtype=dtype)` is built under
    `<slot>/Initializer/`."""
    shape = tensor_shape.as_shape(shape)
    with _slot_scope(primary, name, colocate_with_primary):
        return _create_slot_var(primary, initializer, shape.is_fully_defined(), shape, dtype)


def create_zeros_slot(primary, name, dtype=None, colocate_with_primary=True):
    """A slot of zeros shaped like `primary`."""
    if dtype is None:
        dtype = primary.dtype.base_dtype
    slot_shape = primary.get_shape()
    if slot_shape.is_fully_defined():
        return create_slot_with_initializer(primary, init_ops.zeros_initializer(), slot_shape,
                                            dtype, name,
                                            colocate_with_primary=colocate_with_primary)
    if isinstance(primary, variables.Variable):
        shape_source = current_or_initial_value(primary)
    else:
        shape_source = primary
    val = array_ops.zeros(array_ops.shape(shape_source), dtype=dtype)
    return create_slot(primary, val, name, colocate_with_primary=colocate_with_primary)
