"""Tensor bundles: TensorFlow's V2 checkpoint format.

A bundle with prefix P is an index table `P.index` and data files
`P.data-00000-of-0000N`. The index maps each tensor name to a BundleEntryProto (dtype,
shape, shard, offset, size, masked CRC-32C of the stored bytes); the entry under the empty
key is a BundleHeaderProto (shard count, endianness, format version). Data files hold the
tensors back to back, in the order they were added: numeric tensors as their little-endian
element bytes, string tensors as varint64 lengths, a masked CRC-32C of the lengths, then
the bytes. Partitioned tensors have an entry listing their slices; each slice is stored as
its own tensor under a key made by `tensor_slices.encode_tensor_name_slice`.

`BundleWriter` writes the same bytes as TensorFlow's bundle writer, under temporary names
renamed into place by `finish()` (the index last); small tensors are gathered into writes of
about a MiB, large ones checksummed piece by piece as they are written. `BundleReader` reads
only the index when opened (the parsed index of the last few paths is kept while the file's
bytes stay the same), reads one tensor per `read()` or runs of neighbouring tensors per
system call (`read_many`, `verify_many` then `read_verified`), and checks every offset, size
and checksum against the real files before allocating or returning anything.

Rewriting an existing prefix removes its index before the new data file replaces the old
one, so a concurrent reader never pairs an old index with new data unnoticed: it finds no
checkpoint (NotFoundError), or its reads fail their checks and, the index having changed
since it was opened, raise AbortedError (read again) rather than DataLossError.
"""

import contextlib
import difflib
import itertools
import math
import os
import posixpath
import struct
import threading

import numpy as np
from google.protobuf.message import DecodeError

from . import crc32c, gfile, numpy_codec, protos, tensor_slices
from .errors import AbortedError, DataLossError, InvalidArgumentError, NotFoundError, UnimplementedError
from .numpy_codec import DT_STRING
from .table import BytesSource, FormatError, TableReader, TableWriter, decode_varint, encode_varint

HEADER_KEY = b""
BUNDLE_VERSION = 1  # The format version this code writes and reads.
BUNDLE_MIN_PRODUCER = 0

_UINT32_MAX = 0xFFFFFFFF
_UINT32_LE = struct.Struct("<I")
_LITTLE, _BIG = 0, 1  # BundleHeaderProto.Endianness


_NOT_PARSED = object()
_RUN_BYTES = 4 << 20  # read_many reads runs of neighbouring tensors up to this size at once
_MAX_RUN_TENSORS = 512  # and of at most this many tensors (a system call takes up to 1024 buffers)
_PARSED_INDEXES = 4
_parsed_index_cache = {}  # index path -> (index bytes, header, raw entries, parsed entries, plain entries)
_parsed_index_lock = threading.Lock()


def _remember_parsed_index(path, parsed):
    """Keep the parsed index of the last few paths: restoring the same checkpoint again (into
    initialized variables, or after each save) then skips parsing its index."""
    with _parsed_index_lock:
        _parsed_index_cache.pop(path, None)
        if len(_parsed_index_cache) >= _PARSED_INDEXES:
            del _parsed_index_cache[next(iter(_parsed_index_cache))]
        _parsed_index_cache[path] = parsed


def index_filename(prefix):
    return f"{prefix}.index"


def data_filename(prefix, shard_id, num_shards):
    return f"{prefix}.data-{shard_id:05d}-of-{num_shards:05d}"


def _key_bytes(key):
    return key.encode("utf-8", "surrogateescape") if isinstance(key, str) else bytes(key)


def _key_str(key):
    return key.decode("utf-8", "surrogateescape")


def _parent_directory(path):
    return posixpath.dirname(path) if "://" in path else os.path.dirname(path)


def _set_shape(shape_proto, shape):
    shape_proto.SetInParent()  # TensorFlow always writes the shape, even a scalar's empty one.
    for size in shape:
        shape_proto.dim.add().size = size


def _header_bytes(num_shards, endianness=_LITTLE, version=None):
    header = protos.BundleHeaderProto(num_shards=num_shards, endianness=endianness)
    if version is None:
        header.version.producer = BUNDLE_VERSION
        header.version.min_consumer = BUNDLE_MIN_PRODUCER
    else:
        header.version.CopyFrom(version)
    return header.SerializeToString(deterministic=True)


def _lengths_checksum(lengths, byte_order):
    """CRC-32C of string lengths as TensorFlow computes it: each length as a fixed-width
    integer (uint32, or uint64 past 4 GiB), not as the varint bytes stored in the file."""
    if all(length <= _UINT32_MAX for length in lengths):
        return crc32c.value(np.asarray(lengths, dtype=("<u4" if byte_order == "little" else ">u4")).tobytes())
    checksum = 0
    for length in lengths:
        checksum = crc32c.extend(checksum, length.to_bytes(4 if length <= _UINT32_MAX else 8, byte_order))
    return checksum


_SMALL_TENSOR_BYTES = 1 << 20  # smaller tensors are gathered into writes of about this size
_WRITE_PIECE_BYTES = 512 << 10  # larger ones are checksummed and written in pieces this size
_LITTLE_STORAGE = {}  # DataType enum -> its numpy storage dtype, on little-endian machines
_SHAPE_FIELDS = {}  # shape tuple -> BundleEntryProto field 2 (a TensorShapeProto), serialized
_ENTRY_FIELDS = {}  # (DataType enum, shape, size) -> the serialized fields they determine


