"""Tensor bundles (V2 checkpoints) and V1 checkpoints against files written by real TensorFlow.

Reference data: ../shared/golden/seed_files (TF 2.21) and every checkpoint recorded in the
corpus' expect.json files (sha256 of each tensor's little-endian bytes, as TF read it).
"""

import glob
import hashlib
import json
import os

import ml_dtypes
import numpy as np
import pytest

from tensorkeep import io as tkio
from tensorkeep.io import bundle, checkpoint_v1, errors, gfile, numpy_codec

SEED_FILES = ("golden", "seed_files")


def tensor_sha256(array):
    """sha256 as the corpus README defines it (strings: uint64-LE length + bytes per element)."""
    if array.dtype == object:
        digest = hashlib.sha256()
        for element in array.reshape(-1):
            digest.update(len(element).to_bytes(8, "little"))
            digest.update(element)
        return digest.hexdigest()
    return hashlib.sha256(np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()).hexdigest()


def corpus_checkpoints(shared):
    records = []
    for expect_path in sorted(glob.glob(os.path.join(shared, "corpus", "*", "expect.json"))):
        case_dir = os.path.dirname(expect_path)
        with open(expect_path) as handle:
            expect = json.load(handle)
        for record in expect.get("checkpoints", []):
            records.append((os.path.basename(case_dir), case_dir, record))
    return records


def open_as_recorded(case_dir, record):
    prefix = os.path.join(case_dir, record["prefix"])
    if record["format"] == "V1":
        # A V1 file may sit beside a V2 checkpoint of the same prefix, which would win otherwise.
        return checkpoint_v1.V1CheckpointReader(prefix)
    reader = tkio.open_checkpoint_reader(prefix)
    assert reader.format == "V2"
    return reader


# ------------------------------------------------------------------- golden seed files


def test_golden_seed_values(shared_dir):
    root = os.path.join(shared_dir, *SEED_FILES)
    tt = tkio.read_checkpoint(os.path.join(root, "tt", "model.ckpt"))
    assert sorted(tt) == ["Variable", "Variable_1"]
    for name in tt:
        np.testing.assert_array_equal(tt[name], np.array([-0.8113182], np.float32))
    qq = tkio.read_checkpoint(os.path.join(root, "qq", "model.ckpt"))
    assert dict((name, qq[name].tolist()) for name in qq) == {"v1": [1.0], "v2": [2.0]}
    model = tkio.read_checkpoint(os.path.join(root, "model", "model2.ckpt"))
    assert model["v"].shape == () and model["v"].dtype == np.float32 and model["v"] == np.float32(10)
    assert model["v/ExponentialMovingAverage"] == np.float32(0.099999905)
    assert tkio.list_checkpoint(os.path.join(root, "model", "model2.ckpt")) == {
        "v": (np.dtype(np.float32), ()), "v/ExponentialMovingAverage": (np.dtype(np.float32), ())}


@pytest.mark.parametrize("case, tensors", [
    ("tt/model.ckpt", {"Variable": np.array([-0.8113182], np.float32),
                       "Variable_1": np.array([-0.8113182], np.float32)}),
    ("qq/model.ckpt", {"v1": np.array([1.0], np.float32), "v2": np.array([2.0], np.float32)}),
    ("model/model2.ckpt", {"v": np.float32(10), "v/ExponentialMovingAverage": np.float32(0.099999905)}),
])
def test_write_is_byte_identical_to_golden(shared_dir, tmp_path, case, tensors):
    golden_prefix = os.path.join(shared_dir, *SEED_FILES, case)
    prefix = str(tmp_path / "out" / "model.ckpt")
    tkio.write_checkpoint(prefix, tensors)
    for suffix in (".index", ".data-00000-of-00001"):
        with open(golden_prefix + suffix, "rb") as golden, open(prefix + suffix, "rb") as ours:
            assert ours.read() == golden.read(), suffix
    assert sorted(os.listdir(tmp_path / "out")) == ["model.ckpt.data-00000-of-00001", "model.ckpt.index"]


# ------------------------------------------------------------------------------ corpus


def test_corpus_checkpoints_match_tensorflow(shared_dir):
    records = corpus_checkpoints(shared_dir)
    assert records, "no checkpoints recorded in the corpus"
    checked = 0
    for case, case_dir, record in records:
        with open_as_recorded(case_dir, record) as reader:
            assert reader.keys() == sorted(variable["name"] for variable in record["variables"]), case
            for variable in record["variables"]:
                name = variable["name"]
                datatype, shape = reader.dtype_and_shape(name)
                assert list(shape) == variable["shape"], (case, name)
                if "read_error" in variable:
                    with pytest.raises(errors.NotFoundError) as raised:
                        reader.read(name)
                    assert variable["read_error"]["cause"] in str(raised.value), (case, name)
                    continue
                value = reader.read(name)
                expected_dtype = "object" if variable["dtype"] == "string" else variable["dtype"]
                assert str(value.dtype) == expected_dtype, (case, name)
                assert tensor_sha256(value) == variable["sha256"], (case, name)
                checked += 1
    assert checked > 400


