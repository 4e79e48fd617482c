"""The `checkpoint` state file: a text-format CheckpointState naming the latest checkpoints.

The path rules are TensorFlow's: relative paths in the file are relative to the file's
directory (`os.path.isabs` decides, so a Windows path read on Linux counts as relative),
and the file is replaced atomically on every update.
"""

import logging
import os

from . import errors, gfile, protos

# google.protobuf.text_format (~5 ms) is imported by the functions that read or write the file.

DEFAULT_STATE_FILENAME = "checkpoint"

_logger = logging.getLogger(__name__)


def checkpoint_state_path(checkpoint_dir, latest_filename=None):
    return os.path.join(gfile.path_str(checkpoint_dir), latest_filename or DEFAULT_STATE_FILENAME)


def parse_checkpoint_state(text):
    """A CheckpointState from the text of a state file (text_format.ParseError if malformed)."""
    from google.protobuf import text_format

    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return text_format.Parse(text, protos.CheckpointState())


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The CheckpointState of `checkpoint_dir`, with relative paths joined to the directory.

    None when the file does not exist or cannot be read or parsed (a warning is logged);
    ValueError when it parses but names no model checkpoint.
    """
    from google.protobuf import text_format

    checkpoint_dir = gfile.path_str(checkpoint_dir)
    path = checkpoint_state_path(checkpoint_dir, latest_filename)
    try:
        if not gfile.exists(path):
            return None
        state = parse_checkpoint_state(gfile.read_file(path))
    except (errors.OpError, text_format.ParseError, UnicodeDecodeError) as error:
        _logger.warning("%s: %s", type(error).__name__, error)
        _logger.warning("%s: Checkpoint ignored", path)
        return None
    if not state.model_checkpoint_path:
        raise ValueError("Invalid checkpoint state loaded from " + checkpoint_dir)
    if not os.path.isabs(state.model_checkpoint_path):
        state.model_checkpoint_path = os.path.join(checkpoint_dir, state.model_checkpoint_path)
    for index, checkpoint_path in enumerate(state.all_model_checkpoint_paths):
        if not os.path.isabs(checkpoint_path):
            state.all_model_checkpoint_paths[index] = os.path.join(checkpoint_dir, checkpoint_path)
    return state


def checkpoint_exists(prefix):
    """True when a V2 checkpoint (`prefix.index`) or a V1 checkpoint file (`prefix`, may be a glob) exists."""
    prefix = gfile.path_str(prefix)
    return bool(gfile.glob(prefix + ".index") or gfile.glob(prefix))


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the newest checkpoint named by the state file, if its files exist; else None."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state and state.model_checkpoint_path:
        if checkpoint_exists(state.model_checkpoint_path):
            return state.model_checkpoint_path
        _logger.error("Couldn't match files for checkpoint %s", state.model_checkpoint_path)
    return None


def generate_checkpoint_state_proto(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                                    all_model_checkpoint_timestamps=None, last_preserved_timestamp=None):
    """A CheckpointState whose paths are relative to `save_dir` when `save_dir` itself is relative.

    `model_checkpoint_path` is appended to `all_model_checkpoint_paths` unless it is already last.
    """
    all_model_checkpoint_paths = list(all_model_checkpoint_paths or [])
    if not all_model_checkpoint_paths or all_model_checkpoint_paths[-1] != model_checkpoint_path:
        all_model_checkpoint_paths.append(model_checkpoint_path)
    if all_model_checkpoint_timestamps and len(all_model_checkpoint_timestamps) != len(all_model_checkpoint_paths):
        raise ValueError(
            f"Checkpoint timestamps, if provided, must match checkpoint paths (got paths "
            f"{all_model_checkpoint_paths} and timestamps {all_model_checkpoint_timestamps})")
    if not os.path.isabs(save_dir):
        if not os.path.isabs(model_checkpoint_path):
            model_checkpoint_path = os.path.relpath(model_checkpoint_path, save_dir)
        all_model_checkpoint_paths = [
            path if os.path.isabs(path) else os.path.relpath(path, save_dir) for path in all_model_checkpoint_paths]
    return protos.CheckpointState(
        model_checkpoint_path=model_checkpoint_path,
        all_model_checkpoint_paths=all_model_checkpoint_paths,
        all_model_checkpoint_timestamps=all_model_checkpoint_timestamps,
        last_preserved_timestamp=last_preserved_timestamp)


def update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None, latest_filename=None,
                            save_relative_paths=False, all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None):
    """Write the state file of `save_dir` atomically (TF's update_checkpoint_state_internal).

    With `save_relative_paths`, absolute checkpoint paths are stored relative to `save_dir`.
    """
    save_dir = gfile.path_str(save_dir)
    model_checkpoint_path = gfile.path_str(model_checkpoint_path)
    all_model_checkpoint_paths = [gfile.path_str(path) for path in all_model_checkpoint_paths or []]
    state_path = checkpoint_state_path(save_dir, latest_filename)
    if save_relative_paths:
        def relative(path):
            return os.path.relpath(path, save_dir) if os.path.isabs(path) else path

        model_checkpoint_path = relative(model_checkpoint_path)
        all_model_checkpoint_paths = [relative(path) for path in all_model_checkpoint_paths]
    state = generate_checkpoint_state_proto(
        save_dir, model_checkpoint_path, all_model_checkpoint_paths,
        all_model_checkpoint_timestamps=all_model_checkpoint_timestamps,
        last_preserved_timestamp=last_preserved_timestamp)
    if state_path == state.model_checkpoint_path:
        raise RuntimeError(f"Save path '{model_checkpoint_path}' conflicts with path used for checkpoint state.  "
                           "Please use a different save path.")
    from google.protobuf import text_format

    gfile.write_file_atomically(state_path, text_format.MessageToString(state).encode("utf-8"))
