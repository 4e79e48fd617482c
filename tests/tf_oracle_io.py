"""Run by test_io_tf_interop.py under real TensorFlow (.venv-tf): writes what TensorFlow writes.

Usage: python tf_oracle_io.py OUTPUT_DIR

Everything goes into OUTPUT_DIR: checkpoints written by TensorFlow's own kernels, the
values that went into them (values.pkl: {case: {tensor name: ndarray}} plus the order the
tensors were passed in), checkpoint state files, and TensorFlow's message descriptors
(descriptors.json) so the test can compare our schemas field by field.
"""

import json
import os
import pickle
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = sys.argv[1]
rng = np.random.default_rng(0)
cases = {}


def save_v2(case, names, tensors, shape_and_slices=None):
    tf.raw_ops.SaveV2(prefix=os.path.join(OUT, case, "ckpt"), tensor_names=names,
                      shape_and_slices=shape_and_slices or [""] * len(names), tensors=tensors)
    cases[case] = {"order": list(names), "values": [np.asarray(t.numpy()) for t in tensors],
                   "shape_and_slices": shape_and_slices}


def zoo():
    names, tensors = [], []
    for dtype in ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                  "uint16", "uint32", "uint64", "bool", "complex64", "complex128"]:
        for shape in [(), (0,), (3, 0, 2), (2, 3), (7,)]:
            values = rng.standard_normal(shape) * 100
            if dtype.startswith("complex"):
                values = values + 1j * rng.standard_normal(shape)
            if dtype == "bool":
                values = values > 0
            names.append(f"{dtype}/{'x'.join(map(str, shape)) or 'scalar'}")
            tensors.append(tf.constant(values, dtype=dtype) if dtype == "bfloat16"
                           else tf.constant(values.astype(dtype)))
    for dtype in ["float8_e5m2", "float8_e4m3fn"]:
        names.append(f"{dtype}/3x2")
        tensors.append(tf.cast(tf.constant(rng.integers(-8, 8, (3, 2)).astype("float32")), dtype))
    names += ["string/scalar", "string/with_empty", "string/zero_size", "string/long", "string/2x2"]
    tensors += [tf.constant(b"hello"), tf.constant([b"", b"a", b""]), tf.zeros((0, 2), dtype=tf.string),
                tf.constant([b"x" * 200, "h\u00e9llo".encode(), b"\x00\xff" * 70000]),
                tf.constant([[b"a", b"bb"], [b"ccc", b""]])]
    order = rng.permutation(len(names))  # Data is laid out in the order tensors are passed.
    save_v2("zoo", [names[i] for i in order], [tensors[i] for i in order])


def many_keys():
    # Enough entries that the index spans several 256 KiB blocks.
    names = [f"layer_{i:05d}/some/rather/long/variable/name/kernel" for i in range(9000)]
    save_v2("many_keys", names, [tf.constant([float(i)], tf.float32) for i in range(len(names))])


def partitioned():
    full = rng.standard_normal((6, 4)).astype("float32")
    names = ["part", "part", "part", "whole"]
    specs = ["6 4 0,2:-", "6 4 2,3:-", "6 4 5,1:-", ""]
    tensors = [tf.constant(full[0:2]), tf.constant(full[2:5]), tf.constant(full[5:6]), tf.constant([1, 2], tf.int64)]
    save_v2("partitioned", names, tensors, specs)
    cases["partitioned"]["full"] = full


def merged():
    prefixes = []
    os.makedirs(os.path.join(OUT, "merged"))
    for shard, names in enumerate([["b", "a"], ["d", "c"]]):
        prefix = os.path.join(OUT, "merged", f"ckpt_temp/part-{shard:05d}-of-00002")
        tensors = [tf.constant(rng.standard_normal(3).astype("float32")) for _ in names]
        tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=["", ""], tensors=tensors)
        cases[f"merged_part{shard}"] = {"order": names, "values": [t.numpy() for t in tensors]}
        prefixes.append(prefix)
    tf.raw_ops.MergeV2Checkpoints(checkpoint_prefixes=prefixes, destination_prefix=os.path.join(OUT, "merged", "ckpt"),
                                  delete_old_dirs=True)


