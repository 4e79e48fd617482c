"""Checkpoint bookkeeping: the `checkpoint` state file (tf.train.get_checkpoint_state,
latest_checkpoint, update_checkpoint_state), whether a checkpoint exists, its modification
time, and removing one checkpoint's files.

The state file format lives in tensorkeep.io.checkpoint_state; this module adds TensorFlow's
tf.train spellings and the file-level operations on checkpoint prefixes.
"""

import os
import re

from tensorkeep.framework import errors
from tensorkeep.io import checkpoint_state
from tensorkeep.io import gfile

DEFAULT_STATE_FILENAME = checkpoint_state.DEFAULT_STATE_FILENAME
# SaverDef.CheckpointFormatVersion (saver.proto), without loading the protos at import.
V1, V2 = 1, 2

get_checkpoint_state = checkpoint_state.get_checkpoint_state
latest_checkpoint = checkpoint_state.latest_checkpoint
generate_checkpoint_state_proto = checkpoint_state.generate_checkpoint_state_proto
update_checkpoint_state_internal = checkpoint_state.update_checkpoint_state


def checkpoint_exists_internal(checkpoint_prefix):
    """Whether a V2 (`prefix.index`) or V1 (`prefix`, may be a glob) checkpoint exists; a
    prefix is first taken literally, so names with glob characters such as `[` work, and a
    directory is not a checkpoint."""
    prefix = os.fspath(checkpoint_prefix)
    if gfile.exists(prefix + ".index"):
        return True
    return not gfile.isdir(prefix) and checkpoint_state.checkpoint_exists(prefix)


def update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                            latest_filename=None, all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None):
    """Rewrites the state file of `save_dir` (atomically) to name `model_checkpoint_path` as
    the latest checkpoint, after `all_model_checkpoint_paths` (oldest first)."""
    update_checkpoint_state_internal(
        save_dir=save_dir, model_checkpoint_path=model_checkpoint_path,
        all_model_checkpoint_paths=all_model_checkpoint_paths, latest_filename=latest_filename,
        save_relative_paths=False, all_model_checkpoint_timestamps=all_model_checkpoint_timestamps,
        last_preserved_timestamp=last_preserved_timestamp)


def checkpoint_exists(checkpoint_prefix):
    """Whether a V2 (`prefix.index`) or V1 (`prefix`, may be a glob) checkpoint exists."""
    return checkpoint_exists_internal(checkpoint_prefix)


def get_checkpoint_mtimes(checkpoint_prefixes):
    """The modification times (seconds since the epoch) of the checkpoints that exist, in the
    order given: a V2 checkpoint's index file, else the V1 file."""
    mtimes = []
    for prefix in checkpoint_prefixes:
        prefix = os.fspath(prefix)
        for pattern in (prefix + ".index", prefix):
            matches = gfile.glob(pattern)
            if matches:
                mtimes.append(gfile.stat(matches[0]).mtime_nsec / 1e9)
                break
    return mtimes


def meta_graph_filename(checkpoint_filename, meta_graph_suffix="meta"):
    """The meta graph file of a checkpoint: a sharded name's `-?????-of-N` is dropped."""
    basename = re.sub(r"-[\d\?]+-of-\d+$", "", checkpoint_filename)
    return ".".join([basename, meta_graph_suffix])


def checkpoint_files(checkpoint_prefix, checkpoint_format_version=V2,
                     meta_graph_suffix="meta"):
    """The existing files of one checkpoint: its meta graph, and for V2 its index and data
    shards (matched by exact name, so the prefix may contain any characters); for V1 the
    checkpoint file(s) the prefix names."""
    prefix = os.fspath(checkpoint_prefix)
    candidates = [meta_graph_filename(prefix, meta_graph_suffix)]
    if checkpoint_format_version == V2:
        candidates.append(prefix + ".index")
        directory, base = os.path.split(prefix)
        data_name = re.compile(re.escape(base) + r"\.data-\d{5}-of-\d{5}$")
        try:
            names = gfile.listdir(directory or ".")
        except errors.NotFoundError:
            names = []
        candidates.extend(gfile.join(directory, name) if directory else name
                          for name in sorted(names) if data_name.match(name))
    else:
        candidates.extend(gfile.glob(prefix))
    return [path for path in candidates if gfile.exists(path) and not gfile.isdir(path)]


def remove_checkpoint(checkpoint_prefix, checkpoint_format_version=V2,
                      meta_graph_suffix="meta"):
    """Deletes the files of the checkpoint at `checkpoint_prefix` (see checkpoint_files)."""
    for path in checkpoint_files(checkpoint_prefix, checkpoint_format_version,
                                 meta_graph_suffix):
        try:
            gfile.remove(path)
        except errors.NotFoundError:
            pass  # deleted meanwhile by another process

