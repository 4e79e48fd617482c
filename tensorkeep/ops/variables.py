"""tf.Variable with TF1 ref semantics (VariableV2 + Assign initializer + `read` Identity), and
the variable collections' helpers (global_variables, initializers, ...)."""

import inspect

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.ops import array_ops
from tensorkeep.ops import control_flow_ops
from tensorkeep.ops import math_ops
from tensorkeep.ops import state_ops


class VariableSynchronization:
    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


class VariableAggregation:
    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3
    ONLY_FIRST_TOWER = 3


class VariableBase:
    """What ref variables (Variable) and resource variables (ResourceVariable) share.

    Subclasses set `_initializer_op`, `_initial_value`, `_trainable`, `_constraint` and
    `_save_slice_info`, and name the tensor that holds the state in `_state_tensor` (the
    VariableV2 ref or the VarHandleOp handle). `isinstance(x, VariableBase)` accepts both kinds;
    `isinstance(x, Variable)` only ref variables.
    """

    @property
    def _state_tensor(self):
        raise NotImplementedError

    # --- properties ---------------------------------------------------------------------------
    @property
    def name(self):
        return self._state_tensor.name

    @property
    def op(self):
        return self._state_tensor.op

    @property
    def graph(self):
        return self._state_tensor.graph

    def get_shape(self):
        return self.shape

    @property
    def device(self):
        return self._state_tensor.device

    @property
    def initializer(self):
        return self._initializer_op

    @property
    def initial_value(self):
        return self._initial_value

    @property
    def trainable(self):
        return self._trainable

    @property
    def constraint(self):
        return self._constraint

    @property
    def _shared_name(self):
        return self.name[:self.name.index(":")]

    def _as_graph_element_for_control(self):
        return self._state_tensor.op

    # --- writing --------------------------------------------------------------------------------
    def load(self, value, session=None):
        """Writes `value` into the variable through the initializer's feed (no new ops)."""
        if session is None:
            session = ops.get_default_session()
            if session is None:
                raise ValueError("Either session argument should be provided or default "
                                 "session should be established")
        session.run(self._initializer_op, {self._initializer_op.inputs[1]: value})

    # --- serialization ----------------------------------------------------------------------------
    def _snapshot_for_proto(self):
        """The tensor VariableDef.snapshot_name names, or None."""
        raise NotImplementedError

    def to_proto(self, export_scope=None):
        from tensorkeep.io import protos

        if export_scope is not None and not self._state_tensor.name.startswith(export_scope):
            return None
        var_def = protos.VariableDef()
        var_def.variable_name = ops.strip_name_scope(self._state_tensor.name, export_scope)
        if self._initial_value is not None:
            var_def.initial_value_name = ops.strip_name_scope(self._initial_value.name,
                                                              export_scope)
        var_def.trainable = self._trainable
        var_def.initializer_name = ops.strip_name_scope(self._initializer_op.name, export_scope)
        snapshot = self._snapshot_for_proto()
        if snapshot is not None:
            var_def.snapshot_name = ops.strip_name_scope(snapshot.name, export_scope)
        if self._IS_RESOURCE:
            var_def.is_resource = True
        if self._save_slice_info:
            var_def.save_slice_info_def.MergeFrom(self._save_slice_info.to_proto(export_scope))
        return var_def

    @classmethod
    def from_proto(cls, variable_def, import_scope=None):
        return cls(variable_def=variable_def, import_scope=import_scope)

    def _set_save_slice_info(self, save_slice_info):
        self._save_slice_info = save_slice_info

    def _get_save_slice_info(self):
        return self._save_slice_info

    # --- python protocol ------------------------------------------------------------------------
    def __repr__(self):
        return "<tf.Variable '%s' shape=%s dtype=%s>" % (self.name, self.get_shape(),
                                                         self.dtype.name)

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    def __bool__(self):
        raise TypeError("Using a `tf.Variable` as a Python `bool` is not allowed.")

    def __iter__(self):
        raise TypeError("'%s' object is not iterable." % type(self).__name__)

    def __getitem__(self, slice_spec):
        return self.value()[slice_spec]

    def __array__(self, dtype=None, copy=None):
        raise NotImplementedError("Cannot convert a symbolic tf.Variable (%s) to a numpy array; "
                                  "run it in a session." % self.name)


