"""The sorted string table format of TensorFlow's checkpoint `.index` files (and V1 checkpoints).

It is LevelDB's table format:

    [data block 0] ... [data block N-1] [metaindex block] [index block] [footer]

A block is a run of entries `varint shared | varint non_shared | varint value_len |
key[shared:] | value`, where `shared` bytes of the key are taken from the previous key;
every `restart_interval` entries the full key is stored and its offset recorded in the
restart array (uint32 offsets, then a uint32 count) that ends the block. Each block is
followed by a 5-byte trailer: compression type (0 none, 1 snappy) and the masked CRC-32C of
the block bytes plus that type byte. The index block maps, for each data block, a key that
is >= every key in the block and < every key in the next one, to the block's handle
(varint offset, varint size). The 48-byte footer holds the metaindex and index handles,
zero padding, and the 64-bit magic number.

`TableWriter` produces the exact bytes TensorFlow's table builder does for the options its
bundle writer uses (no compression, 256 KiB blocks, restart interval 16). `TableReader`
checks every size, offset and checksum against the real file before trusting it, and that
keys are strictly increasing, and raises `errors.DataLossError` naming the file when
something does not hold.
"""

import bisect
import io
import struct

from . import crc32c
from .errors import DataLossError

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5
NO_COMPRESSION = 0
SNAPPY_COMPRESSION = 1
DEFAULT_BLOCK_SIZE = 256 * 1024
DEFAULT_RESTART_INTERVAL = 16

_MAX_VARINT64_BYTES = 10
_BLOCK_HANDLES_SIZE = FOOTER_SIZE - 8  # Two handles, zero padded; the magic number follows.
_UINT32 = struct.Struct("<I")
_MAGIC = struct.Struct("<Q")


class FormatError(ValueError):
    """Malformed bytes met by the decoding helpers (callers add the file name and raise DataLossError)."""


def encode_varint(value):
    """LEB128 encoding of a non-negative integer (protobuf's varint)."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_varint(buffer, position, limit):
    """(value, next position) of the varint at `position`, which must end before `limit`."""
    result = 0
    shift = 0
    end = min(limit, position + _MAX_VARINT64_BYTES)
    while position < end:
        byte = buffer[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7
    raise FormatError("bad varint")


# ----------------------------------------------------------------------------- write


def _shortest_separator(start, limit):
    """A short key >= `start` and < `limit` (the index key between two data blocks)."""
    common = 0
    shortest = min(len(start), len(limit))
    while common < shortest and start[common] == limit[common]:
        common += 1
    if common < shortest:
        byte = start[common]
        if byte < 0xFF and byte + 1 < limit[common]:
            return start[:common] + bytes((byte + 1,))
    return start


def _short_successor(key):
    """A short key >= `key` (the index key after the last data block)."""
    for position, byte in enumerate(key):
        if byte != 0xFF:
            return key[:position] + bytes((byte + 1,))
    return key


class _BlockBuilder:
    def __init__(self, restart_interval):
        self._restart_interval = restart_interval
        self.reset()

    def reset(self):
        self._buffer = bytearray()
        self._restarts = [0]
        self._entries_since_restart = 0
        self._last_key = b""

    def empty(self):
        return not self._buffer

    def size_estimate(self):
        return len(self._buffer) + 4 * len(self._restarts) + 4

    def add(self, key, value):
        shared = 0
        if self._entries_since_restart < self._restart_interval:
            last_key = self._last_key
            limit = min(len(last_key), len(key))
            while shared < limit and last_key[shared] == key[shared]:
                shared += 1
        else:
            self._restarts.append(len(self._buffer))
            self._entries_since_restart = 0
        buffer = self._buffer
        buffer += encode_varint(shared)
        buffer += encode_varint(len(key) - shared)
        buffer += encode_varint(len(value))
        buffer += key[shared:]
        buffer += value
        self._last_key = key
        self._entries_since_restart += 1

    def finish(self):
        block = self._buffer
        for restart in self._restarts:
            block += _UINT32.pack(restart)
        block += _UINT32.pack(len(self._restarts))
        return bytes(block)


class TableWriter:
    """Builds a table into `sink` (anything with `write(bytes)`); keys must be added in sorted order."""

    def __init__(self, sink, block_size=DEFAULT_BLOCK_SIZE, restart_interval=DEFAULT_RESTART_INTERVAL):
        self._sink = sink
        self._block_size = block_size
        self._offset = 0
        self._data_block = _BlockBuilder(restart_interval)
        # Index entries are all restart points, so each can be found by binary search.
        self._index_block = _BlockBuilder(1)
        self._last_key = b""
        self._num_entries = 0
        self._pending_handle = None
        self._finished = False

    def add(self, key, value):
        if self._finished:
            raise ValueError("TableWriter.add() after finish()")
        key = bytes(key)
        if self._num_entries > 0:
            if key <= self._last_key:
                raise ValueError(f"table keys must be added in strictly increasing order: {key!r} after {self._last_key!r}")
            # An entry that would dwarf the block starts a block of its own.
            if len(key) + len(value) >= 2 * self._block_size:
                self._flush()
        if self._pending_handle is not None:
            self._index_block.add(_shortest_separator(self._last_key, key), self._pending_handle)
            self._pending_handle = None
        self._last_key = key
        self._num_entries += 1
        self._data_block.add(key, value)
        if self._data_block.size_estimate() >= self._block_size:
            self._flush()

    def finish(self):
        """Write the remaining blocks and the footer; returns the table's total size."""
        self._flush()
        self._finished = True
        metaindex_handle = self._write_block(_BlockBuilder(DEFAULT_RESTART_INTERVAL))
        if self._pending_handle is not None:
            self._index_block.add(_short_successor(self._last_key), self._pending_handle)
            self._pending_handle = None
        index_handle = self._write_block(self._index_block)
        handles = metaindex_handle + index_handle
        footer = handles + bytes(_BLOCK_HANDLES_SIZE - len(handles)) + _MAGIC.pack(TABLE_MAGIC)
        self._sink.write(footer)
        self._offset += len(footer)
        return self._offset

    def _flush(self):
        if self._data_block.empty():
            return
        self._pending_handle = self._write_block(self._data_block)

    def _write_block(self, block):
        contents = block.finish()
        block.reset()
        trailer_type = bytes((NO_COMPRESSION,))
        checksum = crc32c.mask(crc32c.extend(crc32c.value(contents), trailer_type))
        self._sink.write(contents)
        self._sink.write(trailer_type + _UINT32.pack(checksum))
        handle = encode_varint(self._offset) + encode_varint(len(contents))
        self._offset += len(contents) + BLOCK_TRAILER_SIZE
        return handle


