"""tf.import_graph_def: GraphDef protobufs into the default graph, checked as TensorFlow does.

The import follows TensorFlow's C++ graph constructor: node names are prefixed by a unique
name scope (`import/`, `import_1/`, ...) or, with `name=""`, kept and made unique only where
they collide; nodes are created in topological order (ties broken by GraphDef position, so
re-exported graphs list nodes in TensorFlow's order); while-loop back edges into Merge nodes
are connected last; `_output_shapes` attrs refine the inferred shapes and are then dropped;
every NodeDef is validated against its op's schema. Malformed graphs raise ValueError with
TensorFlow's message, unknown op types `errors.NotFoundError`.

Op types tensorkeep has no schema for are still imported when their OpDef comes with the graph
(a meta graph's `stripped_op_list`, or a function in the GraphDef's library): they get a
schema without a kernel, so the graph imports and re-exports unchanged and only running such
a node fails.
"""

import heapq
import re

from tensorkeep.framework import device as device_lib
from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import gc_pause
from tensorkeep.framework import op_def as op_def_lib
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape


def _logger():
    """TensorFlow's logger; `logging` is imported only when there is something to log."""
    import logging

    return logging.getLogger("tensorflow")


# Letters, digits and dots first; then also '-', '/', '_'; '>' starts a new segment.
_VALID_NODE_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/]*(>[A-Za-z0-9.][A-Za-z0-9_.\-/]*)*$")
_MERGE_OPS = frozenset(["Merge", "RefMerge", "_XlaMerge"])
_NEXT_ITERATION_OPS = frozenset(["NextIteration", "RefNextIteration"])
# Graphs this old wrote "unknown shape" as an empty (scalar) Placeholder shape.
_LAST_LEGACY_PLACEHOLDER_PRODUCER = 21
_COLOCATION_PREFIX = b"loc:@"
# Ops that call a Python function registered by the process that built the graph: a file
# cannot carry that code, and loading never runs code named by a file, so they are refused.
_PYTHON_FUNCTION_OPS = frozenset(["PyFunc", "PyFuncStateless", "EagerPyFunc"])

# TensorFlow's C++ spelling of dtype names, used in its error messages.
_C_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}

# AttrValue oneof field expected for each attr type.
_ATTR_VALUE_FIELD = {"type": "type", "int": "i", "float": "f", "bool": "b", "string": "s",
                     "shape": "shape", "tensor": "tensor", "func": "func"}


@gc_pause.paused_gc
def import_graph_def(graph_def, input_map=None, return_elements=None, name=None, op_dict=None,
                     producer_op_list=None):
    """Imports `graph_def` into the default graph.

    Args:
      graph_def: a GraphDef protobuf.
      input_map: {tensor name in graph_def ("x:0", "x", or "^x" for control inputs): Tensor}
        replacing those inputs by tensors of the default graph ("^x" by the tensor's op).
      return_elements: names in graph_def to return: "x:0" gives the imported Tensor, "x" the
        imported Operation.
      name: prefix for the imported names (default "import", made unique); "" for none.
      op_dict: ignored (deprecated in TensorFlow).
      producer_op_list: an OpList of the producer's OpDefs (a meta graph's stripped_op_list):
        attrs unknown here that hold the producer's default are dropped, and op types without
        a schema here are imported from their OpDef.

    Returns:
      The elements named by return_elements, or None when it is None.
    """
    del op_dict
    graph_def = _check_graph_def(graph_def)
    input_map = _check_input_map(input_map)
    return_elements = _check_return_elements(return_elements)
    graph = ops.get_default_graph()
    with ops.name_scope(name, "import", list(input_map.values())) as scope:
        prefix = scope[:-1] if scope else ""
        input_map = _convert_input_map_values(name, input_map)
    with graph._lock:
        graph._check_not_finalized()
        importer = _Importer(graph, graph_def, prefix, input_map, producer_op_list)
        importer.run()
        return importer.return_elements(return_elements)


# --- arguments ----------------------------------------------------------------------------------

def _check_graph_def(graph_def):
    from tensorkeep.io import protos

    if isinstance(graph_def, protos.GraphDef):
        return graph_def
    # A GraphDef of another protobuf pool (e.g. real TensorFlow's) converts by its wire format.
    if type(graph_def).__name__ == "GraphDef" and hasattr(graph_def, "SerializeToString"):
        return protos.GraphDef.FromString(graph_def.SerializeToString())
    raise TypeError("graph_def must be a GraphDef proto.")