_ONE_BYTE_VARINTS = [bytes((value,)) for value in range(0x80)]


def _varint(value):
    """encode_varint, quicker for the values entries hold (below 2**28)."""
    if value < 0x80:
        return _ONE_BYTE_VARINTS[value]
    if value < 0x4000:
        return bytes((value & 0x7F | 0x80, value >> 7))
    if value < 0x200000:
        return bytes((value & 0x7F | 0x80, value >> 7 & 0x7F | 0x80, value >> 14))
    if value < 0x10000000:
        return bytes((value & 0x7F | 0x80, value >> 7 & 0x7F | 0x80, value >> 14 & 0x7F | 0x80, value >> 21))
    return encode_varint(value)


def _shape_field(shape):
    field = _SHAPE_FIELDS.get(shape)
    if field is None:
        # TensorShapeProto.dim (2) holds Dim messages whose size (1) is omitted when 0.
        dims = [b"\x08" + encode_varint(size) if size else b"" for size in shape]
        body = b"".join(b"\x12" + encode_varint(len(dim)) + dim for dim in dims)
        field = b"\x12" + encode_varint(len(body)) + body
        if len(_SHAPE_FIELDS) < 4096:
            _SHAPE_FIELDS[shape] = field
    return field


def _entry_bytes(datatype, shape, offset, size, masked_crc):
    """A BundleEntryProto of an unpartitioned tensor in shard 0, serialized as protobuf does
    deterministically (fields in number order, zero scalars left out), without building one."""
    fields = _ENTRY_FIELDS.get((datatype, shape, size))
    if fields is None:  # dtype (1) and shape (2); size (5)
        fields = (b"\x08" + _varint(datatype) + _shape_field(shape), b"\x28" + _varint(size) if size else b"")
        if len(_ENTRY_FIELDS) < 4096:
            _ENTRY_FIELDS[(datatype, shape, size)] = fields
    # offset (4) goes between them; the checksum (6) last.
    return b"".join((fields[0], b"\x20" + _varint(offset) if offset else b"", fields[1],
                     b"\x35" + _UINT32_LE.pack(masked_crc) if masked_crc else b""))


def _string_tensor_bytes(elements):
    """The stored form of a flat sequence of bytes and its (unmasked) entry checksum."""
    lengths = [len(element) for element in elements]
    varints = b"".join(encode_varint(length) for length in lengths)
    checksum = _lengths_checksum(lengths, "little")
    length_checksum = struct.pack("<I", crc32c.mask(checksum))
    checksum = crc32c.extend(checksum, length_checksum)
    body = b"".join(elements)
    checksum = crc32c.extend(checksum, body)
    return varints + length_checksum + body, checksum