def build_table(items, **options):
    """The bytes of a table holding `items` ((key, value) pairs in sorted key order)."""
    sink = io.BytesIO()
    writer = TableWriter(sink, **options)
    for key, value in items:
        writer.add(key, value)
    writer.finish()
    return sink.getvalue()


# ------------------------------------------------------------------------------ read


class BytesSource:
    """An in-memory file for `TableReader`."""

    def __init__(self, data, path="<memory>"):
        self._data = data
        self.path = path
        self.size = len(data)

    def read_at(self, offset, length):
        return bytes(self._data[offset:offset + length])


def _parse_handle(buffer, position, limit):
    offset, position = decode_varint(buffer, position, limit)
    size, position = decode_varint(buffer, position, limit)
    return offset, size, position


def _parse_block(contents):
    """Decode all entries of a block: (sorted keys, values)."""
    if len(contents) < 4:
        raise FormatError("bad block contents (too short for its restart count)")
    (num_restarts,) = _UINT32.unpack_from(contents, len(contents) - 4)
    if num_restarts > (len(contents) - 4) // 4:
        raise FormatError("bad block contents (restart count larger than the block)")
    entries_end = len(contents) - 4 * (num_restarts + 1)
    keys = []
    values = []
    key = b""
    position = 0
    while position < entries_end:
        shared, position = decode_varint(contents, position, entries_end)
        non_shared, position = decode_varint(contents, position, entries_end)
        value_length, position = decode_varint(contents, position, entries_end)
        if shared > len(key) or position + non_shared + value_length > entries_end:
            raise FormatError("bad entry in block")
        key = key[:shared] + contents[position:position + non_shared]
        position += non_shared
        if keys and key <= keys[-1]:
            raise FormatError("keys out of order in block")
        keys.append(key)
        values.append(contents[position:position + value_length])
        position += value_length
    return keys, values


def _snappy_uncompress(data):
    """Decode a raw snappy block (preamble: varint uncompressed length; then tagged elements)."""
    expected_length, position = decode_varint(data, 0, len(data))
    # A 3-byte copy element expands to at most 64 bytes, so no valid block expands more.
    if expected_length > 22 * len(data) + 64:
        raise FormatError("corrupted compressed block contents (implausible length)")
    out = bytearray()
    end = len(data)
    while position < end:
        tag = data[position]
        position += 1
        kind = tag & 3
        if kind == 0:
            length = (tag >> 2) + 1
            if length > 60:
                extra = length - 60
                if position + extra > end:
                    raise FormatError("corrupted compressed block contents")
                length = int.from_bytes(data[position:position + extra], "little") + 1
                position += extra
            if position + length > end:
                raise FormatError("corrupted compressed block contents")
            out += data[position:position + length]
            position += length
            continue
        if kind == 1:
            if position + 1 > end:
                raise FormatError("corrupted compressed block contents")
            length = 4 + ((tag >> 2) & 7)
            distance = ((tag >> 5) << 8) | data[position]
            position += 1
        else:
            width = 2 if kind == 2 else 4
            if position + width > end:
                raise FormatError("corrupted compressed block contents")
            length = (tag >> 2) + 1
            distance = int.from_bytes(data[position:position + width], "little")
            position += width
        if distance == 0 or distance > len(out) or len(out) + length > expected_length:
            raise FormatError("corrupted compressed block contents")
        start = len(out) - distance
        if distance >= length:
            out += out[start:start + length]
        else:
            for index in range(length):  # Overlapping copy repeats the last `distance` bytes.
                out.append(out[start + index])
        if len(out) > expected_length:
            raise FormatError("corrupted compressed block contents")
    if len(out) != expected_length:
        raise FormatError("corrupted compressed block contents (length mismatch)")
    return bytes(out)


