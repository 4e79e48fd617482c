"""MetaGraphDef export and import: the machinery behind tf.train.export_meta_graph,
tf.train.import_meta_graph and the `.meta` file Saver.save writes.

A MetaGraphDef is written as TensorFlow 2.21 writes it: `meta_info_def` (the OpDefs of the op
types used, a TensorFlow-compatible `tensorflow_version` and tensorkeep's identity in
`tensorflow_git_version`), the GraphDef with `_output_shapes`, the SaverDef, and one
CollectionDef per collection. Collections whose key has registered proto functions (variables,
savers, control-flow contexts, ...) are stored as serialized protos; others as node names,
int64, float or bytes values; what cannot be serialized is skipped with a warning, as
TensorFlow does.

Layers below the framework register their collection protos here with
`register_proto_function` (TensorFlow's `ops.register_proto_function`).
"""

import logging
import os
import re

from tensorkeep.framework import graph_io
from tensorkeep.framework import importer
from tensorkeep.framework import op_def as op_def_lib
from tensorkeep.framework import ops

_logger = logging.getLogger("tensorflow")

# The TensorFlow release whose file formats tensorkeep writes; readers compare it with "1.9" to
# know whether VariableDef.trainable is set.
COMPATIBLE_TENSORFLOW_VERSION = "2.21.0"

_UNBOUND_INPUT_PREFIX = "$unbound_inputs_"
# Collections that old TensorFlow releases wrote without registered protos.
_COMPAT_COLLECTION_LIST = [ops.GraphKeys.LOCAL_VARIABLES, ops.GraphKeys.MODEL_VARIABLES,
                           ops.GraphKeys.METRIC_VARIABLES]
_SAVE_AND_RESTORE_OPS = frozenset(["SaveV2", "Save", "SaveSlice", "LegacySave",
                                   "LegacySaveSlice", "RestoreV2", "Restore", "RestoreSlice",
                                   "LegacyRestore", "LegacyRestoreSlice"])


# --- collection proto functions -------------------------------------------------------------------

_proto_functions = {}  # collection key -> (proto_type, to_proto, from_proto)


def register_proto_function(collection_name, proto_type=None, to_proto=None, from_proto=None):
    """Stores the values of collection `collection_name` as `proto_type` protos (a message
    class, or its name in tensorkeep.io.protos).

    to_proto(value, export_scope=None) -> proto (or None to skip the value);
    from_proto(proto, import_scope=None) -> value. Registering again replaces the functions.
    """
    if to_proto is not None and not callable(to_proto):
        raise TypeError("to_proto must be callable.")
    if from_proto is not None and not callable(from_proto):
        raise TypeError("from_proto must be callable.")
    _proto_functions[collection_name] = (proto_type, to_proto, from_proto)


def get_collection_proto_type(collection_name):
    proto_type = _proto_functions.get(collection_name, (None, None, None))[0]
    if isinstance(proto_type, str):
        # Registered by message name so that registering does not load the schemas.
        from tensorkeep.io import protos
        proto_type = getattr(protos, proto_type)
    return proto_type


def get_to_proto_function(collection_name):
    return _proto_functions.get(collection_name, (None, None, None))[1]


def get_from_proto_function(collection_name):
    return _proto_functions.get(collection_name, (None, None, None))[2]


# --- op lists -------------------------------------------------------------------------------------

def ops_used_by_graph_def(graph_def):
    """The op types a GraphDef uses, including inside its library functions (whose own names
    are not op types)."""
    functions = {f.signature.name: f for f in graph_def.library.function}
    used = set()
    to_visit = []

    def mark(op_type):
        if op_type not in used and op_type in functions:
            to_visit.append(functions[op_type])
        used.add(op_type)

    def visit(node):
        mark(node.op)
        if node.op in ("PartitionedCall", "StatefulPartitionedCall"):
            mark(node.attr["f"].func.name)

    for node in graph_def.node:
        visit(node)
    while to_visit:
        for node in to_visit.pop().node_def:
            visit(node)
    return [op_type for op_type in used if op_type not in functions]


