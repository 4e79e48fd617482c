"""`tensorkeep demo`: the seed tutorial's model-persistence walkthrough, end to end.

Each step builds a fresh graph, as the tutorial's separate programs do, and works in one
directory: save a checkpoint, restore it without initializers, rebuild the graph from the .meta
file alone, restore under other variable names, keep and restore moving averages, freeze the
graph into one .pb and run it.
"""

import os
import shutil
import tempfile

import numpy as np

import tensorkeep as tf


def _step(title):
    print()
    print("== " + title)


def _build_sum_model():
    v1 = tf.Variable(tf.random_normal([1], stddev=1, seed=1))
    v2 = tf.Variable(tf.random_normal([1], stddev=1, seed=1))
    return v1 + v2


def run(workdir):
    ckpt = os.path.join(workdir, "tt", "model.ckpt")

    _step("1. Save: tf.train.Saver writes the session's variables")
    with tf.Graph().as_default():
        result = _build_sum_model()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            path = saver.save(sess, ckpt)
            print("saved to", os.path.relpath(path, workdir), "-> v1 + v2 =", sess.run(result))
    for name in sorted(os.listdir(os.path.dirname(ckpt))):
        print("   ", name, os.path.getsize(os.path.join(os.path.dirname(ckpt), name)), "bytes")

    _step("2. Restore: the same graph, values loaded instead of initialized")
    with tf.Graph().as_default():
        result = _build_sum_model()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            saver.restore(sess, ckpt)
            print("v1 + v2 =", sess.run(result))

    _step("3. import_meta_graph: the graph rebuilt from model.ckpt.meta alone")
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(ckpt + ".meta")
        with tf.Session() as sess:
            saver.restore(sess, ckpt)
            add = tf.get_default_graph().get_tensor_by_name("add:0")
            print("add:0 =", sess.run(add))

    _step("4. Rename on restore: Saver({'v1': other_v1, ...})")
    qq = os.path.join(workdir, "qq", "model.ckpt")
    with tf.Graph().as_default():
        v1 = tf.Variable(tf.constant(1.0, shape=[1]), name="v1")
        v2 = tf.Variable(tf.constant(2.0, shape=[1]), name="v2")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            saver.save(sess, qq)
        other1 = tf.Variable(tf.constant(0.0, shape=[1]), name="other-v1")
        other2 = tf.Variable(tf.constant(0.0, shape=[1]), name="other-v2")
        renamed = tf.train.Saver({"v1": other1, "v2": other2})
        with tf.Session() as sess:
            renamed.restore(sess, qq)
            print("other-v1 + other-v2 =", sess.run(other1 + other2))
        del v1, v2

    _step("5. ExponentialMovingAverage: shadow variables saved and restored")
    ema_ckpt = os.path.join(workdir, "model", "model2.ckpt")
    with tf.Graph().as_default():
        v = tf.Variable(0, dtype=tf.float32, name="v")
        ema = tf.train.ExponentialMovingAverage(0.99)
        maintain = ema.apply(tf.global_variables())
        print("variables:", [var.name for var in tf.global_variables()])
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(tf.assign(v, 10))
            sess.run(maintain)
            saver.save(sess, ema_ckpt)
            print("v, average(v) =", sess.run([v, ema.average(v)]))
    with tf.Graph().as_default():
        v = tf.Variable(0, dtype=tf.float32, name="v")
        ema = tf.train.ExponentialMovingAverage(0.99)
        print("variables_to_restore():", ema.variables_to_restore())
        saver = tf.train.Saver(ema.variables_to_restore())
        with tf.Session() as sess:
            saver.restore(sess, ema_ckpt)
            print("v restored from its shadow =", sess.run(v))

    _step("6. Freeze: variables become constants in one self-contained .pb")
    frozen = os.path.join(workdir, "model", "combined_model.pb")
    with tf.Graph().as_default():
        v1 = tf.Variable(tf.constant(1.0, shape=[1]), name="v1")
        v2 = tf.Variable(tf.constant(2.0, shape=[1]), name="v2")
        v1 + v2
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            graph_def = tf.get_default_graph().as_graph_def()
            output = tf.graph_util.convert_variables_to_constants(sess, graph_def, ["add"])
            with tf.gfile.GFile(frozen, "wb") as f:
                f.write(output.SerializeToString())
    print("frozen graph:", os.path.getsize(frozen), "bytes,",
          [n.op for n in output.node])
    with tf.Graph().as_default():
        graph_def = tf.GraphDef()
        with tf.gfile.GFile(frozen, "rb") as f:
            graph_def.ParseFromString(f.read())
        result = tf.import_graph_def(graph_def, return_elements=["add:0"])
        with tf.Session() as sess:
            print("import_graph_def -> add:0 =", sess.run(result))
    value = None
    with tf.Graph().as_default():
        reader = tf.train.NewCheckpointReader(ckpt)
        value = {k: reader.get_tensor(k) for k in sorted(reader.get_variable_to_shape_map())}
    print()
    print("checkpoint", os.path.relpath(ckpt, workdir), "holds",
          {k: np.asarray(v).tolist() for k, v in value.items()})
    return 0


def main(keep=None):
    if keep:
        os.makedirs(keep, exist_ok=True)
        return run(os.path.abspath(keep))
    workdir = tempfile.mkdtemp(prefix="tensorkeep-demo-")
    try:
        print("working in", workdir)
        return run(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