def test_corpus_reads_into_caller_buffer(shared_dir):
    case, case_dir, record = next(r for r in corpus_checkpoints(shared_dir)
                                  if r[2]["format"] == "V2" and r[2]["num_readable"] == r[2]["num_variables"])
    with open_as_recorded(case_dir, record) as reader:
        for variable in record["variables"]:
            if variable["dtype"] == "string":
                continue
            buffer = np.full(variable["shape"], 7, dtype=variable["dtype"])
            assert reader.read(variable["name"], out=buffer) is buffer
            assert tensor_sha256(buffer) == variable["sha256"]
        wrong = np.zeros((1, 2, 3), np.float64)
        with pytest.raises(errors.InvalidArgumentError, match="into a buffer"):
            reader.read(record["variables"][0]["name"], out=wrong)


def test_v2_prefix_preferred_over_v1_file(shared_dir):
    v1_and_v2 = [r for r in corpus_checkpoints(shared_dir) if r[2].get("shadowed_by_v2")]
    assert v1_and_v2
    _, case_dir, record = v1_and_v2[0]
    with tkio.open_checkpoint_reader(os.path.join(case_dir, record["prefix"])) as reader:
        assert reader.format == "V2"


def test_v1_through_open_checkpoint_reader(shared_dir):
    v1_only = [r for r in corpus_checkpoints(shared_dir)
               if r[2]["format"] == "V1" and not r[2].get("shadowed_by_v2")]
    assert v1_only
    _, case_dir, record = v1_only[0]
    weights = tkio.read_checkpoint(os.path.join(case_dir, record["prefix"]))
    assert weights.reader.format == "V1"
    for variable in record["variables"]:
        assert tensor_sha256(weights[variable["name"]]) == variable["sha256"]


def test_missing_key_names_close_keys(shared_dir):
    with tkio.open_checkpoint_reader(os.path.join(shared_dir, *SEED_FILES, "tt", "model.ckpt")) as reader:
        with pytest.raises(errors.NotFoundError, match="Key Variable_2 not found.*Closest keys.*Variable"):
            reader.read("Variable_2")
    with pytest.raises(errors.NotFoundError, match="Failed to find any matching files"):
        tkio.open_checkpoint_reader(os.path.join(shared_dir, *SEED_FILES, "tt", "no_such.ckpt"))


# ------------------------------------------------------------------------ round trips


def dtype_zoo():
    rng = np.random.default_rng(1)
    zoo = {}
    for dtype in ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
                  "uint32", "uint64", "bool", "complex64", "complex128", ml_dtypes.bfloat16,
                  ml_dtypes.float8_e5m2, ml_dtypes.float8_e4m3fn, ml_dtypes.int4]:
        name = np.dtype(dtype).name
        for shape in [(), (0,), (2, 0, 3), (3, 4), (300,)]:
            values = rng.integers(-7, 7, shape) if name in ("int4", "bool") else rng.standard_normal(shape) * 50
            if name == "bool":
                values = values > 0
            if name.startswith("complex"):
                values = values + 1j * rng.standard_normal(shape)
            zoo[f"{name}/{shape}"] = np.asarray(values).astype(dtype)
    zoo["string/scalar"] = np.array(b"scalar", dtype=object)
    zoo["string/mixed"] = np.array([b"", "h\u00e9llo", b"\x00\xff" * 100, b"x" * 70000], dtype=object)
    zoo["string/zero"] = np.zeros((0, 3), dtype=object)
    zoo["string/2x2"] = np.array([[b"a", b"bb"], [b"", b"dddd"]], dtype=object)
    return zoo


def test_dtype_zoo_round_trip(tmp_path):
    zoo = dtype_zoo()
    prefix = str(tmp_path / "zoo")
    tkio.write_checkpoint(prefix, zoo)
    listing = tkio.list_checkpoint(prefix)
    weights = tkio.read_checkpoint(prefix)
    assert sorted(weights) == sorted(zoo)
    for name, expected in zoo.items():
        value = weights[name]
        assert value.shape == expected.shape and listing[name] == (value.dtype, expected.shape), name
        if expected.dtype == object:
            assert value.tolist() == np.vectorize(
                lambda s: s.encode() if isinstance(s, str) else s, otypes=[object])(expected).tolist()
        else:
            assert value.dtype == expected.dtype and value.tobytes() == expected.tobytes(), name
            assert value.flags.writeable


