"""Live comparison with real TensorFlow: the files we write must be byte-identical to TF's.

One TensorFlow subprocess (tests/tf_oracle_io.py) writes checkpoints with TF's own kernels
(SaveV2, SaveSlices, MergeV2Checkpoints), checkpoint state files, and a dump of TF's message
descriptors; each test then writes the same thing with tensorkeep and compares.
"""

import json
import os
import pickle

import numpy as np
import pytest

from tensorkeep.io import bundle, checkpoint_state, open_checkpoint_reader, protos, tensor_slices
from tf_oracle import run_tensorflow_process

pytestmark = pytest.mark.tf

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    out = tmp_path_factory.mktemp("tf_oracle_io")
    run_tensorflow_process([os.path.join(HERE, "tf_oracle_io.py"), out], timeout=900)
    with open(out / "values.pkl", "rb") as handle:
        cases = pickle.load(handle)
    return out, cases


def assert_same_files(tf_prefix, our_prefix, num_shards=1):
    suffixes = [".index"] + [f".data-{shard:05d}-of-{num_shards:05d}" for shard in range(num_shards)]
    for suffix in suffixes:
        with open(tf_prefix + suffix, "rb") as theirs, open(our_prefix + suffix, "rb") as ours:
            assert ours.read() == theirs.read(), suffix


@pytest.mark.parametrize("case", ["zoo", "many_keys"])
def test_save_v2_byte_identical(oracle, tmp_path, case):
    out, cases = oracle
    recorded = cases[case]
    prefix = str(tmp_path / "ckpt")
    with bundle.BundleWriter(prefix) as writer:
        for name, value in zip(recorded["order"], recorded["values"]):
            writer.add(name, value)
    assert_same_files(str(out / case / "ckpt"), prefix)


def test_zoo_read_back(oracle):
    out, cases = oracle
    recorded = cases["zoo"]
    with bundle.BundleReader(str(out / "zoo" / "ckpt")) as reader:
        assert reader.keys() == sorted(recorded["order"])
        for name, expected in zip(recorded["order"], recorded["values"]):
            value = reader.read(name)
            assert value.shape == expected.shape, name
            if value.dtype == object:
                assert value.tolist() == expected.astype(object).tolist(), name
            else:
                assert value.dtype == expected.dtype and value.tobytes() == expected.tobytes(), name


def test_partitioned_byte_identical_and_read(oracle, tmp_path):
    out, cases = oracle
    recorded = cases["partitioned"]
    prefix = str(tmp_path / "ckpt")
    with bundle.BundleWriter(prefix) as writer:
        for name, value, spec in zip(recorded["order"], recorded["values"], recorded["shape_and_slices"]):
            if spec:
                shape, extents = tensor_slices.parse_shape_and_slice(spec)
                writer.add_slice(name, shape, extents, value)
            else:
                writer.add(name, value)
    assert_same_files(str(out / "partitioned" / "ckpt"), prefix)
    with bundle.BundleReader(str(out / "partitioned" / "ckpt")) as reader:
        assert reader.keys() == ["part", "whole"]
        np.testing.assert_array_equal(reader.read("part"), recorded["full"])


def test_merge_byte_identical(oracle, tmp_path):
    out, cases = oracle
    parts = []
    for shard in range(2):
        recorded = cases[f"merged_part{shard}"]
        part = str(tmp_path / "ckpt_temp" / f"part-{shard:05d}-of-00002")
        with bundle.BundleWriter(part) as writer:
            for name, value in zip(recorded["order"], recorded["values"]):
                writer.add(name, value)
        parts.append(part)
    bundle.merge_bundles(parts, str(tmp_path / "ckpt"))
    assert_same_files(str(out / "merged" / "ckpt"), str(tmp_path / "ckpt"), num_shards=2)


@pytest.mark.parametrize("case, pattern", [("v1", "model.ckpt"), ("v1_sharded", "sharded.ckpt-?????-of-00002")])
def test_v1_save_slices_read(oracle, case, pattern):
    out, cases = oracle
    with open_checkpoint_reader(str(out / "v1" / pattern)) as reader:
        assert reader.format == "V1"
        expected = cases[case]["values"]
        assert reader.keys() == sorted(expected)
        for name, value in expected.items():
            read = reader.read(name)
            assert read.dtype == np.asarray(value).dtype and read.shape == np.shape(value), name
            assert read.tolist() == np.asarray(value).tolist(), name


def test_checkpoint_state_text_identical(oracle, tmp_path):
    out, _ = oracle
    directory = str(tmp_path)
    checkpoint_state.update_checkpoint_state(
        directory, os.path.join(directory, "model.ckpt-2"),
        [os.path.join(directory, "model.ckpt-1"), os.path.join(directory, "model.ckpt-2")],
        save_relative_paths=True, all_model_checkpoint_timestamps=[1700000000.25, 1700000100.5],
        last_preserved_timestamp=1699999999.125)
    assert (tmp_path / "checkpoint").read_bytes() == (out / "state_relative" / "checkpoint").read_bytes()
    checkpoint_state.update_checkpoint_state(directory, "/abs/elsewhere/model.ckpt-7", None,
                                             latest_filename="checkpoint_custom")
    assert (tmp_path / "checkpoint_custom").read_bytes() == \
        (out / "state_absolute" / "checkpoint_custom").read_bytes()


def test_schemas_match_tensorflow_descriptors(oracle):
    out, _ = oracle
    with open(out / "descriptors.json") as handle:
        theirs = json.load(handle)
    missing, different = [], []
    for full_name, fields in theirs["messages"].items():
        try:
            descriptor = protos.pool.FindMessageTypeByName(full_name)
        except KeyError:
            missing.append(full_name)
            continue
        ours = [[field.name, field.number, field.type, field.is_repeated,
                 field.message_type.full_name if field.message_type
                 else field.enum_type.full_name if field.enum_type else ""] for field in descriptor.fields]
        if sorted(ours) != sorted(fields):
            different.append(full_name)
    for full_name, values in theirs["enums"].items():
        try:
            descriptor = protos.pool.FindEnumTypeByName(full_name)
        except KeyError:
            missing.append(full_name)
            continue
        if {value.name: value.number for value in descriptor.values} != values:
            different.append(full_name)
    assert not missing and not different, {"missing": missing, "different": different}
