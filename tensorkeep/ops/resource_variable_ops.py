"""Resource variables: VarHandleOp and the ops reading and writing through its handle
(ReadVariableOp, AssignVariableOp, AssignAdd/SubVariableOp, VarIsInitializedOp, ResourceGather,
ResourceScatter*, VariableShape, DestroyResourceOp), and the ResourceVariable class that
tf.get_variable(use_resource=True) and TF2-era graphs use.

At run time a handle's value is the session's VariableStorage for (container, shared name),
kept in `ctx.resources`. It has the interface of a ref variable's storage (`value`, `get()`),
so the ResourceApply* training ops (training_ops.py) update it like their ref twins.
"""

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient
from tensorkeep.ops import _helpers
from tensorkeep.ops import state_ops
from tensorkeep.ops import variables


# --- handles ---------------------------------------------------------------------------------------

def _text(value):
    return value.decode() if isinstance(value, bytes) else (value or "")


class VariableStorage:
    """The state behind a resource handle: `value` is the current read-only ndarray (None
    until assigned). Kernels write into it only under the rule of ref variables (see
    _helpers.update_buffer), else replace it."""

    __slots__ = ("value", "name", "dtype", "shape")

    def __init__(self, name, dtype, shape):
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.value = None

    def get(self, reader_name=None):
        if self.value is None:
            raise errors.FailedPreconditionError(
                None, None, "Error while reading resource variable %s from Container: "
                "localhost. This could mean that the variable was uninitialized. Not found: "
                "Resource localhost/%s/N10tensorflow3VarE does not exist.\n\t [[{{node %s}}]]"
                "\nRun its initializer first (sess.run(tf.global_variables_initializer())) or "
                "restore it from a checkpoint (saver.restore(sess, path))."
                % (self.name, self.name, reader_name or self.name))
        return self.value

    def __repr__(self):
        return "<VariableStorage %s %s>" % (self.name, "uninitialized" if self.value is None
                                            else "shape=%s" % (self.value.shape,))


def _var_handle_kernel(op, ctx):
    container = _text(op._attrs.get("container", b""))
    shared_name = _text(op._attrs.get("shared_name", b"")) or op.name
    key = ("variable", container, shared_name)
    with ctx.lock:
        storage = ctx.resources.get(key)
        if storage is None:
            storage = VariableStorage(shared_name, op._attrs["dtype"], op._attrs.get("shape"))
            ctx.resources[key] = storage
    return lambda: storage


register_op("VarHandleOp", outputs=["resource: resource"],
            attrs=["container: string = ''", "shared_name: string = ''",
                   "debug_name: string = ''", "dtype: type", "shape: shape",
                   "allowed_devices: list(string) = []"],
            stateful=True, kernel=_var_handle_kernel, shape=_helpers.scalar_shape)
register_gradient("VarHandleOp", None)


def handle_variable_shape(handle):
    """The static shape of the variable behind `handle`, found through the ops that forward
    handles (Identity, Enter, Switch, ...) back to its VarHandleOp; unknown otherwise."""
    seen = 0
    while seen < 64:
        op = handle.op
        if op._type == "VarHandleOp":
            return op._attrs.get("shape") or tensor_shape.unknown_shape()
        if op._type in ("Identity", "Enter", "Exit", "Switch", "Merge", "NextIteration") \
                and op._inputs:
            handle = op._inputs[0]
            seen += 1
            continue
        break
    return tensor_shape.unknown_shape()


def _current(op, ref):
    return ref.get(op.name)


def _check_dtype(op, ref, dtype):
    stored = ref.dtype
    if stored is not None and dtypes.as_dtype(stored).base_dtype != dtype:
        raise errors.InvalidArgumentError(
            None, op, "Trying to access resource %s with dtype %s but it has dtype %s"
            % (ref.name, dtype.name, dtypes.as_dtype(stored).base_dtype.name))


def _store(ref, value, dtype):
    new = np.array(value, dtype=dtype.as_numpy, copy=True)
    new.flags.writeable = False
    ref.value = new


def _read_kernel(op, ctx):
    dtype = op._attrs["dtype"]

    def run(ref):
        _check_dtype(op, ref, dtype)
        return _current(op, ref)
    return run


register_op("ReadVariableOp", inputs=["resource: resource"], outputs=["value: dtype"],
            attrs=["dtype: type"], stateful=True, kernel=_read_kernel,
            shape=lambda op: [handle_variable_shape(op._inputs[0])])