class BundleWriter:
    """Writes a single-shard bundle; `add` tensors, then `finish()` (or use it as a context manager).

    Nothing appears under the final file names until `finish()`; `abort()` (or an exception
    inside the `with` block) removes the temporary files. Opening a writer first deletes the
    temporary files that writers killed in the same directory left behind.
    """

    def __init__(self, prefix):
        self._prefix = gfile.path_str(prefix)
        parent = _parent_directory(self._prefix)
        if parent:
            gfile.makedirs(parent)
        gfile.remove_abandoned_temp_files(parent or ".")
        self._data = gfile.AtomicWriter(data_filename(self._prefix, 0, 1))
        self._entries = {}  # key -> serialized BundleEntryProto, or the proto of a partitioned tensor
        self._size = 0
        self._small_tensors = bytearray()  # small tensors' bytes, written together
        self._closed = False

    @property
    def prefix(self):
        return self._prefix

    def add(self, key, value, datatype=None):
        """Append tensor `value` (array-like; strings as bytes/str) under `key`.

        `datatype` (a DataType enum) records a type numpy cannot tell apart from its
        storage, such as DT_QINT8 for an int8 array.
        """
        self._check_open()
        if type(key) is not bytes:
            key = _key_bytes(key)
        if key == HEADER_KEY:
            raise InvalidArgumentError(None, None, "The empty string is reserved for the bundle header")
        if key in self._entries:
            raise InvalidArgumentError(None, None, f"Adding duplicate key: {_key_str(key)}")
        self._entries[key] = self._write_tensor(value, datatype)[1]

    def add_slice(self, key, full_shape, extents, value, datatype=None):
        """Append one slice (list of (start, length|None) per dimension) of partitioned tensor `key`."""
        self._check_open()
        full_shape = tuple(int(size) for size in full_shape)
        bounds = tensor_slices.resolve(extents, full_shape, f"slice of {key}")
        value = np.asarray(value)
        expected_shape = tuple(stop - start for start, stop in bounds)
        if value.shape != expected_shape:
            raise InvalidArgumentError(
                None, None, f"Slice of {key} has shape {list(value.shape)}, its extents need {list(expected_shape)}")
        if tensor_slices.is_full(extents, full_shape):
            self.add(key, value, datatype)
            return
        key = _key_bytes(key)
        slice_key = tensor_slices.encode_tensor_name_slice(key, extents)
        if slice_key in self._entries:
            raise InvalidArgumentError(None, None, f"Adding duplicate slice of {_key_str(key)}")
        slice_datatype, slice_entry = self._write_tensor(value, datatype)
        full_entry = self._entries.get(key)
        if full_entry is None:
            full_entry = self._entries[key] = protos.BundleEntryProto(dtype=slice_datatype)
            _set_shape(full_entry.shape, full_shape)
        elif isinstance(full_entry, bytes) or full_entry.dtype != slice_datatype or \
                tuple(dim.size for dim in full_entry.shape.dim) != full_shape:
            raise InvalidArgumentError(None, None, f"Slice of {_key_str(key)} conflicts with its earlier entry")
        tensor_slices.fill_proto(full_entry.slices.add(), extents)
        self._entries[slice_key] = slice_entry

    def _write_tensor(self, value, datatype):
        """Appends the stored form of `value`; returns (DataType enum, serialized entry)."""
        if datatype is not None and type(value) is np.ndarray and value.dtype is _LITTLE_STORAGE.get(datatype) \
                and value.flags.c_contiguous:
            datatype, shape, stored, checksum = int(datatype), value.shape, value, None  # a variable's value
        else:
            datatype, shape, stored, checksum = self._stored_form(value, datatype)
        size = len(stored) if type(stored) is bytes else stored.nbytes
        if size < _SMALL_TENSOR_BYTES:
            if checksum is None:
                checksum = crc32c.value(stored)
            self._small_tensors += memoryview(stored)
            if len(self._small_tensors) >= _SMALL_TENSOR_BYTES:
                self._write_small_tensors()
        else:
            self._write_small_tensors()
            if checksum is None:
                checksum = self._write_checksummed(stored)
            else:
                self._data.write(stored)
        entry = _entry_bytes(datatype, shape, self._size, size, crc32c.mask(checksum))
        self._size += size
        return datatype, entry

    def _write_checksummed(self, array):
        """Writes a large array piece by piece, checksumming each piece just before it is
        written, while it is still in the CPU cache: one pass over memory instead of two.
        Returns the CRC-32C of its bytes."""
        flat = array.reshape(-1).view(np.uint8)
        checksum = 0
        for start in range(0, len(flat), _WRITE_PIECE_BYTES):
            piece = flat[start:start + _WRITE_PIECE_BYTES]
            checksum = crc32c.extend(checksum, piece)
            self._data.write(piece)
        return checksum

    @staticmethod
    def _stored_form(value, datatype):
        """(DataType enum, shape, stored form, checksum) of any value: a C-contiguous
        little-endian array (checksum None: that of its bytes), or the bytes of a string
        tensor and their entry checksum."""
        convert = datatype is not None  # to the storage of `datatype`, as np.asarray does
        if datatype is None:
            array = np.asarray(value)
            datatype = numpy_codec.datatype_of(array.dtype)
        else:
            datatype = int(datatype)
            array = value if type(value) is np.ndarray else np.asarray(
                value, dtype=None if datatype == DT_STRING else numpy_codec.numpy_dtype(datatype))
        if datatype == DT_STRING:
            stored, checksum = _string_tensor_bytes(list(numpy_codec.to_bytes_array(array).reshape(-1)))
            return datatype, array.shape, stored, checksum
        storage = numpy_codec.numpy_dtype(datatype)
        if array.dtype.newbyteorder("=") != storage:
            if convert:
                array = np.asarray(array, dtype=storage)
            if array.dtype.newbyteorder("=") != storage:
                raise InvalidArgumentError(
                    None, None, f"Array of dtype {array.dtype} cannot be stored as DataType {datatype}")
        little = storage.newbyteorder("<")
        if storage == little and datatype not in _LITTLE_STORAGE:
            try:
                memoryview(np.empty(0, storage))
                _LITTLE_STORAGE[datatype] = storage
            except ValueError:  # types the buffer protocol cannot describe (bfloat16, ...)
                pass
        return datatype, array.shape, np.ascontiguousarray(array, dtype=little).reshape(-1).view(np.uint8), None

    def _write_small_tensors(self):
        if self._small_tensors:
            self._data.write(self._small_tensors)
            self._small_tensors = bytearray()

    def finish(self):
        """Publish the data file, then the index (so a complete index always has its data).

        Both files are complete and synced under temporary names before the data file is
        renamed into place, so that little more than two renames separates a previous
        checkpoint of this prefix from the new one.
        """
        self._check_open()
        self._closed = True
        items = [(HEADER_KEY, _header_bytes(1))]
        entries = self._entries
        items += [(key, entry if type(entry) is bytes else entry.SerializeToString(deterministic=True))
                  for key, entry in sorted(entries.items())]
        try:
            self._write_small_tensors()
            index = _build_index(index_filename(self._prefix), items)
        except BaseException:
            self._data.abort()
            raise
        try:
            self._data.sync()
            index.sync()
            # An index of this prefix written earlier goes first (see the module docstring).
            index_path = index_filename(self._prefix)
            if gfile.exists(index_path):
                gfile.remove(index_path)
            self._data.commit()
        except BaseException:
            self._data.abort()
            index.abort()
            raise
        index.commit()

    def abort(self):
        if not self._closed:
            self._closed = True
            self._data.abort()

    def _check_open(self):
        if self._closed:
            raise InvalidArgumentError(None, None, f"BundleWriter for {self._prefix} is closed")

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if exc_type is None:
            self.finish()
        else:
            self.abort()


def _read_index(path):
    """(BundleHeaderProto, iterator over the other (key, serialized entry) pairs) of an index file."""
    return _parse_index(gfile.read_file(path), path)