def install_value_operators(cls):
    """Gives `cls` the arithmetic and comparison operators of its value() tensor."""
    def forward(operator):
        def run(self, *args):
            return getattr(self.value(), operator)(*args)
        return run
    for operator in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
                     "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__",
                     "__rmod__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__and__",
                     "__rand__", "__or__", "__ror__", "__xor__", "__rxor__", "__neg__",
                     "__abs__", "__invert__", "__lt__", "__le__", "__gt__", "__ge__"):
        setattr(cls, operator, forward(operator))


install_value_operators(VariableBase)


class Variable(VariableBase):
    """A TF1 variable: a VariableV2 op holding state across Session.run calls.

    `tf.Variable(..., use_resource=True)` gives a ResourceVariable instead, as in TensorFlow.
    """

    def __new__(cls, *args, **kwargs):
        # Only `use_resource=True` needs the arguments bound (to pass them on); the common
        # call skips binding, which costs more than building the variable's ops.
        if cls is Variable and (kwargs.get("use_resource") or len(args) > _USE_RESOURCE_INDEX):
            bound = inspect.signature(Variable.__init__).bind(None, *args, **kwargs)
            if bound.arguments.get("use_resource"):
                from tensorkeep.ops import resource_variable_ops
                accepted = inspect.signature(resource_variable_ops.ResourceVariable.__init__)
                options = {k: v for k, v in bound.arguments.items()
                           if k in accepted.parameters and k != "self"}
                return resource_variable_ops.ResourceVariable(**options)
        return super().__new__(cls)

    def __init__(self, initial_value=None, trainable=None, collections=None,
                 validate_shape=True, caching_device=None, name=None, variable_def=None,
                 dtype=None, expected_shape=None, import_scope=None, constraint=None,
                 use_resource=None, synchronization=VariableSynchronization.AUTO,
                 aggregation=VariableAggregation.NONE, shape=None):
        if variable_def is not None:
            self._init_from_proto(variable_def, import_scope)
            return
        if trainable is None:
            trainable = synchronization != VariableSynchronization.ON_READ
        self._init_from_args(initial_value, trainable, collections, validate_shape,
                             caching_device, name, dtype, constraint, shape)

    def _init_from_args(self, initial_value, trainable, collections, validate_shape,
                        caching_device, name, dtype, constraint, shape):
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        init_from_fn = callable(initial_value)
        if collections is None:
            collections = [ops.GraphKeys.GLOBAL_VARIABLES]
        if not isinstance(collections, (list, tuple, set)):
            raise ValueError("collections argument to Variable constructor must be a list, "
                             "tuple, or set. Got %s of type %s" % (collections, type(collections)))
        collections = list(collections)
        if trainable and ops.GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections = collections + [ops.GraphKeys.TRAINABLE_VARIABLES]
        graph = ops.get_default_graph()
        # Built outside any control dependencies and control flow (TensorFlow's init_scope).
        with graph.control_dependencies(None), \
                ops.name_scope(name, "Variable", [] if init_from_fn else [initial_value]) as scope:
            if init_from_fn:
                # The variable does not exist yet, so its initializer ops (and the variable op)
                # are colocated by attr, as TensorFlow does.
                colocation = {"_class": [("loc:@" + scope[:-1]).encode()]}
                with graph._attr_scope_ctx(colocation):
                    with ops.name_scope("Initializer"), graph.device(None):
                        value = initial_value()
                        self._initial_value = ops.convert_to_tensor(value, name="initial_value",
                                                                    dtype=dtype)
            else:
                self._initial_value = ops.convert_to_tensor(initial_value, name="initial_value",
                                                            dtype=dtype)
                if self._initial_value.op._get_control_flow_context() is not None:
                    raise ValueError(
                        "Initializer for variable %s is from inside a control-flow construct, "
                        "such as a loop or conditional. When creating a variable inside a loop "
                        "or conditional, use a lambda as the initializer." % scope)
            if self._initial_value.dtype.is_ref_dtype:
                self._initial_value = array_ops.identity(self._initial_value)
            if shape is not None:
                var_shape = tensor_shape.as_shape(shape)
            elif validate_shape:
                var_shape = self._initial_value.shape
                if not var_shape.is_fully_defined():
                    raise ValueError("initial_value must have a shape specified: %s"
                                     % self._initial_value)
            else:
                var_shape = tensor_shape.unknown_shape()
            if init_from_fn:
                with graph._attr_scope_ctx(colocation):
                    self._variable = state_ops.variable_op_v2(
                        var_shape, self._initial_value.dtype.base_dtype, name=scope)
            else:
                self._variable = state_ops.variable_op_v2(
                    var_shape, self._initial_value.dtype.base_dtype, name=scope)
            # Reads of other variables in the initial value go through their
            # initialized_value(), so initializers may run in any order (as in TensorFlow).
            guarded_value = _guard_against_uninitialized_dependencies(scope,
                                                                      self._initial_value)
            with ops.colocate_with(self._variable.op):
                assign = apply_op("Assign", ref=self._variable, value=guarded_value,
                                  validate_shape=validate_shape)
                self._initializer_op = assign.op
            with graph.device(caching_device) if caching_device else _null():
                with ops.colocate_with(self._variable.op):
                    self._snapshot = apply_op("Identity", input=self._variable, name="read")
        ops.add_to_collections(collections, self)
        self._caching_device = caching_device
        self._save_slice_info = None
        self._constraint = constraint
        self._trainable = bool(trainable)

    def _init_from_proto(self, variable_def, import_scope=None):
        graph = ops.get_default_graph()
        prefix = lambda n: ops.prepend_name_scope(n, import_scope)  # noqa: E731
        self._variable = graph.as_graph_element(prefix(variable_def.variable_name))
        self._initializer_op = graph.as_graph_element(prefix(variable_def.initializer_name))
        if variable_def.initial_value_name:
            self._initial_value = graph.as_graph_element(prefix(variable_def.initial_value_name))
        else:
            self._initial_value = None
        self._trainable = bool(getattr(variable_def, "trainable", True))
        self._snapshot = graph.as_graph_element(prefix(variable_def.snapshot_name))
        if variable_def.HasField("save_slice_info_def"):
            self._save_slice_info = SaveSliceInfo(save_slice_info_def=variable_def.save_slice_info_def,
                                                  import_scope=import_scope)
        else:
            self._save_slice_info = None
        self._caching_device = None
        self._constraint = None

    # --- properties ---------------------------------------------------------------------------
    @property
    def _state_tensor(self):
        return self._variable

    @property
    def dtype(self):
        return self._variable.dtype

    @property
    def shape(self):
        return self._variable.shape

    @property
    def synchronization(self):
        return VariableSynchronization.AUTO

    @property
    def aggregation(self):
        return VariableAggregation.NONE

    # --- reading --------------------------------------------------------------------------------
    def value(self):
        return self._snapshot

    def read_value(self):
        return array_ops.identity(self._variable, name="read")

    def _ref(self):
        return self._variable

    def _as_graph_element(self):
        return self._variable

    def eval(self, session=None):
        return self._variable.eval(session=session)

    def initialized_value(self):
        """The variable's value once initialized, else its initial value: a tf.cond on
        IsVariableInitialized built outside any control dependencies (TensorFlow 2.x's
        compat.v1 form)."""
        with ops.get_default_graph().control_dependencies(None):
            return control_flow_ops.cond(state_ops.is_variable_initialized(self._variable),
                                         self.read_value, lambda: self._initial_value)

    def is_initialized(self, name=None):
        return state_ops.is_variable_initialized(self._variable, name=name)

    # --- writing --------------------------------------------------------------------------------
    def assign(self, value, use_locking=False, name=None, read_value=True):
        assign = apply_op("Assign", ref=self._variable, value=value, use_locking=use_locking,
                          name=name)
        return assign if read_value else assign.op

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        assign = apply_op("AssignAdd", ref=self._variable, value=delta,
                          use_locking=use_locking, name=name)
        return assign if read_value else assign.op

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        assign = apply_op("AssignSub", ref=self._variable, value=delta,
                          use_locking=use_locking, name=name)
        return assign if read_value else assign.op

    def scatter_update(self, sparse_delta, use_locking=False, name=None):
        return state_ops.scatter_update(self._variable, sparse_delta.indices,
                                        sparse_delta.values, use_locking=use_locking, name=name)

    def count_up_to(self, limit):
        return apply_op("CountUpTo", ref=self._variable, limit=limit)

    # --- serialization ----------------------------------------------------------------------------
    _IS_RESOURCE = False

    def _snapshot_for_proto(self):
        return self._snapshot


