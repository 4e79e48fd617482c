"""Files and formats of TensorFlow model persistence, usable without any graph.

    from tensorkeep import io as tkio
    weights = tkio.read_checkpoint("model.ckpt")      # lazy {name: ndarray}
    tkio.write_checkpoint("out/model.ckpt", {"w": w})  # byte-identical to TensorFlow's
    tkio.list_checkpoint("model.ckpt")                 # {name: (numpy dtype, shape)}

Submodules: `bundle` (V2 checkpoints), `checkpoint_v1`, `checkpoint_state` (the
`checkpoint` file), `table` (the sorted string table of .index files), `gfile` (files and
URLs), `protos` (TensorFlow's protocol buffer messages), `crc32c`, `errors`. Every path may
be a local path or an fsspec URL such as memory://... or s3://....
"""

import importlib
from collections.abc import Mapping

from . import errors

_SUBMODULES = {"bundle", "checkpoint_state", "checkpoint_v1", "crc32c", "gfile", "numpy_codec", "protos",
               "table", "tensor_slices"}

__all__ = ["CheckpointMapping", "list_checkpoint", "open_checkpoint_reader", "read_checkpoint",
           "write_checkpoint", *sorted(_SUBMODULES | {"errors"})]


def __getattr__(name):
    # Submodules load on first use, so importing the io layer costs (almost) nothing.
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_checkpoint_reader(prefix_or_file):
    """A reader for the checkpoint at `prefix_or_file`: V2 if `<prefix>.index` exists, else V1.

    The reader has keys(), has(key), dtype_and_shape(key) -> (DataType enum, shape),
    entry(key), read(key, out=None) and close().
    """
    from . import bundle, gfile

    path = gfile.path_str(prefix_or_file)
    if gfile.exists(bundle.index_filename(path)):
        return bundle.BundleReader(path)
    from . import checkpoint_v1

    try:
        return checkpoint_v1.V1CheckpointReader(path)
    except errors.NotFoundError:
        raise errors.NotFoundError(
            None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find any matching files for "
                        f"{path} (neither a V2 checkpoint {bundle.index_filename(path)} nor a V1 checkpoint file)"
        ) from None


class CheckpointMapping(Mapping):
    """Read-only {tensor name: ndarray} view of a checkpoint; each value is read when accessed."""

    def __init__(self, reader):
        self._reader = reader
        self._keys = reader.keys()
        self._key_set = set(self._keys)

    @property
    def reader(self):
        return self._reader

    def __getitem__(self, key):
        if key not in self._key_set:
            raise KeyError(key)
        return self._reader.read(key)

    def __contains__(self, key):
        return key in self._key_set

    def __iter__(self):
        return iter(self._keys)

    def __len__(self):
        return len(self._keys)

    def close(self):
        self._reader.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"CheckpointMapping({self._reader.prefix!r}, {len(self._keys)} tensors)"


def read_checkpoint(prefix):
    """The tensors of the checkpoint at `prefix` as a lazy read-only mapping of numpy arrays."""
    return CheckpointMapping(open_checkpoint_reader(prefix))


def write_checkpoint(prefix, tensors):
    """Write {name: array-like} as a V2 checkpoint at `prefix`, with the bytes TensorFlow writes.

    Tensors are stored in sorted name order, as TensorFlow's Saver does.
    """
    from . import bundle

    with bundle.BundleWriter(prefix) as writer:
        for name in sorted(tensors):
            writer.add(name, tensors[name])


def list_checkpoint(prefix):
    """{tensor name: (numpy dtype, shape tuple)} of the checkpoint at `prefix`."""
    from . import numpy_codec

    with open_checkpoint_reader(prefix) as reader:
        listing = {}
        for name in reader.keys():
            datatype, shape = reader.dtype_and_shape(name)
            listing[name] = (numpy_codec.numpy_dtype(datatype), shape)
        return listing