def _parse_index(data, path):
    """_read_index of the bytes `data` of index file `path`."""
    def corrupt(detail):
        return DataLossError(None, None, f"Unable to read checkpoint index {path}: {detail}. "
                                         "The file is corrupt or was not written by TensorFlow.")

    entries = iter(TableReader(BytesSource(data, path)))
    header_item = next(entries, None)
    if header_item is None or header_item[0] != HEADER_KEY:
        raise corrupt("the header entry is missing")
    try:
        header = protos.BundleHeaderProto.FromString(header_item[1])
    except DecodeError:
        raise corrupt("the header entry does not parse") from None
    if header.num_shards <= 0:
        raise corrupt(f"the header declares {header.num_shards} data shards")
    return header, entries


def _build_index(path, items):
    """An uncommitted AtomicWriter holding the index table of (key, value) pairs (header first)."""
    index_file = gfile.AtomicWriter(path)
    try:
        table = TableWriter(index_file)
        for key, value in items:
            table.add(key, value)
        table.finish()
    except BaseException:
        index_file.abort()
        raise
    return index_file


def write_index(path, items):
    """Write an index table of (key, value) pairs (sorted, header first) atomically."""
    _build_index(path, items).commit()


def _worker_count(runs, run_parts, parts):
    """How many workers share `runs`: one without a runner, never more than the runs."""
    return 1 if run_parts is None else max(1, min(parts, len(runs)))


def _for_each_run(runs, work, run_parts, workers):
    """Calls work(run, worker) for each run of `runs`: in order on this thread, or on
    `workers` workers (run by `run_parts`) that claim runs in order, each read and checksum
    releasing the GIL. Raises the failure of the earliest run that failed, as one pass in
    order would (the runs before it were claimed earlier, and finish), with `partly_read`
    naming the positions of the tensors of every run that failed midway."""
    if workers <= 1:
        for run in runs:
            try:
                work(run, 0)
            except BaseException as error:
                error.partly_read = [position for position, _, _ in run]
                raise
        return
    claims = itertools.count()  # next() is atomic under the GIL
    failures = []  # (run number, exception); workers stop claiming once one is there

    def worker(index):
        while not failures:
            number = next(claims)
            if number >= len(runs):
                return
            try:
                work(runs[number], index)
            except BaseException as error:
                failures.append((number, error))
                return

    run_parts(worker, workers)
    if failures:
        failures.sort(key=lambda failure: failure[0])
        error = failures[0][1]
        error.partly_read = [position for number, _ in failures for position, _, _ in runs[number]]
        raise error


