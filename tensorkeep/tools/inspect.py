"""`tensorkeep inspect`: what is inside a checkpoint, meta graph, GraphDef or SavedModel.

The `*_report` functions return plain dicts (the `--json` document, see docs/CLI.md); the
`print_*` functions render them for people.
"""

import collections
import difflib
import re
import sys

import numpy as np

from tensorkeep import io as tkio
from tensorkeep.io import bundle, gfile, numpy_codec, protos, tensor_slices
from tensorkeep.io import errors as io_errors
from tensorkeep.tools import model_files
from tensorkeep.tools.common import (CommandError, dtype_name, dump_json, format_bytes, format_shape,
                                     jsonable_values, print_table)

# Nodes that are part of saving or initialising, never a model's output.
_SAVE_SCOPE = re.compile(r"^save(_\d+)?/")
_INIT_NAME = re.compile(r"(^|/)init(_\d+|_all_tables|_ops?)?$")
_NEVER_OUTPUT_OPS = {"NoOp", "Const", "Placeholder"}
_VARIABLE_COLLECTIONS = {"variables", "trainable_variables", "local_variables", "model_variables",
                         "moving_average_variables", "global_step", "metric_variables"}


# ------------------------------------------------------------------ checkpoints


def _stored_bytes(reader, key, datatype, shape):
    """Bytes the tensor occupies in the data files (None when the format does not say)."""
    if datatype != numpy_codec.DT_STRING and datatype not in (numpy_codec.DT_RESOURCE, numpy_codec.DT_VARIANT):
        return int(np.prod(shape, dtype=np.int64)) * numpy_codec.numpy_dtype(datatype).itemsize
    if not isinstance(reader, bundle.BundleReader):
        return None
    entry = reader.entry(key)
    if not entry.slices:
        return int(entry.size)
    total = 0
    for slice_proto in entry.slices:
        slice_key = tensor_slices.encode_tensor_name_slice(key.encode("utf-8"),
                                                           tensor_slices.extents_from_proto(slice_proto))
        total += reader.entry(slice_key).size
    return int(total)


def open_reader(prefix):
    try:
        return tkio.open_checkpoint_reader(prefix)
    except io_errors.OpError as error:
        raise CommandError(f"{prefix}: {error.message}") from None


def checkpoint_report(prefix, reader=None):
    """{format, num_shards, missing_data_files, variables: [...], totals} of the checkpoint at `prefix`."""
    own_reader = reader is None
    reader = open_reader(prefix) if own_reader else reader
    try:
        variables = []
        for key in reader.keys():
            datatype, shape = reader.dtype_and_shape(key)
            variables.append({
                "name": key,
                "dtype": dtype_name(datatype),
                "shape": list(shape),
                "elements": int(np.prod(shape, dtype=np.int64)),
                "bytes": _stored_bytes(reader, key, datatype, shape),
            })
        report = {"kind": model_files.CHECKPOINT, "path": prefix, "format": reader.format}
        if isinstance(reader, bundle.BundleReader):
            report["num_shards"] = reader.num_shards
            report["missing_data_files"] = [
                name for name in (bundle.data_filename(prefix, shard, reader.num_shards)
                                  for shard in range(reader.num_shards)) if not gfile.exists(name)]
        report["variables"] = variables
        report["totals"] = {
            "variables": len(variables),
            "elements": sum(variable["elements"] for variable in variables),
            "bytes": sum(variable["bytes"] or 0 for variable in variables),
        }
        return report
    finally:
        if own_reader:
            reader.close()


def read_tensor(reader, name):
    try:
        return reader.read(name)
    except io_errors.OpError as error:
        raise CommandError(error.message) from None


# ------------------------------------------------------------------ graphs


def _node_input_names(node):
    for name in node.input:
        yield name.lstrip("^").split(":")[0]


def _shape_attr(node, attr_name="shape"):
    """Dims of a shape attr (-1 unknown) or None when absent or of unknown rank."""
    if attr_name not in node.attr:
        return None
    return numpy_codec.tensor_shape_dims(node.attr[attr_name].shape)


def _attr_dtype(node, attr_name="dtype"):
    if attr_name not in node.attr:
        return None
    return dtype_name(node.attr[attr_name].type)


