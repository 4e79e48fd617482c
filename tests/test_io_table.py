"""The sorted string table of .index files: rebuilding TF-written tables byte for byte, reading, corruption."""

import glob
import os
import struct

import pytest

from tensorkeep.io import crc32c, errors, table


def tf_written_tables(shared):
    paths = glob.glob(os.path.join(shared, "golden", "seed_files", "*", "*.index"))
    paths += glob.glob(os.path.join(shared, "corpus", "**", "*.index"), recursive=True)
    # V1 checkpoints are tables too (one has several data blocks).
    paths += [os.path.join(shared, "corpus", "dventimi+CarND-Traffic-Signs", "model.ckpt"),
              os.path.join(shared, "corpus", "kstseng+tensorflow_tutorial", "my_net", "save_net.ckpt")]
    return sorted(paths)


def open_table(data, path="<test>"):
    return table.TableReader(table.BytesSource(data, path))


def test_tf_written_tables_rebuild_byte_identical(shared_dir):
    paths = tf_written_tables(shared_dir)
    assert len(paths) > 20
    for path in paths:
        with open(path, "rb") as handle:
            data = handle.read()
        items = list(open_table(data, path))
        assert items[0][0] == b"", path
        assert table.build_table(items) == data, path


def test_point_lookup(shared_dir):
    path = os.path.join(shared_dir, "corpus", "dventimi+CarND-Traffic-Signs", "model.ckpt")
    with open(path, "rb") as handle:
        reader = open_table(handle.read(), path)
    items = list(reader)
    for key, value in items:
        assert reader.get(key) == value
    assert reader.get(b"\x00") is None
    assert reader.get(items[-1][0] + b"\x00") is None
    assert reader.get(b"\xff" * 4) is None


def test_many_blocks_round_trip():
    items = [(f"key/{i:06d}".encode(), bytes([i % 251]) * (i % 97)) for i in range(20000)]
    data = table.build_table(items, block_size=4096)
    reader = open_table(data)
    assert list(reader) == items
    assert len(reader._block_handles) > 50  # noqa: SLF001 - the point of the test is many blocks
    for key, value in items[::997]:
        assert reader.get(key) == value


def test_unsorted_keys_are_refused():
    writer = table.TableWriter(open(os.devnull, "wb"))
    writer.add(b"b", b"")
    with pytest.raises(ValueError, match="increasing"):
        writer.add(b"a", b"")
    with pytest.raises(ValueError):
        writer.add(b"b", b"")


def test_footer_layout():
    data = table.build_table([(b"k", b"v")])
    footer = data[-table.FOOTER_SIZE:]
    assert struct.unpack("<Q", footer[-8:])[0] == 0xDB4775248B80FB57
    # Each data block ends with a type byte and the masked CRC of block + type.
    block_size = data.index(b"\x00\x00\x00\x00\x01\x00\x00\x00") + 8
    block, trailer = data[:block_size], data[block_size:block_size + 5]
    assert trailer[0] == 0
    assert struct.unpack("<I", trailer[1:])[0] == crc32c.mask(crc32c.value(block + b"\x00"))


@pytest.mark.parametrize("corrupt", [
    lambda data: data[:20],
    lambda data: data[:-1],
    lambda data: data[:-8] + b"\x00" * 8,
    lambda data: b"\x00" * 200 + data,  # handles now point at the zeros
    lambda data: data[:2] + bytes([data[2] ^ 1]) + data[3:],
    lambda data: data[:-48] + b"\xff" * 40 + data[-8:],
])
def test_corrupt_tables_are_data_loss(corrupt):
    data = table.build_table([(f"k{i:03d}".encode(), b"value" * i) for i in range(50)])
    with pytest.raises(errors.DataLossError, match="<test>"):
        list(open_table(corrupt(data)))


def test_block_offsets_are_checked_against_file_size():
    data = bytearray(table.build_table([(b"a", b"1")]))
    # Point the index handle far past the end of the file.
    footer_start = len(data) - table.FOOTER_SIZE
    handles = table.encode_varint(0) + table.encode_varint(8) + table.encode_varint(1 << 40) + table.encode_varint(9)
    data[footer_start:footer_start + len(handles)] = handles
    with pytest.raises(errors.DataLossError, match="beyond the end of the file"):
        open_table(bytes(data))


