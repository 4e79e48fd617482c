"""A small reference model written once per test module, and what restoring it must give.

Directory layout (TensorFlow's): model-1, model-2, model-3 checkpoints (Saver, max_to_keep=3;
each with .index, .data-00000-of-00001 and .meta), the `checkpoint` state file (relative
paths, so the directory can be copied), and a frozen graph frozen.pb. The variables cover the kinds of stored tensors: float32 and float64
matrices, an int64 scalar, a string vector, and a partitioned variable (stored as slices).
"""

import os

import numpy as np

FEED = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]], dtype=np.float32)
VARIABLE_NAMES = ("w", "b", "step", "names", "table", "p")


def _values(step):
    rng = np.random.default_rng(step)
    return {
        "w": rng.standard_normal((3, 4)).astype(np.float32),
        "b": rng.standard_normal(4).astype(np.float32),
        "step": np.int64(step),
        "names": np.array([b"alpha-%d" % step, b"", b"\xff\x00 bytes"], dtype=object),
        "table": rng.standard_normal(40),
        "p": rng.standard_normal((10, 2)).astype(np.float32),
    }


def build_graph(tf):
    """(graph, {name: variable}, output tensor y) of the reference model."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        variables = {
            "w": tf.Variable(tf.zeros([3, 4]), name="w"),
            "b": tf.Variable(tf.zeros([4]), name="b"),
            "step": tf.Variable(tf.constant(0, tf.int64), name="step"),
            "names": tf.Variable(tf.constant(["", "", ""]), name="names"),
            "table": tf.Variable(tf.zeros([40], tf.float64), name="table"),
            "p": tf.get_variable("p", shape=[10, 2], partitioner=tf.fixed_size_partitioner(2)),
        }
        hidden = tf.matmul(x, variables["w"]) + variables["b"]
        tf.add(hidden, tf.reduce_sum(tf.cast(variables["p"], tf.float32)), name="y")
    return graph, variables


def write(tf, directory):
    """Write the reference files into `directory`; {checkpoint basename: {name: value}} saved."""
    graph, variables = build_graph(tf)
    saved = {}
    with graph.as_default():
        placeholders = {name: tf.placeholder(variable.dtype.base_dtype, variable.get_shape())
                        for name, variable in variables.items()}
        assigns = [tf.assign(variables[name], placeholders[name]) for name in variables]
        saver = tf.train.Saver(max_to_keep=3, save_relative_paths=True)  # the directory may be copied
        session = tf.Session()
        session.run(tf.global_variables_initializer())
        for step in (1, 2, 3):
            values = _values(step)
            session.run(assigns, {placeholders[name]: values[name] for name in variables})
            prefix = saver.save(session, os.path.join(directory, "model"), global_step=step)
            saved[os.path.basename(prefix)] = values
        frozen = tf.graph_util.convert_variables_to_constants(session, graph.as_graph_def(), ["y"])
        tf.train.write_graph(frozen, directory, "frozen.pb", as_text=False)
    return saved


def expected_output(values):
    hidden = FEED @ values["w"] + values["b"]
    return hidden + np.float32(np.sum(values["p"], dtype=np.float32))