class TableReader:
    """Reads a table from a source with `size`, `path` and `read_at(offset, length)`.

    Opening reads the footer and the index block; data blocks are read when needed.
    """

    def __init__(self, source):
        self._source = source
        self._cached_block_offset = None
        self._cached_block = None
        size = source.size
        if size < FOOTER_SIZE:
            raise self._error(f"file is too short ({size} bytes) to be an sstable")
        footer = source.read_at(size - FOOTER_SIZE, FOOTER_SIZE)
        if len(footer) != FOOTER_SIZE:
            raise self._error("truncated footer read")
        (magic,) = _MAGIC.unpack_from(footer, _BLOCK_HANDLES_SIZE)
        if magic != TABLE_MAGIC:
            raise self._error("not an sstable (bad magic number)")
        try:
            metaindex_offset, metaindex_size, position = _parse_handle(footer, 0, _BLOCK_HANDLES_SIZE)
            index_offset, index_size, _ = _parse_handle(footer, position, _BLOCK_HANDLES_SIZE)
        except FormatError as corrupt:
            raise self._error(f"bad block handle in footer ({corrupt})") from None
        self._metadata_end = size - FOOTER_SIZE
        self._check_handle(metaindex_offset, metaindex_size)
        index_keys, index_values = self._read_block(index_offset, index_size)  # sorted, as checked
        self._index_keys = index_keys
        self._block_handles = []
        for value in index_values:
            try:
                offset, block_size, _ = _parse_handle(value, 0, len(value))
            except FormatError as corrupt:
                raise self._error(f"bad block handle in index ({corrupt})") from None
            self._check_handle(offset, block_size)
            self._block_handles.append((offset, block_size))

    @property
    def path(self):
        return self._source.path

    def _error(self, detail):
        return DataLossError(None, None, f"Unable to read table {self._source.path}: {detail}. "
                                         "The file is corrupt or truncated.")

    def _check_handle(self, offset, size):
        if offset + size + BLOCK_TRAILER_SIZE > self._metadata_end:
            raise self._error(f"block at offset {offset} of {size} bytes lies beyond the end of the file "
                              f"({self._source.size} bytes)")

    def _read_block(self, offset, size):
        if offset == self._cached_block_offset:
            return self._cached_block
        self._check_handle(offset, size)
        raw = self._source.read_at(offset, size + BLOCK_TRAILER_SIZE)
        if len(raw) != size + BLOCK_TRAILER_SIZE:
            raise self._error(f"truncated block read at offset {offset}")
        contents = raw[:size]
        block_type = raw[size]
        (stored_crc,) = _UINT32.unpack_from(raw, size + 1)
        if crc32c.unmask(stored_crc) != crc32c.value(raw[:size + 1]):
            raise self._error(f"block checksum mismatch at offset {offset}")
        try:
            if block_type == SNAPPY_COMPRESSION:
                contents = _snappy_uncompress(contents)
            elif block_type != NO_COMPRESSION:
                raise FormatError(f"unknown block compression type {block_type}")
            block = _parse_block(contents)
        except FormatError as corrupt:
            raise self._error(f"{corrupt} at offset {offset}") from None
        self._cached_block_offset = offset
        self._cached_block = block
        return block

    def __iter__(self):
        """All (key, value) pairs in key order."""
        last_key = None
        for offset, size in self._block_handles:
            keys, values = self._read_block(offset, size)
            if keys and last_key is not None and keys[0] <= last_key:
                raise self._error(f"keys out of order between blocks at offset {offset}")
            last_key = keys[-1] if keys else last_key
            yield from zip(keys, values)

    items = __iter__

    def get(self, key):
        """The value stored under `key`, or None."""
        key = bytes(key)
        block_index = bisect.bisect_left(self._index_keys, key)
        if block_index == len(self._block_handles):
            return None
        keys, values = self._read_block(*self._block_handles[block_index])
        position = bisect.bisect_left(keys, key)
        if position < len(keys) and keys[position] == key:
            return values[position]
        return None