register_gradient("ReadVariableOp", lambda op, grad: [grad])


def _assign_kernel(op, ctx):
    dtype = op._attrs["dtype"]
    np_dtype = dtype.as_numpy
    validate = op._attrs.get("validate_shape", False)

    def run(ref, value):
        _check_dtype(op, ref, dtype)
        # A frozen array can never change: adopted instead of copied (as Assign does).
        adopt = type(value) is np.ndarray and value.dtype == np_dtype and \
            value.flags.owndata and not value.flags.writeable
        # Ownership before reading ref.value, which would count as a holder. Resource ops
        # have no use_locking: they write in place whenever the buffer is owned.
        buffer = None if adopt or type(value) is not np.ndarray or value.dtype != np_dtype \
            else _helpers.update_buffer(ref, True, np_dtype, value.shape)
        if validate and ref.value is not None and ref.value.shape != np.shape(value):
            raise errors.InvalidArgumentError(
                None, op, "Trying to assign to variable with tensor with wrong shape. Expected "
                "%s got %s" % (list(ref.value.shape), list(np.shape(value))))
        if ref.dtype is None:
            ref.dtype = dtype
        if adopt:
            ref.value = value
        elif buffer is not None:
            state_ops.write_into(buffer, np.copyto, value)
        else:
            _store(ref, value, dtype)
    return run


def _update_kernel(np_fn):
    def factory(op, ctx):
        dtype = op._attrs["dtype"]
        np_dtype = dtype.as_numpy

        def run(ref, value):
            _check_dtype(op, ref, dtype)
            buffer = _helpers.update_buffer(ref, True, np_dtype)
            current = _current(op, ref)
            if current.shape != np.shape(value):
                raise errors.InvalidArgumentError(
                    None, op, "Cannot update variable with shape %s using a Tensor with shape "
                    "%s, shapes must be equal." % (list(current.shape), list(np.shape(value))))
            value = np.asarray(value, dtype=current.dtype)
            if buffer is not None:
                state_ops.combine_into(buffer, np_fn, value)
            else:
                _store(ref, np_fn(current, value), dtype)
        return run
    return factory


register_op("AssignVariableOp", inputs=["resource: resource", "value: dtype"],
            attrs=["dtype: type", "validate_shape: bool = false"], stateful=True,
            kernel=_assign_kernel)
register_op("AssignAddVariableOp", inputs=["resource: resource", "value: dtype"],
            attrs=["dtype: type"], stateful=True, kernel=_update_kernel(np.add))
register_op("AssignSubVariableOp", inputs=["resource: resource", "value: dtype"],
            attrs=["dtype: type"], stateful=True, kernel=_update_kernel(np.subtract))
for _op_type in ("AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp"):
    register_gradient(_op_type, None)

register_op("VarIsInitializedOp", inputs=["resource: resource"],
            outputs=["is_initialized: bool"], stateful=True,
            compute=lambda ref: np.array(ref.value is not None), shape=_helpers.scalar_shape)
register_gradient("VarIsInitializedOp", None)


def _destroy_kernel(op, ctx):
    ignore_lookup_error = op._attrs.get("ignore_lookup_error", True)

    def run(ref):
        with ctx.lock:
            for key, value in list(ctx.resources.items()):
                if value is ref:
                    del ctx.resources[key]
                    return
        if not ignore_lookup_error:
            raise errors.NotFoundError(None, op, "Resource %s does not exist." % ref.name)
    return run


register_op("DestroyResourceOp", inputs=["resource: resource"],
            attrs=["ignore_lookup_error: bool = true"], stateful=True, kernel=_destroy_kernel)


def _variable_shape_kernel(op, ctx):
    out_type = op._attrs["out_type"].as_numpy
    return lambda ref: np.array(_current(op, ref).shape, dtype=out_type)


register_op("VariableShape", inputs=["input: resource"], outputs=["output: out_type"],
            attrs=["out_type: {int32, int64} = DT_INT32"], stateful=True,
            kernel=_variable_shape_kernel,
            shape=lambda op: [tensor_shape.TensorShape([handle_variable_shape(
                op._inputs[0]).ndims])])
register_gradient("VariableShape", None)


# --- gather and scatter ----------------------------------------------------------------------------

