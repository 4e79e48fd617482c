"""Freezing: a graph plus a checkpoint become one GraphDef whose variables are constants.

`freeze(meta, checkpoint, outputs)` is what `tensorkeep freeze` runs. `freeze_graph` and
`freeze_graph_with_def_protos` keep the signatures of TensorFlow's
`tensorflow.python.tools.freeze_graph` (scripts run by `tensorkeep exec` import it under
that name); SavedModel inputs are not supported.
"""

import difflib
import os
import sys

from google.protobuf import text_format

from tensorkeep.io import gfile, protos
from tensorkeep.tools import model_files
from tensorkeep.tools.common import CommandError, local_path


def _split_names(names):
    if not names:
        return []
    if isinstance(names, str):
        names = names.replace(" ", "").split(",")
    return [name for name in names if name]


def _write_graph_def(graph_def, path, as_text):
    data = text_format.MessageToString(graph_def).encode("utf-8") if as_text \
        else graph_def.SerializeToString(deterministic=True)
    local = local_path(path)
    if local is not None and os.path.dirname(local):
        os.makedirs(os.path.dirname(local), exist_ok=True)
    gfile.write_file_atomically(path, data)


def freeze_graph_with_def_protos(input_graph_def, input_saver_def, input_checkpoint, output_node_names,
                                 restore_op_name, filename_tensor_name, output_graph, clear_devices,
                                 initializer_nodes, variable_names_whitelist="", variable_names_blacklist="",
                                 input_meta_graph_def=None, input_saved_model_dir=None, saved_model_tags=None,
                                 checkpoint_version=protos.SaverDef.V2):
    """The frozen GraphDef of a GraphDef or MetaGraphDef restored from `input_checkpoint`.

    As in TensorFlow: with a SaverDef that saver restores; with a MetaGraphDef its saver does;
    otherwise every checkpoint tensor whose name is a variable in the graph is restored.
    `restore_op_name` and `filename_tensor_name` are ignored. The result is also written to
    `output_graph` (binary) when that is given.
    """
    import tensorkeep as tf
    from tensorkeep.framework import graph_util, importer
    from tensorkeep.training import checkpoint_management, checkpoint_utils
    from tensorkeep.training.meta_graph_api import import_meta_graph
    from tensorkeep.training.saver import Saver

    del restore_op_name, filename_tensor_name
    if input_saved_model_dir:
        raise ValueError("freezing a SavedModel is not supported by tensorkeep; export a meta graph and checkpoint")
    if not checkpoint_management.checkpoint_exists(input_checkpoint):
        raise ValueError("Input checkpoint '" + input_checkpoint + "' doesn't exist!")
    outputs = _split_names(output_node_names)
    if not outputs:
        raise ValueError("You need to supply the name of a node to --output_node_names.")
    if clear_devices:
        for node in (input_meta_graph_def.graph_def if input_meta_graph_def else input_graph_def or
                     protos.GraphDef()).node:
            node.device = ""
    with tf.Graph().as_default() as graph:
        if input_graph_def is not None and input_meta_graph_def is None:
            importer.import_graph_def(input_graph_def, name="")
        with tf.Session(graph=graph) as sess:
            if input_saver_def is not None:
                Saver(saver_def=input_saver_def, write_version=checkpoint_version).restore(sess, input_checkpoint)
            elif input_meta_graph_def is not None:
                import_meta_graph(input_meta_graph_def, clear_devices=True).restore(sess, input_checkpoint)
            else:
                reader = checkpoint_utils.NewCheckpointReader(input_checkpoint)
                var_list = {}
                for key in reader.get_variable_to_shape_map():
                    try:
                        var_list[key] = graph.get_tensor_by_name(key + ":0")
                    except KeyError:  # Housekeeping tensors (global_step, ...) not in this graph.
                        continue
                if not var_list:
                    raise ValueError("No variables were found in this model. It is likely the model was frozen "
                                     "previously. You cannot freeze a graph twice.")
                Saver(var_list=var_list, write_version=checkpoint_version).restore(sess, input_checkpoint)
            initializers = _split_names(initializer_nodes)
            if initializers:
                sess.run(initializers)
            source = input_meta_graph_def.graph_def if input_meta_graph_def is not None else input_graph_def
            frozen = graph_util.convert_variables_to_constants(
                sess, source, outputs,
                variable_names_whitelist=_split_names(variable_names_whitelist) or None,
                variable_names_blacklist=_split_names(variable_names_blacklist) or None)
    if output_graph:
        _write_graph_def(frozen, output_graph, as_text=False)
    return frozen