def stripped_op_list_for_graph(graph_def, graph=None):
    """The OpList (sorted by name) of the op types `graph_def` uses.

    OpDefs come from the op registry; op types it lacks that were imported from a producer's
    OpDef (see importer) are found on `graph`'s operations; others are left out, as TensorFlow
    leaves out unregistered ops.
    """
    from tensorkeep.io import protos

    imported = {}
    if graph is not None:
        for op in graph.get_operations():
            if op._schema is not None and op._type not in imported:
                imported[op._type] = op._schema
    op_list = protos.OpList()
    for op_type in sorted(ops_used_by_graph_def(graph_def)):
        schema = op_def_lib.get_schema(op_type) or imported.get(op_type)
        if schema is not None:
            op_list.op.add().CopyFrom(schema.op_def)
    return op_list


def strip_graph_default_valued_attrs(meta_graph_def):
    """Removes attrs holding their op's default value (nodes and library functions) and marks
    `meta_info_def.stripped_default_attrs`."""
    functions = {f.signature.name for f in meta_graph_def.graph_def.library.function}

    def strip(node):
        if node.op in functions:
            return
        schema = op_def_lib.get_schema(node.op)
        if schema is None:
            return
        defaults = {a.name: a.default_value for a in schema.op_def.attr
                    if a.HasField("default_value")}
        for name in [n for n, value in node.attr.items() if defaults.get(n) == value]:
            del node.attr[name]

    for node in meta_graph_def.graph_def.node:
        strip(node)
    for function_def in meta_graph_def.graph_def.library.function:
        for node in function_def.node_def:
            strip(node)
    meta_graph_def.meta_info_def.stripped_default_attrs = True


# --- collections ----------------------------------------------------------------------------------

def _node_name_of(item):
    if isinstance(item, str):
        return item
    try:
        return item.name
    except AttributeError:
        return None


def _should_include_node(item, export_scope, exclude_nodes):
    """Whether a node (or collection item) belongs to the export; items without a name are
    always kept."""
    node_name = _node_name_of(item)
    if node_name is None:
        return True
    if exclude_nodes and (node_name in exclude_nodes or
                          (not isinstance(item, str) and item in exclude_nodes)):
        return False
    return node_name.startswith(_UNBOUND_INPUT_PREFIX) or (
        not export_scope or node_name.startswith(export_scope))


def _kind_name(item):
    """The CollectionDef field a plain collection value goes to."""
    if isinstance(item, (str, bytes)):
        return "bytes_list"
    if isinstance(item, int):
        return "int64_list"
    if isinstance(item, float):
        return "float_list"
    if getattr(getattr(item, "DESCRIPTOR", None), "full_name", None) == "google.protobuf.Any":
        return "any_list"
    return "node_list"


def add_collection_def(meta_graph_def, key, graph=None, export_scope=None, exclude_nodes=None,
                       override_contents=None):
    """Adds collection `key` of `graph` (or `override_contents`) to meta_graph_def."""
    if graph is not None and not isinstance(graph, ops.Graph):
        raise TypeError("graph must be of type Graph. Received type: %s." % type(graph))
    if not isinstance(key, (str, bytes)):
        _logger.warning("Only collections with string type keys will be serialized. This key "
                        "has %s", type(key))
        return
    graph = graph or ops.get_default_graph()
    items = override_contents if override_contents else graph.get_collection(key)
    items = [x for x in items if _should_include_node(x, export_scope, exclude_nodes)]
    if not items:
        return
    try:
        collection_def = meta_graph_def.collection_def[key]
        to_proto = get_to_proto_function(key)
        if to_proto is not None:
            proto_type = get_collection_proto_type(key)
            for item in items:
                proto = to_proto(item, export_scope=export_scope)
                if proto:
                    if proto_type is not None and not isinstance(proto, proto_type):
                        raise TypeError("%r is not a %s" % (proto, proto_type.__name__))
                    collection_def.bytes_list.value.append(proto.SerializeToString())
            return
        kind = _kind_name(items[0])
        field = getattr(collection_def, kind)
        if kind == "node_list":
            for item in items:
                if not export_scope or item.name.startswith(export_scope):
                    field.value.append(ops.strip_name_scope(item.name, export_scope))
        elif kind == "bytes_list":
            field.value.extend([x.encode() if isinstance(x, str) else x for x in items])
        elif kind == "any_list":
            for item in items:
                field.value.add().ParseFromString(item.SerializeToString())
        else:
            field.value.extend(items)
    except Exception as error:  # noqa: BLE001 (TensorFlow skips what it cannot serialize)
        _logger.warning("Issue encountered when serializing %s.\nType is unsupported, or the "
                        "types of the items don't match field type in CollectionDef. Note this "
                        "is a warning and probably safe to ignore.\n%s", key, error)
        if key in meta_graph_def.collection_def:
            del meta_graph_def.collection_def[key]


