"""What the corruption and hostile-file suites run on a (damaged) file, inside the sandbox.

Each function loads files the way a user would and returns plain data for the parent to
judge; an exception escapes to the sandbox, which reports its class and message.
"""

import os

import numpy as np

import tensorkeep as tf
from tensorkeep import io as tkio
from tensorkeep.io import protos

from . import reference

_restorers = {}  # one reference graph, Saver and Session per worker process


def _captured(function, *args):
    try:
        return ("values", function(*args))
    except Exception as error:  # noqa: BLE001 (judged by the parent)
        return ("raised", type(error), str(error))


def _read_with_io_layer(prefix):
    with tkio.read_checkpoint(prefix) as tensors:
        return {name: tensors[name] for name in tensors}


def _restore_with_saver(prefix):
    if os.getpid() not in _restorers:
        graph, variables = reference.build_graph(tf)
        with graph.as_default():
            _restorers[os.getpid()] = (tf.train.Saver(), tf.Session(graph=graph), variables)
    saver, session, variables = _restorers[os.getpid()]
    saver.restore(session, prefix)
    names = [name for name in variables if name != "p"]
    values = dict(zip(names, session.run([variables[name] for name in names])))
    values["p"] = np.concatenate(session.run(list(variables["p"])))  # its two slices
    return values


def restore_latest(directory):
    """(basename of latest_checkpoint or None, io layer result, Saver result)."""
    latest = tf.train.latest_checkpoint(directory)
    if latest is None:
        return None, None, None
    return os.path.basename(latest), _captured(_read_with_io_layer, latest), _captured(_restore_with_saver, latest)


def _same_proto(message_type, path, pristine_path):
    with open(path, "rb") as handle, open(pristine_path, "rb") as pristine:
        try:
            return message_type.FromString(handle.read()) == message_type.FromString(pristine.read())
        except Exception:  # noqa: BLE001 (not even a parseable message)
            return False


def load_meta_graph(meta_path, prefix, pristine_path):
    """(y and variable values after import_meta_graph + restore, or None without a saver; whether
    the file still parses to the original MetaGraphDef)."""
    same = _same_proto(protos.MetaGraphDef, meta_path, pristine_path)
    with tf.Graph().as_default() as graph:
        saver = tf.train.import_meta_graph(meta_path)
        if saver is None:
            return None, same
        with tf.Session(graph=graph) as session:
            saver.restore(session, prefix)
            names = ["y:0"] + [f"{name}:0" for name in reference.VARIABLE_NAMES if name != "p"]
            return dict(zip(names, session.run(names, {"x:0": reference.FEED}))), same


def load_frozen_graph(path, pristine_path):
    """(y of the imported frozen graph; whether the file still parses to the original GraphDef)."""
    same = _same_proto(protos.GraphDef, path, pristine_path)
    graph_def = tf.GraphDef()
    with open(path, "rb") as handle:
        graph_def.ParseFromString(handle.read())
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
        with tf.Session(graph=graph) as session:
            return session.run("y:0", {"x:0": reference.FEED}), same


def equal_values(actual, expected):
    """Exactly equal: same dtype kind, shape and elements (bytes for strings)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape or actual.dtype != expected.dtype:
        return False
    return bool(np.array_equal(actual, expected)) if actual.dtype != object else \
        all(a == e for a, e in zip(actual.reshape(-1), expected.reshape(-1)))


def measured(function, *args):
    """(outcome, peak of the memory traced while `function(*args)` ran, in bytes), where
    outcome is ("returned", result) or ("raised", exception class, message)."""
    import tracemalloc

    tracemalloc.start()
    try:
        outcome = ("returned", function(*args))
    except Exception as error:  # noqa: BLE001 (judged by the parent)
        outcome = ("raised", type(error), str(error))
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return outcome, peak


def read_every_tensor(prefix):
    """{name: value} of every tensor of the checkpoint, read with the io layer."""
    return _read_with_io_layer(prefix)


def import_graph_file(path):
    """Import the GraphDef in `path` (binary or text format); the number of operations."""
    from tensorkeep.framework import graph_io

    graph_def = graph_io.read_graph_def(path)
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
        return len(graph.get_operations())


def import_meta_graph_file(path):
    """tf.train.import_meta_graph of `path`; the number of operations."""
    with tf.Graph().as_default() as graph:
        tf.train.import_meta_graph(path)
        return len(graph.get_operations())


def run_graph_file(path, fetch):
    """Import the GraphDef in `path` and run `fetch`."""
    from tensorkeep.framework import graph_io

    graph_def = graph_io.read_graph_def(path)
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
        with tf.Session(graph=graph) as session:
            return session.run(fetch)


def import_graph_def_bytes(data):
    """Import a serialized GraphDef into a fresh graph; the number of operations."""
    graph_def = tf.GraphDef()
    graph_def.ParseFromString(data)
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
        return len(graph.get_operations())