def test_snappy_elements_decode():
    # Hand-assembled per the snappy format: literal "abcd", a 1-byte-offset copy of 5 bytes
    # from distance 4, and an overlapping 2-byte-offset copy of 6 bytes from distance 2.
    stream = bytes([(4 - 1) << 2]) + b"abcd"
    stream += bytes([((5 - 4) << 2) | 1, 4])
    stream += bytes([((6 - 1) << 2) | 2]) + (2).to_bytes(2, "little")
    expected = b"abcd" + b"abcda" + b"dadada"
    assert table._snappy_uncompress(table.encode_varint(len(expected)) + stream) == expected  # noqa: SLF001


def with_trailer(block, block_type):
    kind = bytes([block_type])
    return block + kind + struct.pack("<I", crc32c.mask(crc32c.value(block + kind)))


def test_snappy_compressed_block_in_table():
    raw_block = b""
    for key, value in [(b"alpha", b"1"), (b"beta", b"2")]:
        raw_block += bytes([0, len(key), len(value)]) + key + value
    raw_block += struct.pack("<II", 0, 1)
    compressed = table.encode_varint(len(raw_block)) + bytes([(len(raw_block) - 1) << 2]) + raw_block
    data = with_trailer(compressed, table.SNAPPY_COMPRESSION)
    empty_block = struct.pack("<II", 0, 1)
    metaindex_offset = len(data)
    data += with_trailer(empty_block, table.NO_COMPRESSION)
    index_block = bytes([0, 1, 2]) + b"c" + table.encode_varint(0) + table.encode_varint(len(compressed))
    index_block += struct.pack("<II", 0, 1)
    index_offset = len(data)
    data += with_trailer(index_block, table.NO_COMPRESSION)
    handles = (table.encode_varint(metaindex_offset) + table.encode_varint(len(empty_block))
               + table.encode_varint(index_offset) + table.encode_varint(len(index_block)))
    data += handles + bytes(40 - len(handles)) + struct.pack("<Q", table.TABLE_MAGIC)
    assert list(open_table(data)) == [(b"alpha", b"1"), (b"beta", b"2")]


def test_corrupt_snappy_is_data_loss():
    with pytest.raises(table.FormatError):
        table._snappy_uncompress(table.encode_varint(100) + b"\x00a")  # noqa: SLF001
    with pytest.raises(table.FormatError):
        table._snappy_uncompress(table.encode_varint(10) + b"\x0e\x05\x00")  # noqa: SLF001 - copy before any output


def test_tensor_slice_keys_match_tf_written_v1_keys(shared_dir):
    """Every data key of a TF-written V1 table decodes to (name, extents) and re-encodes to itself."""
    from tensorkeep.io import tensor_slices

    path = os.path.join(shared_dir, "corpus", "dventimi+CarND-Traffic-Signs", "model.ckpt")
    with open(path, "rb") as handle:
        keys = [key for key, _ in open_table(handle.read(), path)][1:]
    assert len(keys) == 32
    for key in keys:
        name, extents = tensor_slices.decode_tensor_name_slice(key)
        assert all(extent == (0, None) for extent in extents)  # saved whole
        assert tensor_slices.encode_tensor_name_slice(name.decode(), extents) == key


def test_tensor_slice_keys_order_and_escapes():
    from tensorkeep.io import tensor_slices

    extents = [(0, None), (5, 10), (-3, 2 ** 40)]
    for name in [b"plain", b"with\x00zero", b"\xff\xfe", b""]:
        key = tensor_slices.encode_tensor_name_slice(name, extents)
        assert tensor_slices.decode_tensor_name_slice(key) == (name, extents)
    # The encoding keeps numeric order, which is what makes slices of a tensor adjacent and sorted.
    starts = [-(2 ** 50), -65, -64, -1, 0, 1, 63, 64, 8191, 8192, 2 ** 55]
    keys = [tensor_slices.encode_tensor_name_slice(b"t", [(start, 1)]) for start in starts]
    assert keys == sorted(keys)
    assert tensor_slices.parse_shape_and_slice("6 4 0,2:-") == ([6, 4], [(0, 2), (0, None)])
    with pytest.raises(errors.InvalidArgumentError):
        tensor_slices.parse_shape_and_slice("6 4 5,2:-")