def _is_variable_plumbing(node):
    """A variable's initializer (`v/Assign`) or snapshot (`v/read`)."""
    if not node.input:
        return False
    variable = node.input[0].lstrip("^").split(":")[0]
    return (node.op == "Assign" and node.name == variable + "/Assign") or \
        (node.op == "Identity" and node.name == variable + "/read")


def likely_outputs(graph_def):
    """Nodes no other node consumes (by data or control edge), less saving, init, variable
    plumbing (initializers, snapshots) and constant nodes."""
    consumed = set()
    for node in graph_def.node:
        consumed.update(_node_input_names(node))
    return [{"name": node.name, "op": node.op} for node in graph_def.node
            if node.name not in consumed and node.op not in _NEVER_OUTPUT_OPS
            and not _SAVE_SCOPE.match(node.name) and not _INIT_NAME.search(node.name)
            and not _is_variable_plumbing(node)]


def graph_report(graph_def):
    """Node count, versions, op histogram, inputs and likely outputs of a GraphDef."""
    histogram = collections.Counter(node.op for node in graph_def.node)
    report = {
        "node_count": len(graph_def.node),
        "producer": graph_def.versions.producer,
        "min_consumer": graph_def.versions.min_consumer,
        "op_histogram": dict(sorted(histogram.items())),
        "inputs": [{"name": node.name, "dtype": _attr_dtype(node), "shape": _shape_attr(node)}
                   for node in graph_def.node if node.op == "Placeholder"],
        "inputs_with_default": [{"name": node.name, "dtype": _attr_dtype(node), "shape": _shape_attr(node)}
                                for node in graph_def.node if node.op == "PlaceholderWithDefault"],
        "outputs": likely_outputs(graph_def),
        "library_functions": len(graph_def.library.function),
    }
    return report


def _collection_report(name, collection_def):
    kind = collection_def.WhichOneof("kind")
    if kind is None:
        return {"kind": None, "count": 0}
    values = getattr(collection_def, kind).value
    entry = {"kind": kind, "count": len(values)}
    if kind == "node_list":
        entry["values"] = list(values)
    elif kind in ("int64_list", "float_list"):
        entry["values"] = list(values)
    elif kind == "bytes_list" and name in _VARIABLE_COLLECTIONS:
        names = []
        for raw in values:
            try:
                names.append(protos.VariableDef.FromString(raw).variable_name)
            except Exception:  # Not a VariableDef after all: leave the names out.
                names = None
                break
        if names is not None:
            entry["variables"] = names
    return entry


def _tensor_info_report(info):
    return {"name": info.name or None, "dtype": dtype_name(info.dtype) if info.dtype else None,
            "shape": numpy_codec.tensor_shape_dims(info.tensor_shape) if info.HasField("tensor_shape") else None}


def saver_def_report(saver_def):
    return {
        "filename_tensor_name": saver_def.filename_tensor_name,
        "save_tensor_name": saver_def.save_tensor_name,
        "restore_op_name": saver_def.restore_op_name,
        "max_to_keep": saver_def.max_to_keep,
        "sharded": saver_def.sharded,
        "keep_checkpoint_every_n_hours": saver_def.keep_checkpoint_every_n_hours,
        "version": protos.SaverDef.CheckpointFormatVersion.Name(saver_def.version),
    }


def meta_graph_report(meta_graph_def):
    """graph_report plus meta info, collections, SaverDef and signatures of a MetaGraphDef."""
    info = meta_graph_def.meta_info_def
    report = {
        "tensorflow_version": info.tensorflow_version,
        "tensorflow_git_version": info.tensorflow_git_version,
        "tags": list(info.tags),
        "stripped_default_attrs": info.stripped_default_attrs,
        "stripped_op_list": [op.name for op in info.stripped_op_list.op],
    }
    report.update(graph_report(meta_graph_def.graph_def))
    report["collections"] = {name: _collection_report(name, meta_graph_def.collection_def[name])
                             for name in sorted(meta_graph_def.collection_def)}
    report["saver_def"] = saver_def_report(meta_graph_def.saver_def) if meta_graph_def.HasField("saver_def") \
        else None
    report["signature_defs"] = {
        key: {"method_name": signature.method_name,
              "inputs": {name: _tensor_info_report(signature.inputs[name]) for name in sorted(signature.inputs)},
              "outputs": {name: _tensor_info_report(signature.outputs[name]) for name in sorted(signature.outputs)}}
        for key, signature in sorted(meta_graph_def.signature_def.items())}
    return report


