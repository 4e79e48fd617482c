"""Graph, Operation and Tensor: the dataflow graph with TensorFlow 1.x naming and semantics."""

import contextlib
import re
import threading

from tensorkeep.framework import device as device_lib
from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import op_def as op_def_lib
from tensorkeep.framework import tensor_shape

# Producer version written into GraphDefs (TensorFlow 2.21's GRAPH_DEF_VERSION) and the oldest
# consumer version that can read them.
GRAPH_DEF_VERSION = 2474
GRAPH_DEF_VERSION_MIN_CONSUMER = 0

_VALID_OP_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")
_VALID_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.\\/>-]*$")


class GraphKeys:
    """Standard collection names, as TensorFlow spells them."""

    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    SUMMARIES = "summaries"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    CONCATENATED_VARIABLES = "concatenated_variables"
    SAVERS = "savers"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    SAVEABLE_OBJECTS = "saveable_objects"
    RESOURCES = "resources"
    LOCAL_RESOURCES = "local_resources"
    TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    READY_FOR_LOCAL_INIT_OP = "ready_for_local_init_op"
    SUMMARY_OP = "summary_op"
    GLOBAL_STEP = "global_step"
    EVAL_STEP = "eval_step"
    TRAIN_OP = "train_op"
    COND_CONTEXT = "cond_context"
    WHILE_CONTEXT = "while_context"
    _SUMMARY_COLLECTION = "_SUMMARY_V2"
    VARIABLES = GLOBAL_VARIABLES
    _VARIABLE_COLLECTIONS = [
        GLOBAL_VARIABLES, LOCAL_VARIABLES, METRIC_VARIABLES, MODEL_VARIABLES,
        TRAINABLE_VARIABLES, MOVING_AVERAGE_VARIABLES, CONCATENATED_VARIABLES,
        TRAINABLE_RESOURCE_VARIABLES,
    ]
    _STREAMING_MODEL_PORTS = "streaming_model_ports"


# A `tf.device("")` scope: skipped when placing ops (unlike None, it does not hide the scopes
# around it).
_NULL_DEVICE_MERGE = object()


# --- tensors ------------------------------------------------------------------------------------

_UNKNOWN_SHAPE = tensor_shape.unknown_shape()


class Tensor:
    """A symbolic handle to one output of an Operation."""

    __slots__ = ("_op", "_value_index", "_dtype", "_shape_val", "_consumers", "__weakref__")

    # Let NumPy defer to our operators (`np.float32(2) * t` builds an op, not an array).
    __array_priority__ = 100

    def __init__(self, op, value_index, dtype):
        self._op = op
        self._value_index = value_index
        self._dtype = dtype if type(dtype) is dtypes.DType else dtypes.as_dtype(dtype)
        self._shape_val = _UNKNOWN_SHAPE  # shapes are immutable: one instance serves all
        # Edge lists start as the shared empty tuple and become lists on the first edge
        # (_add_edge): most tensors and ops never get one, and every list is one more object
        # for the garbage collector to scan in a graph of 100,000 ops.
        self._consumers = ()

    @property
    def op(self):
        return self._op

    def _add_consumer(self, op):
        if self._consumers:
            self._consumers.append(op)
        else:
            self._consumers = [op]

    @property
    def graph(self):
        return self._op._graph

    @property
    def name(self):
        return "%s:%d" % (self._op._name, self._value_index)

    @property
    def dtype(self):
        return self._dtype

    @property
    def device(self):
        return self._op.device

    @property
    def value_index(self):
        return self._value_index

    @property
    def shape(self):
        return self._shape_val

    def get_shape(self):
        return self._shape_val

    def set_shape(self, shape):
        self._shape_val = self._shape_val.merge_with(shape)

    def consumers(self):
        return list(self._consumers)

    def _as_node_def_input(self):
        if self._value_index == 0:
            return self._op._name
        return "%s:%d" % (self._op._name, self._value_index)

    def _as_tf_output(self):
        return (self._op, self._value_index)

    def eval(self, feed_dict=None, session=None):
        return _eval_using_default_session(self, feed_dict, self.graph, session)

    def experimental_ref(self):
        return self

    def ref(self):
        return self

    def __repr__(self):
        return "<tf.Tensor '%s' shape=%s dtype=%s>" % (self.name, self._shape_val, self._dtype.name)

    def __str__(self):
        return 'Tensor("%s"%s%s%s)' % (
            self.name,
            (", shape=%s" % self._shape_val) if self._shape_val.ndims is not None else "",
            (", dtype=%s" % self._dtype.name) if self._dtype else "",
            (", device=%s" % self.device) if self.device else "")

    # Identity hashing in C: tensors key the executor's and the graph's dicts.
    __hash__ = object.__hash__

    def __eq__(self, other):
        # TF1 semantics: tensors compare by identity (use tf.equal for elementwise).
        return self is other

    def __ne__(self, other):
        return self is not other

    def __bool__(self):
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is not "
                        "None:` instead of `if t:` to test if a tensor is defined, and use "
                        "TensorFlow ops such as tf.cond to execute subgraphs conditioned on the "
                        "value of a tensor.")

    def __iter__(self):
        shape = self._shape_val
        if shape.ndims is None or shape.ndims == 0 or shape[0].value is None:
            raise TypeError("Tensor objects are only iterable when eager execution is enabled, "
                            "or when the first dimension of their shape is known. To iterate "
                            "over this tensor use tf.map_fn.")
        return iter([self[i] for i in range(shape[0].value)])

    def __len__(self):
        raise TypeError("len is not well defined for symbolic Tensors. (%s) Please call "
                        "`x.shape` rather than `len(x)` for shape information." % self.name)

    def __array__(self, dtype=None, copy=None):
        raise NotImplementedError(
            "Cannot convert a symbolic Tensor (%s) to a numpy array. Run it in a session "
            "(sess.run(tensor) or tensor.eval()) to get its value." % self.name)

    @staticmethod
    def _override_operator(operator, func):
        setattr(Tensor, operator, func)