def _check_indices(op, indices, limit):
    bad = (indices < 0) | (indices >= limit)
    if np.any(bad):
        position = np.unravel_index(int(np.argmax(bad)), indices.shape)
        # TensorFlow's SliceDebugString: "[i,j]", nothing for scalar indices.
        where = "[%s]" % ",".join(str(int(p)) for p in position) if position else ""
        raise errors.InvalidArgumentError(
            None, op, "indices%s = %d is not in [0, %d)" % (where, int(indices[position]),
                                                           limit))


def _resource_gather_kernel(op, ctx):
    batch_dims = op._attrs.get("batch_dims", 0)
    dtype = op._attrs["dtype"]

    def run(ref, indices):
        _check_dtype(op, ref, dtype)
        params = _current(op, ref)
        indices = np.asarray(indices)
        if batch_dims:
            from tensorkeep.ops import array_ops

            return array_ops._gather(params, indices, batch_dims, batch_dims)
        _check_indices(op, indices, params.shape[0])
        return np.take(params, indices, axis=0)
    return run


def _resource_gather_shape(op):
    params = handle_variable_shape(op._inputs[0])
    indices = op._inputs[1]._shape_val
    if params.ndims is None or indices.ndims is None:
        return [tensor_shape.unknown_shape()]
    batch_dims = op._attrs.get("batch_dims", 0)
    return [tensor_shape.TensorShape(indices.as_list() + params.as_list()[batch_dims + 1:])]


register_op("ResourceGather", inputs=["resource: resource", "indices: Tindices"],
            outputs=["output: dtype"],
            attrs=["batch_dims: int = 0", "validate_indices: bool = true", "dtype: type",
                   "Tindices: {int32, int64}"],
            stateful=True, kernel=_resource_gather_kernel, shape=_resource_gather_shape)


def _static_or_dynamic_variable_shape(handle):
    """TensorFlow's resource_variable_ops.variable_shape: a Const when the handle's static
    shape is fully known, else a VariableShape op."""
    shape = handle_variable_shape(handle)
    if shape.is_fully_defined():
        from tensorkeep.ops import array_ops

        return array_ops.constant(shape.as_list(), dtype=dtypes.int32)
    return apply_op("VariableShape", input=handle)


def _resource_gather_grad(op, grad):
    from tensorkeep.framework.indexed_slices import IndexedSlices
    from tensorkeep.ops import array_ops

    handle, indices = op._inputs
    params_shape = _static_or_dynamic_variable_shape(handle)
    size = array_ops.expand_dims(array_ops.size(indices), 0)
    values_shape = array_ops.concat([size, params_shape[1:]], 0)
    values = array_ops.reshape(grad, values_shape)
    indices = array_ops.reshape(indices, size)
    return [IndexedSlices(values, indices, params_shape), None]


register_gradient("ResourceGather", _resource_gather_grad)


def _scatter_kernel(combine):
    def factory(op, ctx):
        dtype = op._attrs["dtype"]

        def run(ref, indices, updates):
            _check_dtype(op, ref, dtype)
            buffer = _helpers.update_buffer(ref, True)
            current = _current(op, ref)
            indices = np.asarray(indices)
            updates = np.asarray(updates, dtype=current.dtype)
            _check_indices(op, indices, current.shape[0])
            expected = indices.shape + current.shape[1:]
            if updates.ndim and updates.shape != expected:
                raise errors.InvalidArgumentError(
                    None, op, "updates.shape %s must be equal to indices.shape + "
                    "params.shape[1:] %s" % (list(updates.shape), list(expected)))
            indices = indices.reshape(-1)
            updates = np.broadcast_to(updates, expected).reshape((-1,) + current.shape[1:])
            if buffer is not None:
                state_ops.write_into(buffer, combine, indices, updates)
            else:
                new = np.array(current, copy=True)
                combine(new, indices, updates)
                _store(ref, new, dtype)
        return run
    return factory


_SCATTER_ATTRS = ["dtype: {float, double, int32, uint8, int16, int8, complex64, int64, qint8, "
                  "quint8, qint32, bfloat16, qint16, quint16, uint16, complex128, half, uint32, "
                  "uint64}", "Tindices: {int32, int64}"]