# --- building and writing -------------------------------------------------------------------------

def _tensorkeep_identity():
    import tensorkeep

    return "tensorkeep-" + tensorkeep.__version__


def create_meta_graph_def(meta_info_def=None, graph_def=None, saver_def=None,
                          collection_list=None, graph=None, export_scope=None,
                          exclude_nodes=None, clear_extraneous_savers=False,
                          strip_default_attrs=False):
    """A MetaGraphDef of `graph` (default graph) or of the given `graph_def`."""
    from tensorkeep.io import protos

    if graph is not None and not isinstance(graph, ops.Graph):
        raise TypeError("graph must be of type Graph. Received type: %s." % type(graph))
    if meta_info_def is not None and not isinstance(meta_info_def,
                                                    protos.MetaGraphDef.MetaInfoDef):
        raise TypeError("meta_info_def must be of type MetaInfoDef. Received type: %s."
                        % type(meta_info_def))
    if graph_def is not None and not isinstance(graph_def, protos.GraphDef):
        raise TypeError("graph_def must be of type GraphDef. Received type: %s."
                        % type(graph_def))
    if saver_def is not None and not isinstance(saver_def, protos.SaverDef):
        raise TypeError("saver_def must be of type SaverDef. Received type: %s."
                        % type(saver_def))
    graph = graph or ops.get_default_graph()
    meta_graph_def = protos.MetaGraphDef()
    if meta_info_def is None:
        meta_info_def = protos.MetaGraphDef.MetaInfoDef()
    meta_info_def.tensorflow_version = COMPATIBLE_TENSORFLOW_VERSION
    meta_info_def.tensorflow_git_version = _tensorkeep_identity()
    meta_graph_def.meta_info_def.MergeFrom(meta_info_def)
    if graph_def is None:
        graph_def = graph.as_graph_def(add_shapes=True)
    meta_graph_def.graph_def.MergeFrom(graph_def)
    if not meta_graph_def.meta_info_def.stripped_op_list.op:
        meta_graph_def.meta_info_def.stripped_op_list.MergeFrom(
            stripped_op_list_for_graph(meta_graph_def.graph_def, graph))
    if strip_default_attrs:
        strip_graph_default_valued_attrs(meta_graph_def)
    if saver_def is not None:
        meta_graph_def.saver_def.MergeFrom(saver_def)
    keys = collection_list if collection_list is not None else graph.get_all_collection_keys()
    for key in keys:
        if clear_extraneous_savers and key == ops.GraphKeys.SAVERS:
            from_proto = get_from_proto_function(key)
            add_collection_def(meta_graph_def, key, graph=graph, export_scope=export_scope,
                               exclude_nodes=exclude_nodes,
                               override_contents=[from_proto(saver_def)] if from_proto else None)
        else:
            add_collection_def(meta_graph_def, key, graph=graph, export_scope=export_scope,
                               exclude_nodes=exclude_nodes)
    return meta_graph_def


def _scoped_node_def(node_def, export_scope, unbound_inputs, clear_devices):
    """A copy of node_def with export_scope stripped; inputs from outside the scope are
    renamed `$unbound_inputs_<name>` and recorded."""
    node = type(node_def)()
    node.CopyFrom(node_def)
    for position, input_name in enumerate(node_def.input):
        if export_scope and not input_name.lstrip("^").startswith(export_scope):
            node.input[position] = re.sub(r"([\^]|^)(.*)", r"\1" + _UNBOUND_INPUT_PREFIX + r"\2",
                                          input_name)
            unbound_inputs.append(node.input[position])
        else:
            node.input[position] = ops.strip_name_scope(input_name, export_scope)
    node.name = ops.strip_name_scope(node_def.name, export_scope)
    if "_class" in node_def.attr:
        groups = [ops.strip_name_scope(s.decode(), export_scope).encode()
                  for s in node_def.attr["_class"].list.s
                  if not export_scope or s.decode().split("@")[1].startswith(export_scope)]
        del node.attr["_class"].list.s[:]
        node.attr["_class"].list.s.extend(groups)
    if node_def.op in ("Enter", "RefEnter") and "frame_name" in node_def.attr:
        frame = node_def.attr["frame_name"].s.decode()
        if not export_scope or frame.startswith(export_scope):
            node.attr["frame_name"].s = ops.strip_name_scope(frame, export_scope).encode()
    if clear_devices:
        node.device = ""
    return node