def _eval_using_default_session(tensors, feed_dict, graph, session=None):
    if session is None:
        session = get_default_session()
        if session is None:
            raise ValueError("Cannot evaluate tensor using `eval()`: No default session is "
                             "registered. Use `with sess.as_default()` or pass an explicit "
                             "session to `eval(session=sess)`")
        if session.graph is not graph:
            raise ValueError("Cannot use the default session to evaluate tensor: the tensor's "
                             "graph is different from the session's graph. Pass an explicit "
                             "session to `eval(session=sess)`.")
    elif session.graph is not graph:
        raise ValueError("Cannot use the given session to evaluate tensor: the tensor's graph "
                         "is different from the session's graph.")
    return session.run(tensors, feed_dict)


# --- operations -----------------------------------------------------------------------------------

class Operation:
    """A node of the graph: an op type, inputs, attrs and output tensors."""

    def __init__(self, graph, name, op_type, inputs, output_dtypes, attrs, control_inputs,
                 schema, device=""):
        self._graph = graph
        self._name = name
        self._type = op_type
        self._inputs = list(inputs) if inputs else ()
        self._control_inputs = list(control_inputs) if control_inputs else ()
        self._attrs = attrs
        self._schema = schema
        self._device = device
        self._outputs = [Tensor(self, i, dt) for i, dt in enumerate(output_dtypes)]
        self._control_outputs = ()
        self._id = graph._next_id()
        self._original_op = None
        self._control_flow_context = None
        for t in self._inputs:
            consumers = t._consumers
            if consumers:
                consumers.append(self)
            else:
                t._consumers = [self]
        for op in self._control_inputs:
            op._add_control_output(self)

    def _add_control_output(self, op):
        if self._control_outputs:
            self._control_outputs.append(op)
        else:
            self._control_outputs = [op]

    # --- basic properties -------------------------------------------------------------------
    @property
    def name(self):
        return self._name

    @property
    def type(self):
        return self._type

    @property
    def graph(self):
        return self._graph

    @property
    def inputs(self):
        return tuple(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def control_inputs(self):
        return list(self._control_inputs)

    @property
    def _control_outputs_list(self):
        return list(self._control_outputs)

    @property
    def device(self):
        return self._device

    def _set_device(self, device):
        self._device = device or ""

    @property
    def op_def(self):
        return self._schema.op_def if self._schema is not None else None

    @property
    def node_def(self):
        return self._to_node_def()

    @property
    def traceback(self):
        return []

    @property
    def colocation_groups(self):
        classes = self._attrs.get("_class")
        groups = [c if isinstance(c, bytes) else c.encode() for c in (classes or [])
                  if (c if isinstance(c, bytes) else c.encode()).startswith(b"loc:@")]
        return groups or [("loc:@" + self._name).encode()]

    def values(self):
        return tuple(self._outputs)

    def run(self, feed_dict=None, session=None):
        _eval_using_default_session(self, feed_dict, self._graph, session)

    # --- attrs --------------------------------------------------------------------------------
    def get_attr(self, name):
        if name not in self._attrs:
            raise ValueError("Operation '%s' has no attr named '%s'." % (self._name, name))
        value = self._attrs[name]
        attr_type = self._attr_type(name)
        if attr_type == "tensor":
            if not _is_tensor_proto(value):
                return op_def_lib.python_to_attr_value(value, "tensor").tensor
            copy = type(value)()  # a Const may share its proto with others (tf.constant)
            copy.CopyFrom(value)
            return copy
        if attr_type == "string" and isinstance(value, str):
            return value.encode()
        if attr_type == "raw":
            return op_def_lib.attr_value_to_python(value)
        if type(value) is tuple:  # list attrs may be held as tuples (_class)
            return list(value)
        return value

    def _set_attr(self, name, value):
        self._attrs[name] = value

    def _attr_type(self, name):
        if self._schema is not None:
            spec = self._schema.attrs.get(name)
            if spec is not None:
                return spec.type
        return op_def_lib.infer_attr_type(self._attrs[name])

    def _attr_value_proto(self, name):
        return op_def_lib.python_to_attr_value(self._attrs[name], self._attr_type(name))

    @property
    def attrs_dict(self):
        return dict(self._attrs)

    # --- graph edits --------------------------------------------------------------------------
    def _add_control_input(self, op):
        if op not in self._control_inputs:
            if self._control_inputs:
                self._control_inputs.append(op)
            else:
                self._control_inputs = [op]
            op._add_control_output(self)
            self._graph._structure_changed()

    def _add_control_inputs(self, ops):
        for op in ops:
            self._add_control_input(op)

    def _update_input(self, index, tensor):
        old = self._inputs[index]
        old._consumers.remove(self)
        self._inputs[index] = tensor
        tensor._add_consumer(self)
        self._graph._structure_changed()

    def _get_control_flow_context(self):
        return self._control_flow_context

    def _set_control_flow_context(self, context):
        self._control_flow_context = context

    def _remove_all_control_inputs(self):
        for op in self._control_inputs:
            op._control_outputs.remove(self)
        self._control_inputs = []
        self._graph._structure_changed()

    # --- serialization ----------------------------------------------------------------------
    def _to_node_def(self, add_shapes=False):
        from tensorkeep.io import protos

        node = protos.NodeDef(name=self._name, op=self._type)
        node.input.extend([t._as_node_def_input() for t in self._inputs])
        # TensorFlow writes control inputs sorted by name.
        node.input.extend(sorted("^" + op._name for op in self._control_inputs))
        if self._device:
            node.device = self._device
        for name in sorted(self._attrs):
            node.attr[name].CopyFrom(self._attr_value_proto(name))
        if add_shapes and self._outputs:
            shapes = node.attr["_output_shapes"].list
            shapes.SetInParent()
            shapes.shape.extend(t._shape_val.as_proto() for t in self._outputs)
        return node

    def __repr__(self):
        return "<tf.Operation '%s' type=%s>" % (self._name, self._type)

    def __str__(self):
        from google.protobuf import text_format

        return "name: %r\nop: %r\n%s" % (self._name, self._type, text_format.MessageToString(
            self._to_node_def(), as_one_line=False).split("\n", 2)[-1])


def _is_tensor_proto(value):
    return type(value).__name__ == "TensorProto"


# --- the graph ------------------------------------------------------------------------------------

class _GraphNameScope:
    """Graph.name_scope's context manager; a class rather than a generator because every op
    built through apply_op enters one."""

    __slots__ = ("_graph", "_name", "_old_stack")

    def __init__(self, graph, name):
        self._graph = graph
        self._name = name

    def __enter__(self):
        graph, name = self._graph, self._name
        if name:
            if isinstance(name, bytes):
                name = name.decode()
            if graph._name_stack:
                if not _VALID_SCOPE_NAME.match(name):
                    raise ValueError("'%s' is not a valid scope name" % name)
            elif not _VALID_OP_NAME.match(name):
                raise ValueError("'%s' is not a valid scope name" % name)
        self._old_stack = graph._name_stack
        if not name:
            new_stack = ""
            returned_scope = ""
        elif name[-1] == "/":
            new_stack = name[:-1]
            returned_scope = name
        else:
            new_stack = graph.unique_name(name)
            returned_scope = new_stack + "/"
        graph._name_stack = (new_stack + "/") if new_stack else ""
        return returned_scope

    def __exit__(self, *exc):
        self._graph._name_stack = self._old_stack
        return False


class _ColocationScope:
    """Graph.colocate_with's context manager; a class rather than a generator because every
    variable's ops enter one."""

    __slots__ = ("_graph", "_op", "_ignore_existing", "_saved")

    def __init__(self, graph, op, ignore_existing):
        self._graph = graph
        self._op = op
        self._ignore_existing = ignore_existing

    def __enter__(self):
        graph, op = self._graph, self._op
        if op is None and not self._ignore_existing:
            raise ValueError("Trying to reset colocation (op is None) but ignore_existing is "
                             "not True")
        if isinstance(op, Tensor):
            op = op.op
        elif op is not None and not isinstance(op, Operation) and hasattr(op, "op"):
            op = op.op
        self._saved = graph._colocation_stack, graph._device_stack
        graph._device_stack = []
        if self._ignore_existing:
            graph._colocation_stack = []
        if op is not None:
            graph._colocation_stack = graph._colocation_stack + [op]

    def __exit__(self, *exc):
        self._graph._colocation_stack, self._graph._device_stack = self._saved
        return False


class _ControlDependenciesController:
    def __init__(self, graph, control_inputs):
        self._graph = graph
        if control_inputs is None:
            self._control_inputs = []
            self._new_stack = True
        else:
            self._control_inputs = control_inputs
            self._new_stack = False
        self._seen_nodes = set()
        self._old_stack = None

    def __enter__(self):
        if self._new_stack:
            self._old_stack = self._graph._control_dependencies_stack
            self._graph._control_dependencies_stack = []
            # control_dependencies(None) also leaves any tf.cond / tf.while_loop context.
            self._old_control_flow_context = self._graph._control_flow_context
            self._graph._control_flow_context = None
        self._graph._control_dependencies_stack.append(self)
        return self

    def __exit__(self, *exc):
        self._graph._control_dependencies_stack.pop()
        if self._new_stack:
            self._graph._control_dependencies_stack = self._old_stack
            self._graph._control_flow_context = self._old_control_flow_context

    @property
    def control_inputs(self):
        return self._control_inputs

    def add_op(self, op):
        self._seen_nodes.add(op)

    def op_in_group(self, op):
        return op in self._seen_nodes


class Graph:
    """A TensorFlow dataflow graph."""

    def __init__(self):
        self._lock = threading.RLock()
        self._nodes_by_name = {}
        self._nodes_in_order = []
        self._last_id = 0
        self._names_in_use = {}
        self._name_stack = ""
        self._control_dependencies_stack = []
        self._device_stack = []
        self._colocation_stack = []
        self._collections = {}
        self._seed = None
        self._finalized = False
        # Bumped when existing nodes change (edges added/removed), invalidating cached plans.
        self._structure_version = 0
        self._building_function = False
        self._control_flow_context = None  # the CondContext/WhileContext new ops belong to
        self._graph_def_versions_producer = GRAPH_DEF_VERSION
        self._min_consumer = GRAPH_DEF_VERSION_MIN_CONSUMER
        self._attr_scope = {}
        self._gradient_override_map = {}
        self._variable_creator_stack = []
        self._functions = {}
        self._unfetchable = set()
        self._unfeedable = set()
        # Op seeds for random ops that have none, under a graph seed: 0, 1, 2, ... (TF 2.x).
        self._random_seed_counter = 0

    # --- ids and names ------------------------------------------------------------------------
    def _next_id(self):
        self._last_id += 1
        return self._last_id

    @property
    def seed(self):
        return self._seed

    @seed.setter
    def seed(self, seed):
        self._seed = seed

    @property
    def version(self):
        return self._last_id

    @property
    def finalized(self):
        return self._finalized

    def finalize(self):
        self._finalized = True

    def _unsafe_unfinalize(self):
        self._finalized = False

    def _check_not_finalized(self):
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")

    def _structure_changed(self):
        self._structure_version += 1

    def get_name_scope(self):
        return self._name_stack[:-1] if self._name_stack.endswith("/") else self._name_stack

    def unique_name(self, name, mark_as_used=True):
        """TensorFlow's unique naming: `add`, `add_1`, ... (case-insensitive), under the scope."""
        if self._name_stack:
            name = self._name_stack + name
        name_key = name.lower()
        i = self._names_in_use.get(name_key, 0)
        if mark_as_used:
            self._names_in_use[name_key] = i + 1
        if i > 0:
            base_name_key = name_key
            while name_key in self._names_in_use:
                name_key = "%s_%d" % (base_name_key, i)
                i += 1
            if mark_as_used:
                self._names_in_use[name_key] = 1
            name = "%s_%d" % (name, i - 1)
        return name

    def name_scope(self, name):
        """Context manager entering scope `name` (made unique; `name/` re-enters it as is,
        "" or None returns to the top level); yields the scope string ending in "/"."""
        return _GraphNameScope(self, name)

    # --- control dependencies, devices, colocation --------------------------------------------
    def control_dependencies(self, control_inputs):
        if control_inputs is None:
            return _ControlDependenciesController(self, None)
        control_ops = []
        current = self._current_control_dependencies()
        for c in control_inputs:
            if hasattr(c, "_as_graph_element_for_control"):
                c = c._as_graph_element_for_control()
            elif hasattr(c, "op") and not isinstance(c, (Tensor, Operation)):
                c = c.op
            c = self.as_graph_element(c)
            if isinstance(c, Tensor):
                c = c.op
            elif not isinstance(c, Operation):
                raise TypeError("Control input must be Operation or Tensor: %s" % c)
            if c not in current:
                control_ops.append(c)
                current.add(c)
            # TensorFlow marks every op used as a manual control dependency.
            c._attrs["_has_manual_control_dependencies"] = True
        return _ControlDependenciesController(self, control_ops)

    def _current_control_dependencies(self):
        ret = set()
        for controller in self._control_dependencies_stack:
            ret.update(controller.control_inputs)
        return ret

    def _control_dependencies_for_inputs(self, input_ops):
        ret = []
        for controller in self._control_dependencies_stack:
            dominated = False
            for op in input_ops:
                if controller.op_in_group(op):
                    dominated = True
                    break
            if not dominated:
                ret.extend(c for c in controller.control_inputs if c not in input_ops)
        return ret

    @contextlib.contextmanager
    def device(self, device_name_or_function):
        """Ops created inside are placed by `device_name_or_function`: a device string or
        DeviceSpec (merged with enclosing scopes: inner fields win), a function of the op
        returning one, or None (ignore enclosing scopes)."""
        spec = device_name_or_function
        if spec is not None and not callable(spec):
            spec = spec if isinstance(spec, device_lib.DeviceSpec) \
                else device_lib.DeviceSpec.from_string(spec)  # bad strings raise here
            if not spec.to_string():
                spec = _NULL_DEVICE_MERGE
        self._device_stack.append(spec)
        try:
            yield
        finally:
            self._device_stack.pop()

    def _apply_device_functions(self, op, device=""):
        """The device of `op` under the device scopes, innermost first (TensorFlow's order):
        strings merge under what inner scopes chose, functions replace it, None stops."""
        for spec in reversed(self._device_stack):
            if spec is _NULL_DEVICE_MERGE:
                continue
            if spec is None:
                break
            if isinstance(spec, device_lib.DeviceSpec):
                device = device_lib.merge(spec, device)
            else:
                op._device = device  # the function sees what inner scopes chose
                chosen = spec(op)
                device = chosen.to_string() if isinstance(chosen, device_lib.DeviceSpec) \
                    else (chosen or "")
        return device

    def colocate_with(self, op, ignore_existing=False):
        """Ops created inside share `op`'s colocation group and device. As in TensorFlow,
        colocation is stronger than device scopes: the device stack is empty inside."""
        return _ColocationScope(self, op, ignore_existing)

    @contextlib.contextmanager
    def _attr_scope_ctx(self, attr_map):
        """Attrs given to every op created inside (TensorFlow's Graph._attr_scope)."""
        saved = dict(self._attr_scope)
        self._attr_scope.update(attr_map)
        try:
            yield
        finally:
            self._attr_scope = saved

    @contextlib.contextmanager
    def gradient_override_map(self, op_type_map):
        saved = dict(self._gradient_override_map)
        self._gradient_override_map.update(op_type_map)
        try:
            yield
        finally:
            self._gradient_override_map = saved

    # --- creating ops -------------------------------------------------------------------------
    def create_op(self, op_type, inputs, dtypes=None, input_types=None, name=None, attrs=None,
                  op_def=None, compute_shapes=True, compute_device=True):
        """TensorFlow-compatible create_op: attrs may be AttrValue protos or python values."""
        if attrs:
            attrs = {k: (op_def_lib.attr_value_to_python(v) if _is_attr_value_proto(v) else v)
                     for k, v in attrs.items()}
        return self._create_op(op_type, inputs, attrs or {}, name, output_dtypes=dtypes)

    def _create_op(self, op_type, inputs, attrs, name=None, output_dtypes=None,
                   control_inputs=None, output_shapes=None):
        """Creates an op from inputs (Tensors) and a python attr dict; fills attr defaults,
        infers type attrs from inputs, names it uniquely, runs its shape function (unless the
        caller knows the `output_shapes` it would give: TensorShapes)."""
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        schema = op_def_lib.get_schema(op_type)
        if name is None:
            name = op_type
        if name and name[-1] == "/":
            name = name[:-1]
            if not _VALID_OP_NAME.match(name):
                raise ValueError("'%s' is not a valid node name" % name)
        else:
            if not _VALID_OP_NAME.match(name) and not (self._name_stack and
                                                     _VALID_SCOPE_NAME.match(name)):
                raise ValueError("'%s' is not a valid node name" % name)
            name = self.unique_name(name)
        inputs = list(inputs)
        for t in inputs:
            if not isinstance(t, Tensor):
                raise TypeError("Input to op %s must be a Tensor, got %r" % (name, t))
            if t._op._graph is not self:
                raise ValueError("Tensor %s must be from the same graph as the op %s it feeds."
                                 % (t.name, name))
        if schema is not None:
            attrs, output_dtypes = _complete_attrs(schema, name, inputs, attrs, output_dtypes)
        elif output_dtypes is None:
            raise errors.NotFoundError(
                None, None, "Op type not registered '%s' in tensorkeep: node %s cannot be "
                "created. tensorkeep implements %d op types; this one is not among them."
                % (op_type, name, len(op_def_lib.load_all_ops())))
        if self._control_dependencies_stack:
            control_ops = self._control_dependencies_for_inputs({t._op for t in inputs})
        else:
            control_ops = []
        if control_inputs:
            control_ops = control_ops + [c for c in control_inputs if c not in control_ops]
        if self._attr_scope:
            for key, value in self._attr_scope.items():
                attrs.setdefault(key, value)
        colocation_device = ""
        if self._colocation_stack:
            # TensorFlow: the union of the groups, sorted; the device of the innermost
            # colocation op that has one.
            groups = set()
            for colocate_op in reversed(self._colocation_stack):
                groups.update(colocate_op.colocation_groups)
                if not colocation_device:
                    colocation_device = colocate_op._device
            # A tuple of bytes: the collector stops tracking it (a list it would scan forever).
            attrs["_class"] = tuple(sorted(groups))
        if self._gradient_override_map:
            override = self._gradient_override_map.get(op_type)
            if override is not None:
                attrs["_gradient_op_type"] = override.encode()
        op = Operation(self, name, op_type, inputs, output_dtypes, attrs, control_ops, schema)
        if self._device_stack:
            op._device = self._apply_device_functions(op)
        if colocation_device:
            op._device = colocation_device
        self._add_op(op)
        if output_shapes is not None:
            for tensor, shape in zip(op._outputs, output_shapes):
                tensor._shape_val = shape
        elif schema is not None and schema.shape_fn is not None:
            try:
                shapes = schema.shape_fn(op)
            except Exception:
                self._remove_op(op)  # an op whose shapes are impossible is not created
                raise
            for tensor, shape in zip(op._outputs, shapes):
                if shape is not None:
                    tensor._shape_val = (shape if type(shape) is tensor_shape.TensorShape
                                         else tensor_shape.as_shape(shape))
        for controller in self._control_dependencies_stack:
            controller.add_op(op)
        context = self._control_flow_context
        if context is not None:
            # Inside tf.cond / tf.while_loop: the context routes outside inputs through
            # Switch / Enter ops and gives input-less ops a control edge from its pivot.
            op._control_flow_context = context
            context.AddOp(op)
        return op

    def _get_control_flow_context(self):
        return self._control_flow_context

    def _set_control_flow_context(self, context):
        self._control_flow_context = context

    def _remove_op(self, op):
        """Takes a just-created op (nothing consumes it yet) back out of the graph."""
        del self._nodes_by_name[op._name]
        self._nodes_in_order.remove(op)
        for t in op._inputs:
            t._consumers.remove(op)
        for c in op._control_inputs:
            c._control_outputs.remove(op)

    def _add_op(self, op):
        if op._name in self._nodes_by_name:
            raise ValueError("Duplicate node name in graph: '%s'" % op._name)
        self._nodes_by_name[op._name] = op
        self._nodes_in_order.append(op)
        # Names created through the importer (not unique_name) must still block reuse.
        key = op._name.lower()
        if key not in self._names_in_use:
            self._names_in_use[key] = 1

    # --- lookup ---------------------------------------------------------------------------------
    def get_operations(self):
        return list(self._nodes_in_order)

    def get_operation_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError("Operation names are strings (or similar), not %s." % type(name).__name__)
        return self.as_graph_element(name, allow_tensor=False, allow_operation=True)

    def _get_operation_by_name_unsafe(self, name):
        return self._nodes_by_name[name]

    def get_tensor_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError("Tensor names are strings (or similar), not %s." % type(name).__name__)
        return self.as_graph_element(name, allow_tensor=True, allow_operation=False)

    def _get_tensor_by_tf_output(self, tf_output):
        op, index = tf_output
        return op._outputs[index]

    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        if allow_tensor and allow_operation:
            types_str = "Tensor or Operation"
        elif allow_tensor:
            types_str = "Tensor"
        else:
            types_str = "Operation"
        temp_obj = obj
        if hasattr(obj, "_as_graph_element") and not isinstance(obj, (Tensor, Operation)):
            temp_obj = obj._as_graph_element()
            if temp_obj is None:
                temp_obj = obj
        obj = temp_obj
        if isinstance(obj, str):
            name = obj
            if ":" in name and allow_tensor:
                try:
                    op_name, out_n = name.split(":")
                    out_n = int(out_n)
                except ValueError:
                    raise ValueError("The name %s looks a like a Tensor name, but is not a valid "
                                     "one. Tensor names must be of the form "
                                     "\"<op_name>:<output_index>\"." % repr(name))
                if op_name in self._nodes_by_name:
                    op = self._nodes_by_name[op_name]
                else:
                    raise KeyError("The name %s refers to a Tensor which does not exist. The "
                                   "operation, %s, does not exist in the graph."
                                   % (repr(name), repr(op_name)))
                try:
                    return op._outputs[out_n]
                except IndexError:
                    raise KeyError("The name %s refers to a Tensor which does not exist. The "
                                   "operation, %s, exists but only has %s outputs."
                                   % (repr(name), repr(op_name), len(op._outputs)))
            elif ":" in name and not allow_tensor:
                raise ValueError("Name %s appears to refer to a Tensor, not a %s."
                                 % (repr(name), types_str))
            elif ":" not in name and allow_operation:
                if name not in self._nodes_by_name:
                    raise KeyError("The name %s refers to an Operation not in the graph."
                                   % repr(name))
                return self._nodes_by_name[name]
            else:
                if name in self._nodes_by_name:
                    err_msg = ("The name %s refers to an Operation, not a %s." % (repr(name), types_str))
                else:
                    err_msg = ("The name %s looks like an (invalid) Operation name, not a %s."
                               % (repr(name), types_str))
                err_msg += " Tensor names must be of the form \"<op_name>:<output_index>\"."
                raise ValueError(err_msg)
        elif isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError("Tensor %s is not an element of this graph." % obj)
            return obj
        elif isinstance(obj, Operation) and allow_operation:
            if obj.graph is not self:
                raise ValueError("Operation %s is not an element of this graph." % obj)
            return obj
        raise TypeError("Can not convert a %s into a %s." % (type(obj).__name__, types_str))

    # --- collections ------------------------------------------------------------------------------
    def add_to_collection(self, name, value):
        self._check_not_finalized()
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        names = (names,) if isinstance(names, str) else set(names)
        for name in names:
            self.add_to_collection(name, value)

    def get_collection_ref(self, name):
        coll = self._collections.get(name)
        if coll is None:
            coll = []
            self._collections[name] = coll
        return coll

    def get_collection(self, name, scope=None):
        coll = self._collections.get(name)
        if coll is None:
            return []
        if scope is None:
            return list(coll)
        regex = re.compile(scope)
        out = []
        for item in coll:
            try:
                if regex.match(item.name):
                    out.append(item)
            except AttributeError:
                pass
        return out

    def get_all_collection_keys(self):
        return [k for k in self._collections if isinstance(k, str)]

    def clear_collection(self, name):
        self._check_not_finalized()
        self._collections.pop(name, None)

    @property
    def collections(self):
        return list(self._collections)

    # --- misc ---------------------------------------------------------------------------------
    def as_default(self):
        return _default_graph_stack.get_controller(self)

    def is_fetchable(self, tensor_or_op):
        return tensor_or_op not in self._unfetchable

    def is_feedable(self, tensor):
        return tensor not in self._unfeedable

    def prevent_fetching(self, op):
        self._unfetchable.add(op)

    def prevent_feeding(self, tensor):
        self._unfeedable.add(tensor)

    @property
    def graph_def_versions(self):
        from tensorkeep.io import protos

        return protos.VersionDef(producer=self._graph_def_versions_producer,
                                 min_consumer=self._min_consumer)

    def as_graph_def(self, from_version=None, add_shapes=False):
        from tensorkeep.io import protos

        graph_def = protos.GraphDef()
        graph_def.versions.producer = self._graph_def_versions_producer
        graph_def.versions.min_consumer = self._min_consumer
        nodes = [op._to_node_def(add_shapes) for op in self._nodes_in_order
                 if from_version is None or op._id > from_version]
        graph_def.node.extend(nodes)
        if self._functions:
            for function_def in self._functions.values():
                graph_def.library.function.add().CopyFrom(function_def)
        return graph_def

    def _as_graph_def(self, from_version=None, add_shapes=False):
        return self.as_graph_def(from_version, add_shapes), self._last_id

    def __enter__(self):
        self._ctx = self.as_default()
        return self._ctx.__enter__()

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def _is_attr_value_proto(value):
    return type(value).__name__ == "AttrValue"


def _complete_attrs(schema, name, inputs, attrs, output_dtypes):
    """Fills type/number attrs from the inputs and defaults from the schema; checks input
    counts and types; returns (attrs, output dtypes)."""
    attrs = dict(attrs)
    pos = 0
    n_inputs = len(inputs)
    for arg in schema.inputs:
        if arg.number_attr:
            count = attrs.get(arg.number_attr)
            if count is None:
                raise ValueError("Op %s (%s): attr %s (the length of input %s) is required"
                                 % (name, schema.name, arg.number_attr, arg.name))
            values = inputs[pos:pos + count]
            pos += count
        elif arg.type_list_attr:
            types = attrs.get(arg.type_list_attr)
            if types is None:
                raise ValueError("Op %s (%s): attr %s is required" % (name, schema.name,
                                                                     arg.type_list_attr))
            values = inputs[pos:pos + len(types)]
            pos += len(types)
            continue
        else:
            values = inputs[pos:pos + 1]
            pos += 1
        if len(values) == 0 and not arg.number_attr:
            raise ValueError("Op %s (%s) is missing input '%s'" % (name, schema.name, arg.name))
        for t in values:
            if arg.is_ref and not t.dtype.is_ref_dtype:
                raise TypeError("'%s' Op requires that input '%s' be a mutable tensor (e.g.: a "
                                "tf.Variable)" % (schema.name, arg.name))
            base = t.dtype.base_dtype
            if arg.type is not None:
                if base is not arg.type.base_dtype:
                    raise TypeError("Input '%s' of '%s' Op has type %s that does not match "
                                    "expected type of %s." % (arg.name, schema.name, base.name,
                                                              arg.type.base_dtype.name))
            elif arg.type_attr:
                have = attrs.get(arg.type_attr)
                if have is None:
                    attrs[arg.type_attr] = base
                elif have is not base:
                    raise TypeError("Input '%s' of '%s' Op has type %s that does not match type "
                                    "%s of argument '%s'." % (arg.name, schema.name, base.name,
                                                              have.name, arg.name))
    if pos != n_inputs:
        raise ValueError("Op %s (%s) expects %d inputs, got %d" % (name, schema.name, pos,
                                                                 n_inputs))
    for attr in schema.attrs.values():
        if attr.name not in attrs:
            if attr.has_default:
                default = attr.default
                attrs[attr.name] = list(default) if isinstance(default, list) else default
            else:
                raise ValueError("Op %s (%s) is missing attr '%s'" % (name, schema.name, attr.name))
        elif attr.allowed_values is not None and attr.type == "type":
            value = attrs[attr.name]
            if dtypes.as_dtype(value).base_dtype not in attr.allowed_values:
                raise TypeError("Value passed to parameter '%s' has DataType %s not in list of "
                                "allowed values: %s" % (
                                    attr.name, dtypes.as_dtype(value).name,
                                    ", ".join(d.name for d in attr.allowed_values)))
    if output_dtypes is None:
        output_dtypes = []
        for arg in schema.outputs:
            if arg.type is not None:
                dts = [arg.type]
            elif arg.type_list_attr:
                dts = list(attrs[arg.type_list_attr])
            else:
                dts = [attrs[arg.type_attr]]
            if arg.number_attr:
                dts = dts * attrs[arg.number_attr]
            if arg.is_ref:
                dts = [dtypes.as_dtype(d)._as_ref for d in dts]
            output_dtypes.extend(dts)
    return attrs, output_dtypes


# --- default graph and session stacks ------------------------------------------------------------

class _DefaultStack(threading.local):
    def __init__(self):
        super().__init__()
        self.stack = []

    def get_default(self):
        return self.stack[-1] if self.stack else None

    def get_controller(self, default):
        return _DefaultController(self, default)


class _DefaultController:
    """Makes `default` the top of a default stack (graph or session) while entered."""

    __slots__ = ("_stack_owner", "_default")

    def __init__(self, stack_owner, default):
        self._stack_owner = stack_owner
        self._default = default

    def __enter__(self):
        self._stack_owner.stack.append(self._default)
        return self._default

    def __exit__(self, *exc):
        stack, default = self._stack_owner.stack, self._default
        # The stack may have been reset (reset_default_graph) inside the block.
        if stack and stack[-1] is default:
            stack.pop()
        elif default in stack:
            stack.remove(default)
        return False


class _DefaultGraphStack(_DefaultStack):
    def __init__(self):
        super().__init__()
        self._global_default_graph = None

    def get_default(self):
        if self.stack:
            return self.stack[-1]
        if self._global_default_graph is None:
            self._global_default_graph = Graph()
        return self._global_default_graph

    def reset(self):
        self.stack = []
        self._global_default_graph = None


_default_graph_stack = _DefaultGraphStack()
_default_session_stack = _DefaultStack()


def get_default_graph():
    return _default_graph_stack.get_default()


def reset_default_graph():
    if _default_graph_stack.stack:
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. If you "
                             "need a cleared graph, exit the nesting and create a new graph.")
    _default_graph_stack.reset()