def _check_input_map(input_map):
    if input_map is None:
        return {}
    if not (isinstance(input_map, dict) and all(isinstance(k, (str, bytes)) for k in input_map)):
        raise TypeError("input_map must be a dictionary mapping strings to Tensor objects.")
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in input_map.items()}


def _check_return_elements(return_elements):
    if return_elements is None:
        return None
    if not all(isinstance(x, (str, bytes)) for x in return_elements):
        raise TypeError("return_elements must be a list of strings.")
    return [x.decode() if isinstance(x, bytes) else x for x in return_elements]


def _convert_input_map_values(name, input_map):
    """Input map values become Tensors (created in the import scope, as TensorFlow does)."""
    if all(isinstance(v, ops.Tensor) for v in input_map.values()):
        return input_map
    if name == "":
        raise ValueError("tf.import_graph_def() requires a non-empty `name` if `input_map` "
                         "contains non-Tensor values. Try calling tf.convert_to_tensor() on "
                         "`input_map` values before calling tf.import_graph_def().")
    with ops.name_scope("_inputs"):
        return {k: ops.convert_to_tensor(v) for k, v in input_map.items()}


def parse_tensor_name(name):
    """("x", 0) for "x:0" and "x"; ("x", -1) for the control input "^x"."""
    if name.startswith("^"):
        return name[1:], -1
    parts = name.split(":")
    if len(parts) == 1:
        return name, 0
    if len(parts) == 2:
        try:
            return parts[0], int(parts[1])
        except ValueError:
            pass
    raise ValueError("Cannot convert %r to a tensor name." % (name,))


def _tensor_id_string(node_name, index):
    return "^" + node_name if index == -1 else "%s:%d" % (node_name, index)


# --- schemas ----------------------------------------------------------------------------------

def _schema_from_op_def(op_def):
    """An OpSchema without kernel or shape function for an OpDef tensorkeep does not register."""
    def arg_text(arg):
        text = dtypes.as_dtype(arg.type).name if arg.type else (arg.type_attr or
                                                                arg.type_list_attr)
        if arg.number_attr:
            text = "%s * %s" % (arg.number_attr, text)
        return "%s: Ref(%s)" % (arg.name, text) if arg.is_ref else "%s: %s" % (arg.name, text)

    schema = op_def_lib.OpSchema(
        op_def.name, [arg_text(a) for a in op_def.input_arg],
        [arg_text(a) for a in op_def.output_arg],
        ["%s: %s" % (a.name, a.type) for a in op_def.attr], op_def.is_stateful,
        op_def.is_commutative, None, None, op_def.allows_uninitialized_input, False)
    for attr_def in op_def.attr:
        spec = schema.attrs[attr_def.name]
        if attr_def.HasField("default_value"):
            spec.default = op_def_lib.attr_value_to_python(attr_def.default_value)
        if attr_def.has_minimum:
            spec.minimum = attr_def.minimum
        allowed = attr_def.allowed_values.list
        if allowed.type:
            spec.allowed_values = [dtypes.as_dtype(t) for t in allowed.type]
        elif allowed.s:
            spec.allowed_values = [s.decode() for s in allowed.s]
    schema._op_def = op_def
    return schema


def _attr_value_text(value):
    """An AttrValue as TensorFlow's SummarizeAttrValue writes it."""
    kind = value.WhichOneof("value")
    if kind == "type":
        return _enum_name(value.type)
    if kind == "b":
        return "true" if value.b else "false"
    if kind == "s":
        return '"%s"' % value.s.decode("utf-8", "replace")
    if kind in ("i", "f"):
        return "%g" % getattr(value, kind) if kind == "f" else str(value.i)
    if kind == "shape":
        return _shape_text(tensor_shape.TensorShape(value.shape))
    if kind == "list":
        items = value.list
        parts = ([_enum_name(t) for t in items.type] + [str(i) for i in items.i] +
                 ["%g" % f for f in items.f] + ['"%s"' % s.decode("utf-8", "replace")
                                                for s in items.s] +
                 [("true" if b else "false") for b in items.b] +
                 [_shape_text(tensor_shape.TensorShape(s)) for s in items.shape])
        return "[%s]" % ", ".join(parts)
    return "<%s>" % kind