def test_big_endian_input_is_stored_little_endian(tmp_path):
    values = np.arange(6, dtype=">i4").reshape(2, 3)
    tkio.write_checkpoint(str(tmp_path / "a"), {"x": values})
    tkio.write_checkpoint(str(tmp_path / "b"), {"x": values.astype("<i4")})
    for suffix in (".index", ".data-00000-of-00001"):
        assert (tmp_path / ("a" + suffix)).read_bytes() == (tmp_path / ("b" + suffix)).read_bytes()


def test_datatype_override_for_quantized(tmp_path):
    prefix = str(tmp_path / "q")
    with bundle.BundleWriter(prefix) as writer:
        writer.add("q", np.array([1, -2], np.int8), datatype=11)  # DT_QINT8
    with bundle.BundleReader(prefix) as reader:
        assert reader.dtype_and_shape("q") == (11, (2,))
        assert reader.read("q").tolist() == [1, -2]


def test_partitioned_tensor_round_trip_and_listing(tmp_path):
    full = np.arange(24, dtype=np.float32).reshape(6, 4)
    prefix = str(tmp_path / "p")
    with bundle.BundleWriter(prefix) as writer:
        writer.add_slice("w", (6, 4), [(0, 2), (0, None)], full[0:2])
        writer.add_slice("w", (6, 4), [(2, 4), (0, None)], full[2:6])
        writer.add("b", np.ones(3))
    with bundle.BundleReader(prefix) as reader:
        assert reader.keys() == ["b", "w"]
        assert len(reader.entry("w").slices) == 2
        np.testing.assert_array_equal(reader.read("w"), full)
        buffer = np.zeros((6, 4), np.float32)
        reader.read("w", out=buffer)
        np.testing.assert_array_equal(buffer, full)


def test_partitioned_tensor_with_missing_slice_is_refused(tmp_path):
    prefix = str(tmp_path / "p")
    with bundle.BundleWriter(prefix) as writer:
        writer.add_slice("w", (6, 4), [(0, 2), (0, None)], np.zeros((2, 4), np.float32))
    with bundle.BundleReader(prefix) as reader:
        with pytest.raises(errors.InvalidArgumentError, match="sufficient slices.*w"):
            reader.read("w")


def test_duplicate_and_reserved_keys(tmp_path):
    with bundle.BundleWriter(str(tmp_path / "d")) as writer:
        writer.add("a", np.zeros(1))
        with pytest.raises(errors.InvalidArgumentError, match="duplicate key: a"):
            writer.add("a", np.zeros(1))
        with pytest.raises(errors.InvalidArgumentError):
            writer.add("", np.zeros(1))


def test_multiple_data_shards_and_merge(tmp_path):
    parts = []
    for shard, names in enumerate([["b", "a"], ["d", "c"]]):
        part = str(tmp_path / "ckpt_temp" / f"part-{shard:05d}-of-00002")
        with bundle.BundleWriter(part) as writer:
            for name in names:
                writer.add(name, np.full(3, ord(name), np.int32))
        parts.append(part)
    merged = str(tmp_path / "ckpt")
    bundle.merge_bundles(parts, merged)
    assert sorted(os.listdir(tmp_path)) == [
        "ckpt.data-00000-of-00002", "ckpt.data-00001-of-00002", "ckpt.index", "ckpt_temp"]
    with bundle.BundleReader(merged) as reader:
        assert reader.num_shards == 2
        assert {name: reader.read(name).tolist() for name in reader.keys()} == {
            name: [ord(name)] * 3 for name in "abcd"}


# -------------------------------------------------------------------------- corruption


def write_small(tmp_path):
    prefix = str(tmp_path / "model.ckpt")
    tkio.write_checkpoint(prefix, {"weights": np.arange(1000, dtype=np.float32), "name": np.array(b"abc", object)})
    return prefix


def test_flipped_data_byte_is_data_loss_naming_file_and_tensor(tmp_path):
    prefix = write_small(tmp_path)
    data_path = prefix + ".data-00000-of-00001"
    with open(data_path, "r+b") as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0x40]))
    with bundle.BundleReader(prefix) as reader:
        with pytest.raises(errors.DataLossError) as raised:
            reader.read("weights")
        assert "weights" in str(raised.value) and data_path in str(raised.value)
        assert reader.read("name") == b"abc"


def test_flipped_string_byte_is_data_loss(tmp_path):
    prefix = str(tmp_path / "s")
    tkio.write_checkpoint(prefix, {"s": np.array([b"hello", b"world"], object)})
    data_path = prefix + ".data-00000-of-00001"
    data = bytearray(open(data_path, "rb").read())
    data[-1] ^= 1
    open(data_path, "wb").write(bytes(data))
    with pytest.raises(errors.DataLossError, match="s.*Checksum|Checksum.*s"):
        tkio.read_checkpoint(prefix)["s"]