# --- initial values that read other variables ------------------------------------------------

# Ops whose outputs do not read a variable's value even though a variable feeds them.
_OPS_NOT_READING_VALUES = ("IsVariableInitialized", "VarIsInitializedOp", "ReadVariableOp", "If")
_VARIABLE_OPS = ("Variable", "VariableV2", "VarHandleOp")


def _guard_against_uninitialized_dependencies(scope, initial_value):
    """`initial_value` rebuilt so that every variable it reads is read through that variable's
    initialized_value(); the copies of the rewritten ops are named `<op name>_<scope>` (TF's
    names). Graphs with cycles, and variables outside the variable collections, stay as they
    are."""
    if not _reads_a_variable(initial_value.op):
        return initial_value  # the usual case: nothing to rewrite, no need to look for cycles
    if _has_cycle(initial_value.op):
        return initial_value
    replacements = {}
    for op in _post_order(initial_value.op):
        replacements[op] = _guarded_op(scope, op, replacements)
    return replacements[initial_value.op].outputs[initial_value.value_index]


def _reads_a_variable(start):
    """Whether the guard's walk from `start` (through data inputs, stopping where values are
    not read) reaches a variable op."""
    if not start._inputs:
        return start._type in _VARIABLE_OPS
    seen, pending = {start}, [start]
    while pending:
        op = pending.pop()
        if op._type in _VARIABLE_OPS:
            return True
        if op._type in _OPS_NOT_READING_VALUES:
            continue
        for tensor in op._inputs:
            if tensor._op not in seen:
                seen.add(tensor._op)
                pending.append(tensor._op)
    return False