def _enum_name(type_enum):
    from tensorkeep.io import protos

    return protos.DataType.Name(type_enum)


def _summarize_op_def(op_def):
    """`Op<name=...; signature=...; attr=...>` as TensorFlow writes it into its errors."""
    def args(arg_list):
        parts = []
        for arg in arg_list:
            type_text = (_type_string(dtypes.as_dtype(arg.type)) if arg.type else
                         arg.type_attr + arg.type_list_attr)
            number = arg.number_attr + "*" if arg.number_attr else ""
            text = number + type_text
            parts.append("%s:%s" % (arg.name, "Ref(%s)" % text if arg.is_ref else text))
        return ", ".join(parts)

    text = "Op<name=%s; signature=%s -> %s" % (op_def.name, args(op_def.input_arg),
                                                args(op_def.output_arg))
    for attr in op_def.attr:
        text += "; attr=%s:%s" % (attr.name, attr.type)
        if attr.HasField("default_value"):
            text += ",default=" + _attr_value_text(attr.default_value)
        if attr.has_minimum:
            text += ",min=%d" % attr.minimum
        if attr.HasField("allowed_values"):
            text += ",allowed=" + _attr_value_text(attr.allowed_values)
    for flag in ("is_commutative", "is_aggregate", "is_stateful", "allows_uninitialized_input"):
        if getattr(op_def, flag):
            text += "; %s=true" % flag
    return text + ">"


def _type_string(dtype):
    """TensorFlow's C++ name of a dtype: float, double, int32, float_ref, ..."""
    base = dtype.base_dtype
    name = _C_TYPE_NAMES.get(base.name, base.name)
    return name + "_ref" if dtype.is_ref_dtype else name


def _shape_text(shape):
    if shape.ndims is None:
        return "<unknown>"
    return "[%s]" % ",".join("?" if d is None else str(d) for d in shape.as_list())


# --- the importer -----------------------------------------------------------------------------