class BundleReader:
    """Random access to the tensors of a V2 checkpoint.

    Keys are str; `keys()` lists every tensor (a partitioned tensor under its full name, its
    slices hidden). Close it (or use `with`) to release the data file handles.
    """

    format = "V2"

    def __init__(self, prefix):
        self._prefix = gfile.path_str(prefix)
        self._index_path = index_filename(self._prefix)
        self._index_bytes = gfile.read_file(self._index_path)
        parsed = _parsed_index_cache.get(self._index_path)
        if parsed is None or parsed[0] != self._index_bytes:
            header, entries = _parse_index(self._index_bytes, self._index_path)
            self._check_version(header.version)
            parsed = (self._index_bytes, header, dict(entries), {}, {})
            _remember_parsed_index(self._index_path, parsed)
        # The caches are shared by every reader of the same index bytes; they hold what the
        # bytes say, checked against no data file.
        _, header, self._raw_entries, self._parsed_entries, self._plain_entries = parsed
        self._num_shards = header.num_shards
        self._big_endian = header.endianness == _BIG
        self._listed_keys = None
        self._shards = {}
        self._shards_lock = threading.Lock()

    @property
    def prefix(self):
        return self._prefix

    @property
    def num_shards(self):
        return self._num_shards

    def _check_version(self, version):
        if version.producer < BUNDLE_MIN_PRODUCER:
            raise InvalidArgumentError(
                None, None, f"Checkpoint producer version {version.producer} below min producer "
                            f"{BUNDLE_MIN_PRODUCER} supported by TensorFlow {self._index_path}")
        if version.min_consumer > BUNDLE_VERSION:
            raise InvalidArgumentError(
                None, None, f"Checkpoint min consumer version {version.min_consumer} above current version "
                            f"{BUNDLE_VERSION} for TensorFlow {self._index_path}. Please upgrade.")
        if BUNDLE_VERSION in version.bad_consumers:
            raise InvalidArgumentError(
                None, None, f"Checkpoint disallows consumer version {BUNDLE_VERSION}: {self._index_path}")

    # -------------------------------------------------------------- metadata

    def keys(self):
        """Sorted names of the stored tensors."""
        if self._listed_keys is None:
            slice_keys = set()
            for key in self._raw_entries:
                entry = self._entry(key)
                for slice_proto in entry.slices:
                    slice_keys.add(tensor_slices.encode_tensor_name_slice(key, tensor_slices.extents_from_proto(slice_proto)))
            self._listed_keys = [_key_str(key) for key in sorted(self._raw_entries) if key not in slice_keys]
        return list(self._listed_keys)

    def has(self, key):
        if type(key) is not bytes:
            key = _key_bytes(key)
        return key != HEADER_KEY and key in self._raw_entries

    __contains__ = has

    def entry(self, key):
        """The BundleEntryProto of `key` (a copy)."""
        copy = protos.BundleEntryProto()
        copy.CopyFrom(self._entry(_key_bytes(key)))
        return copy

    def dtype_and_shape(self, key):
        """(DataType enum, shape tuple) of tensor `key`."""
        key = _key_bytes(key)
        entry = self._entry(key)
        return entry.dtype, self._shape(key, entry)

    def _entry(self, key):
        entry = self._parsed_entries.get(key)
        if entry is not None:
            return entry
        raw = self._raw_entries.get(key) if key != HEADER_KEY else None
        if raw is None:
            raise self._not_found(key)
        try:
            entry = protos.BundleEntryProto.FromString(raw)
        except DecodeError:
            raise DataLossError(None, None, f"Entry for key {_key_str(key)} not parseable in {self._index_path}") from None
        self._parsed_entries[key] = entry
        return entry

    def _not_found(self, key):
        name = _key_str(key)
        message = f"Key {name} not found in checkpoint {self._prefix}"
        # Slice keys start with a 0 byte; they are not names a caller would mean.
        candidates = [_key_str(raw_key) for raw_key in self._raw_entries if raw_key[:1] not in (b"", b"\x00")]
        close = difflib.get_close_matches(name, candidates, n=3)
        if close:
            message += ". Closest keys in the checkpoint: " + ", ".join(close)
        return NotFoundError(None, None, message)

    def _shape(self, key, entry):
        if entry.shape.unknown_rank or any(dim.size < 0 for dim in entry.shape.dim):
            raise DataLossError(None, None, f"Invalid tensor shape for {_key_str(key)} in {self._index_path}: "
                                            f"{entry.shape}")
        return tuple(dim.size for dim in entry.shape.dim)

    # -------------------------------------------------------------- values

    def read(self, key, out=None):
        """The value of tensor `key` as a numpy array (object array of bytes for strings).

        With `out` (a C-contiguous writeable array of the tensor's dtype and shape), the
        value is read straight into it and `out` is returned.
        """
        key = _key_bytes(key)
        entry = self._entry(key)
        shape = self._shape(key, entry)
        dtype = self._numpy_dtype(key, entry)
        if out is not None:
            self._check_out(key, out, dtype, shape)
        with self._replacement_reported(key):
            if entry.slices:
                return self._read_partitioned(key, entry, shape, dtype, out)
            return self._read_stored(key, entry, shape, dtype, out)

    def plain_entry(self, key):
        """(DataType enum, numpy dtype, shape) of tensor `key` if it is numeric and stored in
        one piece, as `verify_many` and `read_many` take them; else None."""
        plain = self._plain(key if type(key) is bytes else _key_bytes(key))
        return None if plain is None else (plain[6], plain[0], plain[1])

    def stored_size(self, keys):
        """Bytes the data files hold for tensors `keys` (each one `plain_entry` accepts)."""
        return sum(self._plain(key if type(key) is bytes else _key_bytes(key))[4] for key in keys)

    def _plain(self, key):
        """(numpy dtype, shape, shard id, offset, size, checksum, DataType enum) of a numeric
        tensor stored in one piece, or None for other tensors."""
        plain = self._plain_entries.get(key, _NOT_PARSED)
        if plain is _NOT_PARSED:
            entry = self._entry(key)
            if entry.slices or entry.dtype in (DT_STRING, numpy_codec.DT_VARIANT, numpy_codec.DT_RESOURCE):
                plain = None
            else:
                dtype, shape = self._numpy_dtype(key, entry), self._shape(key, entry)
                if entry.size != math.prod(shape) * dtype.itemsize:
                    self._check_stored(key, entry, shape, dtype)  # raises DataLossError
                plain = (dtype, shape, entry.shard_id, entry.offset, entry.size, crc32c.unmask(entry.crc32c),
                         entry.dtype)
            self._plain_entries[key] = plain
        return plain

    def _runs(self, keys, limit):
        """Tensors `keys` (see `plain_entry`), each with its record checked against
        the data file, in runs stored back to back in one file: lists of (position in keys,
        key, plain entry), each run holding at most `limit` bytes unless it is one tensor."""
        runs, run, run_end, run_bytes, run_shard = [], [], -1, 0, None
        for position, key in enumerate(keys):
            if type(key) is not bytes:
                key = _key_bytes(key)
            plain = self._plain(key)
            if plain is None:
                raise InvalidArgumentError(None, None, f"Tensor {_key_str(key)} is not a numeric tensor stored whole")
            dtype, shape, shard_id, offset, size = plain[:5]
            shard = self._shards.get(shard_id)
            if shard is None or offset < 0 or offset + size > shard.size:
                shard = self._check_stored(key, self._entry(key), shape, dtype)  # opens it, or raises
            if run and (shard is not run_shard or offset != run_end or run_bytes + size > limit or
                        len(run) >= _MAX_RUN_TENSORS):
                runs.append(run)
                run, run_bytes = [], 0
            run.append((position, key, plain))
            run_shard, run_end = shard, offset + size
            run_bytes += size
        if run:
            runs.append(run)
        return runs

    def verify_many(self, keys, scratch_bytes=1 << 20, run_parts=None, parts=1):
        """Check the stored bytes of tensors `keys` (see `plain_entry`) against their
        checksums without keeping them: they pass through a scratch buffer of `scratch_bytes`,
        a run of neighbouring tensors per read. Raises DataLossError (AbortedError if the
        checkpoint was replaced meanwhile); returns what `read_verified` takes.

        Given `run_parts` (a function(part, count) runner with kernel_threads.run_parts'
        contract) and `parts` > 1, that many workers, each with its own scratch buffer, share
        the runs (see `_for_each_run`)."""
        runs = self._runs(keys, scratch_bytes)
        workers = _worker_count(runs, run_parts, parts)
        scratches = [np.empty(scratch_bytes, np.uint8) for _ in range(workers)]

        def verify_run(run, worker):
            scratch = scratches[worker]
            first_key = run[0][1]
            with self._replacement_reported(first_key):
                shard = self._shards[run[0][2][2]]
                start = run[0][2][3]
                end = run[-1][2][3] + run[-1][2][4]
                if len(run) == 1 and end - start > len(scratch):
                    self._verify_in_pieces(first_key, shard, run[0][2], scratch)
                    return
                if shard.readinto_at(start, scratch[:end - start]) != end - start:
                    raise DataLossError(None, None, f"Short read of tensor {_key_str(first_key)} from {shard.path}")
                for _, key, (_, _, _, offset, size, checksum, _) in run:
                    actual = crc32c.value(scratch[offset - start:offset - start + size])
                    if actual != checksum:
                        raise self._checksum_error(key, shard, self._entry(key), actual)

        _for_each_run(runs, verify_run, run_parts, workers)
        return runs

    def _verify_in_pieces(self, key, shard, plain, scratch):
        offset, size, expected = plain[3], plain[4], plain[5]
        checksum, end = 0, offset + size
        while offset < end:
            piece = scratch[:min(end - offset, len(scratch))]
            if shard.readinto_at(offset, piece) != len(piece):
                raise DataLossError(None, None, f"Short read of tensor {_key_str(key)} from {shard.path}")
            checksum = crc32c.extend(checksum, piece)
            offset += len(piece)
        if checksum != expected:
            raise self._checksum_error(key, shard, self._entry(key), checksum)

    def read_many(self, keys, run_parts=None, parts=1):
        """The values of tensors `keys` (see `plain_entry`), as `read` returns them; a run of
        tensors stored back to back is read with one system call (runs shared by `parts`
        workers given `run_parts`, as in `verify_many`)."""
        return self._read_runs(self._runs(keys, _RUN_BYTES), [None] * len(keys), True, run_parts, parts)

    def read_verified(self, verified, outs, run_parts=None, parts=1):
        """Read the tensors `verify_many` accepted from this reader (`verified` is what it
        returned) into `outs` (an array of the tensor's dtype and shape, or None for a new
        one, per tensor), without computing their checksums again: the data file stays open
        in between, and checkpoint writers replace data files rather than rewrite them, so
        these are the bytes verified. Returns the values. Workers as in `verify_many`.

        If a read fails, the exception carries `partly_read`: the positions of the tensors
        whose arrays may hold part of their new bytes (the others hold their old or their new
        bytes, whole)."""
        return self._read_runs(verified, list(outs), False, run_parts, parts)

    def _read_runs(self, runs, values, check, run_parts, parts):
        _for_each_run(runs, lambda run, _: self._read_run(run, values, check), run_parts,
                      _worker_count(runs, run_parts, parts))
        return values

    def _read_run(self, run, values, check):
        first_key = run[0][1]
        with self._replacement_reported(first_key):
            shard = self._shards[run[0][2][2]]
            buffers = []
            for position, key, (dtype, shape, *_) in run:
                out = values[position]
                if out is None:
                    out = values[position] = np.empty(shape, dtype)
                else:
                    self._check_out(key, out, dtype, shape)
                buffers.append(out.reshape(-1).view(np.uint8))
            start = run[0][2][3]
            if shard.readinto_many_at(start, buffers) != run[-1][2][3] + run[-1][2][4] - start:
                raise DataLossError(None, None, f"Short read of tensor {_key_str(first_key)} from {shard.path}")
            if check:
                for buffer, (_, key, plain) in zip(buffers, run):
                    actual = crc32c.value(buffer)
                    if actual != plain[5]:
                        raise self._checksum_error(key, shard, self._entry(key), actual)
            if self._big_endian:
                for position, _, _ in run:
                    values[position].byteswap(inplace=True)

    @contextlib.contextmanager
    def _replacement_reported(self, key):
        """A DataLossError met while the index was replaced becomes AbortedError (read again)."""
        try:
            yield
        except DataLossError as error:
            if self._index_replaced():
                raise AbortedError(
                    None, None, f"The checkpoint {self._prefix} was replaced while it was being read (by a "
                                f"concurrent save?); read it again. Reading tensor {_key_str(key)} failed with: "
                                f"{error.message}") from error
            raise

    def _index_replaced(self):
        """Whether the index file no longer holds what this reader parsed."""
        try:
            return gfile.read_file(self._index_path) != self._index_bytes
        except NotFoundError:
            return True

    def _numpy_dtype(self, key, entry):
        if entry.dtype in (numpy_codec.DT_VARIANT, numpy_codec.DT_RESOURCE):
            raise UnimplementedError(
                None, None, f"Tensor {_key_str(key)} in {self._prefix} has DataType {entry.dtype}, "
                            "which cannot be read as an array")
        try:
            return numpy_codec.numpy_dtype(entry.dtype)
        except InvalidArgumentError:
            raise DataLossError(None, None, f"Tensor {_key_str(key)} in {self._index_path} has unknown "
                                            f"DataType {entry.dtype}") from None

    @staticmethod
    def _check_out(key, out, dtype, shape):
        if not isinstance(out, np.ndarray) or out.dtype != dtype or out.shape != shape or \
                not out.flags.c_contiguous or not out.flags.writeable:
            got = f"{out.dtype} {list(out.shape)}" if isinstance(out, np.ndarray) else type(out).__name__
            raise InvalidArgumentError(
                None, None, f"Cannot read tensor {_key_str(key)} of dtype {dtype} and shape {list(shape)} into a "
                            f"buffer of {got} (it must be a writeable C-contiguous array of that dtype and shape)")

    def _shard(self, key, entry):
        shard_id = entry.shard_id
        if not 0 <= shard_id < self._num_shards:
            raise DataLossError(None, None, f"Entry for {_key_str(key)} names data shard {shard_id} but "
                                            f"{self._index_path} declares {self._num_shards}")
        with self._shards_lock:
            shard = self._shards.get(shard_id)
            if shard is None:
                shard = self._shards[shard_id] = gfile.RandomAccessFile(
                    data_filename(self._prefix, shard_id, self._num_shards))
        return shard

    def _stored_range(self, key, entry):
        shard = self._shard(key, entry)
        if entry.offset < 0 or entry.size < 0 or entry.offset + entry.size > shard.size:
            raise DataLossError(
                None, None, f"Tensor {_key_str(key)} is recorded at bytes [{entry.offset}, "
                            f"{entry.offset + entry.size}) of {shard.path}, which has only {shard.size} bytes: "
                            "the data file is truncated or does not belong to this index")
        return shard

    def _checksum_error(self, key, shard, entry, actual):
        return DataLossError(
            None, None, f"Checksum does not match for tensor {_key_str(key)} in {shard.path} "
                        f"({entry.size} bytes at offset {entry.offset}): stored "
                        f"{crc32c.unmask(entry.crc32c):08x}, calculated {actual:08x}. The file is corrupt.")

    def _check_stored(self, key, entry, shape, dtype):
        """The shard of tensor `key`, once its recorded size agrees with its shape and fits in
        the real file: nothing the entry claims is allocated before this holds."""
        count = math.prod(shape)
        if entry.dtype == DT_STRING:
            # Each element needs at least one length byte, and the lengths' checksum follows.
            if entry.size != 0 and entry.size < count + 4 or entry.size == 0 and count != 0:
                raise DataLossError(
                    None, None, f"Invalid size in bundle entry: key {_key_str(key)}; stored size {entry.size}; "
                                f"{count} strings need at least {count + 4} bytes in {self._index_path}")
        elif entry.size != count * dtype.itemsize:
            raise DataLossError(
                None, None, f"Invalid size in bundle entry: key {_key_str(key)}; stored size {entry.size}; "
                            f"expected size {count * dtype.itemsize} ({list(shape)} of {dtype}) in "
                            f"{self._index_path}")
        return self._stored_range(key, entry)

    def _read_stored(self, key, entry, shape, dtype, out):
        shard = self._check_stored(key, entry, shape, dtype)
        if entry.dtype == DT_STRING:
            return self._read_strings(key, entry, shape, out, shard)
        result = np.empty(shape, dtype) if out is None else out
        buffer = result.reshape(-1).view(np.uint8)
        if shard.readinto_at(entry.offset, buffer) != entry.size:
            raise DataLossError(None, None, f"Short read of tensor {_key_str(key)} from {shard.path}")
        actual = crc32c.value(buffer)
        if actual != crc32c.unmask(entry.crc32c):
            raise self._checksum_error(key, shard, entry, actual)
        if self._big_endian:
            result.byteswap(inplace=True)
        return result

    def _read_strings(self, key, entry, shape, out, shard):
        count = math.prod(shape)
        data = shard.read_at(entry.offset, entry.size)
        if len(data) != entry.size:
            raise DataLossError(None, None, f"Short read of tensor {_key_str(key)} from {shard.path}")
        byte_order = "big" if self._big_endian else "little"
        result = np.empty(count, dtype=object) if out is None else out.reshape(-1)
        if entry.size == 0:
            return result.reshape(shape) if out is None else out
        lengths = []
        position = 0
        try:
            for _ in range(count):
                length, position = decode_varint(data, position, len(data))
                lengths.append(length)
        except FormatError:
            raise DataLossError(None, None, f"String lengths of tensor {_key_str(key)} in {shard.path} are "
                                            "corrupt") from None
        checksum = _lengths_checksum(lengths, byte_order)
        if position + 4 + sum(lengths) != len(data):
            raise DataLossError(None, None, f"String lengths of tensor {_key_str(key)} in {shard.path} do not add "
                                            f"up to its stored size {entry.size}")
        raw_length_checksum = data[position:position + 4]
        if crc32c.unmask(int.from_bytes(raw_length_checksum, byte_order)) != checksum:
            raise DataLossError(None, None, f"The length checksum of string tensor {_key_str(key)} in "
                                            f"{shard.path} does not match. The file is corrupt.")
        checksum = crc32c.extend(checksum, raw_length_checksum)
        position += 4
        checksum = crc32c.extend(checksum, data[position:])
        if checksum != crc32c.unmask(entry.crc32c):
            raise self._checksum_error(key, shard, entry, checksum)
        for index, length in enumerate(lengths):
            result[index] = data[position:position + length]
            position += length
        return result.reshape(shape) if out is None else out

    def _read_partitioned(self, key, entry, shape, dtype, out):
        name = _key_str(key)
        slice_bounds = []
        for slice_proto in entry.slices:
            extents = tensor_slices.extents_from_proto(slice_proto)
            bounds = tensor_slices.resolve(extents, shape, f"partitioned tensor {name}")
            slice_bounds.append((tensor_slices.encode_tensor_name_slice(key, extents), bounds))
        covered = sum(math.prod(stop - start for start, stop in bounds) for _, bounds in slice_bounds)
        if covered != math.prod(shape):
            raise self._coverage_error(name, len(slice_bounds), "overlap" if covered > math.prod(shape) else
                                       "leave gaps")
        slices = []
        shards = {}
        for slice_key, bounds in slice_bounds:  # all checked before the whole is allocated
            slice_entry = self._entry(slice_key)
            slice_shape = tuple(stop - start for start, stop in bounds)
            if self._shape(slice_key, slice_entry) != slice_shape or slice_entry.dtype != entry.dtype:
                raise DataLossError(None, None, f"A stored slice of {name} in {self._index_path} does not match "
                                                "the extent and dtype its full entry records")
            shard = self._check_stored(slice_key, slice_entry, slice_shape, dtype)
            shards[shard.path] = shard.size
            slices.append((slice_key, slice_entry, slice_shape, bounds))
        # Slices that each fit could still share their bytes to claim more than the files hold.
        if sum(slice_entry.size for _, slice_entry, _, _ in slices) > sum(shards.values()):
            raise DataLossError(None, None, f"The slices of {name} in {self._index_path} claim more bytes than its "
                                            "data files hold")
        result = np.empty(shape, dtype) if out is None else out
        filled = np.zeros(shape, dtype=bool)  # volumes add up, so an overlap means a gap elsewhere
        for slice_key, slice_entry, slice_shape, bounds in slices:
            region = tuple(slice(start, stop) for start, stop in bounds)
            if filled[region].any():
                raise self._coverage_error(name, len(slices), "overlap")
            filled[region] = True
            result[region] = self._read_stored(slice_key, slice_entry, slice_shape, dtype, None)
        return result

    @staticmethod
    def _coverage_error(name, count, problem):
        return InvalidArgumentError(
            None, None, f"Does not have sufficient slices for partitioned tensor {name} to restore it whole "
                        f"(its {count} slices {problem})")

    def close(self):
        with self._shards_lock:
            for shard in self._shards.values():
                shard.close()
            self._shards.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def merge_bundles(prefixes, merged_prefix, delete_inputs=True):
    """Merge single-writer bundles into one prefix, as TensorFlow's MergeV2Checkpoints does.

    Data files are renamed to `merged_prefix`'s shard names (numbered in order of first
    use), entries are combined (slices of one partitioned tensor are joined), and the merged
    index is written last; the inputs' index files are then deleted when `delete_inputs`.
    """
    merged_prefix = gfile.path_str(merged_prefix)
    parent = _parent_directory(merged_prefix)
    if parent:
        gfile.makedirs(parent)
    entries = {}
    new_shard_ids = {}
    num_shards = 0
    first_header = None
    for prefix in prefixes:
        prefix = gfile.path_str(prefix)
        path = index_filename(prefix)
        header, items = _read_index(path)
        num_shards += header.num_shards
        if first_header is None:
            first_header = header
        elif header.endianness != first_header.endianness:
            raise InvalidArgumentError(None, None, "Merging bundles with conflicting endianness; inputs corrupted?")
        elif header.version.SerializeToString(deterministic=True) != \
                first_header.version.SerializeToString(deterministic=True):
            raise InvalidArgumentError(None, None, "Merging bundles with different format versions")
        for key, raw in items:
            try:
                entry = protos.BundleEntryProto.FromString(raw)
            except DecodeError:
                raise DataLossError(None, None, f"Entry for key {_key_str(key)} not parseable in {path}") from None
            existing = entries.get(key)
            if existing is not None:
                if not existing.slices or not entry.slices:
                    raise InvalidArgumentError(
                        None, None, f"Duplicate tensor keyed by {_key_str(key)} encountered, when merging prefix: "
                                    f"{prefix}")
                existing.slices.extend(entry.slices)
                continue
            # As in TensorFlow, every new entry (a partitioned tensor's too) claims its shard.
            source = data_filename(prefix, entry.shard_id, header.num_shards)
            entry.shard_id = new_shard_ids.setdefault(source, len(new_shard_ids))
            entries[key] = entry
    if first_header is None:
        raise InvalidArgumentError(None, None, "No bundles to merge")
    for source, shard_id in new_shard_ids.items():
        gfile.rename(source, data_filename(merged_prefix, shard_id, len(new_shard_ids)), overwrite=True)
    items = [(HEADER_KEY, _header_bytes(num_shards, first_header.endianness, first_header.version))]
    items += [(key, entries[key].SerializeToString(deterministic=True)) for key in sorted(entries)]
    write_index(index_filename(merged_prefix), items)
    if delete_inputs:
        for prefix in prefixes:
            path = index_filename(gfile.path_str(prefix))
            if path != index_filename(merged_prefix):
                gfile.remove(path)