def _has_cycle(start):
    """Whether a loop (a back edge through inputs or control inputs) is reachable from start."""
    finished, on_path = set(), set()
    stack = [(start, iter(_predecessors(start)))]
    on_path.add(start)
    while stack:
        op, pending = stack[-1]
        for pred in pending:
            if pred in on_path:
                return True
            if pred not in finished:
                on_path.add(pred)
                stack.append((pred, iter(_predecessors(pred))))
                break
        else:
            stack.pop()
            on_path.discard(op)
            finished.add(op)
    return False


def _predecessors(op):
    return [t.op for t in op._inputs] + list(op._control_inputs)


def _post_order(start):
    """The ops the guard visits, each after its data inputs, first inputs first; the walk
    stops at variables and at ops that do not read values."""
    order, seen = [], {start}
    stack = [(start, iter(_guard_inputs(start)))]
    while stack:
        op, pending = stack[-1]
        for pred in pending:
            if pred not in seen:
                seen.add(pred)
                stack.append((pred, iter(_guard_inputs(pred))))
                break
        else:
            stack.pop()
            order.append(op)
    return order


def _guard_inputs(op):
    if op._type in _OPS_NOT_READING_VALUES or op._type in _VARIABLE_OPS:
        return []
    return [t.op for t in op._inputs]


def _guarded_op(scope, op, replacements):
    if op._type in _OPS_NOT_READING_VALUES:
        return op
    if op._type in _VARIABLE_OPS:
        value = _initialized_value_of_variable_op(op)
        return op if value is None else value.op
    new_inputs = [replacements[t.op].outputs[t.value_index] for t in op._inputs]
    if all(new is old for new, old in zip(new_inputs, op._inputs)):
        return op
    graph = op.graph
    attrs = dict(op._attrs)
    if graph._colocation_stack:
        attrs.pop("_class", None)  # the current colocation decides, as for any new op
    op_type = "Switch" if op._type == "RefSwitch" else op._type
    # A name ending in "/" is taken as it is (not made unique, not under the name scope).
    name = (op.name + "_" + scope).replace(":", "_")
    return graph.create_op(op_type, new_inputs, name=name, attrs=attrs)


def _initialized_value_of_variable_op(variable_op):
    """initialized_value() of the collected variable whose op is `variable_op`, or None."""
    names = (variable_op.name, variable_op.name + ":0")
    graph = variable_op.graph
    for key in (ops.GraphKeys.GLOBAL_VARIABLES, ops.GraphKeys.LOCAL_VARIABLES):
        for var in graph.get_collection(key):
            try:
                if var.name in names:
                    return var.initialized_value()
            except AttributeError:  # an incomplete user-defined variable type
                return None
    return None


def _null():
    import contextlib
    return contextlib.nullcontext()


RefVariable = Variable
VariableV1 = Variable