for _op_type, _mode in (("ResourceScatterAdd", "add"), ("ResourceScatterSub", "sub"),
                        ("ResourceScatterMul", "mul"), ("ResourceScatterDiv", "div"),
                        ("ResourceScatterMin", "min"), ("ResourceScatterMax", "max")):
    register_op(_op_type, inputs=["resource: resource", "indices: Tindices", "updates: dtype"],
                attrs=_SCATTER_ATTRS, stateful=True,
                kernel=_scatter_kernel(state_ops.SCATTER_COMBINE[_mode]))
    register_gradient(_op_type, None)
register_op("ResourceScatterUpdate",
            inputs=["resource: resource", "indices: Tindices", "updates: dtype"],
            attrs=["dtype: type", "Tindices: {int32, int64}"], stateful=True,
            kernel=_scatter_kernel(state_ops.SCATTER_COMBINE["update"]))
register_gradient("ResourceScatterUpdate", None)


# --- builders (TensorFlow's gen_resource_variable_ops) ---------------------------------------------

def var_handle_op(dtype, shape, container="", shared_name="", debug_name="",
                  allowed_devices=(), name=None):
    return apply_op("VarHandleOp", dtype=dtype, shape=tensor_shape.as_shape(shape),
                    container=container, shared_name=shared_name, debug_name=debug_name,
                    allowed_devices=list(allowed_devices), name=name)


def read_variable_op(resource, dtype, name=None):
    return apply_op("ReadVariableOp", resource=resource, dtype=dtype, name=name)


def assign_variable_op(resource, value, validate_shape=False, name=None):
    return apply_op("AssignVariableOp", resource=resource, value=value,
                    validate_shape=validate_shape, name=name)


def assign_add_variable_op(resource, value, name=None):
    return apply_op("AssignAddVariableOp", resource=resource, value=value, name=name)


def assign_sub_variable_op(resource, value, name=None):
    return apply_op("AssignSubVariableOp", resource=resource, value=value, name=name)


def var_is_initialized_op(resource, name=None):
    return apply_op("VarIsInitializedOp", resource=resource, name=name)


def destroy_resource_op(resource, ignore_lookup_error=True, name=None):
    return apply_op("DestroyResourceOp", resource=resource,
                    ignore_lookup_error=ignore_lookup_error, name=name)


def variable_shape(input, out_type=dtypes.int32, name=None):  # noqa: A002
    return apply_op("VariableShape", input=input, out_type=out_type, name=name)


def resource_gather(resource, indices, dtype, batch_dims=0, validate_indices=True, name=None):
    return apply_op("ResourceGather", resource=resource, indices=indices, dtype=dtype,
                    batch_dims=batch_dims, validate_indices=validate_indices, name=name)


def resource_scatter_add(resource, indices, updates, name=None):
    return apply_op("ResourceScatterAdd", resource=resource, indices=indices, updates=updates,
                    name=name)


def resource_scatter_sub(resource, indices, updates, name=None):
    return apply_op("ResourceScatterSub", resource=resource, indices=indices, updates=updates,
                    name=name)


def resource_scatter_update(resource, indices, updates, name=None):
    return apply_op("ResourceScatterUpdate", resource=resource, indices=indices,
                    updates=updates, name=name)


# --- ResourceVariable ------------------------------------------------------------------------------

