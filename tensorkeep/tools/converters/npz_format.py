"""NumPy .npz archives (what np.savez writes: a zip of NAME.npy members, stored uncompressed).

Members are written one at a time through zipfile's streaming writer. Types the .npy
format cannot describe (bfloat16, float8, int4, quantized types) are stored as their raw
bits in an unsigned integer of the same width, with `tensorkeep:dtype=NAME` in the member's
zip comment, which np.load ignores and this reader applies. Strings are stored as
fixed-width bytes ('S'), which cannot hold a trailing NUL byte: such tensors are refused.
"""

import zipfile

import numpy as np
from numpy.lib import format as npy_format

from tensorkeep.io import gfile, numpy_codec
from tensorkeep.io import errors as io_errors
from tensorkeep.tools.common import CommandError, contiguous, datatype_of_name, dtype_name

from . import TensorInfo

_COMMENT_PREFIX = b"tensorkeep:dtype="
_ZIP64_THRESHOLD = 1 << 31
_PLAIN_NUMPY = {1, 2, 3, 4, 5, 6, 8, 9, 10, 17, 18, 19, 22, 23}


class _StreamOut:
    """The write side of an AtomicWriter for zipfile; without seek, zipfile streams (data descriptors)."""

    def __init__(self, writer):
        self._writer = writer

    def write(self, data):
        self._writer.write(data)
        return len(data)

    def flush(self):
        pass


def _stored_form(info, value):
    """(array to put in the .npy, zip comment) for a tensor."""
    if info.datatype == numpy_codec.DT_STRING:
        flat = list(numpy_codec.to_bytes_array(value).reshape(-1))
        if any(element.endswith(b"\0") for element in flat):
            raise CommandError(f"string tensor {info.name} has elements ending in a NUL byte, which npz's "
                               "fixed-width bytes cannot keep (convert it to a checkpoint instead)")
        width = max((len(element) for element in flat), default=1) or 1
        return np.array(flat, dtype=f"S{width}").reshape(value.shape), b""
    if info.datatype in _PLAIN_NUMPY:
        return value, b""
    raw = value.view(np.dtype(f"u{value.dtype.itemsize}"))
    return raw, _COMMENT_PREFIX + dtype_name(info.datatype).encode("ascii")


def write(path, infos, fetch):
    with gfile.AtomicWriter(path) as out:
        with zipfile.ZipFile(_StreamOut(out), mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for index, info in enumerate(infos):
                stored, comment = _stored_form(info, np.asarray(fetch(index)))
                member = zipfile.ZipInfo(info.name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
                member.compress_type = zipfile.ZIP_STORED
                member.comment = comment
                with archive.open(member, "w", force_zip64=stored.nbytes >= _ZIP64_THRESHOLD) as handle:
                    npy_format.write_array(handle, contiguous(stored), allow_pickle=False)


class NpzSource:
    def __init__(self, path):
        self.path = path
        try:
            self._handle = gfile.GFile(path, "rb")
            self._archive = zipfile.ZipFile(self._handle)
        except io_errors.OpError as error:
            raise CommandError(error.message) from None
        except zipfile.BadZipFile as error:
            raise CommandError(f"{path} is not an npz archive ({error})") from None
        self._members = {}
        self.tensors = []
        for member in self._archive.infolist():
            if not member.filename.endswith(".npy"):
                continue
            name = member.filename[:-len(".npy")]
            with self._archive.open(member) as handle:
                shape, dtype = self._header(handle, name)
            datatype = self._datatype(name, member, dtype)
            self._members[name] = (member, datatype)
            self.tensors.append(TensorInfo(name, datatype, shape))

    def _header(self, handle, name):
        try:
            version = npy_format.read_magic(handle)
            read_header = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
            shape, _, dtype = read_header(handle)
        except ValueError as error:
            raise CommandError(f"{self.path}: member {name}.npy is not a .npy array ({error})") from None
        return tuple(shape), dtype

    def _datatype(self, name, member, dtype):
        if member.comment.startswith(_COMMENT_PREFIX):
            return datatype_of_name(member.comment[len(_COMMENT_PREFIX):].decode("ascii"))
        if dtype.kind in "SU":
            return numpy_codec.DT_STRING
        if dtype.kind == "O" or dtype.fields is not None:
            raise CommandError(f"{self.path}: array {name} has dtype {dtype}, which TensorFlow cannot store "
                               "(object and structured arrays are not read)")
        try:
            return numpy_codec.datatype_of(dtype)
        except io_errors.OpError as error:
            raise CommandError(f"{self.path}: array {name}: {error.message}") from None

    def read(self, name):
        member, datatype = self._members[name]
        with self._archive.open(member) as handle:
            value = npy_format.read_array(handle, allow_pickle=False)
        value = contiguous(value)
        if datatype == numpy_codec.DT_STRING:
            if value.dtype.kind == "U":
                return numpy_codec.to_bytes_array(value.astype(object))
            return value.astype(object)
        storage = numpy_codec.numpy_dtype(datatype)
        if value.dtype != storage:
            if value.dtype.itemsize != storage.itemsize:
                raise CommandError(f"{self.path}: array {name} of {value.dtype} cannot hold {dtype_name(datatype)}")
            value = value.view(storage)
        return value

    def close(self):
        self._archive.close()
        self._handle.close()
