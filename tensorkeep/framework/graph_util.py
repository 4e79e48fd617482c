"""tf.graph_util (and tensorflow.python.framework.graph_util): freezing and pruning GraphDefs.

convert_variables_to_constants follows TensorFlow 2.21: the graph is pruned to what the
outputs need; each variable node (VariableV2, the pre-1.0 Variable, or a resource VarHandleOp)
becomes a Const holding the session's value; reads of a converted resource variable
(ReadVariableOp) become Identity, and the dtype of pass-through nodes (Identity, Switch, Merge,
Enter, ...) that carry a converted variable is updated.
"""

import copy
import logging
import re

from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_util
from tensorkeep.framework.importer import import_graph_def  # noqa: F401 (tf.graph_util's too)

_logger = logging.getLogger("tensorflow")

_VARIABLE_OPS = frozenset(["Variable", "VariableV2", "VarHandleOp"])
# Nodes that pass a value through: their type attr follows a converted variable's dtype.
_PASS_THROUGH_OPS = frozenset(["Enter", "Exit", "Identity", "NextIteration", "Switch",
                               "_SwitchN", "Merge"])


def _node_name(input_name):
    if input_name.startswith("^"):
        return input_name[1:]
    return input_name.split(":")[0]


def _colocated_node_name(group):
    group = group.decode("utf-8") if isinstance(group, bytes) else group
    return group[len("loc:@"):] if group.startswith("loc:@") else group


def _extract_graph_summary(graph_def):
    """({node: [names it needs, including colocated nodes]}, {node: NodeDef}, {node: position})."""
    name_to_inputs = {}
    name_to_node = {}
    name_to_position = {}
    for position, node in enumerate(graph_def.node):
        name = _node_name(node.name)
        name_to_node[name] = node
        name_to_inputs[name] = [_node_name(x) for x in node.input]
        if "_class" in node.attr:
            name_to_inputs[name].extend(_colocated_node_name(s)
                                        for s in node.attr["_class"].list.s)
        name_to_position[name] = position
    return name_to_inputs, name_to_node, name_to_position


def _reachable(targets, name_to_inputs):
    keep = set()
    to_visit = list(targets)
    while to_visit:
        name = to_visit.pop()
        if name in keep:
            continue
        keep.add(name)
        to_visit.extend(name_to_inputs.get(name, ()))
    return keep


def extract_sub_graph(graph_def, dest_nodes):
    """The GraphDef of the nodes `dest_nodes` (node names) depend on, in their original order
    (with the library and versions of graph_def)."""
    from tensorkeep.io import protos

    if not isinstance(graph_def, protos.GraphDef):
        raise TypeError("graph_def must be a graph_pb2.GraphDef proto, but got type %s."
                        % type(graph_def))
    if isinstance(dest_nodes, str):
        raise TypeError("dest_nodes must be an iterable of strings, but got type %s."
                        % type(dest_nodes))
    name_to_inputs, name_to_node, name_to_position = _extract_graph_summary(graph_def)
    for name in dest_nodes:
        assert name in name_to_node, "%s is not in graph" % name
    keep = sorted(_reachable(dest_nodes, name_to_inputs), key=lambda n: name_to_position[n])
    out = protos.GraphDef()
    out.node.extend(copy.deepcopy(name_to_node[n]) for n in keep)
    out.library.CopyFrom(graph_def.library)
    out.versions.CopyFrom(graph_def.versions)
    return out


def tensor_shape_from_node_def_name(graph, input_name):
    """The static shape of the tensor a NodeDef input string names ("x" means "x:0")."""
    canonical_name = input_name if ":" in input_name else input_name + ":0"
    return graph.get_tensor_by_name(canonical_name).get_shape()


def must_run_on_cpu(node, pin_variables_on_cpu=False):
    """Whether a node (Operation or NodeDef) has no GPU kernel in TensorFlow."""
    node_def = node.node_def if isinstance(node, ops.Operation) else node
    if pin_variables_on_cpu and node_def.op in ("Variable", "VariableV2", "VarHandleOp",
                                                "AutoReloadVariable", "MutableHashTable",
                                                "MutableHashTableV2",
                                                "MutableHashTableOfTensors",
                                                "MutableHashTableOfTensorsV2",
                                                "MutableDenseHashTable",
                                                "MutableDenseHashTableV2"):
        return True
    if node_def.op == "Const":
        dtype = node_def.attr["dtype"].type
        if dtype in (dtypes.string.as_datatype_enum, dtypes.int32.as_datatype_enum):
            return True
    if node_def.op in ("DynamicStitch", "ParallelDynamicStitch"):
        if node_def.attr["T"].type == dtypes.int32.as_datatype_enum:
            return True
    if node_def.op == "Cast":
        if node_def.attr["SrcT"].type == dtypes.int32.as_datatype_enum:
            return True
    return False


