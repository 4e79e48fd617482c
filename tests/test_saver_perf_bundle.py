"""The fast paths of tensor bundles: entries serialized without protobuf must be the bytes
protobuf writes, small tensors gathered into one write and read back in runs, and a large
file replaced by AtomicWriter deleted after the rename, leaving no temporary name behind."""

import glob
import os
import threading

import numpy as np
import pytest

from tensorkeep.io import bundle, gfile, protos
from tensorkeep.io.errors import DataLossError


@pytest.mark.parametrize("shape", [(), (0,), (1,), (100,), (3, 0, 2), (127, 128), (1 << 20,), (2, 3, 4, 5)])
@pytest.mark.parametrize("offset, size, masked_crc", [
    (0, 0, 0), (0, 400, 0xDEADBEEF), (127, 128, 1), (1 << 21, (1 << 28) - 1, 0xFFFFFFFF),
    ((1 << 28) + 5, 1 << 35, 7), (16383, 16384, 0)])
@pytest.mark.parametrize("datatype", [1, 3, 9, 14, 19, 23])
def test_entry_bytes_are_what_protobuf_serializes(shape, offset, size, masked_crc, datatype):
    proto = protos.BundleEntryProto(dtype=datatype, offset=offset, size=size, crc32c=masked_crc)
    proto.shape.SetInParent()
    for dim in shape:
        proto.shape.dim.add().size = dim
    assert bundle._entry_bytes(datatype, shape, offset, size, masked_crc) == \
        proto.SerializeToString(deterministic=True)


def test_many_small_tensors_round_trip_in_runs(tmp_path):
    rng = np.random.default_rng(1)
    values = {"t%05d" % index: rng.standard_normal(rng.integers(0, 50)).astype(np.float32)
              for index in range(3000)}
    values["big"] = rng.standard_normal(1 << 19).astype(np.float32)  # written on its own
    values["ints"] = np.arange(10, dtype=np.int64).reshape(2, 5)
    values["text"] = np.array([b"a", b"bc"], dtype=object)
    prefix = str(tmp_path / "bundle")
    with bundle.BundleWriter(prefix) as writer:
        for key, value in values.items():
            writer.add(key, value)
    with bundle.BundleReader(prefix) as reader:
        numeric = [key for key in values if key != "text"]
        assert reader.plain_entry("text") is None
        for key, got in zip(numeric, reader.read_many(numeric)):
            np.testing.assert_array_equal(got, values[key])
            assert got.flags.owndata
        verified = reader.verify_many(numeric, 4096)
        outs = [np.empty_like(values[key]) for key in numeric]
        for key, got, out in zip(numeric, reader.read_verified(verified, outs), outs):
            assert got is out
            np.testing.assert_array_equal(got, values[key])
        np.testing.assert_array_equal(reader.read("text"), values["text"])


def test_verify_many_finds_a_corrupt_small_tensor(tmp_path):
    prefix = str(tmp_path / "bundle")
    with bundle.BundleWriter(prefix) as writer:
        for index in range(100):
            writer.add("t%03d" % index, np.full(10, index, np.float32))
    data_file, = glob.glob(prefix + ".data-*")
    with open(data_file, "r+b") as handle:
        handle.seek(57 * 40 + 3)
        handle.write(b"\xff")
    with bundle.BundleReader(prefix) as reader:
        keys = ["t%03d" % index for index in range(100)]
        with pytest.raises(DataLossError, match="t057"):
            reader.verify_many(keys)
        with pytest.raises(DataLossError, match="t057"):
            reader.read_many(keys)


@pytest.mark.parametrize("parts", [1, 2, 3])
def test_runs_shared_by_workers_fail_on_the_first_corrupt_tensor(tmp_path, parts):
    """Workers claim runs in order, so the error is the one a pass in order meets first,
    whichever worker found it; values read by workers equal the stored ones."""
    from tensorkeep.ops import kernel_threads

    prefix = str(tmp_path / "bundle")
    values = {"t%03d" % index: np.full(1000 + index, index, np.float32) for index in range(100)}
    with bundle.BundleWriter(prefix) as writer:
        for key, value in values.items():
            writer.add(key, value)
    keys = list(values)
    workers = {"run_parts": kernel_threads.run_parts, "parts": parts}
    with bundle.BundleReader(prefix) as reader:
        for got, key in zip(reader.read_many(keys, **workers), keys):
            np.testing.assert_array_equal(got, values[key])
        verified = reader.verify_many(keys, 8192, **workers)
        assert len(verified) > parts  # runs to share
        outs = [np.zeros_like(values[key]) for key in keys]
        reader.read_verified(verified, outs, **workers)
        for out, key in zip(outs, keys):
            np.testing.assert_array_equal(out, values[key])
        offsets = {key: reader.entry(key).offset for key in keys}
    data_file, = glob.glob(prefix + ".data-*")
    with open(data_file, "r+b") as handle:
        for key in ("t090", "t031", "t057"):
            handle.seek(offsets[key] + 5)
            handle.write(b"\xff")
    with bundle.BundleReader(prefix) as reader:
        with pytest.raises(DataLossError, match="t031"):
            reader.verify_many(keys, 8192, **workers)
        with pytest.raises(DataLossError, match="t031") as raised:
            reader.read_many(keys, **workers)
        assert 31 in raised.value.partly_read


def test_readinto_many_at_stops_at_end_of_file(tmp_path):
    path = tmp_path / "file"
    path.write_bytes(bytes(range(10)))
    buffers = [bytearray(4), bytearray(4), bytearray(4)]
    with gfile.RandomAccessFile(str(path)) as handle:
        assert handle.readinto_many_at(1, buffers) == 9
    assert bytes(buffers[0] + buffers[1] + buffers[2][:1]) == bytes(range(1, 10))


def test_replacing_a_large_file_leaves_only_the_new_one(tmp_path):
    path = str(tmp_path / "large")
    for fill in (1, 2):
        with gfile.AtomicWriter(path) as writer:
            writer.write(np.full(80 << 20, fill, np.uint8))
    for thread in threading.enumerate():
        if thread.name == "tensorkeep-delete-replaced-file":
            thread.join()
    assert os.listdir(tmp_path) == ["large"]
    with open(path, "rb") as handle:
        assert handle.read(1) == b"\x02" and os.path.getsize(path) == 80 << 20