def _op_name(name):
    return name.lstrip("^").split(":")[0]


def _scope_of(node_name):
    node_name = node_name.lstrip("^")
    return node_name.rsplit("/", 1)[0] if "/" in node_name else ""


def _find_extraneous_saver_nodes(graph_def, saver_def):
    """Nodes of Savers other than `saver_def`'s (each Saver lives in its own name scope)."""
    names = {node.name: node.op for node in graph_def.node}
    retained = set()
    if saver_def is not None:
        retained = {_scope_of(_op_name(saver_def.save_tensor_name)) + "/",
                    _scope_of(_op_name(saver_def.restore_op_name)) + "/"}
    saver_nodes = {name for name, op in names.items() if op in _SAVE_AND_RESTORE_OPS}
    saver_scopes = {_scope_of(name) for name in saver_nodes} - saver_nodes
    extraneous_scopes = {scope + "/" for scope in saver_scopes} - retained
    return {name for name in names if any(name.startswith(s) for s in extraneous_scopes)}


def export_scoped_meta_graph(filename=None, graph_def=None, graph=None, export_scope=None,
                             as_text=False, unbound_inputs_col_name="unbound_inputs",
                             clear_devices=False, saver_def=None, clear_extraneous_savers=False,
                             strip_default_attrs=False, save_debug_info=False, **kwargs):
    """Builds (and writes to `filename`, binary or text) a MetaGraphDef of `graph` restricted
    to `export_scope`; returns (meta_graph_def, {variable name in scope: Variable})."""
    from tensorkeep.io import protos

    graph = graph or ops.get_default_graph()
    exclude_nodes = None
    unbound_inputs = []
    if export_scope or clear_extraneous_savers or clear_devices:
        if graph_def is not None:
            source_nodes = list(graph_def.node)
            scoped = protos.GraphDef()
            scoped.versions.CopyFrom(graph_def.versions)
            scoped.library.CopyFrom(graph_def.library)
            if clear_extraneous_savers:
                exclude_nodes = _find_extraneous_saver_nodes(graph_def, saver_def)
            for node in source_nodes:
                if _should_include_node(node.name, export_scope, exclude_nodes):
                    scoped.node.add().CopyFrom(
                        _scoped_node_def(node, export_scope, unbound_inputs, clear_devices))
        else:
            scoped = protos.GraphDef()
            scoped.versions.CopyFrom(graph.graph_def_versions)
            if clear_extraneous_savers:
                exclude_nodes = _find_extraneous_saver_nodes(graph.as_graph_def(), saver_def)
            for op in graph.get_operations():
                if _should_include_node(op.name, export_scope, exclude_nodes):
                    node = scoped.node.add()
                    node.CopyFrom(_scoped_node_def(op._to_node_def(), export_scope,
                                                   unbound_inputs, clear_devices))
                    if op._outputs:
                        node.attr["_output_shapes"].list.shape.extend(
                            [t.shape.as_proto() for t in op._outputs])
            for function_def in graph._functions.values():
                scoped.library.function.add().CopyFrom(function_def)
        graph_def = scoped
        if unbound_inputs_col_name:
            graph.clear_collection(unbound_inputs_col_name)
            for name in unbound_inputs:
                graph.add_to_collection(unbound_inputs_col_name, name)
    var_list = {}
    for variable in graph.get_collection(ops.GraphKeys.GLOBAL_VARIABLES, scope=export_scope):
        if _should_include_node(variable, export_scope, exclude_nodes):
            var_list[ops.strip_name_scope(variable.name, export_scope)] = variable
    meta_graph_def = create_meta_graph_def(
        graph_def=graph_def, graph=graph, export_scope=export_scope, exclude_nodes=exclude_nodes,
        clear_extraneous_savers=clear_extraneous_savers, saver_def=saver_def,
        strip_default_attrs=strip_default_attrs, **kwargs)
    if filename:
        graph_io.write_graph(meta_graph_def, os.path.dirname(filename),
                             os.path.basename(filename), as_text=as_text)
        if save_debug_info:
            # tensorkeep records no creation stack traces: the debug file lists none.
            debug_filename = os.path.splitext(filename)[0] + ".debug"
            graph_io.write_graph(protos.GraphDebugInfo(), os.path.dirname(debug_filename),
                                 os.path.basename(debug_filename), as_text=as_text)
    return meta_graph_def, var_list


