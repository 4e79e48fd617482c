"""Reading checkpoints without a graph: tf.train.NewCheckpointReader, load_checkpoint,
load_variable, list_variables, and waiting for new checkpoints."""

import os
import time

import numpy as np

from tensorkeep import io as tkio
from tensorkeep.framework import dtypes
from tensorkeep.io import bundle
from tensorkeep.io import gfile
from tensorkeep.io import protos
from tensorkeep.io import tensor_slices
from tensorkeep.training import checkpoint_management


class CheckpointReader:
    """The tensors of one V2 or V1 checkpoint, read on demand (TensorFlow's CheckpointReader).

    Closing is optional (the files are released when the reader is garbage collected); use
    `with` or close() to release them earlier.
    """

    def __init__(self, filepattern):
        self._reader = tkio.open_checkpoint_reader(_as_str(filepattern))

    def get_variable_to_shape_map(self):
        """{tensor name: shape as a list}; a partitioned tensor appears under its full name."""
        return {name: list(self._reader.dtype_and_shape(name)[1])
                for name in self._reader.keys()}

    def get_variable_to_dtype_map(self):
        """{tensor name: DType}."""
        return {name: dtypes.as_dtype(self._reader.dtype_and_shape(name)[0])
                for name in self._reader.keys()}

    def has_tensor(self, tensor_str):
        return self._reader.has(_as_str(tensor_str))

    def get_tensor(self, tensor_str):
        """The value of a tensor: an ndarray, or a numpy scalar (bytes for strings) for a
        scalar, as TensorFlow returns it."""
        value = self._reader.read(_as_str(tensor_str))
        return value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value

    def debug_string(self):
        """One line "name (DT_TYPE) [dims]" per stored entry, as TensorFlow prints it. For a V2
        checkpoint the slices of partitioned tensors are listed under their binary keys and the
        partitioned tensors themselves are not; a V1 checkpoint lists each tensor, with
        ", N slices" when it is partitioned (TensorFlow lists V1 tensors in hash order, here
        they are sorted)."""
        lines = []
        for key, datatype, shape, suffix in self._stored_entries():
            lines.append(b"%s (%s) [%s]%s\n" % (
                key, protos.DataType.Name(datatype).encode(),
                ",".join(str(d) for d in shape).encode(), suffix))
        return b"".join(lines)

    def _stored_entries(self):
        """(key bytes, DataType, shape, line suffix) of every entry, in key order."""
        entries = []
        for name in self._reader.keys():
            datatype, shape = self._reader.dtype_and_shape(name)
            key = name.encode("utf-8", "surrogateescape")
            if not isinstance(self._reader, bundle.BundleReader):
                slice_count = len(self._reader.entry(name).slice)
                entries.append((key, datatype, shape,
                                b", %d slices" % slice_count if slice_count > 1 else b""))
                continue
            slices = self._reader.entry(name).slices
            if not slices:
                entries.append((key, datatype, shape, b""))
            for slice_proto in slices:
                slice_key = tensor_slices.encode_tensor_name_slice(
                    name, tensor_slices.extents_from_proto(slice_proto))
                entries.append((slice_key, datatype, self._reader.dtype_and_shape(slice_key)[1],
                                b""))
        return sorted(entries, key=lambda entry: entry[0])

    def close(self):
        self._reader.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        reader = getattr(self, "_reader", None)
        if reader is not None:
            reader.close()


def NewCheckpointReader(filepattern):  # noqa: N802 (TensorFlow's name)
    """A CheckpointReader for the checkpoint with prefix (or V1 file pattern) `filepattern`."""
    return CheckpointReader(filepattern)


def _as_str(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return os.fspath(value)


def _checkpoint_filename(ckpt_dir_or_file):
    ckpt_dir_or_file = _as_str(ckpt_dir_or_file)
    if gfile.isdir(ckpt_dir_or_file):
        return checkpoint_management.latest_checkpoint(ckpt_dir_or_file)
    return ckpt_dir_or_file


def load_checkpoint(ckpt_dir_or_file):
    """A CheckpointReader for a checkpoint prefix, or for the latest checkpoint of a directory."""
    filename = _checkpoint_filename(ckpt_dir_or_file)
    if filename is None:
        raise ValueError("Couldn't find 'checkpoint' file or checkpoints in given directory %s"
                         % (ckpt_dir_or_file,))
    return NewCheckpointReader(filename)


def load_variable(ckpt_dir_or_file, name):
    """The value of variable `name` (a trailing ":0" is ignored) in the checkpoint."""
    if name.endswith(":0"):
        name = name[:-2]
    with load_checkpoint(ckpt_dir_or_file) as reader:
        return reader.get_tensor(name)


def list_variables(ckpt_dir_or_file):
    """[(name, shape)] of the checkpoint's variables, sorted by name."""
    with load_checkpoint(ckpt_dir_or_file) as reader:
        variable_map = reader.get_variable_to_shape_map()
    return [(name, variable_map[name]) for name in sorted(variable_map)]


def wait_for_new_checkpoint(checkpoint_dir, last_checkpoint=None, seconds_to_sleep=1,
                            timeout=None):
    """Polls until the latest checkpoint of `checkpoint_dir` is not `last_checkpoint`; returns
    it, or None when `timeout` seconds pass first."""
    stop_time = time.time() + timeout if timeout is not None else None
    while True:
        checkpoint_path = checkpoint_management.latest_checkpoint(checkpoint_dir)
        if checkpoint_path is not None and checkpoint_path != last_checkpoint:
            return checkpoint_path
        if stop_time is not None and time.time() + seconds_to_sleep > stop_time:
            return None
        time.sleep(seconds_to_sleep)


def checkpoints_iterator(checkpoint_dir, min_interval_secs=0, timeout=None, timeout_fn=None):
    """Yields each new checkpoint of `checkpoint_dir` as it appears, at most one per
    `min_interval_secs`; stops after `timeout` seconds without one unless `timeout_fn()`
    returns False."""
    checkpoint_path = None
    while True:
        new_checkpoint_path = wait_for_new_checkpoint(checkpoint_dir, checkpoint_path,
                                                      timeout=timeout)
        if new_checkpoint_path is None:
            if not timeout_fn or timeout_fn():
                return
            continue
        start = time.time()
        checkpoint_path = new_checkpoint_path
        yield checkpoint_path
        time_to_next_eval = start + min_interval_secs - time.time()
        if time_to_next_eval > 0:
            time.sleep(time_to_next_eval)