class _Importer:
    """One import_graph_def call: validation, naming, op creation, results."""

    def __init__(self, graph, graph_def, prefix, input_map, producer_op_list):
        self._graph = graph
        self._graph_def = graph_def
        self._prefix = prefix + "/" if prefix else ""
        self._producer_op_defs = {op.name: op for op in producer_op_list.op} \
            if producer_op_list is not None else {}
        self._functions = {f.signature.name: f for f in graph_def.library.function}
        self._input_map = {}
        for key, value in input_map.items():
            self._input_map[parse_tensor_name(key)] = value
        self._used_input_map_keys = set()
        self._existing_names = set(graph._nodes_by_name)
        self._existing_prefixes = set()
        for existing in graph._nodes_by_name:
            self._existing_prefixes.update(_name_prefixes(existing))
        self._index = {}           # original node name -> position in graph_def.node
        self._gdef_prefixes = set()
        self._created = {}         # original node name -> Operation
        self._uniquified = {}      # prefixed name -> unique name it was given
        self._back_edges = []      # (Operation, input position, source node name, output index)
        self._schemas = {}         # op type -> OpSchema
        versions = graph_def.versions
        self._producer = min(graph._graph_def_versions_producer, versions.producer)

    # --- the steps, in TensorFlow's order ------------------------------------------------------
    def run(self):
        self._check_versions()
        self._check_prefix()
        self._check_input_map_targets()
        self._build_index()
        pending, consumers = self._count_pending_inputs()
        self._check_op_types()
        created = []
        try:
            self._convert(pending, consumers, created)
            self._connect_back_edges()
            self._resolve_colocation(created)
        except BaseException:
            _detach(created)
            raise
        for op in created:
            self._graph._add_op(op)
            for controller in self._graph._control_dependencies_stack:
                controller.add_op(op)
        self._update_graph()

    def _check_versions(self):
        versions = self._graph_def.versions
        if versions.min_consumer > ops.GRAPH_DEF_VERSION:
            raise ValueError("GraphDef min consumer version %d above current version %d for "
                             "tensorkeep (TensorFlow 2.21's graph format).  Please upgrade "
                             "tensorkeep." % (versions.min_consumer, ops.GRAPH_DEF_VERSION))
        if ops.GRAPH_DEF_VERSION in versions.bad_consumers:
            raise ValueError("GraphDef disallows consumer version %d.  Please upgrade "
                             "TensorFlow: this version is likely buggy." % ops.GRAPH_DEF_VERSION)

    def _check_prefix(self):
        if self._prefix and not _VALID_NODE_NAME.match(self._prefix[:-1]):
            raise ValueError("Imported node name prefix '%s' would lead to invalid node names"
                             % self._prefix)

    def _check_input_map_targets(self):
        for (src_name, src_index), target in self._input_map.items():
            if not isinstance(target, ops.Tensor) or target.graph is not self._graph:
                raise ValueError("input_map value for %s must be a Tensor of the graph being "
                                 "imported into, got %r"
                                 % (_tensor_id_string(src_name, src_index), target))

    def _build_index(self):
        for position, node in enumerate(self._graph_def.node):
            if not _VALID_NODE_NAME.match(node.name):
                raise ValueError("Node '%s': Node name contains invalid characters" % node.name)
            if node.name in self._index:
                raise ValueError("Node '%s' is not unique" % node.name)
            self._index[node.name] = position
            if not node.op:
                raise ValueError("Node '%s' does not specify an operation" % node.name)
            in_control_inputs = False
            for input_name in node.input:
                if input_name.startswith("^"):
                    in_control_inputs = True
                elif in_control_inputs:
                    raise ValueError("Node '%s': Control dependencies must come after regular "
                                     "dependencies" % node.name)
            self._gdef_prefixes.update(_name_prefixes(node.name))

    def _count_pending_inputs(self):
        """Per node, how many inputs must be created before it; and who consumes whom."""
        nodes = self._graph_def.node
        next_iterations = {n.name for n in nodes if n.op in _NEXT_ITERATION_OPS}
        pending = []
        consumers = [[] for _ in nodes]
        for position, node in enumerate(nodes):
            count = len(node.input)
            if node.op in _MERGE_OPS:
                # A loop's Merge waits for its entry input only, not for the back edge.
                control = sum(1 for i in node.input if i.startswith("^"))
                if any(not i.startswith("^") and parse_tensor_name(i)[0] in next_iterations
                       for i in node.input):
                    count = control + 1
            for input_name in node.input:
                source, index = parse_tensor_name(input_name)
                if (source, index) in self._input_map:
                    count -= 1
                    continue
                source_position = self._index.get(source)
                if source_position is None:
                    raise ValueError("Node '%s': Unknown input node '%s'" % (node.name,
                                                                              input_name))
                consumers[source_position].append(position)
            pending.append(count)
        return pending, consumers

    def _check_op_types(self):
        unknown = {}
        for node in self._graph_def.node:
            if node.op in _PYTHON_FUNCTION_OPS:
                raise ValueError(
                    "Node '%s' is a %s op: it calls Python code registered by the program that built "
                    "the graph, which no file can carry, and tensorkeep never runs code named by a file. "
                    "Remove the node (e.g. with tf.graph_util.extract_sub_graph) to load the rest of "
                    "the graph." % (node.name, node.op))
            if self._schema(node.op) is None:
                unknown.setdefault(node.op, node.name)
        if unknown:
            op_type, node_name = next(iter(unknown.items()))
            raise errors.NotFoundError(
                None, None, "Op type not registered '%s' in binary running on tensorkeep "
                "(node '%s'). tensorkeep implements %d op types; the op types of this graph "
                "that it lacks are: %s." % (op_type, node_name, len(op_def_lib.load_all_ops()),
                                             ", ".join(sorted(unknown))))

    def _schema(self, op_type):
        if op_type not in self._schemas:
            schema = op_def_lib.get_schema(op_type)
            if schema is None:
                op_def = self._producer_op_defs.get(op_type)
                if op_def is None and op_type in self._functions:
                    op_def = self._functions[op_type].signature
                if op_def is not None:
                    schema = _schema_from_op_def(op_def)
            self._schemas[op_type] = schema
        return self._schemas[op_type]

    def _convert(self, pending, consumers, created):
        nodes = self._graph_def.node
        ready = [position for position, count in enumerate(pending) if count == 0]
        heapq.heapify(ready)
        processed = 0
        while ready:
            position = heapq.heappop(ready)
            processed += 1
            node = nodes[position]
            op = self._create_op(node)
            created.append(op)
            self._created[node.name] = op
            from_next_iteration = node.op in _NEXT_ITERATION_OPS
            for consumer in consumers[position]:
                if from_next_iteration and nodes[consumer].op in _MERGE_OPS:
                    continue
                pending[consumer] -= 1
                if pending[consumer] == 0:
                    heapq.heappush(ready, consumer)
        if processed < len(nodes):
            raise ValueError("%d nodes in a cycle" % (len(nodes) - processed))

    # --- one node -------------------------------------------------------------------------------
    def _create_op(self, node):
        graph = self._graph
        schema = self._schema(node.op)
        data_inputs, control_inputs, back_edges = self._resolve_inputs(node)
        self._check_colocation(node)
        name = self._unique_name(self._prefix + node.name)
        attrs = self._attrs(node, schema, name)
        expected = _input_types(schema, attrs)
        if len(expected) != len(data_inputs):
            raise ValueError("NodeDef expected inputs '%s' do not match %d inputs specified; "
                             "%s; NodeDef: {{node %s}}" % (
                                 ", ".join(_type_string(t) for t in expected), len(data_inputs),
                                 _summarize_op_def(schema.op_def), name))
        for position, tensor in enumerate(data_inputs):
            if tensor is not None and not _types_compatible(expected[position], tensor.dtype):
                raise ValueError("Input %d of node %s was passed %s from %s incompatible with "
                                 "expected %s." % (position, name, _type_string(tensor.dtype),
                                                   tensor.name, _type_string(expected[position])))
        for controller in graph._control_dependencies_stack:
            for control_op in controller.control_inputs:
                if control_op not in control_inputs:
                    control_inputs.append(control_op)
        declared_shapes = attrs.pop("_output_shapes", None)
        op = ops.Operation(graph, name, node.op, [t for t in data_inputs if t is not None],
                           _output_types(schema, attrs), attrs, control_inputs, schema)
        op._device = self._device(node, op)
        if back_edges:
            op._inputs = list(data_inputs)  # slots of back edges are filled at the end
            for position, source, index in back_edges:
                self._back_edges.append((op, position, source, index))
        else:
            self._infer_shapes(op, schema)
        if declared_shapes is not None:
            _apply_declared_shapes(op, declared_shapes)
        return op

    def _resolve_inputs(self, node):
        """([Tensor or None for a back edge], [control Operations], [(slot, source, index)])."""
        data_inputs, control_inputs, back_edges = [], [], []
        for input_name in node.input:
            source, index = parse_tensor_name(input_name)
            mapped = self._input_map.get((source, index))
            if mapped is not None:
                self._used_input_map_keys.add((source, index))
                if index == -1:
                    if mapped.op not in control_inputs:
                        control_inputs.append(mapped.op)
                else:
                    data_inputs.append(mapped)
                continue
            source_op = self._created.get(source)
            if source_op is None:
                # Only NextIteration -> Merge edges reach a node not created yet.
                if node.op not in _MERGE_OPS or index == -1:
                    raise ValueError("Node '%s' had a back edge, but only Merge nodes can have "
                                     "back edges." % node.name)
                back_edges.append((len(data_inputs), source, index))
                data_inputs.append(None)
                continue
            if index == -1:
                if source_op not in control_inputs:
                    control_inputs.append(source_op)
                continue
            if index >= len(source_op._outputs):
                raise ValueError("Node '%s': Connecting to invalid output %d of source node %s "
                                 "which has %d outputs." % (node.name, index, source,
                                                            len(source_op._outputs)))
            data_inputs.append(source_op._outputs[index])
        return data_inputs, control_inputs, back_edges

    def _check_colocation(self, node):
        if "_class" not in node.attr:
            return
        groups = node.attr["_class"]
        if groups.WhichOneof("value") != "list" or any(field.name != "s" for field, _ in groups.list.ListFields()):
            raise ValueError("Node '%s': attr '_class' must be a list of strings, got %s"
                             % (node.name, groups.WhichOneof("value") or "nothing"))
        for group in groups.list.s:
            if group.startswith(_COLOCATION_PREFIX):
                target = group[len(_COLOCATION_PREFIX):].decode("utf-8", "replace")
                if target not in self._index:
                    raise ValueError("Node '%s' expects to be colocated with unknown node '%s'"
                                     % (node.name, target))

    def _unique_name(self, name):
        if name not in self._existing_names and name not in self._existing_prefixes:
            return name
        count = 0
        candidate = name
        while (candidate in self._existing_names or candidate in self._existing_prefixes or
               (count > 0 and (candidate in self._index or candidate in self._gdef_prefixes))):
            count += 1
            candidate = "%s_%d" % (name, count)
        self._uniquified[name] = candidate
        return candidate

    def _attrs(self, node, schema, name):
        """The node's attrs as python values: defaults filled, checked against the schema."""
        attrs = {}
        producer_op_def = self._producer_op_defs.get(node.op)
        for key, value in node.attr.items():
            kind = value.WhichOneof("value")
            spec = schema.attrs.get(key)
            if kind is None and spec is not None and spec.has_default:
                continue  # an empty AttrValue stands for the default
            if spec is None and not key.startswith("_"):
                if producer_op_def is not None and _is_producer_default(producer_op_def, key,
                                                                        value):
                    continue  # a newer producer's attr at its default: safe to drop
                _logger().error("NodeDef mentions attribute %s which is not in the op definition: "
                              "%s This may be expected if your graph generating binary is newer "
                              " than this binary. Unknown attributes will be ignored. NodeDef: "
                              "{{node %s}}", key, _summarize_op_def(schema.op_def), name)
            try:
                if spec is not None:
                    self._check_attr_value(spec, value, name, schema)
                attrs[key] = op_def_lib.attr_value_to_python(value)
            except TypeError as error:  # e.g. a DataType number no TensorFlow version defines
                raise ValueError("Node '%s': attr '%s' has an invalid value: %s" % (name, key, error)) from None
        for spec in schema.attrs.values():
            if spec.name in attrs:
                continue
            if not spec.has_default:
                raise ValueError("NodeDef missing attr '%s' from %s; NodeDef: {{node %s}}"
                                 % (spec.name, _summarize_op_def(schema.op_def), name))
            default = spec.default
            attrs[spec.name] = list(default) if isinstance(default, list) else default
        return attrs

    def _check_attr_value(self, spec, value, node_name, schema):
        kind = value.WhichOneof("value")
        is_list = spec.type.startswith("list(")
        element_type = spec.type[5:-1] if is_list else spec.type
        expected_field = _ATTR_VALUE_FIELD.get(element_type)
        if expected_field is None:
            return
        if is_list:
            values = getattr(value.list, expected_field) if kind == "list" else None
            well_formed = kind == "list" and not any(
                getattr(value.list, field) for field in _ATTR_VALUE_FIELD.values()
                if field != expected_field)
        else:
            values = [getattr(value, expected_field)] if kind == expected_field else None
            well_formed = kind == expected_field
        if not well_formed:
            raise ValueError("AttrValue had value with type '%s' when '%s' expected\n\t for attr "
                             "'%s'\n\t; NodeDef: {{node %s}}; %s" % (
                                 "list" if kind == "list" else (kind or "<unset>"), spec.type,
                                 spec.name, node_name, _summarize_op_def(schema.op_def)))
        if spec.minimum is not None:
            amount = len(values) if is_list else values[0]
            if amount < spec.minimum:
                raise ValueError("Value for attr '%s' of %d must be at least minimum %d\n\t; "
                                 "NodeDef: {{node %s}}; %s" % (
                                     spec.name, amount, spec.minimum, node_name,
                                     _summarize_op_def(schema.op_def)))
        if spec.allowed_values is None:
            return
        for item in values:
            if element_type == "type":
                allowed = dtypes.as_dtype(item).base_dtype in spec.allowed_values
                shown = _type_string(dtypes.as_dtype(item))
                allowed_text = ", ".join(_type_string(d) for d in spec.allowed_values)
            else:
                shown = item.decode("utf-8", "replace")
                allowed = shown in spec.allowed_values
                allowed_text = ", ".join('"%s"' % v for v in spec.allowed_values)
                shown = '"%s"' % shown
            if not allowed:
                raise ValueError("Value for attr '%s' of %s is not in the list of allowed values: "
                                 "%s\n\t; NodeDef: {{node %s}}; %s" % (
                                     spec.name, shown, allowed_text, node_name,
                                     _summarize_op_def(schema.op_def)))

    def _colocation_group(self, group):
        """`loc:@x` of the GraphDef -> the imported node's group (prefixed, made unique)."""
        if not group.startswith(_COLOCATION_PREFIX):
            return group
        target = self._prefix + group[len(_COLOCATION_PREFIX):].decode("utf-8", "replace")
        return _COLOCATION_PREFIX + self._uniquified.get(target, target).encode()

    def _device(self, node, op):
        """The node's device (canonical spelling) merged with the device scopes active at
        import, as TensorFlow does (colocated nodes are placed by _resolve_colocation)."""
        try:
            device = device_lib.canonical_name(node.device) if node.device else ""
        except ValueError as error:
            raise ValueError("Node '%s' has an invalid device: %s" % (node.name, error)) from None
        if self._graph._device_stack:
            device = self._graph._apply_device_functions(op, device)
        return device

    def _resolve_colocation(self, created):
        """Colocation groups name the imported (prefixed, uniquified) nodes; a colocated node
        takes the device of the first node of its group that has one, as in TensorFlow."""
        by_name = {op._name: op for op in created}
        for op in created:
            groups = op._attrs.get("_class")
            if not groups:
                continue
            groups = op._attrs["_class"] = [self._colocation_group(g) for g in groups]
            targets = [g[len(_COLOCATION_PREFIX):].decode("utf-8", "replace") for g in groups
                       if g.startswith(_COLOCATION_PREFIX)]
            targets = [t for t in targets if t != op._name]
            if not targets:
                continue
            op._device = ""
            for target in targets:
                target_op = by_name.get(target) or self._graph._nodes_by_name.get(target)
                if target_op is not None and target_op._device:
                    op._device = device_lib.canonical_name(target_op._device)
                    break

    def _infer_shapes(self, op, schema):
        if schema.shape_fn is not None:
            try:
                shapes = schema.shape_fn(op)
            except TypeError as error:  # e.g. a constant input whose TensorProto has no valid dtype
                raise ValueError("Node '%s': cannot infer its shapes: %s" % (op._name, error)) from None
            for tensor, shape in zip(op._outputs, shapes):
                if shape is not None:
                    tensor._shape_val = tensor_shape.as_shape(shape)
        if (op._type == "Placeholder" and self._producer <= _LAST_LEGACY_PLACEHOLDER_PRODUCER
                and not op._attrs["shape"].ndims):
            op._outputs[0]._shape_val = tensor_shape.unknown_shape()

    def _connect_back_edges(self):
        for op, position, source, index in self._back_edges:
            source_op = self._created[source]
            if index >= len(source_op._outputs):
                raise ValueError("Node '%s': Connecting to invalid output %d of source node %s "
                                 "which has %d outputs." % (op.name, index, source,
                                                            len(source_op._outputs)))
            tensor = source_op._outputs[index]
            expected = _input_types(op._schema, op._attrs)[position]
            if not _types_compatible(expected, tensor.dtype):
                raise ValueError("Input %d of node %s was passed %s from %s incompatible with "
                                 "expected %s." % (position, op.name, _type_string(tensor.dtype),
                                                   tensor.name, _type_string(expected)))
            op._inputs[position] = tensor
            tensor._add_consumer(op)

    def _update_graph(self):
        graph = self._graph
        versions = self._graph_def.versions
        graph._graph_def_versions_producer = self._producer
        graph._min_consumer = max(graph._min_consumer, versions.min_consumer)
        for function_def in self._graph_def.library.function:
            graph._functions.setdefault(function_def.signature.name, function_def)
        unused = sorted(key for key in self._input_map if key not in self._used_input_map_keys
                        and not self._is_valid_output(*key))
        if unused:
            raise ValueError("Attempted to map inputs that were not found in graph_def: [%s]"
                             % ", ".join(_tensor_id_string(*key) for key in unused))

    def _is_valid_output(self, node_name, index):
        """Whether an input_map key names an imported node's output (or the node, for "^x"):
        mapped though never consumed, which TensorFlow accepts."""
        op = self._created.get(node_name)
        return op is not None and index < len(op._outputs)

    # --- results --------------------------------------------------------------------------------
    def return_elements(self, names):
        if names is None:
            return None
        results = []
        for name in names:
            if ":" in name:
                node_name, index = parse_tensor_name(name)
                mapped = self._input_map.get((node_name, index))
                if mapped is not None:
                    results.append(mapped)
                    continue
                op = self._created.get(node_name)
                if op is None:
                    raise ValueError("Requested return tensor '%s' not found in graph def"
                                     % _tensor_id_string(node_name, index))
                if not 0 <= index < len(op._outputs):
                    raise ValueError("Invalid return output %d of node '%s', which has %d "
                                     "output(s)" % (index, node_name, len(op._outputs)))
                results.append(op._outputs[index])
            else:
                op = self._created.get(name)
                if op is None:
                    raise ValueError("Requested return node '%s' not found in graph def" % name)
                results.append(op)
        return results