def get_default_session():
    return _default_session_stack.get_default()


def default_session(session):
    return _default_session_stack.get_controller(session)


# --- name scopes and context helpers ----------------------------------------------------------------

class name_scope:
    """`tf.name_scope(name, default_name=None, values=None)` (TF1 signature)."""

    def __init__(self, name, default_name=None, values=None):
        self._name = default_name if name is None else name
        self._default_name = default_name
        self._values = values
        self._ctx = None
        self._graph_ctx = None

    def __enter__(self):
        if self._name is None and self._values is not None:
            raise ValueError("At least one of name (%s) and default_name (%s) must be provided."
                             % (self._name, self._default_name))
        graph = _get_graph_from_inputs(self._values) if self._values else get_default_graph()
        if graph is not get_default_graph():
            self._graph_ctx = graph.as_default()
            self._graph_ctx.__enter__()
        self._ctx = graph.name_scope(self._name)
        try:
            return self._ctx.__enter__()
        except Exception:
            if self._graph_ctx is not None:
                self._graph_ctx.__exit__(None, None, None)
            raise

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)
        if self._graph_ctx is not None:
            self._graph_ctx.__exit__(*exc)
        return False


def name_scope_v2(name):
    return name_scope(name)


def _get_graph_from_inputs(op_input_list):
    graph = None
    for value in op_input_list or ():
        g = getattr(value, "graph", None)
        if isinstance(g, Graph):
            if graph is None:
                graph = g
            elif g is not graph:
                raise ValueError("%s must be from the same graph as %s." % (value, op_input_list[0]))
    return graph or get_default_graph()


