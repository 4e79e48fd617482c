"""`tensorkeep run`: evaluate a frozen graph, or a meta graph restored from its checkpoint, on .npy inputs."""

import io
import os
import re
import sys

import numpy as np

from tensorkeep.io import gfile
from tensorkeep.io import errors as io_errors
from tensorkeep.tools import model_files
from tensorkeep.tools.common import CommandError, format_shape, local_path


def tensor_name(name):
    """`name` as a tensor name: node names mean their output 0."""
    return name if re.search(r":\d+$", name) else name + ":0"


def output_filename(name):
    """A file name for tensor `name`: scopes joined by `__`, `:N` kept only when N > 0."""
    node, _, index = tensor_name(name).rpartition(":")
    stem = node.replace("/", "__")
    return f"{stem}_{index}.npy" if index != "0" else f"{stem}.npy"


def load_npy(path):
    try:
        data = gfile.read_file(path)
    except io_errors.OpError as error:
        raise CommandError(f"--input {path}: {error.message}") from None
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as error:
        raise CommandError(f"--input {path} is not a .npy array ({error})") from None


def parse_inputs(specs):
    feeds = {}
    for spec in specs:
        name, separator, path = spec.partition("=")
        if not separator or not name or not path:
            raise CommandError(f"--input {spec!r}: expected NAME=FILE.npy")
        feeds[tensor_name(name)] = load_npy(path)
    return feeds


def _graph_tensor(graph, name, role):
    try:
        return graph.get_tensor_by_name(tensor_name(name))
    except (KeyError, ValueError) as error:
        raise CommandError(f"{role} {name}: {error.args[0] if error.args else error}") from None


def run_model(model, inputs, outputs):
    """{output name: value} of running `model` (frozen .pb/.pbtxt, or checkpoint with .meta) on `inputs`.

    `inputs` maps tensor (or node) names to arrays.
    """
    import tensorkeep as tf
    from tensorkeep.framework import importer
    from tensorkeep.training.meta_graph_api import import_meta_graph

    resolved = model_files.resolve(model)
    with tf.Graph().as_default() as graph:
        saver = prefix = None
        if resolved.kind == model_files.GRAPH_DEF:
            importer.import_graph_def(model_files.load_graph_def(resolved.path), name="")
        elif resolved.kind in (model_files.CHECKPOINT, model_files.META_GRAPH):
            if resolved.kind == model_files.META_GRAPH:
                meta_path, prefix = resolved.path, resolved.path[:-len(".meta")]
                if not model_files.is_checkpoint_prefix(prefix):
                    raise CommandError(f"{model}: no checkpoint {prefix} beside the meta graph")
            else:
                prefix, meta_path = resolved.path, resolved.path + ".meta"
                if not gfile.exists(meta_path):
                    raise CommandError(f"{model}: no meta graph {meta_path} beside the checkpoint; run needs the graph")
            saver = import_meta_graph(model_files.load_meta_graph(meta_path))
            if saver is None:
                raise CommandError(f"{meta_path} has no variables to restore and no SaverDef")
        else:
            raise CommandError(f"{model}: SavedModels are not run by tensorkeep (freeze a meta graph instead)")
        feeds = {_graph_tensor(graph, name, "--input"): value for name, value in inputs.items()}
        fetches = [_graph_tensor(graph, name, "--output") for name in outputs]
        with tf.Session(graph=graph) as sess:
            if saver is not None:
                saver.restore(sess, prefix)
            values = sess.run(fetches, feed_dict=feeds)
    return dict(zip(outputs, values))


def run(args, out=None):
    out = sys.stdout if out is None else out
    results = run_model(args.model, parse_inputs(args.input), args.output)
    if args.output_dir:
        local = local_path(args.output_dir)
        if local is not None:
            os.makedirs(local, exist_ok=True)
        else:
            gfile.makedirs(args.output_dir)
    for name, value in results.items():
        value = np.asarray(value)
        line = f"{tensor_name(name)}: {value.dtype} {format_shape(value.shape)}"
        if args.output_dir:
            target = gfile.join(args.output_dir, output_filename(name))
            buffer = io.BytesIO()
            np.save(buffer, value, allow_pickle=value.dtype == object)
            gfile.write_file_atomically(target, buffer.getvalue())
            line += f" -> {target}"
        print(line, file=out)
    return 0