# --- helpers ------------------------------------------------------------------------------------

def _name_prefixes(name):
    """"a" and "a/b" for "a/b/c"."""
    parts = name.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _is_producer_default(producer_op_def, attr_name, value):
    for attr_def in producer_op_def.attr:
        if attr_def.name == attr_name:
            return attr_def.HasField("default_value") and attr_def.default_value == value
    return False


def _arg_types(arg, attrs):
    if arg.type is not None:
        types = [arg.type]
    elif arg.type_list_attr:
        types = [dtypes.as_dtype(t) for t in attrs[arg.type_list_attr]]
    else:
        types = [dtypes.as_dtype(attrs[arg.type_attr])]
    if arg.number_attr:
        types = types * attrs[arg.number_attr]
    if arg.is_ref:
        types = [t if t.is_ref_dtype else t._as_ref for t in types]
    return types


def _input_types(schema, attrs):
    return [t for arg in schema.inputs for t in _arg_types(arg, attrs)]


def _output_types(schema, attrs):
    return [t for arg in schema.outputs for t in _arg_types(arg, attrs)]


def _types_compatible(expected, actual):
    """A ref tensor may feed a plain input; a plain tensor never feeds a ref input."""
    return expected == actual or (not expected.is_ref_dtype and expected == actual.base_dtype)