def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


def device(device_name_or_function):
    return get_default_graph().device(device_name_or_function)


def colocate_with(op, ignore_existing=False):
    return get_default_graph().colocate_with(op, ignore_existing)


def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    get_default_graph().add_to_collections(names, value)


def get_collection(key, scope=None):
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    return get_default_graph().get_collection_ref(key)


def get_all_collection_keys():
    return get_default_graph().get_all_collection_keys()


def get_name_scope():
    return get_default_graph().get_name_scope()


def op_scope(values, name, default_name=None):
    return name_scope(name, default_name, values)


def strip_name_scope(name, export_scope):
    if not export_scope:
        return name
    if not export_scope.endswith("/"):
        export_scope += "/"
    return re.sub(r"([\^]|loc:@|^)" + re.escape(export_scope), r"\1", name, count=1)


def prepend_name_scope(name, import_scope):
    if not import_scope:
        return name
    if not import_scope.endswith("/"):
        import_scope += "/"
    return re.sub(r"([\^]|loc:@|^)(.*)", r"\1" + import_scope.replace("\\", "\\\\") + r"\2",
                  name, count=1)


# --- tensor conversion ------------------------------------------------------------------------

_conversion_registry = []
# type(value) -> the registry's entries that convert it, in order: a graph converts the same
# few types (floats, lists, arrays, variables) thousands of times.
_conversions_by_type = {}


