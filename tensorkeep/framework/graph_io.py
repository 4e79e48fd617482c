"""Graph protobuf files: tf.train.write_graph, and reading GraphDef/MetaGraphDef files that may
be binary or protobuf text format (`.pb`, `.pbtxt`, `.meta`).

Files go through gfile, so paths may be URLs. Binary files are written with deterministic
serialization (map entries sorted by key) and text files in protobuf's text format,
atomically, as TensorFlow writes them.
"""

import os

from tensorkeep.framework import ops
from tensorkeep.io import gfile


def write_graph(graph_or_graph_def, logdir, name, as_text=True):
    """Writes a Graph (its GraphDef) or any graph protobuf to `logdir/name`; returns the path.

    as_text=True writes protobuf text format, False the binary wire format.
    """
    if isinstance(graph_or_graph_def, ops.Graph):
        proto = graph_or_graph_def.as_graph_def()
    else:
        proto = graph_or_graph_def
    logdir = os.fspath(logdir)
    if not logdir.startswith("gs:") and not gfile.exists(logdir):
        gfile.makedirs(logdir)
    path = os.path.join(logdir, os.fspath(name))
    if as_text:
        from google.protobuf import text_format  # imported on first use: ~5 ms of every import

        data = text_format.MessageToString(proto).encode("utf-8")
    else:
        data = proto.SerializeToString(deterministic=True)
    gfile.write_file_atomically(path, data)
    return path


def parse_proto(data, message_type):
    """`message_type` parsed from `data`: binary wire format, else text format; raises
    text_format.ParseError when it is neither."""
    from google.protobuf import text_format
    from tensorkeep.io import protos

    message = message_type()
    try:
        message.ParseFromString(data)
        return message
    except Exception:  # noqa: BLE001 (any decode failure means: try the text format)
        message = message_type()
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    text_format.Merge(text, message, descriptor_pool=protos.pool)
    return message


def read_proto_file(filename, message_type, missing_message="File %s does not exist."):
    """`message_type` read from `filename` (binary or text format); IOError when the file is
    missing or holds neither."""
    filename = os.fspath(filename)
    if not gfile.exists(filename):
        raise IOError(missing_message % filename)
    data = gfile.read_file(filename)
    from google.protobuf import text_format

    try:
        return parse_proto(data, message_type)
    except (text_format.ParseError, UnicodeDecodeError, RecursionError) as error:
        # RecursionError: text nested deeper than Python's stack allows (binary parsing stops
        # at protobuf's depth limit with a DecodeError instead).
        raise IOError("Cannot parse file %s: %s." % (filename, error or "nested too deeply")) from None


def read_graph_def(filename):
    """The GraphDef in `filename` (a frozen .pb or a .pbtxt)."""
    from tensorkeep.io import protos

    return read_proto_file(filename, protos.GraphDef)