def _parse_graph_file(path, binary, message_class):
    if not gfile.exists(path):
        raise IOError("Input graph file '" + path + "' does not exist!")
    proto = message_class()
    data = gfile.read_file(path)
    if binary:
        proto.ParseFromString(data)
    else:
        text_format.Merge(data.decode("utf-8"), proto, descriptor_pool=protos.pool)
    return proto


def freeze_graph(input_graph, input_saver, input_binary, input_checkpoint, output_node_names, restore_op_name,
                 filename_tensor_name, output_graph, clear_devices, initializer_nodes,
                 variable_names_whitelist="", variable_names_blacklist="", input_meta_graph=None,
                 input_saved_model_dir=None, saved_model_tags="serve", checkpoint_version=protos.SaverDef.V2):
    """TensorFlow's freeze_graph over files: a GraphDef (`input_graph`) or a MetaGraphDef
    (`input_meta_graph`), an optional SaverDef file, and a checkpoint; writes `output_graph`."""
    graph_def = _parse_graph_file(input_graph, input_binary, protos.GraphDef) if input_graph else None
    meta_graph_def = _parse_graph_file(input_meta_graph, input_binary, protos.MetaGraphDef) \
        if input_meta_graph else None
    saver_def = _parse_graph_file(input_saver, input_binary, protos.SaverDef) if input_saver else None
    return freeze_graph_with_def_protos(
        graph_def, saver_def, input_checkpoint, output_node_names, restore_op_name, filename_tensor_name,
        output_graph, clear_devices, initializer_nodes, variable_names_whitelist, variable_names_blacklist,
        meta_graph_def, input_saved_model_dir, saved_model_tags.replace(" ", "").split(",") if saved_model_tags
        else [], checkpoint_version)


# ------------------------------------------------------------------ the command


def freeze(meta_path, checkpoint, outputs, output_path=None, as_text=False):
    """Freeze meta graph `meta_path` with the variables of `checkpoint` (prefix or directory)."""
    resolved = model_files.resolve(meta_path)
    if resolved.kind != model_files.META_GRAPH:
        raise CommandError(f"--meta {meta_path}: expected a .meta MetaGraphDef, got a {resolved.kind.replace('_', ' ')}")
    meta_graph_def = model_files.load_meta_graph(resolved.path)
    prefix = model_files.resolve_checkpoint(checkpoint).path
    output_names = _split_names(outputs)
    if not output_names:
        raise CommandError("--outputs names no node")
    nodes = {node.name for node in meta_graph_def.graph_def.node}
    missing = [name for name in output_names if name not in nodes]
    if missing:
        raise CommandError(f"no node named {', '.join(missing)} in {meta_path}" + _close_names(missing[0], nodes))
    if not meta_graph_def.HasField("saver_def"):
        raise CommandError(f"{meta_path} has no SaverDef, so its variables cannot be restored")
    try:
        frozen = freeze_graph_with_def_protos(None, None, prefix, output_names, None, None, None, True, "",
                                              input_meta_graph_def=meta_graph_def)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if output_path:
        _write_graph_def(frozen, output_path, as_text)
    return frozen


def _close_names(name, nodes):
    close = difflib.get_close_matches(name, list(nodes), n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def run(args, out=None):
    out = sys.stdout if out is None else out
    frozen = freeze(args.meta, args.checkpoint, args.outputs, args.output_file, args.text)
    constants = sum(node.op == "Const" for node in frozen.node)
    print(f"wrote {args.output_file}: {len(frozen.node)} nodes ({constants} constants), outputs "
          f"{', '.join(_split_names(args.outputs))}", file=out)
    return 0