class ResourceVariable(variables.VariableBase):
    """A variable held behind a resource handle (VarHandleOp), with TensorFlow's graph layout:
    `v` (VarHandleOp), `v/Initializer/...`, `v/IsInitialized/VarIsInitializedOp`,
    `v/Assign` (AssignVariableOp) and `v/Read/ReadVariableOp` (the value)."""

    _validate_shape = True  # the constructor's argument; kept by assign()

    def __init__(self, initial_value=None, trainable=None, collections=None,
                 validate_shape=True, caching_device=None, name=None, dtype=None,
                 variable_def=None, import_scope=None, constraint=None, shape=None):
        self._validate_shape = validate_shape
        if variable_def is not None:
            self._init_from_proto(variable_def, import_scope)
            return
        self._init_from_args(initial_value, True if trainable is None else trainable,
                             collections, caching_device, name, dtype, constraint, shape)

    def _init_from_args(self, initial_value, trainable, collections, caching_device, name,
                        dtype, constraint, shape):
        if initial_value is None:
            raise ValueError("The `initial_value` arg to `tf.Variable` must be specified except "
                             "when you are not providing a `variable_def`. You provided "
                             "neither.")
        init_from_fn = callable(initial_value)
        if collections is None:
            collections = [ops.GraphKeys.GLOBAL_VARIABLES]
        collections = list(collections)
        if trainable and ops.GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(ops.GraphKeys.TRAINABLE_VARIABLES)
        graph = ops.get_default_graph()
        with ops.name_scope(name, "Variable", [] if init_from_fn else [initial_value]) as scope:
            handle_name = scope[:-1]
            with graph._attr_scope_ctx({"_class": [("loc:@" + handle_name).encode()]}):
                with ops.name_scope("Initializer"), graph.device(None):
                    if init_from_fn:
                        initial_value = initial_value()
                    initial_value = ops.convert_to_tensor(initial_value, name="initial_value",
                                                          dtype=dtype)
                if shape is not None:
                    shape = tensor_shape.as_shape(shape)
                    if not initial_value.shape.is_compatible_with(shape):
                        raise ValueError(
                            "In this `tf.Variable` creation, the initial value's shape (%s) is "
                            "not compatible with the explicitly supplied `shape` argument (%s)."
                            % (initial_value.shape, shape))
                else:
                    shape = initial_value.shape
                self._handle = var_handle_op(initial_value.dtype.base_dtype, shape,
                                             shared_name=handle_name, debug_name=scope,
                                             name=scope)
            dtype = initial_value.dtype.base_dtype
            with ops.name_scope("IsInitialized"):
                self._is_initialized_op = var_is_initialized_op(self._handle)
            with ops.name_scope("Assign") as assign_scope, \
                    ops.colocate_with(None, ignore_existing=True):
                self._initializer_op = assign_variable_op(self._handle, initial_value,
                                                          name=assign_scope)
            with ops.name_scope("Read"):
                self._graph_element = read_variable_op(self._handle, dtype)
            if caching_device is not None:
                with ops.colocate_with(None, ignore_existing=True), graph.device(caching_device):
                    self._cached_value = apply_op("Identity", input=self._graph_element)
            else:
                self._cached_value = None
            ops.add_to_collections(collections, self)
        self._initial_value = initial_value
        self._dtype = dtype
        self._shape = shape
        self._trainable = bool(trainable)
        self._constraint = constraint
        self._save_slice_info = None
        self._caching_device = caching_device

    def _init_from_proto(self, variable_def, import_scope=None):
        graph = ops.get_default_graph()

        def element(name):
            return graph.as_graph_element(ops.prepend_name_scope(name, import_scope))
        self._handle = element(variable_def.variable_name)
        self._initializer_op = element(variable_def.initializer_name)
        self._initial_value = (element(variable_def.initial_value_name)
                               if variable_def.initial_value_name else None)
        self._graph_element = (element(variable_def.snapshot_name)
                               if variable_def.snapshot_name else None)
        self._cached_value = None
        self._is_initialized_op = None
        handle_op = self._handle.op
        self._dtype = handle_op._attrs.get("dtype") if handle_op._type == "VarHandleOp" else (
            self._graph_element.dtype if self._graph_element is not None else None)
        self._shape = handle_variable_shape(self._handle)
        self._trainable = bool(variable_def.trainable)
        self._constraint = None
        self._caching_device = None
        self._save_slice_info = None
        if variable_def.HasField("save_slice_info_def"):
            self._save_slice_info = variables.SaveSliceInfo(
                save_slice_info_def=variable_def.save_slice_info_def, import_scope=import_scope)

    # --- properties ---------------------------------------------------------------------------
    @property
    def _state_tensor(self):
        return self._handle

    @property
    def handle(self):
        return self._handle

    @property
    def dtype(self):
        return self._dtype

    @property
    def shape(self):
        return self._shape

    @property
    def create(self):
        return self._initializer_op

    # --- reading ------------------------------------------------------------------------------
    def value(self):
        """A fresh read of the variable (each use in a graph reads it again, as in TF)."""
        if self._cached_value is not None:
            return self._cached_value
        with ops.colocate_with(None, ignore_existing=True):
            return self._read_variable_op()

    def read_value(self):
        with ops.name_scope("Read"):
            value = self._read_variable_op()
        return apply_op("Identity", input=value)

    def _read_variable_op(self):
        return read_variable_op(self._handle, self._dtype)

    def sparse_read(self, indices, name=None):
        with ops.name_scope("Gather" if name is None else name) as scope:
            return resource_gather(self._handle, indices, dtype=self._dtype, name=scope)

    def _as_graph_element(self):
        return self._graph_element

    def eval(self, session=None):
        return self.value().eval(session=session)

    def initialized_value(self):
        from tensorkeep.ops import control_flow_ops

        return control_flow_ops.cond(self.is_initialized(), self.read_value,
                                     lambda: self._initial_value)

    def is_initialized(self, name=None):
        return var_is_initialized_op(self._handle, name=name)

    # --- writing ------------------------------------------------------------------------------
    def _maybe_read(self, op, read_value):
        return _UnreadVariable(self, op) if read_value else op

    def assign(self, value, use_locking=None, name=None, read_value=True):
        value = ops.convert_to_tensor(value, dtype=self._dtype)
        # TensorFlow checks the value's shape at run time when the variable's is fully known.
        validate_shape = self._validate_shape and self.shape.is_fully_defined()
        return self._maybe_read(assign_variable_op(self._handle, value, name=name,
                                                   validate_shape=validate_shape), read_value)

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        delta = ops.convert_to_tensor(delta, dtype=self._dtype)
        return self._maybe_read(assign_add_variable_op(self._handle, delta, name=name),
                                read_value)

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        delta = ops.convert_to_tensor(delta, dtype=self._dtype)
        return self._maybe_read(assign_sub_variable_op(self._handle, delta, name=name),
                                read_value)

    def _resource_scatter(self, op_type, indices, updates, name):
        """tf.scatter_* on this variable: the resource op `op_type`, then a lazy read."""
        updates = ops.convert_to_tensor(updates, dtype=self._dtype)
        return self._maybe_read(apply_op(op_type, resource=self._handle, indices=indices,
                                         updates=updates, name=name), True)

    def scatter_add(self, sparse_delta, use_locking=False, name=None):
        return self._maybe_read(resource_scatter_add(
            self._handle, sparse_delta.indices, sparse_delta.values, name=name), True)

    def scatter_sub(self, sparse_delta, use_locking=False, name=None):
        return self._maybe_read(resource_scatter_sub(
            self._handle, sparse_delta.indices, sparse_delta.values, name=name), True)

    def scatter_update(self, sparse_delta, use_locking=False, name=None):
        return self._maybe_read(resource_scatter_update(
            self._handle, sparse_delta.indices, sparse_delta.values, name=name), True)

    # --- serialization ------------------------------------------------------------------------
    _IS_RESOURCE = True

    def _snapshot_for_proto(self):
        return self._cached_value if self._cached_value is not None else self._graph_element


