"""safetensors files, read and written here directly (the `safetensors` package is not needed).

Layout: an 8-byte little-endian header length N, N bytes of JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}
padded with spaces to a multiple of 8, then the tensors' little-endian bytes. The writer
emits the header first and then each tensor as it is fetched, in the order given.
TensorFlow types without a safetensors code of their own (qint8, ...) are stored as their
storage integers and named in the metadata entry "tensorkeep.dtypes" (a JSON object).
"""

import json
import math
import struct

import numpy as np

from tensorkeep.io import gfile, numpy_codec
from tensorkeep.io import errors as io_errors
from tensorkeep.tools.common import CommandError, contiguous, datatype_of_name, dtype_name

from . import TensorInfo

_CODE_OF_DATATYPE = {
    1: "F32", 2: "F64", 3: "I32", 4: "U8", 5: "I16", 6: "I8", 8: "C64", 9: "I64", 10: "BOOL",
    14: "BF16", 17: "U16", 19: "F16", 22: "U32", 23: "U64", 24: "F8_E5M2", 25: "F8_E4M3",
}
_DATATYPE_OF_CODE = {code: datatype for datatype, code in _CODE_OF_DATATYPE.items()}
# Quantized types go in as their storage type, named in the metadata.
_QUANTIZED_STORAGE = {11: "I8", 12: "U8", 13: "I32", 15: "I16", 16: "U16"}
_DTYPES_METADATA_KEY = "tensorkeep.dtypes"
_MAX_HEADER = 100 * 1024 * 1024  # The safetensors library's own limit.


def _code(info):
    code = _CODE_OF_DATATYPE.get(info.datatype) or _QUANTIZED_STORAGE.get(info.datatype)
    if code is None:
        kind = "string" if info.datatype == numpy_codec.DT_STRING else dtype_name(info.datatype)
        raise CommandError(f"tensor {info.name} is a {kind} tensor, which safetensors cannot store "
                           "(leave it out with --exclude, or convert to npz or a checkpoint)")
    return code


def build_header(infos, metadata=None):
    """The padded header bytes (length prefix included) and each tensor's byte size."""
    header = {}
    special = {}
    sizes = []
    offset = 0
    for info in infos:
        size = math.prod(info.shape) * numpy_codec.numpy_dtype(info.datatype).itemsize
        header[info.name] = {"dtype": _code(info), "shape": list(info.shape), "data_offsets": [offset, offset + size]}
        if info.datatype in _QUANTIZED_STORAGE:
            special[info.name] = dtype_name(info.datatype)
        sizes.append(size)
        offset += size
    metadata = dict(metadata or {})
    if special:
        metadata[_DTYPES_METADATA_KEY] = json.dumps(special, sort_keys=True)
    if metadata:
        header = {"__metadata__": metadata, **header}
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text, sizes


def write(path, infos, fetch):
    header, sizes = build_header(infos)
    with gfile.AtomicWriter(path) as out:
        out.write(header)
        for index, (info, size) in enumerate(zip(infos, sizes)):
            value = contiguous(fetch(index))
            storage = numpy_codec.numpy_dtype(info.datatype)
            if value.dtype != storage or value.shape != tuple(info.shape):
                raise CommandError(f"tensor {info.name}: got {value.dtype} {list(value.shape)}, "
                                   f"expected {storage} {list(info.shape)}")
            data = value.astype(storage.newbyteorder("<"), copy=False).reshape(-1).view(np.uint8)
            assert len(data) == size
            out.write(data)


class SafetensorsSource:
    def __init__(self, path):
        self.path = path
        try:
            self._file = gfile.RandomAccessFile(path)
        except io_errors.OpError as error:
            raise CommandError(error.message) from None
        try:
            self._parse_header()
        except BaseException:
            self._file.close()
            raise

    def _corrupt(self, detail):
        return CommandError(f"{self.path} is not a valid safetensors file: {detail}")

    def _parse_header(self):
        file_size = self._file.size
        if file_size < 8:
            raise self._corrupt(f"it has only {file_size} bytes")
        (header_size,) = struct.unpack("<Q", self._file.read_at(0, 8))
        if header_size > min(_MAX_HEADER, file_size - 8):
            raise self._corrupt(f"the header claims {header_size} bytes")
        try:
            header = json.loads(self._file.read_at(8, header_size).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise self._corrupt(f"the header is not JSON ({error})") from None
        if not isinstance(header, dict):
            raise self._corrupt("the header is not a JSON object")
        metadata = header.pop("__metadata__", None) or {}
        self.metadata = metadata
        special = json.loads(metadata.get(_DTYPES_METADATA_KEY, "{}"))
        self._data_start = 8 + header_size
        data_size = file_size - self._data_start
        self._spans = {}
        entries = []
        for name, entry in header.items():
            try:
                code, shape, (begin, end) = entry["dtype"], tuple(entry["shape"]), entry["data_offsets"]
            except (KeyError, TypeError, ValueError):
                raise self._corrupt(f"the entry for {name} is malformed") from None
            if code not in _DATATYPE_OF_CODE:
                raise self._corrupt(f"tensor {name} has dtype {code}, which TensorFlow has no type for")
            datatype = _DATATYPE_OF_CODE[code]
            if name in special:
                datatype = datatype_of_name(special[name])
            if not all(isinstance(size, int) and size >= 0 for size in shape):
                raise self._corrupt(f"tensor {name} has shape {list(shape)}")
            expected = math.prod(shape) * numpy_codec.numpy_dtype(datatype).itemsize
            if not (isinstance(begin, int) and isinstance(end, int) and 0 <= begin <= end <= data_size) \
                    or end - begin != expected:
                raise self._corrupt(f"tensor {name} spans bytes [{begin}, {end}) of {data_size}, "
                                    f"its shape {list(shape)} of {code} needs {expected}")
            self._spans[name] = (begin, end)
            entries.append((begin, end, TensorInfo(name, datatype, shape)))
        entries.sort(key=lambda item: (item[0], item[1]))
        self.tensors = [info for _, _, info in entries]
        self._infos = {info.name: info for info in self.tensors}

    def read(self, name):
        info = self._infos[name]
        begin, end = self._spans[name]
        storage = numpy_codec.numpy_dtype(info.datatype)
        value = np.empty(info.shape, dtype=storage)  # Little-endian hosts only, like the bundle reader.
        buffer = value.reshape(-1).view(np.uint8)
        if self._file.readinto_at(self._data_start + begin, buffer) != end - begin:
            raise CommandError(f"{self.path}: short read of tensor {name}")
        return value

    def close(self):
        self._file.close()
