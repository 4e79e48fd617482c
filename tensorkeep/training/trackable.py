"""TF2 object-based checkpoints: the `_CHECKPOINTABLE_OBJECT_GRAPH` tensor, decoded.

A TF2 checkpoint (tf.train.Checkpoint, Keras `save_weights`, a SavedModel's variables) keys its
tensors by object path ("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE") and stores
the graph of trackable objects that produced them as a serialized TrackableObjectGraph under
`_CHECKPOINTABLE_OBJECT_GRAPH`. This module reads that graph so the variables can be listed by
the path of the object holding them (`model/dense/kernel`), including optimizer slots.
"""

import collections

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"

ObjectVariable = collections.namedtuple(
    "ObjectVariable", "path attribute checkpoint_key full_name")
ObjectVariable.__doc__ = """One saved tensor of an object-based checkpoint.

path: the object's path from the root ("dense/kernel"; slots: "<variable path>/.OPTIMIZER_SLOT/
<optimizer path>/<slot name>"); attribute: the attribute name ("VARIABLE_VALUE");
checkpoint_key: the tensor's key in the checkpoint; full_name: the variable's graph name when
recorded ("dense/kernel")."""


def _reader_for(checkpoint):
    from tensorkeep import io as tkio

    if hasattr(checkpoint, "read") and hasattr(checkpoint, "keys"):
        return checkpoint, False
    return tkio.open_checkpoint_reader(checkpoint), True


def is_object_based(checkpoint):
    """Whether the checkpoint at `checkpoint` (a prefix or an open reader) is object-based."""
    reader, owned = _reader_for(checkpoint)
    try:
        return reader.has(OBJECT_GRAPH_KEY)
    finally:
        if owned:
            reader.close()


def read_object_graph(checkpoint):
    """The TrackableObjectGraph proto of an object-based checkpoint (prefix or open reader);
    ValueError if the checkpoint has none (a TF1 name-based checkpoint)."""
    from tensorkeep.io import protos

    reader, owned = _reader_for(checkpoint)
    try:
        if not reader.has(OBJECT_GRAPH_KEY):
            raise ValueError("The checkpoint at %s is name-based (it has no %s); its tensors are "
                             "keyed by variable name." % (getattr(reader, "prefix", checkpoint),
                                                          OBJECT_GRAPH_KEY))
        serialized = reader.read(OBJECT_GRAPH_KEY)
    finally:
        if owned:
            reader.close()
    value = serialized[()] if hasattr(serialized, "shape") else serialized
    graph = protos.TrackableObjectGraph()
    graph.ParseFromString(bytes(value))
    return graph


def object_paths(object_graph):
    """{node id: path} for every object reachable from the root (node 0), breadth first, so
    each object gets its shortest path; the root's path is ''."""
    paths = {0: ""}
    queue = collections.deque([0])
    while queue:
        node_id = queue.popleft()
        for child in object_graph.nodes[node_id].children:
            if child.node_id not in paths and 0 <= child.node_id < len(object_graph.nodes):
                parent = paths[node_id]
                paths[child.node_id] = child.local_name if not parent else \
                    parent + "/" + child.local_name
                queue.append(child.node_id)
    return paths


def _slot_paths(object_graph, paths):
    """Paths for slot variables (reachable only through their optimizer's slot table)."""
    slots = {}
    for node_id, node in enumerate(object_graph.nodes):
        optimizer_path = paths.get(node_id)
        if optimizer_path is None:
            continue
        for slot in node.slot_variables:
            variable_path = paths.get(slot.original_variable_node_id)
            if variable_path is None or slot.slot_variable_node_id in paths:
                continue
            slots[slot.slot_variable_node_id] = "%s/.OPTIMIZER_SLOT/%s/%s" % (
                variable_path, optimizer_path, slot.slot_name)
    return slots


def list_object_variables(checkpoint):
    """The checkpoint's saved tensors as ObjectVariable tuples, in object-path order."""
    object_graph = read_object_graph(checkpoint)
    paths = object_paths(object_graph)
    paths.update(_slot_paths(object_graph, paths))
    listed = []
    for node_id, node in enumerate(object_graph.nodes):
        path = paths.get(node_id)
        if path is None:
            continue
        for attribute in node.attributes:
            listed.append(ObjectVariable(path, attribute.name, attribute.checkpoint_key,
                                         attribute.full_name))
    listed.sort(key=lambda entry: (entry.path, entry.attribute))
    return listed


def variables_by_object_path(checkpoint):
    """{object path: checkpoint key} of the checkpoint's variable values (attribute
    VARIABLE_VALUE), e.g. {"layer_with_weights-0/kernel": "layer_with_weights-0/kernel/
    .ATTRIBUTES/VARIABLE_VALUE"}."""
    return {entry.path: entry.checkpoint_key for entry in list_object_variables(checkpoint)
            if entry.attribute == "VARIABLE_VALUE"}


def read_variables_by_object_path(checkpoint):
    """{object path: ndarray} of the checkpoint's variable values."""
    from tensorkeep import io as tkio

    keys = variables_by_object_path(checkpoint)
    with tkio.open_checkpoint_reader(checkpoint) as reader:
        return {path: reader.read(key) for path, key in keys.items()}