def v1_slices():
    full = rng.standard_normal((4, 3))
    names = ["matrix", "matrix", "ints", "text", "flag", "halves"]
    specs = ["4 3 0,1:-", "4 3 1,3:-", "", "", "", ""]
    data = [full[0:1], full[1:4], np.arange(6, dtype=np.int64).reshape(2, 3), np.array([b"a", b"bc"], dtype=object),
            np.array(True), np.array([0.5, -2.0], np.float16)]
    os.makedirs(os.path.join(OUT, "v1"))
    tf.raw_ops.SaveSlices(filename=os.path.join(OUT, "v1", "model.ckpt"), tensor_names=names,
                          shapes_and_slices=specs, data=[tf.constant(value) for value in data])
    cases["v1"] = {"values": {"matrix": full, "ints": data[2], "text": data[3], "flag": data[4], "halves": data[5]}}
    # A sharded V1 save: one file per shard, a partitioned tensor split across them.
    split = rng.standard_normal((5, 2)).astype("float32")
    for shard, (rows, spec) in enumerate([(split[:3], "5 2 0,3:-"), (split[3:], "5 2 3,2:-")]):
        tf.raw_ops.SaveSlices(filename=os.path.join(OUT, "v1", f"sharded.ckpt-{shard:05d}-of-00002"),
                              tensor_names=["split", f"only_in_{shard}"], shapes_and_slices=[spec, ""],
                              data=[tf.constant(rows), tf.constant([shard], tf.int32)])
    cases["v1_sharded"] = {"values": {"split": split, "only_in_0": np.array([0], np.int32),
                                      "only_in_1": np.array([1], np.int32)}}


def checkpoint_state_files():
    from tensorflow.python.checkpoint import checkpoint_management as management

    os.makedirs(os.path.join(OUT, "state_relative"))
    directory = os.path.join(OUT, "state_relative")
    management.update_checkpoint_state_internal(
        directory, os.path.join(directory, "model.ckpt-2"),
        [os.path.join(directory, "model.ckpt-1"), os.path.join(directory, "model.ckpt-2")],
        save_relative_paths=True, all_model_checkpoint_timestamps=[1700000000.25, 1700000100.5],
        last_preserved_timestamp=1699999999.125)
    os.makedirs(os.path.join(OUT, "state_absolute"))
    directory = os.path.join(OUT, "state_absolute")
    management.update_checkpoint_state_internal(directory, "/abs/elsewhere/model.ckpt-7", None,
                                                latest_filename="checkpoint_custom")


def descriptors():
    from google.protobuf import descriptor_pool
    from tensorflow.core.example import example_pb2  # noqa: F401
    from tensorflow.core.framework import summary_pb2  # noqa: F401
    from tensorflow.core.protobuf import config_pb2, meta_graph_pb2, saved_model_pb2, tensor_bundle_pb2  # noqa: F401
    from tensorflow.core.util import saved_tensor_slice_pb2  # noqa: F401
    from tensorflow.python.training import checkpoint_state_pb2  # noqa: F401

    pool = descriptor_pool.Default()
    messages, enums = {}, {}

    def visit_enum(enum):
        enums[enum.full_name] = {value.name: value.number for value in enum.values}

    def visit(message):
        messages[message.full_name] = [
            [field.name, field.number, field.type, field.is_repeated, field.message_type.full_name if field.message_type
             else field.enum_type.full_name if field.enum_type else ""] for field in message.fields]
        for nested in message.nested_types:
            visit(nested)
        for enum in message.enum_types:
            visit_enum(enum)

    for file_name in set(pool.FindMessageTypeByName(name).file.name for name in [
            "tensorflow.MetaGraphDef", "tensorflow.SavedModel", "tensorflow.ConfigProto", "tensorflow.RunMetadata",
            "tensorflow.BundleEntryProto", "tensorflow.CheckpointState", "tensorflow.Summary",
            "tensorflow.Example", "tensorflow.SavedTensorSlices"]):
        pending = [pool.FindFileByName(file_name)]
        seen = set()
        while pending:
            file = pending.pop()
            if file.name in seen:
                continue
            seen.add(file.name)
            pending.extend(file.dependencies)
            if file.package != "tensorflow":
                continue
            for message in file.message_types_by_name.values():
                visit(message)
            for enum in file.enum_types_by_name.values():
                visit_enum(enum)
    with open(os.path.join(OUT, "descriptors.json"), "w") as handle:
        json.dump({"messages": messages, "enums": enums}, handle)


zoo()
many_keys()
partitioned()
merged()
v1_slices()
checkpoint_state_files()
descriptors()
with open(os.path.join(OUT, "values.pkl"), "wb") as handle:
    pickle.dump(cases, handle)
print("tf_oracle_io done")