def remove_training_nodes(input_graph, protected_nodes=None):
    """Drops CheckNumerics nodes and splices out Identity/StopGradient nodes that no control
    edge or colocation group involves, except `protected_nodes`."""
    from tensorkeep.io import protos

    protected = set(protected_nodes or ())
    removed = {node.name for node in input_graph.node
               if node.op == "CheckNumerics" and node.name not in protected}
    kept = []
    for node in input_graph.node:
        if node.name in removed:
            continue
        new_node = protos.NodeDef()
        new_node.CopyFrom(node)
        del new_node.input[:]
        new_node.input.extend(i for i in node.input if re.sub(r"^\^", "", i) not in removed)
        kept.append(new_node)

    control_input_names = set()
    nodes_with_control_input = set()
    colocated = set()
    for node in kept:
        for input_name in node.input:
            if "^" in input_name:
                control_input_names.add(input_name.replace("^", ""))
                nodes_with_control_input.add(node.name)
        if "_class" in node.attr:
            colocated.update(_colocated_node_name(s) for s in node.attr["_class"].list.s)
    splice = {}
    for node in kept:
        if (node.op in ("Identity", "StopGradient") and node.name not in protected and
                node.name not in colocated and node.name not in nodes_with_control_input):
            splice[node.name] = node.input[0]
    splice = {name: source for name, source in splice.items()
              if name not in control_input_names}

    output_graph = protos.GraphDef()
    for node in kept:
        if node.name in splice:
            continue
        new_node = output_graph.node.add()
        new_node.CopyFrom(node)
        del new_node.input[:]
        for full_input_name in node.input:
            input_name = re.sub(r"^\^", "", full_input_name)
            while input_name in splice:
                full_input_name = splice[input_name]
                input_name = re.sub(r"^\^", "", full_input_name)
            new_node.input.append(full_input_name)
    return output_graph


# --- freezing ---------------------------------------------------------------------------------

def _read_tensor_name(sess, node):
    """The tensor whose value is the variable's: the variable itself for ref variables, the
    variable's read for resource variables (TensorFlow's `<name>/Read/ReadVariableOp:0`, else
    any read of the handle in the session's graph)."""
    if node.op != "VarHandleOp":
        return node.name + ":0"
    read_name = node.name + "/Read/ReadVariableOp"
    graph = sess.graph
    if read_name in graph._nodes_by_name:
        return read_name + ":0"
    handle = graph._nodes_by_name.get(node.name)
    if handle is not None:
        for consumer in handle._outputs[0]._consumers:
            if consumer.type == "ReadVariableOp":
                return consumer.name + ":0"
    return read_name + ":0"


def convert_variables_to_constants(sess, input_graph_def, output_node_names,
                                   variable_names_whitelist=None, variable_names_blacklist=None):
    """A GraphDef computing `output_node_names` with every variable replaced by a Const holding
    its value in `sess` (all of them, or those in the whitelist and not in the blacklist)."""
    graph_def = extract_sub_graph(input_graph_def, output_node_names)
    variables = []
    for node in graph_def.node:
        if node.op not in _VARIABLE_OPS:
            continue
        if variable_names_whitelist is not None and node.name not in variable_names_whitelist:
            continue
        if variable_names_blacklist is not None and node.name in variable_names_blacklist:
            continue
        variables.append(node)
    values = sess.run([_read_tensor_name(sess, node) for node in variables]) if variables else []
    _logger.info("Froze %d variables.", len(values))

    consumers = {}
    for node in graph_def.node:
        for position, input_name in enumerate(node.input):
            if not input_name.startswith("^"):
                consumers.setdefault(_node_name(input_name), []).append((node, position))
    for node, value in zip(variables, values):
        dtype_enum = node.attr["dtype"].type
        _retype_consumers(node.name, dtype_enum, consumers)
        name = node.name
        node.Clear()
        node.name = name
        node.op = "Const"
        node.attr["dtype"].type = dtype_enum
        node.attr["value"].tensor.CopyFrom(tensor_util.make_tensor_proto(
            value, dtype=dtypes.as_dtype(dtype_enum), shape=getattr(value, "shape", ())))
    _logger.info("Converted %d variables to const ops.", len(variables))
    return graph_def


def _retype_consumers(source_name, dtype_enum, consumers, seen=None):
    """Nodes reading a converted variable: ReadVariableOp becomes Identity; pass-through nodes
    take the value's dtype and forward it to their own consumers."""
    seen = set() if seen is None else seen
    for node, position in consumers.get(source_name, ()):
        if node.name in seen:
            continue
        seen.add(node.name)
        if node.op == "ReadVariableOp":
            colocation = copy.deepcopy(node.attr["_class"]) if "_class" in node.attr else None
            handle = node.input[0]
            name = node.name
            node.Clear()
            node.name = name
            node.op = "Identity"
            node.input.append(handle)
            node.attr["T"].type = dtype_enum
            if colocation is not None:
                node.attr["_class"].CopyFrom(colocation)
        elif node.op in _PASS_THROUGH_OPS:
            type_attr = node.attr["T"]
            if type_attr.HasField("list"):
                if position < len(type_attr.list.type):
                    type_attr.list.type[position] = dtype_enum
            else:
                type_attr.type = dtype_enum
            if "_output_shapes" in node.attr:
                del node.attr["_output_shapes"]
            _retype_consumers(node.name, dtype_enum, consumers, seen)