def _apply_declared_shapes(op, declared_shapes):
    """Refines output shapes by the `_output_shapes` attr (then dropped, as TensorFlow does)."""
    if not isinstance(declared_shapes, list) or \
            not all(isinstance(shape, tensor_shape.TensorShape) for shape in declared_shapes):
        raise ValueError("Node '%s': its _output_shapes attribute is not a list of shapes" % op.name)
    if len(declared_shapes) < len(op._outputs):
        raise ValueError("Node '%s' has %d outputs but the _output_shapes attribute specifies "
                         "shapes for %d outputs" % (op.name, len(op._outputs),
                                                    len(declared_shapes)))
    if len(declared_shapes) > len(op._outputs):
        _logger().warning("Node '%s' has %d outputs but the _output_shapes attribute specifies "
                        "shapes for %d outputs. Output shapes may be inaccurate.", op.name,
                        len(op._outputs), len(declared_shapes))
    for position, tensor in enumerate(op._outputs):
        declared = tensor_shape.as_shape(declared_shapes[position])
        inferred = tensor._shape_val
        if not inferred.is_compatible_with(declared):
            raise ValueError("Node '%s' has an _output_shapes attribute inconsistent with the "
                             "GraphDef for output #%d: %s" % (op.name, position,
                                                              _mismatch(inferred, declared)))
        tensor._shape_val = inferred.merge_with(declared)


def _mismatch(first, second):
    if first.ndims != second.ndims:
        return "Shapes must be equal rank, but are %d and %d" % (first.ndims, second.ndims)
    for axis, (a, b) in enumerate(zip(first.as_list(), second.as_list())):
        if a is not None and b is not None and a != b:
            return ("Dimension %d in both shapes must be equal, but are %d and %d. Shapes are "
                    "%s and %s." % (axis, a, b, _shape_text(first), _shape_text(second)))
    return "Shapes %s and %s are incompatible" % (_shape_text(first), _shape_text(second))


def _detach(created):
    """Undoes a failed import: the new ops stop consuming the graph's existing tensors/ops."""
    new_ops = set(created)
    for op in created:
        for tensor in op._inputs:
            if tensor is not None and tensor.op not in new_ops and op in tensor._consumers:
                tensor._consumers.remove(op)
        for control_op in op._control_inputs:
            if control_op not in new_ops and op in control_op._control_outputs:
                control_op._control_outputs.remove(op)