def _variable_conversion(value, dtype=None, name=None, as_ref=False):
    if as_ref:
        return value._ref()
    if dtype is not None and not dtypes.as_dtype(dtype).is_compatible_with(value.dtype):
        raise ValueError("Incompatible type conversion requested to type '%s' for variable of "
                         "type '%s'" % (dtypes.as_dtype(dtype).name, value.dtype.name))
    return value.value()


ops.register_tensor_conversion_function(Variable, _variable_conversion, priority=10)


class SaveSliceInfo:
    """How a partitioned variable's slice sits in the full variable (for Saver)."""

    def __init__(self, full_name=None, full_shape=None, var_offset=None, var_shape=None,
                 save_slice_info_def=None, import_scope=None):
        if save_slice_info_def is not None:
            self.full_name = ops.prepend_name_scope(save_slice_info_def.full_name, import_scope)
            self.full_shape = list(save_slice_info_def.full_shape)
            self.var_offset = list(save_slice_info_def.var_offset)
            self.var_shape = list(save_slice_info_def.var_shape)
        else:
            self.full_name = full_name
            self.full_shape = full_shape
            self.var_offset = var_offset
            self.var_shape = var_shape

    @property
    def spec(self):
        full_shape_str = " ".join("%d" % d for d in self.full_shape) + " "
        sl_spec = ":".join("%d,%d" % (o, s) for o, s in zip(self.var_offset, self.var_shape))
        return full_shape_str + sl_spec

    def to_proto(self, export_scope=None):
        from tensorkeep.io import protos

        proto = protos.SaveSliceInfoDef()
        proto.full_name = ops.strip_name_scope(self.full_name, export_scope)
        proto.full_shape.extend(self.full_shape)
        proto.var_offset.extend(self.var_offset)
        proto.var_shape.extend(self.var_shape)
        return proto


Variable.SaveSliceInfo = SaveSliceInfo


# --- collections and initializers --------------------------------------------------------------------

def global_variables(scope=None):
    return ops.get_collection(ops.GraphKeys.GLOBAL_VARIABLES, scope)


def all_variables():
    return global_variables()


def local_variables(scope=None):
    return ops.get_collection(ops.GraphKeys.LOCAL_VARIABLES, scope)


def trainable_variables(scope=None):
    return ops.get_collection(ops.GraphKeys.TRAINABLE_VARIABLES, scope)


def model_variables(scope=None):
    return ops.get_collection(ops.GraphKeys.MODEL_VARIABLES, scope)


def moving_average_variables(scope=None):
    return ops.get_collection(ops.GraphKeys.MOVING_AVERAGE_VARIABLES, scope)


def variables_initializer(var_list, name="init"):
    if var_list:
        return control_flow_ops.group(*[v.initializer for v in var_list], name=name)
    return control_flow_ops.no_op(name=name)


def initialize_variables(var_list, name="init"):
    return variables_initializer(var_list, name=name)


def global_variables_initializer():
    return variables_initializer(global_variables())


def initialize_all_variables():
    return global_variables_initializer()


def local_variables_initializer():
    return variables_initializer(local_variables())


def initialize_local_variables():
    return local_variables_initializer()


def is_variable_initialized(variable):
    return state_ops.is_variable_initialized(variable)


def assert_variables_initialized(var_list=None):
    if var_list is None:
        var_list = global_variables() + local_variables()
    if not var_list:
        return None
    ranks = [math_ops.cast(state_ops.is_variable_initialized(v), "int32") for v in var_list]
    return math_ops.reduce_all(math_ops.cast(array_ops.stack(ranks), "bool"))


def report_uninitialized_variables(var_list=None, name="report_uninitialized_variables"):
    """A 1-D string tensor naming the variables of var_list that are not initialized."""
    if var_list is None:
        var_list = global_variables() + local_variables()
    with ops.name_scope(name):
        if not var_list:
            return array_ops.constant(np.array([], dtype=object), dtype=dtypes.string)
        mask = math_ops.logical_not(array_ops.stack(
            [state_ops.is_variable_initialized(v._ref() if isinstance(v, Variable) else v)
             for v in var_list]))
        names = array_ops.constant([v.op.name for v in var_list])
        return array_ops.boolean_mask(names, mask)


# Position of `use_resource` among Variable's positional arguments (after self).
_USE_RESOURCE_INDEX = list(
    inspect.signature(Variable.__init__).parameters).index("use_resource") - 1