def _const_value(graph_def, name):
    for node in graph_def.node:
        if node.name == name:
            if node.op != "Const":
                raise CommandError(f"node {name} is a {node.op}, not a Const: only constants have values here")
            return numpy_codec.tensor_proto_to_ndarray(node.attr["value"].tensor), _attr_dtype(node)
    raise CommandError(f"no node named {name} in the graph")


# ------------------------------------------------------------------ the command


def inspect_path(path, tensor_names=(), all_tensors=False):
    """The `--json` document for `path` (without values) and an iterator factory over the
    (name, dtype, value) of the tensors asked for, which reads one tensor at a time."""
    resolved = model_files.resolve(path)
    document = {"kind": resolved.kind, "path": resolved.path}
    graph_def = None
    prefix = None
    if resolved.kind == model_files.CHECKPOINT:
        prefix = resolved.path
        if resolved.note:
            document["note"] = resolved.note
        if resolved.other_checkpoints:
            document["other_checkpoints"] = list(resolved.other_checkpoints)
    elif resolved.kind == model_files.GRAPH_DEF:
        graph_def = model_files.load_graph_def(resolved.path)
        document.update(graph_report(graph_def))
    elif resolved.kind == model_files.META_GRAPH:
        meta_graph_def = model_files.load_meta_graph(resolved.path)
        graph_def = meta_graph_def.graph_def
        document.update(meta_graph_report(meta_graph_def))
    else:
        saved_model = model_files.load_saved_model(resolved.path)
        document["saved_model_schema_version"] = saved_model.saved_model_schema_version
        document["meta_graphs"] = [meta_graph_report(meta) for meta in saved_model.meta_graphs]
        variables_prefix = gfile.join(resolved.path, "variables", "variables")
        if model_files.is_checkpoint_prefix(variables_prefix):
            prefix = variables_prefix
        elif saved_model.meta_graphs:
            graph_def = saved_model.meta_graphs[0].graph_def

    if prefix is None:
        if all_tensors:
            raise CommandError(f"{path} holds no checkpoint: --all-tensors needs one")

        def graph_values():
            for name in tensor_names:
                value, dtype = _const_value(graph_def, name)
                yield name, dtype, value

        return document, graph_values

    report = checkpoint_report(prefix)
    if resolved.kind == model_files.CHECKPOINT:
        document.update(report)
        document["kind"] = model_files.CHECKPOINT
    else:
        document["variables"] = report
    dtypes = {variable["name"]: variable["dtype"] for variable in report["variables"]}
    names = list(dtypes) if all_tensors else list(tensor_names)
    for name in names:
        if name not in dtypes:
            close = difflib.get_close_matches(name, list(dtypes), n=3)
            raise CommandError(f"no tensor {name} in checkpoint {prefix}"
                               + (f"; closest names: {', '.join(close)}" if close else ""))

    def checkpoint_values():
        if not names:
            return
        with open_reader(prefix) as reader:
            for name in names:
                yield name, dtypes.get(name), read_tensor(reader, name)

    return document, checkpoint_values


def _print_checkpoint(report, out, title="checkpoint"):
    shards = report.get("num_shards")
    layout = f"{report['format']}" + (f", {shards} data file{'s' if shards != 1 else ''}" if shards else "")
    print(f"{title}: {report['path']} ({layout})", file=out)
    for missing in report.get("missing_data_files", ()):
        print(f"warning: data file {missing} is missing; its tensors cannot be read", file=out)
    rows = [(variable["name"], variable["dtype"], format_shape(variable["shape"]), str(variable["elements"]),
             "?" if variable["bytes"] is None else str(variable["bytes"])) for variable in report["variables"]]
    print_table(rows, ("name", "dtype", "shape", "elements", "bytes"), out, right_align={3, 4})
    totals = report["totals"]
    print(f"total: {totals['variables']} tensors, {totals['elements']} elements, {totals['bytes']} bytes "
          f"({format_bytes(totals['bytes'])})", file=out)


