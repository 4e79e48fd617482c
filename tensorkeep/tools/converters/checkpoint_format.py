"""TensorFlow checkpoints (V2 tensor bundles; V1 files are read too)."""

import math

import numpy as np

from tensorkeep.io import bundle, crc32c, gfile, numpy_codec
from tensorkeep.io import errors as io_errors
from tensorkeep.tools import model_files
from tensorkeep.tools.common import CommandError, local_path
from tensorkeep.tools.inspect import open_reader

from . import TensorInfo


class CheckpointSource:
    def __init__(self, path):
        self.path = model_files.resolve_checkpoint(path).path
        self._reader = open_reader(self.path)
        keys = self._reader.keys()
        if isinstance(self._reader, bundle.BundleReader):
            keys.sort(key=self._stored_position)  # Data order, so a round trip rewrites the same bytes.
        self.tensors = [TensorInfo(key, *self._reader.dtype_and_shape(key)) for key in keys]

    def _stored_position(self, key):
        entry = self._reader.entry(key)
        if entry.slices:  # Partitioned tensors are rewritten whole, after the others.
            return (math.inf, 0, 0)
        # Empty tensors share their offset with the next tensor, which was written after them.
        return (entry.shard_id, entry.offset, entry.size > 0)

    def read(self, name):
        try:
            return self._reader.read(name)
        except io_errors.OpError as error:
            raise CommandError(error.message) from None

    def mapped(self, name):
        """A read-only view of the stored tensor mapped from its local data file (its checksum
        verified), or None when the tensor cannot be mapped (remote, V1, partitioned, strings)."""
        reader = self._reader
        # A big-endian bundle's bytes need swapping; the reader keeps that to itself.
        if not isinstance(reader, bundle.BundleReader) or local_path(self.path) is None or \
                getattr(reader, "_big_endian", True):
            return None
        entry = reader.entry(name)
        datatype, shape = reader.dtype_and_shape(name)
        if entry.slices or datatype in (numpy_codec.DT_STRING, numpy_codec.DT_RESOURCE, numpy_codec.DT_VARIANT):
            return None
        dtype = numpy_codec.numpy_dtype(datatype)
        data_path = bundle.data_filename(self.path, entry.shard_id, reader.num_shards)
        size = math.prod(shape) * dtype.itemsize
        if size == 0 or entry.size != size or entry.offset + size > gfile.stat(data_path).length:
            return None
        view = np.memmap(local_path(data_path), dtype=dtype, mode="c", offset=entry.offset, shape=shape)
        if crc32c.value(view.reshape(-1).view(np.uint8)) != crc32c.unmask(entry.crc32c):
            raise CommandError(f"Checksum does not match for tensor {name} in {data_path}. The file is corrupt.")
        return view

    def close(self):
        self._reader.close()


def write(path, infos, fetch):
    with bundle.BundleWriter(path) as writer:
        for index, info in enumerate(infos):
            writer.add(info.name, fetch(index), info.datatype)
