"""Slices of partitioned tensors: their checkpoint keys, protos and spec strings.

A stored slice of tensor `name` lives under a key made with TensorFlow's "ordered code"
(an order-preserving byte encoding): number 0, the name as a string, the rank, then for each
dimension the start and the length as signed numbers, a full dimension being start 0 and
length -1. V1 checkpoints key every tensor this way; V2 bundles only the slices of
partitioned variables.

An extent list is a list of (start, length) pairs, `length` None for "the whole dimension".
"""

from .errors import InvalidArgumentError

FULL_LENGTH = -1


def _write_unsigned(value):
    payload = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return bytes((len(payload),)) + payload


def _escape_string(data):
    """0x00 and 0xff are escaped so that 0x00 0x01 can end the string."""
    out = bytearray()
    for byte in data:
        if byte == 0x00:
            out += b"\x00\xff"
        elif byte == 0xFF:
            out += b"\xff\x00"
        else:
            out.append(byte)
    return bytes(out) + b"\x00\x01"


def _write_signed(value):
    """Length in the leading bits (same as the sign bit), then the two's complement value."""
    for length in range(1, 11):
        bound = 1 << (7 * length - 1)
        if -bound <= value < bound:
            break
    else:
        raise InvalidArgumentError(None, None, f"slice bound {value} does not fit in 64 bits")
    bits = 8 * length
    header = ((1 << length) - 1) << (bits - length)
    return ((value & ((1 << bits) - 1)) ^ header).to_bytes(length, "big")


def _read_unsigned(data, position):
    length = data[position]
    end = position + 1 + length
    if length > 8 or end > len(data):
        raise ValueError("bad number")
    return int.from_bytes(data[position + 1:end], "big"), end


def _read_string(data, position):
    out = bytearray()
    while position + 1 < len(data):
        byte = data[position]
        if byte == 0x00:
            following = data[position + 1]
            if following == 0x01:
                return bytes(out), position + 2
            if following != 0xFF:
                raise ValueError("bad string escape")
            out.append(0x00)
            position += 2
        elif byte == 0xFF:
            if data[position + 1] != 0x00:
                raise ValueError("bad string escape")
            out.append(0xFF)
            position += 2
        else:
            out.append(byte)
            position += 1
    raise ValueError("unterminated string")


def _read_signed(data, position):
    if position >= len(data):
        raise ValueError("missing number")
    negative = not data[position] & 0x80
    flip = 0xFF if negative else 0x00
    # The length is the count of leading bits equal to the sign bit (up to 10).
    leading = int.from_bytes(bytes(b ^ flip for b in data[position:position + 2]).ljust(2, b"\x00"), "big")
    length = 0
    while length < 10 and leading & (1 << (15 - length)):
        length += 1
    end = position + length
    if length == 0 or end > len(data):
        raise ValueError("bad signed number")
    bits = 8 * length
    header = ((1 << length) - 1) << (bits - length)
    value = int.from_bytes(data[position:end], "big") ^ header
    if negative:
        value -= 1 << bits
    return value, end


def encode_tensor_name_slice(name, extents):
    """The checkpoint key of the slice `extents` of tensor `name` (str or bytes)."""
    if isinstance(name, str):
        name = name.encode("utf-8")
    key = _write_unsigned(0) + _escape_string(name) + _write_unsigned(len(extents))
    for start, length in extents:
        if length is None:
            start, length = 0, FULL_LENGTH
        key += _write_signed(start) + _write_signed(length)
    return key


def decode_tensor_name_slice(key):
    """(name as bytes, extents) of a slice key; ValueError if `key` is not one."""
    key = bytes(key)
    leading, position = _read_unsigned(key, 0)
    if leading != 0:
        raise ValueError("slice keys start with the number 0")
    name, position = _read_string(key, position)
    rank, position = _read_unsigned(key, position)
    extents = []
    for _ in range(rank):
        start, position = _read_signed(key, position)
        length, position = _read_signed(key, position)
        extents.append((start, None) if length < 0 else (start, length))
    if position != len(key):
        raise ValueError("trailing bytes after slice key")
    return name, extents


def extents_from_proto(slice_proto):
    return [(extent.start, extent.length if extent.HasField("length") else None)
            for extent in slice_proto.extent]


def fill_proto(slice_proto, extents):
    """Set a TensorSliceProto as TensorFlow does: full dimensions are empty extents."""
    for start, length in extents:
        extent = slice_proto.extent.add()
        if length is not None:
            extent.start = start
            extent.length = length
    return slice_proto


def is_full(extents, full_shape):
    return all(length is None or (start == 0 and length == size)
               for (start, length), size in zip(extents, full_shape))


def resolve(extents, full_shape, context):
    """Concrete (start, stop) per dimension, checked against `full_shape`."""
    if len(extents) != len(full_shape):
        raise InvalidArgumentError(
            None, None, f"{context}: slice has {len(extents)} dimensions, tensor shape {list(full_shape)} has "
                        f"{len(full_shape)}")
    bounds = []
    for (start, length), size in zip(extents, full_shape):
        if length is None:
            bounds.append((0, size))
            continue
        if start < 0 or length < 0 or start + length > size:
            raise InvalidArgumentError(
                None, None, f"{context}: slice extent {start}:{length} lies outside dimension of size {size}")
        bounds.append((start, start + length))
    return bounds


def parse_slice_spec(spec):
    """Extents of a slice spec string such as "0,5:-" ('-' is a full dimension)."""
    extents = []
    for part in spec.split(":"):
        if part == "-":
            extents.append((0, None))
            continue
        try:
            start, length = (int(field) for field in part.split(","))
        except ValueError:
            raise InvalidArgumentError(None, None, f"Invalid tensor slice specification: {spec!r}") from None
        extents.append((start, length))
    return extents


def parse_shape_and_slice(shape_and_slice):
    """(full shape, extents) of a "dim0 dim1 ... slice_spec" string, as SaveSlices takes."""
    fields = shape_and_slice.split(" ")
    if len(fields) < 2:
        raise InvalidArgumentError(
            None, None, f"Need least two elements in shape_and_slice specification: {shape_and_slice}")
    try:
        shape = [int(field) for field in fields[:-1]]
    except ValueError:
        raise InvalidArgumentError(
            None, None, f"Non numerical dimension in shape_and_slice: {shape_and_slice}") from None
    extents = parse_slice_spec(fields[-1])
    resolve(extents, shape, shape_and_slice)
    return shape, extents
