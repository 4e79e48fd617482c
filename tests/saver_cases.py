"""The variables and programs of the Saver interop tests, shared by the tensorkeep tests and the
TensorFlow oracle script (tf_oracle_saver.py, run under .venv-tf): plain numpy, no TensorFlow
import (the programs take the `tf` module to use)."""

import ml_dtypes
import numpy as np

# Every dtype a TF1 ref variable can hold and a checkpoint can store.
DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
          "uint8", "uint16", "uint32", "uint64", "bool", "complex64", "complex128", "string"]

MANY_VARIABLES = 10000
PARTITIONED_SHAPE = (10, 4)


def dtype_values():
    """{variable name: value}: a 2x3 and a scalar variable of every dtype."""
    rng = np.random.default_rng(7)
    values = {}
    for dtype in DTYPES:
        for shape, suffix in (((2, 3), "matrix"), ((), "scalar")):
            raw = rng.standard_normal(shape) * 50
            if dtype == "string":
                value = np.array([b"s%d\x00\xff" % i for i in range(int(np.prod(shape)))],
                                 dtype=object).reshape(shape)
            elif dtype == "bool":
                value = raw > 0
            elif dtype.startswith("complex"):
                value = (raw + 1j * rng.standard_normal(shape)).astype(dtype)
            elif dtype == "bfloat16":
                value = raw.astype(ml_dtypes.bfloat16)
            else:
                value = raw.astype(dtype)
            values["%s_%s" % (dtype, suffix)] = np.asarray(value)
    return values


def partitioned_value():
    return np.arange(np.prod(PARTITIONED_SHAPE), dtype=np.float32).reshape(PARTITIONED_SHAPE) / 7


def many_names():
    return ["layer_%05d/w" % i for i in range(MANY_VARIABLES)]


def many_value(index):
    return np.array([index, index + 0.5], dtype=np.float32)


def partitioned_variable(tf, parts):
    return tf.get_variable("emb", shape=PARTITIONED_SHAPE,
                           partitioner=tf.fixed_size_partitioner(parts),
                           initializer=tf.zeros_initializer())


# Graphs with a Saver, built by the same code under TensorFlow and tensorkeep (`tf` is either
# tensorflow.compat.v1 or tensorkeep); each returns the Saver.

def build_two_devices(tf):
    with tf.device("/cpu:0"):
        tf.Variable([1.0, 2.0], name="a")
    with tf.device("/cpu:1"):
        tf.Variable([3, 4, 5], name="b")
    return tf.train.Saver(sharded=True)


def build_plain_sharded(tf):
    tf.Variable([1.0], name="a")
    tf.Variable([2, 3], name="b")
    return tf.train.Saver(sharded=True)


def build_partitioned_reshape(tf):
    partitioned_variable(tf, 2)
    tf.Variable([1.0], name="a")
    return tf.train.Saver(reshape=True, sharded=True)


def build_renamed(tf):
    a = tf.Variable([1.0], name="a")
    return tf.train.Saver({"x": a}, name="renamed", max_to_keep=3,
                          keep_checkpoint_every_n_hours=2.0)


def build_v1_sharded(tf):
    tf.Variable([1.0], name="a")
    tf.Variable([2, 3], name="b")
    return tf.train.Saver(write_version=tf.train.SaverDef.V1, sharded=True)


def build_many(tf):
    for index in range(12):
        tf.Variable([float(index)], name="v%d" % index)
    return tf.train.Saver()


def build_resource(tf):
    tf.get_variable("r", shape=[2], use_resource=True)
    tf.Variable([1.0], name="a")
    return tf.train.Saver()


SAVER_GRAPHS = {"two_devices": build_two_devices, "plain_sharded": build_plain_sharded,
                "partitioned_reshape": build_partitioned_reshape, "renamed": build_renamed,
                "v1_sharded": build_v1_sharded, "twelve_variables": build_many,
                "resource": build_resource}


# Checkpoints both frameworks write with tf.train.Saver, into the working directory.

def write_dtypes(tf):
    with tf.Graph().as_default():
        for name, value in dtype_values().items():
            tf.Variable(value, name=name)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            saver.save(sess, "dtypes/model.ckpt", write_meta_graph=False)


def write_partitioned(tf):
    with tf.Graph().as_default():
        emb = partitioned_variable(tf, 3)
        tf.Variable([1.5, 2.5], name="dense")
        full = partitioned_value()
        assigns = [part.assign(full[part._save_slice_info.var_offset[0]:][
            :part._save_slice_info.var_shape[0]]) for part in emb]
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(assigns)
            saver.save(sess, "partitioned/model.ckpt", write_meta_graph=False)


def write_rotation(tf):
    """Five saves kept two at a time; returns the Saver's last_checkpoints."""
    with tf.Graph().as_default():
        step = tf.Variable(0, name="step")
        saver = tf.train.Saver(max_to_keep=2)
        with tf.Session() as sess:
            sess.run(step.initializer)
            for global_step in range(5):
                sess.run(step.assign(global_step))
                saver.save(sess, "rotation/ckpt", global_step=global_step,
                           write_meta_graph=False)
            return saver.last_checkpoints


def build_init_from_checkpoint(tf, checkpoint):
    """Variables under new/ initialized from the checkpoint's root; returns them."""
    with tf.variable_scope("new"):
        emb = tf.get_variable("emb", shape=PARTITIONED_SHAPE, initializer=tf.zeros_initializer(),
                              partitioner=tf.fixed_size_partitioner(2))
        dense = tf.get_variable("dense", shape=[2], initializer=tf.zeros_initializer())
    tf.train.init_from_checkpoint(checkpoint, {"/": "new/"})
    return {"emb": tf.concat(list(emb), 0), "dense": dense}
