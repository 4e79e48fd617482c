"""What a path given to the command line is, and loading the protos behind it.

A path may name a checkpoint prefix (also spelled with its `.index` or `.data-*` file), a
directory with a `checkpoint` state file, a `.meta` MetaGraphDef, a `.pb`/`.pbtxt` GraphDef,
or a SavedModel directory (saved_model.pb + variables/). Any path may be an fsspec URL.
"""

import os
import posixpath
import re
import struct
from typing import NamedTuple

from google.protobuf import message, text_format

from tensorkeep.io import checkpoint_state, gfile, protos, table
from tensorkeep.io import errors as io_errors
from tensorkeep.tools.common import CommandError

CHECKPOINT = "checkpoint"
META_GRAPH = "meta_graph"
GRAPH_DEF = "graph_def"
SAVED_MODEL = "saved_model"

_DATA_SUFFIX = re.compile(r"\.data-\d{5}-of-\d{5}$")
_SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")
_OTHER_FORMATS = (".safetensors", ".npz", ".npy", ".pt", ".pth", ".h5", ".keras", ".onnx", ".tflite")


class ModelPath(NamedTuple):
    """A resolved command-line path.

    `path` is the file or directory (the prefix for checkpoints); `other_checkpoints` lists
    the older checkpoints named by a directory's state file; `note` says how a directory
    was resolved, for the user.
    """

    kind: str
    path: str
    other_checkpoints: tuple = ()
    note: str = ""


def _join(directory, name):
    return gfile.join(directory, name)


def _basename(path):
    # State files written on Windows hold backslash paths; their last part is still the name.
    return re.split(r"[\\/]", path.rstrip("/\\"))[-1]


def _dirname(path):
    return posixpath.dirname(path) if "://" in path else os.path.dirname(path)


def is_checkpoint_prefix(prefix):
    """True when `prefix.index` (V2) exists or `prefix` is a V1 checkpoint file."""
    return gfile.exists(prefix + ".index") or _is_table_file(prefix)


def _is_table_file(path):
    """True for a file ending in the sorted-string-table magic number (V1 checkpoints are tables)."""
    if not gfile.exists(path) or gfile.isdir(path):
        return False
    try:
        with gfile.RandomAccessFile(path) as handle:
            if handle.size < 8:
                return False
            return struct.unpack("<Q", handle.read_at(handle.size - 8, 8))[0] == table.TABLE_MAGIC
    except io_errors.OpError:
        return False


def _present_prefixes(directory):
    return sorted(path[:-len(".index")] for path in gfile.glob(_join(directory, "*.index")))


def _existing_checkpoint(directory, recorded):
    """The prefix a state-file entry refers to: as recorded, or by its name in `directory`
    (state files often keep the absolute paths of the machine that wrote them)."""
    if is_checkpoint_prefix(recorded):
        return recorded
    moved = _join(directory, _basename(recorded))
    return moved if is_checkpoint_prefix(moved) else None


def _resolve_directory(directory):
    if any(gfile.exists(_join(directory, name)) for name in _SAVED_MODEL_FILES):
        return ModelPath(SAVED_MODEL, directory)
    present = _present_prefixes(directory)
    names = ", ".join(_basename(prefix) for prefix in present) or "none"
    try:
        state = checkpoint_state.get_checkpoint_state(directory)
    except ValueError as error:
        raise CommandError(f"{directory}: {error}") from None
    if state is not None:
        recorded = list(state.all_model_checkpoint_paths)
        if state.model_checkpoint_path not in recorded:
            recorded.append(state.model_checkpoint_path)
        else:  # The state file's latest entry may sit anywhere; it is the one used.
            recorded.remove(state.model_checkpoint_path)
            recorded.append(state.model_checkpoint_path)
        existing = [(path, _existing_checkpoint(directory, path)) for path in recorded]
        usable = [found for _, found in existing if found is not None]
        if not usable:
            raise CommandError(
                f"{directory}: the checkpoint state file names {_basename(state.model_checkpoint_path)}, "
                f"whose files do not exist (checkpoints present: {names})")
        latest = usable[-1]
        note = ""
        if latest != existing[-1][1]:
            note = (f"the latest checkpoint in the state file, {_basename(state.model_checkpoint_path)}, is "
                    f"missing; using {_basename(latest)}")
        return ModelPath(CHECKPOINT, latest, tuple(usable[:-1]), note)
    if len(present) == 1:
        return ModelPath(CHECKPOINT, present[0], (), "no checkpoint state file; using the only checkpoint")
    if present:
        raise CommandError(f"{directory} has no `checkpoint` state file and several checkpoints ({names}): "
                           "name one of them")
    raise CommandError(f"{directory} holds no checkpoint (no `checkpoint` state file, no *.index) and is not "
                       "a SavedModel (no saved_model.pb)")