def export_meta_graph(filename=None, meta_info_def=None, graph_def=None, saver_def=None,
                      collection_list=None, as_text=False, graph=None, export_scope=None,
                      clear_devices=False, clear_extraneous_savers=False,
                      strip_default_attrs=False, save_debug_info=False, **kwargs):
    """tf.train.export_meta_graph: returns the MetaGraphDef, written to `filename` if given."""
    meta_graph_def, _ = export_scoped_meta_graph(
        filename=filename, meta_info_def=meta_info_def, graph_def=graph_def,
        saver_def=saver_def, collection_list=collection_list, as_text=as_text, graph=graph,
        export_scope=export_scope, clear_devices=clear_devices,
        clear_extraneous_savers=clear_extraneous_savers,
        strip_default_attrs=strip_default_attrs, save_debug_info=save_debug_info, **kwargs)
    return meta_graph_def


# --- reading and importing ------------------------------------------------------------------------

def read_meta_graph_file(filename):
    """The MetaGraphDef in `filename`, binary or text format; IOError when the file is missing
    or is neither."""
    from tensorkeep.io import protos

    return graph_io.read_proto_file(filename, protos.MetaGraphDef,
                                    missing_message="File does not exist. Received: %s.")


def as_meta_graph_def(meta_graph_or_file):
    """A MetaGraphDef given as one (also another protobuf pool's, e.g. an installed
    TensorFlow's) or as the path of a `.meta` file."""
    from tensorkeep.io import protos

    if isinstance(meta_graph_or_file, protos.MetaGraphDef):
        return meta_graph_or_file
    if type(meta_graph_or_file).__name__ == "MetaGraphDef" and \
            hasattr(meta_graph_or_file, "SerializeToString"):
        return protos.MetaGraphDef.FromString(meta_graph_or_file.SerializeToString())
    return read_meta_graph_file(meta_graph_or_file)