@pytest.mark.parametrize("keep", [0, 10, 47, -1])
def test_truncated_index_is_data_loss(tmp_path, keep):
    prefix = write_small(tmp_path)
    index_path = prefix + ".index"
    data = open(index_path, "rb").read()
    open(index_path, "wb").write(data[:keep] if keep >= 0 else data[:-1])
    with pytest.raises(errors.DataLossError, match="model.ckpt.index"):
        bundle.BundleReader(prefix)


def test_corrupt_index_block_is_data_loss(tmp_path):
    prefix = write_small(tmp_path)
    index_path = prefix + ".index"
    data = bytearray(open(index_path, "rb").read())
    data[3] ^= 0xFF
    open(index_path, "wb").write(bytes(data))
    with pytest.raises(errors.DataLossError, match="checksum"):
        bundle.BundleReader(prefix)


def test_truncated_data_is_data_loss_before_allocating(tmp_path):
    prefix = write_small(tmp_path)
    data_path = prefix + ".data-00000-of-00001"
    os.truncate(data_path, 100)
    with bundle.BundleReader(prefix) as reader:
        with pytest.raises(errors.DataLossError, match="weights.*only 100 bytes"):
            reader.read("weights")


def test_entry_with_huge_shape_is_refused_without_allocating(tmp_path):
    prefix = str(tmp_path / "huge")
    with bundle.BundleWriter(prefix) as writer:
        writer.add("x", np.zeros(4, np.float32))
    # Rewrite the index so the entry claims 2**40 elements while keeping its 16-byte size.
    with bundle.BundleReader(prefix) as reader:
        entry = reader.entry("x")
    entry.shape.dim[0].size = 2 ** 40
    items = [(b"", bundle._header_bytes(1)), (b"x", entry.SerializeToString(deterministic=True))]
    bundle.write_index(prefix + ".index", items)
    with bundle.BundleReader(prefix) as reader:
        with pytest.raises(errors.DataLossError, match="Invalid size"):
            reader.read("x")


def test_missing_shard_is_not_found_naming_file(tmp_path):
    prefix = write_small(tmp_path)
    data_path = prefix + ".data-00000-of-00001"
    os.remove(data_path)
    with bundle.BundleReader(prefix) as reader:
        assert reader.keys() == ["name", "weights"]
        with pytest.raises(errors.NotFoundError) as raised:
            reader.read("weights")
    assert str(raised.value) == f"{data_path}; No such file or directory"


# ------------------------------------------------------------------------- atomicity


def test_nothing_under_final_names_until_finish(tmp_path):
    prefix = str(tmp_path / "model.ckpt")
    writer = bundle.BundleWriter(prefix)
    writer.add("x", np.zeros(10))
    assert not [name for name in os.listdir(tmp_path) if "tempstate" not in name]
    writer.finish()
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt.data-00000-of-00001", "model.ckpt.index"]


def test_failed_write_leaves_previous_checkpoint_intact(tmp_path):
    prefix = str(tmp_path / "model.ckpt")
    tkio.write_checkpoint(prefix, {"x": np.ones(3)})
    before = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    with pytest.raises(errors.InvalidArgumentError):
        tkio.write_checkpoint(prefix, {"x": np.zeros(3), "y": np.array([object()], dtype=object)})
    assert {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)} == before


# --------------------------------------------------------------------------- fsspec


def test_memory_url_round_trip():
    prefix = "memory://tensorkeep-test-bundle/dir/model.ckpt"
    tensors = {"a": np.arange(5, dtype=np.int64), "s": np.array([b"x", b"yz"], object)}
    try:
        tkio.write_checkpoint(prefix, tensors)
        assert gfile.exists(prefix + ".index") and gfile.exists(prefix + ".data-00000-of-00001")
        weights = tkio.read_checkpoint(prefix)
        assert weights["a"].tolist() == [0, 1, 2, 3, 4]
        assert weights["s"].tolist() == [b"x", b"yz"]
        weights.close()
        local_copy = tkio.list_checkpoint(prefix)
        assert local_copy == {"a": (np.dtype(np.int64), (5,)), "s": (np.dtype(object), (2,))}
    finally:
        gfile.rmtree("memory://tensorkeep-test-bundle")


def test_numpy_codec_rejects_unknown_types():
    with pytest.raises(errors.InvalidArgumentError):
        numpy_codec.datatype_of(np.dtype([("a", np.int32)]))
    assert numpy_codec.numpy_dtype(101) == np.float32  # DT_FLOAT_REF