def resolve(path):
    """The ModelPath of command-line argument `path` (CommandError when it names nothing usable)."""
    path = gfile.path_str(path)
    if gfile.isdir(path):
        return _resolve_directory(path.rstrip("/") or "/")
    name = _basename(path).lower()
    if name == checkpoint_state.DEFAULT_STATE_FILENAME and not _is_table_file(path):
        return _resolve_directory(_dirname(path) or ".")  # The state file stands for its directory.
    if name in _SAVED_MODEL_FILES:
        return ModelPath(SAVED_MODEL, _dirname(path) or ".")
    if name.endswith(".meta"):
        _require_file(path)
        return ModelPath(META_GRAPH, path)
    if name.endswith((".pb", ".pbtxt", ".graphdef")):
        _require_file(path)
        return ModelPath(GRAPH_DEF, path)
    if name.endswith(_OTHER_FORMATS):
        raise CommandError(f"{path} is not a TensorFlow file: safetensors, npz and PyTorch files are read by "
                           "`tensorkeep convert` (e.g. into a checkpoint)")
    prefix = path
    if path.endswith(".index"):
        prefix = path[:-len(".index")]
    elif _DATA_SUFFIX.search(path):
        prefix = _DATA_SUFFIX.sub("", path)
    if is_checkpoint_prefix(prefix):
        return ModelPath(CHECKPOINT, prefix)
    raise CommandError(_not_found_message(path))


def resolve_checkpoint(path):
    """The prefix of the checkpoint `path` names (a prefix, one of its files, or a directory)."""
    resolved = resolve(path)
    if resolved.kind == SAVED_MODEL:
        return ModelPath(CHECKPOINT, _join(resolved.path, "variables/variables"))
    if resolved.kind != CHECKPOINT:
        raise CommandError(f"{path} is a {resolved.kind.replace('_', ' ')}, not a checkpoint")
    return resolved


def _require_file(path):
    if not gfile.exists(path):
        raise CommandError(_not_found_message(path))


def _not_found_message(path):
    if gfile.exists(path):
        return (f"{path} is not a checkpoint, meta graph (.meta), GraphDef (.pb/.pbtxt) or SavedModel "
                "(safetensors, npz and PyTorch files are read by `tensorkeep convert`)")
    message_text = f"{path}: no such file, directory or checkpoint prefix"
    directory = _dirname(path) or "."
    try:
        present = _present_prefixes(directory) if gfile.isdir(directory) else []
    except io_errors.OpError:
        present = []
    if present:
        shown = ", ".join(_basename(prefix) for prefix in present[:5])
        message_text += f" (checkpoints in {directory}: {shown})"
    return message_text


# ------------------------------------------------------------------ protos


def _read(path):
    try:
        return gfile.read_file(path)
    except io_errors.OpError as error:
        raise CommandError(f"{path}: {error.message}") from None


def _parse(path, message_class):
    """A message parsed from `path`: binary, or text format when the bytes are not binary."""
    data = _read(path)
    proto = message_class()
    looks_like_text = path.endswith((".pbtxt", ".txt")) or _is_probably_text(data)
    attempts = ("text", "binary") if looks_like_text else ("binary", "text")
    errors = []
    for attempt in attempts:
        try:
            if attempt == "binary":
                proto.ParseFromString(data)
            else:
                text_format.Parse(data.decode("utf-8"), proto, descriptor_pool=protos.pool,
                                  allow_unknown_extension=True)
            return proto
        except (message.DecodeError, text_format.ParseError, UnicodeDecodeError, RuntimeWarning) as error:
            errors.append(f"{attempt}: {error}")
            proto.Clear()
    raise CommandError(f"{path} is not a {message_class.DESCRIPTOR.name} ({'; '.join(errors)[:300]})")


def _is_probably_text(data):
    head = data[:512]
    try:
        head.decode("ascii")
    except UnicodeDecodeError:
        return False
    return bool(re.match(rb"\s*(#.*\n\s*)*[A-Za-z_]+\s*[{:]", head))


def load_graph_def(path):
    return _parse(path, protos.GraphDef)


def load_meta_graph(path):
    return _parse(path, protos.MetaGraphDef)


def load_saved_model(directory):
    """The SavedModel proto of a SavedModel directory."""
    for name in _SAVED_MODEL_FILES:
        path = _join(directory, name)
        if gfile.exists(path):
            return _parse(path, protos.SavedModel)
    raise CommandError(f"{directory} is not a SavedModel directory (no saved_model.pb)")
