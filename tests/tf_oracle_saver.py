"""Run by test_saver_tf_interop.py under real TensorFlow (.venv-tf), in one of two modes:

    python tf_oracle_saver.py write DIR   TensorFlow's Saver writes checkpoints into DIR
    python tf_oracle_saver.py read DIR    TensorFlow reads the checkpoints tensorkeep wrote in DIR

Paths are relative to DIR (the working directory), so state files are comparable. Results
go to DIR/tf_results.pkl. The variables come from saver_cases.py, shared with the tests.
"""

import os
import pickle
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

import saver_cases  # noqa: E402

tf.disable_v2_behavior()
MODE, WORKDIR = sys.argv[1], sys.argv[2]
os.chdir(WORKDIR)
results = {}


def saver_graph(build):
    """(GraphDef bytes, SaverDef bytes) of the graph `build()` makes (it returns the Saver)."""
    with tf.Graph().as_default() as graph:
        saver = build()
        return (graph.as_graph_def().SerializeToString(),
                saver.as_saver_def().SerializeToString())


def two_cpus():
    return tf.Session(config=tf.ConfigProto(device_count={"CPU": 2}))


# --- write ----------------------------------------------------------------------------------------

def write_rotation():
    results["rotation_last_checkpoints"] = saver_cases.write_rotation(tf)
    results["rotation_files"] = sorted(os.listdir("rotation"))
    with open("rotation/checkpoint") as handle:
        results["rotation_state"] = handle.read()


def write_sharded():
    with tf.Graph().as_default():
        saver = saver_cases.build_two_devices(tf)
        os.makedirs("sharded")  # TensorFlow's sharded save needs the directory to exist
        with two_cpus() as sess:
            sess.run(tf.global_variables_initializer())
            results["sharded_prefix"] = saver.save(sess, "sharded/model.ckpt",
                                                   write_meta_graph=False)
    results["sharded_files"] = sorted(os.listdir("sharded"))


def write_many():
    with tf.Graph().as_default():
        names = saver_cases.many_names()
        constants = [tf.constant(saver_cases.many_value(i)) for i in range(len(names))]
        save = tf.raw_ops.SaveV2(prefix="many/model.ckpt", tensor_names=names,
                                 shape_and_slices=[""] * len(names), tensors=constants)
        with tf.Session() as sess:
            sess.run(save)


def write_init_from_checkpoint():
    with tf.Graph().as_default() as graph:
        fetches = saver_cases.build_init_from_checkpoint(tf, "partitioned/model.ckpt")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            results["init_from_checkpoint_values"] = sess.run(fetches)
        results["init_from_checkpoint_graph"] = graph.as_graph_def().SerializeToString()


def write_all():
    saver_cases.write_dtypes(tf)
    saver_cases.write_partitioned(tf)
    write_rotation()
    write_sharded()
    write_many()
    write_init_from_checkpoint()
    results["graphs"] = {name: saver_graph(lambda: build(tf))
                         for name, build in saver_cases.SAVER_GRAPHS.items()}


# --- read -----------------------------------------------------------------------------------------

def reader_values(prefix):
    """{name: value} of what NewCheckpointReader reads (it refuses partitioned V1 tensors)."""
    reader = tf.train.NewCheckpointReader(prefix)
    values = {}
    for name in reader.get_variable_to_shape_map():
        try:
            values[name] = reader.get_tensor(name)
        except tf.errors.UnimplementedError:
            pass
    return values


def restore_values(prefix, build, session=tf.Session):
    """Values of the variables `build()` makes, restored by a TF Saver from `prefix`."""
    with tf.Graph().as_default():
        fetches = build()
        saver = tf.train.Saver()
        with session() as sess:
            saver.restore(sess, prefix)
            return sess.run(fetches)


DEBUG_STRING_PREFIXES = ["dtypes/model.ckpt", "partitioned/model.ckpt", "sharded/model.ckpt",
                         "v1/model.ckpt"]


def read_all():
    values = saver_cases.dtype_values()
    results["dtypes_reader"] = reader_values("dtypes/model.ckpt")
    results["debug_strings"] = {prefix: tf.train.NewCheckpointReader(prefix).debug_string()
                                for prefix in DEBUG_STRING_PREFIXES}
    results["dtypes_restored"] = restore_values(
        "dtypes/model.ckpt",
        lambda: {name: tf.Variable(np.zeros_like(value) if value.dtype != object else
                                   np.full(value.shape, b"", dtype=object), name=name)
                 for name, value in values.items()})
    for parts in (3, 2):
        results["partitioned_%d" % parts] = restore_values(
            "partitioned/model.ckpt",
            lambda: {"emb": tf.concat(list(saver_cases.partitioned_variable(tf, parts)), 0),
                     "dense": tf.Variable([0.0, 0.0], name="dense")})
    results["rotation_latest"] = tf.train.latest_checkpoint("rotation")
    state = tf.train.get_checkpoint_state("rotation")
    results["rotation_paths"] = list(state.all_model_checkpoint_paths)
    results["rotation_restored"] = restore_values(
        results["rotation_latest"], lambda: tf.Variable(-1, name="step"))
    results["sharded_restored"] = restore_values(
        "sharded/model.ckpt", lambda: [tf.Variable([0.0, 0.0], name="a"),
                                       tf.Variable([0, 0, 0], name="b")])
    reader = tf.train.NewCheckpointReader("many/model.ckpt")
    shapes = reader.get_variable_to_shape_map()
    results["many_count"] = len(shapes)
    results["many_sample"] = {name: reader.get_tensor(name)
                              for name in saver_cases.many_names()[::997]}
    results["v1_reader"] = reader_values("v1/model.ckpt")
    results["v1_restored"] = restore_values(
        "v1/model.ckpt", lambda: [tf.Variable([0.0], name="a"), tf.Variable([0, 0], name="b"),
                                  tf.concat(list(saver_cases.partitioned_variable(tf, 2)), 0)])


if MODE == "write":
    write_all()
elif MODE == "read":
    read_all()
else:
    raise SystemExit("mode must be write or read")
with open("tf_results.pkl", "wb") as handle:
    pickle.dump(results, handle)
print("tf_oracle_saver %s done" % MODE)