def register_tensor_conversion_function(base_type, conversion_func, priority=100):
    """conversion_func(value, dtype=None, name=None, as_ref=False) -> Tensor."""
    _conversion_registry.append((priority, base_type, conversion_func))
    _conversion_registry.sort(key=lambda item: item[0])
    _conversions_by_type.clear()


def _conversions_for(value_type):
    entries = _conversions_by_type.get(value_type)
    if entries is None:
        entries = tuple(func for _, base_type, func in _conversion_registry
                        if issubclass(value_type, base_type))
        _conversions_by_type[value_type] = entries
    return entries


def convert_to_tensor(value, dtype=None, name=None, as_ref=False, preferred_dtype=None,
                      dtype_hint=None):
    """Converts Tensors, Variables, NumPy arrays and Python values to a Tensor."""
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    if isinstance(value, Tensor):
        if dtype is not None and not dtype.is_compatible_with(value.dtype):
            raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype %s: %r"
                             % (dtype.name, value.dtype.name, value))
        return value
    preferred_dtype = preferred_dtype or dtype_hint
    for func in _conversions_for(type(value)):
        if dtype is None and preferred_dtype is not None:
            try:
                result = func(value, dtype=preferred_dtype, name=name, as_ref=as_ref)
            except (TypeError, ValueError):
                result = NotImplemented
            if result is not NotImplemented and result is not None:
                return result
        result = func(value, dtype=dtype, name=name, as_ref=as_ref)
        if result is NotImplemented:
            continue
        if dtype is not None and not dtype.is_compatible_with(result.dtype):
            raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype %s: "
                             "%r" % (dtype.name, result.dtype.name, result))
        return result
    raise TypeError("Cannot convert %r with type %s to Tensor: no conversion function "
                    "registered." % (value, type(value).__name__))


internal_convert_to_tensor = convert_to_tensor


def convert_n_to_tensor(values, dtype=None, name=None, preferred_dtype=None):
    return [convert_to_tensor(v, dtype=dtype, preferred_dtype=preferred_dtype,
                              name=None if name is None else "%s_%d" % (name, i))
            for i, v in enumerate(values)]


def convert_to_tensor_or_indexed_slices(value, dtype=None, name=None):
    if hasattr(value, "values") and hasattr(value, "indices") and not isinstance(value, Tensor):
        return value
    return convert_to_tensor(value, dtype=dtype, name=name)


def is_tensor(x):
    return isinstance(x, Tensor) or hasattr(x, "_is_tensor_like")


def _as_graph_element(obj):
    conv = getattr(obj, "_as_graph_element", None)
    return conv() if conv is not None else None