def _version_tuple(version_text):
    match = re.match(r"^\s*v?(\d+)\.(\d+)", version_text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _prepend_scope(value, import_scope):
    """ops.prepend_name_scope for collection values: bytes are names too; values that are
    not names (numbers) are kept, with a warning, as TensorFlow does."""
    if not import_scope:
        return value
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        _logger.warning("expected string or bytes-like object, got %s", type(value).__name__)
        return value
    return ops.prepend_name_scope(value, import_scope)


def import_scoped_meta_graph(meta_graph_or_file, clear_devices=False, graph=None,
                             import_scope=None, input_map=None,
                             unbound_inputs_col_name="unbound_inputs",
                             restore_collections_predicate=(lambda key: True)):
    """Imports a MetaGraphDef (or file) into `graph`; returns {variable name: Variable} of the
    imported variables."""
    return import_scoped_meta_graph_with_return_elements(
        meta_graph_or_file, clear_devices=clear_devices, graph=graph, import_scope=import_scope,
        input_map=input_map, unbound_inputs_col_name=unbound_inputs_col_name,
        restore_collections_predicate=restore_collections_predicate)[0]


def import_scoped_meta_graph_with_return_elements(
        meta_graph_or_file, clear_devices=False, graph=None, import_scope=None, input_map=None,
        unbound_inputs_col_name="unbound_inputs",
        restore_collections_predicate=(lambda key: True), return_elements=None):
    """Imports the graph and restores the collections; returns ({variable name: Variable},
    the elements named by return_elements)."""
    from tensorkeep.io import protos

    meta_graph_def = as_meta_graph_def(meta_graph_or_file)
    _check_unbound_inputs(meta_graph_def, unbound_inputs_col_name, input_map)
    graph = graph or ops.get_default_graph()
    with graph.as_default():
        producer_op_list = None
        if meta_graph_def.meta_info_def.HasField("stripped_op_list"):
            producer_op_list = meta_graph_def.meta_info_def.stripped_op_list
        graph_def = meta_graph_def.graph_def
        if clear_devices:
            graph_def = protos.GraphDef.FromString(graph_def.SerializeToString())
            for node in graph_def.node:
                node.device = ""
        scope = graph.unique_name(import_scope or "", mark_as_used=False)
        return_values = importer.import_graph_def(
            graph_def, name=import_scope or scope, input_map=input_map,
            producer_op_list=producer_op_list, return_elements=return_elements)
        _restore_collections(graph, meta_graph_def, scope, unbound_inputs_col_name,
                             restore_collections_predicate)
        var_list = {}
        for variable in graph.get_collection(ops.GraphKeys.GLOBAL_VARIABLES, scope=scope):
            var_list[ops.strip_name_scope(variable.name, scope)] = variable
    return var_list, return_values


def _check_unbound_inputs(meta_graph_def, unbound_inputs_col_name, input_map):
    if not unbound_inputs_col_name or unbound_inputs_col_name not in \
            meta_graph_def.collection_def:
        return
    collection_def = meta_graph_def.collection_def[unbound_inputs_col_name]
    kind = collection_def.WhichOneof("kind")
    names = [v.decode() if isinstance(v, bytes) else v
             for v in getattr(collection_def, kind).value] if kind else []
    if names and (not input_map or sorted(names) != sorted(input_map)):
        raise ValueError("Graph contains unbound inputs: %s. Must provide these inputs through "
                         "input_map." % ",".join(n for n in names
                                                 if not input_map or n not in input_map))


def _restore_collections(graph, meta_graph_def, scope, unbound_inputs_col_name,
                         restore_collections_predicate):
    tf_version = _version_tuple(meta_graph_def.meta_info_def.tensorflow_version)
    # VariableDef.trainable exists since TensorFlow 1.9; before, membership in the trainable
    # collection says it (so that collection is restored first).
    variables_have_trainable = tf_version is None or tf_version >= (1, 9)
    collections = meta_graph_def.collection_def
    keys = sorted(collections)
    if ops.GraphKeys.TRAINABLE_VARIABLES in collections:
        keys.remove(ops.GraphKeys.TRAINABLE_VARIABLES)
        keys.insert(0, ops.GraphKeys.TRAINABLE_VARIABLES)
    variables = {}  # serialized VariableDef -> Variable, shared by the variable collections
    for key in keys:
        if key == unbound_inputs_col_name or not restore_collections_predicate(key):
            continue
        collection_def = collections[key]
        kind = collection_def.WhichOneof("kind")
        if kind is None:
            _logger.error("Cannot identify data type for collection %s. Skipping.", key)
            continue
        from_proto = get_from_proto_function(key)
        if key == ops.GraphKeys.METRIC_VARIABLES:
            from_proto = get_from_proto_function(ops.GraphKeys.GLOBAL_VARIABLES)
        if from_proto is not None and kind == "bytes_list":
            proto_type = get_collection_proto_type(key)
            for value in collection_def.bytes_list.value:
                if key in ops.GraphKeys._VARIABLE_COLLECTIONS:
                    item = variables.get(value)
                    if item is None:
                        proto = proto_type.FromString(value)
                        if not variables_have_trainable:
                            proto.trainable = key == ops.GraphKeys.TRAINABLE_VARIABLES
                        item = variables[value] = from_proto(proto, import_scope=scope)
                else:
                    item = from_proto(proto_type.FromString(value), import_scope=scope)
                graph.add_to_collection(key, item)
            continue
        if key in _COMPAT_COLLECTION_LIST:
            _logger.warning("The saved meta_graph is possibly from an older release:\n'%s' "
                            "collection should be of type 'byte_list', but instead is of type "
                            "'%s'.", key, kind)
        values = getattr(collection_def, kind).value
        if kind == "node_list":
            for value in values:
                graph.add_to_collection(
                    key, graph.as_graph_element(ops.prepend_name_scope(value, scope)))
        elif kind == "int64_list":
            for value in values:
                graph.add_to_collection(key, int(value))
        else:
            for value in values:
                graph.add_to_collection(key, _prepend_scope(value, scope))