def _print_graph(report, out, indent=""):
    print(f"{indent}nodes: {report['node_count']} (producer {report['producer']}, min_consumer "
          f"{report['min_consumer']}" + (f", {report['library_functions']} library functions"
                                         if report["library_functions"] else "") + ")", file=out)
    print(f"{indent}op types:", file=out)
    for op, count in sorted(report["op_histogram"].items(), key=lambda item: (-item[1], item[0])):
        print(f"{indent}  {count:6d}  {op}", file=out)
    print(f"{indent}inputs (Placeholder):" + ("" if report["inputs"] else " none"), file=out)
    for node in report["inputs"]:
        print(f"{indent}  {node['name']}  {node['dtype']}  {format_shape(node['shape'])}", file=out)
    if report["inputs_with_default"]:
        print(f"{indent}inputs with a default (PlaceholderWithDefault):", file=out)
        for node in report["inputs_with_default"]:
            print(f"{indent}  {node['name']}  {node['dtype']}  {format_shape(node['shape'])}", file=out)
    print(f"{indent}likely outputs (consumed by no node):" + ("" if report["outputs"] else " none"), file=out)
    for node in report["outputs"]:
        print(f"{indent}  {node['name']}  ({node['op']})", file=out)


def _print_meta_graph(report, out, indent=""):
    facts = [f"tensorflow {report['tensorflow_version'] or '?'}"]
    if report["tags"]:
        facts.append("tags " + ",".join(report["tags"]))
    print(f"{indent}meta info: {'; '.join(facts)}", file=out)
    _print_graph(report, out, indent)
    print(f"{indent}collections:" + ("" if report["collections"] else " none"), file=out)
    for name, collection in report["collections"].items():
        shown = collection.get("variables") or collection.get("values")
        detail = ""
        if shown:
            detail = ": " + ", ".join(map(str, shown[:8])) + (", ..." if len(shown) > 8 else "")
        print(f"{indent}  {name} ({collection['kind']}, {collection['count']}){detail}", file=out)
    saver = report["saver_def"]
    if saver:
        print(f"{indent}saver: version {saver['version']}, filename {saver['filename_tensor_name']}, "
              f"save {saver['save_tensor_name']}, restore {saver['restore_op_name']}, "
              f"max_to_keep {saver['max_to_keep']}, sharded {str(saver['sharded']).lower()}", file=out)
    for key, signature in report["signature_defs"].items():
        print(f"{indent}signature {key} ({signature['method_name']}):", file=out)
        for direction in ("inputs", "outputs"):
            for name, info in signature[direction].items():
                print(f"{indent}  {direction[:-1]} {name}: {info['name']}  {info['dtype']}  "
                      f"{format_shape(info['shape'])}", file=out)


def print_document(document, out):
    kind = document["kind"]
    if document.get("note"):
        print(f"note: {document['note']}", file=out)
    if kind == model_files.CHECKPOINT:
        _print_checkpoint(document, out)
        if document.get("other_checkpoints"):
            print("other checkpoints: " + ", ".join(document["other_checkpoints"]), file=out)
    elif kind == model_files.GRAPH_DEF:
        print(f"graph: {document['path']}", file=out)
        _print_graph(document, out)
    elif kind == model_files.META_GRAPH:
        print(f"meta graph: {document['path']}", file=out)
        _print_meta_graph(document, out)
    else:
        print(f"saved model: {document['path']} (schema version {document['saved_model_schema_version']}, "
              f"{len(document['meta_graphs'])} meta graph{'s' if len(document['meta_graphs']) != 1 else ''})",
              file=out)
        for index, meta in enumerate(document["meta_graphs"]):
            print(f"meta graph {index}:", file=out)
            _print_meta_graph(meta, out, indent="  ")
        if "variables" in document:
            _print_checkpoint(document["variables"], out, title="variables")


def run(args, out=None):
    out = sys.stdout if out is None else out
    document, tensor_values = inspect_path(args.path, args.tensor or (), args.all_tensors)
    if args.json:
        document["tensors"] = [{"name": name, "dtype": dtype, "shape": list(value.shape),
                                "values": jsonable_values(value)} for name, dtype, value in tensor_values()]
        dump_json(document, out)
        return 0
    print_document(document, out)
    for name, dtype, value in tensor_values():
        print(f"tensor: {name} ({dtype}) {format_shape(value.shape)}", file=out)
        print(value, file=out)
    return 0