class _UnreadVariable:
    """What assign* return: the variable as it is after `parent_op`, read only if used."""

    def __init__(self, variable, parent_op):
        self._variable = variable
        self._parent_op = parent_op
        # TensorFlow (graph mode) reads the variable as soon as the assignment is made, so that
        # Session.run has a tensor to fetch; later uses read it again.
        with ops.control_dependencies([parent_op]):
            self._graph_element = variable._read_variable_op()

    @property
    def op(self):
        return self._parent_op

    @property
    def name(self):
        return self._variable.name

    @property
    def dtype(self):
        return self._variable.dtype

    @property
    def shape(self):
        return self._variable.shape

    @property
    def graph(self):
        return self._parent_op.graph

    def value(self):
        with ops.colocate_with(None, ignore_existing=True), \
                ops.control_dependencies([self._parent_op]):
            return self._variable._read_variable_op()

    def _as_graph_element(self):
        return self._graph_element

    def _as_graph_element_for_control(self):
        return self._parent_op


variables.install_value_operators(_UnreadVariable)


def _resource_variable_conversion(value, dtype=None, name=None, as_ref=False):
    if dtype is not None and not dtypes.as_dtype(dtype).is_compatible_with(value.dtype):
        raise ValueError("Incompatible type conversion requested to type '%s' for variable of "
                         "type '%s'" % (dtypes.as_dtype(dtype).name, value.dtype.name))
    return value.value()


ops.register_tensor_conversion_function(ResourceVariable, _resource_variable_conversion,
                                        priority=10)
ops.register_tensor_conversion_function(_UnreadVariable, _resource_variable_conversion,
                                        priority=10)


def is_resource_variable(var):
    return isinstance(var, ResourceVariable) or (
        getattr(var, "op", None) is not None and var.op.type == "VarHandleOp")
