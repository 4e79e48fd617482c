"""Training programs that tensorkeep and real TensorFlow both run, written once against the TF1
API: every function takes the `tf` module to use (tensorkeep, or tensorflow.compat.v1 in the
oracle subprocess) and returns plain JSON-able results.

The data are fixed NumPy arrays (see `make_data`) so nothing depends on random ops.
"""

import numpy as np

OPTIMIZERS = {
    "gd": lambda tf: tf.train.GradientDescentOptimizer(0.05),
    "momentum": lambda tf: tf.train.MomentumOptimizer(0.01, 0.9),
    "nesterov": lambda tf: tf.train.MomentumOptimizer(0.01, 0.9, use_nesterov=True),
    "adam": lambda tf: tf.train.AdamOptimizer(0.001),
    "rmsprop": lambda tf: tf.train.RMSPropOptimizer(0.01),
    "rmsprop_centered": lambda tf: tf.train.RMSPropOptimizer(0.01, momentum=0.5, centered=True),
    "adagrad": lambda tf: tf.train.AdagradOptimizer(0.05),
    "adadelta": lambda tf: tf.train.AdadeltaOptimizer(1.0),
}


def make_data(seed=7, batch=128):
    """A 784-64-10 MLP's initial parameters and one batch of inputs and one-hot labels."""
    rng = np.random.default_rng(seed)
    f32 = np.float32
    return {
        "x": rng.standard_normal((batch, 784)).astype(f32),
        "y": np.eye(10, dtype=f32)[rng.integers(0, 10, batch)],
        "w1": (rng.standard_normal((784, 64)) * np.sqrt(2.0 / 784)).astype(f32),
        "b1": (rng.standard_normal(64) * 0.1).astype(f32),
        "w2": (rng.standard_normal((64, 10)) * np.sqrt(1.0 / 64)).astype(f32),
        "b2": (rng.standard_normal(10) * 0.1).astype(f32),
    }


def _mlp(tf, data):
    x = tf.constant(data["x"])
    y = tf.constant(data["y"])
    w1 = tf.Variable(data["w1"], name="w1")
    b1 = tf.Variable(data["b1"], name="b1")
    w2 = tf.Variable(data["w2"], name="w2")
    b2 = tf.Variable(data["b2"], name="b2")
    hidden = tf.nn.relu(tf.matmul(x, w1) + b1)
    logits = tf.matmul(hidden, w2) + b2
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))


def mlp_losses(tf, data, optimizer, steps=20):
    """The loss before each of `steps` training steps, and the final global step."""
    graph = tf.Graph()
    with graph.as_default():
        loss = _mlp(tf, data)
        global_step = tf.train.get_or_create_global_step()
        train = OPTIMIZERS[optimizer](tf).minimize(loss, global_step=global_step)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            losses = []
            for _ in range(steps):
                losses.append(float(sess.run(loss)))
                sess.run(train)
            return {"losses": losses, "global_step": int(sess.run(global_step))}


def _node_summary(graph, skip_prefix=None, skip_first=0):
    nodes = []
    for node in graph.as_graph_def().node[skip_first:]:
        if skip_prefix and node.name.startswith(skip_prefix):
            continue
        colocation = sorted(s.decode() for s in node.attr["_class"].list.s) \
            if "_class" in node.attr else []
        data_inputs = [i for i in node.input if not i.startswith("^")]
        control_inputs = sorted(i for i in node.input if i.startswith("^"))
        nodes.append([node.name, node.op, data_inputs, control_inputs, colocation])
    return nodes


def optimizer_graph(tf, data, optimizer):
    """The names TensorFlow gives the ops minimize() adds: slots, updates, the training op.
    (The forward pass and the gradient ops belong to the ops' own builders and gradients.)"""
    graph = tf.Graph()
    with graph.as_default():
        loss = _mlp(tf, data)
        global_step = tf.train.get_or_create_global_step()
        forward_nodes = len(graph.as_graph_def().node)
        opt = OPTIMIZERS[optimizer](tf)
        train = opt.minimize(loss, global_step=global_step)
        return {
            "nodes": _node_summary(graph, skip_prefix="gradients/", skip_first=forward_nodes),
            "train_op": train.name,
            "train_op_collection": [op.name for op in tf.get_collection(tf.GraphKeys.TRAIN_OP)],
            "global_variables": [v.op.name for v in tf.global_variables()],
            "trainable_variables": [v.op.name for v in tf.trainable_variables()],
            "optimizer_variables": [v.name for v in opt.variables()],
            "slot_names": opt.get_slot_names(),
            "slots": {name: [opt.get_slot(v, name).name for v in tf.trainable_variables()]
                      for name in opt.get_slot_names()},
            "name": opt.get_name(),
        }


def apply_gradients_graph(tf, optimizer):
    """apply_gradients with constant gradients under a name scope: slot and non-slot variables,
    update ops and their names (a 40x30 variable gets its slots' zeros from a Fill)."""
    graph = tf.Graph()
    with graph.as_default():
        w = tf.Variable(np.ones((2, 3), np.float32), name="w")
        b = tf.Variable(np.ones(3, np.float32), name="b")
        big = tf.Variable(np.zeros((40, 30), np.float32), name="big")
        global_step = tf.train.get_or_create_global_step()
        opt = OPTIMIZERS[optimizer](tf)
        with tf.name_scope("outer"):
            train = opt.apply_gradients(
                [(tf.constant(np.full((2, 3), 0.5, np.float32)), w),
                 (tf.constant(np.full(3, -0.5, np.float32)), b),
                 (tf.constant(np.full((40, 30), 0.25, np.float32)), big)],
                global_step=global_step)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            sess.run(train)
            values = {v.op.name: np.asarray(sess.run(v)).ravel()[:4].tolist()
                      for v in tf.global_variables()}
        return {"nodes": _node_summary(graph), "train_op": train.name,
                "optimizer_variables": [v.name for v in opt.variables()],
                "slot_names": opt.get_slot_names(), "values": values}


def sparse_training(tf, optimizer, steps=4):
    """An embedding trained through gather: IndexedSlices gradients with a repeated row reach
    the optimizers' sparse paths. Returns the final variables and the nodes minimize() adds."""
    rng = np.random.default_rng(5)
    table = rng.standard_normal((6, 3)).astype(np.float32)
    targets = rng.standard_normal((4, 3)).astype(np.float32)
    graph = tf.Graph()
    with graph.as_default():
        params = tf.Variable(table, name="embedding")
        rows = tf.nn.embedding_lookup(params, tf.constant([0, 2, 2, 5]))
        loss = tf.reduce_sum(tf.square(rows - tf.constant(targets)))
        forward_nodes = len(graph.as_graph_def().node)
        opt = OPTIMIZERS[optimizer](tf)
        train = opt.minimize(loss)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(steps):
                sess.run(train)
            values = {v.op.name: np.asarray(sess.run(v)).tolist() for v in tf.global_variables()}
        return {"values": values,
                "nodes": _node_summary(graph, skip_prefix="gradients/", skip_first=forward_nodes)}


def _values(sess, tensors):
    results = sess.run([t for t in tensors if t is not None])
    it = iter(results)
    return [None if t is None else np.asarray(next(it)).tolist() for t in tensors]


def gradient_cases(tf):
    """tf.gradients of small graphs: values, plus the names of the tensors returned."""
    results = {}

    def record(name, build):
        graph = tf.Graph()
        with graph.as_default():
            grads = build()
            with tf.Session(graph=graph) as sess:
                sess.run(tf.global_variables_initializer())
                results[name] = {"values": _values(sess, grads),
                                 "names": [None if g is None else g.name for g in grads],
                                 "grad_nodes": [n.name for n in graph.as_graph_def().node
                                                if n.name.startswith("gradients")]}

    x_val = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], np.float32)
    w_val = np.array([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]], np.float32)

    def dense_tanh():
        x = tf.constant(x_val)
        w = tf.Variable(w_val, name="w")
        b = tf.Variable([0.1, -0.1], name="b")
        y = tf.reduce_sum(tf.square(tf.nn.tanh(tf.matmul(x, w) + b)))
        return tf.gradients(y, [w, b, x])

    def fan_out():
        # One tensor used three times: the contributions are summed with AddN.
        x = tf.constant([1.0, 2.0, 3.0])
        y = x * x + tf.exp(x) * 2.0 - tf.sqrt(x)
        return tf.gradients(tf.reduce_sum(y), [x])

    def grad_ys_and_two_ys():
        x = tf.constant([1.0, -2.0])
        y1 = x * 3.0
        y2 = tf.square(x)
        return tf.gradients([y1, y2], [x], grad_ys=[tf.constant([1.0, 2.0]),
                                                     tf.constant([-1.0, 0.5])])

    def stop_and_unconnected():
        x = tf.constant([1.0, 2.0])
        a = x * 2.0
        b = tf.stop_gradient(a) * x
        c = tf.constant([4.0, 5.0])
        return (tf.gradients(b + a, [x, a], stop_gradients=[a]) +
                tf.gradients(b, [c]) +
                tf.gradients(b, [c], unconnected_gradients="zero"))

    def integer_path():
        x = tf.constant([1.5, 2.5])
        y = tf.cast(tf.cast(x, tf.int32), tf.float32) * x
        return tf.gradients(y, [x])

    def gated():
        x = tf.constant(x_val)
        w = tf.Variable(w_val, name="w")
        y = tf.reduce_sum(tf.matmul(x, w))
        return tf.gradients(y, [w, x], gate_gradients=True)

    def through_cond():
        x = tf.constant([1.5, -2.0])
        w = tf.Variable([0.5, 2.0], name="w")
        y = tf.cond(tf.reduce_sum(x) < 0.0, lambda: tf.square(x * w), lambda: x - w)
        z = tf.cond(tf.reduce_sum(x) > 0.0, lambda: tf.square(x * w), lambda: x - w)
        return tf.gradients(tf.reduce_sum(y * z), [x, w])

    for name, build in [("dense_tanh", dense_tanh), ("fan_out", fan_out),
                        ("through_cond", through_cond),
                        ("grad_ys_and_two_ys", grad_ys_and_two_ys),
                        ("stop_and_unconnected", stop_and_unconnected),
                        ("integer_path", integer_path), ("gated", gated)]:
        record(name, build)
    return results


def hessian_values(tf):
    """tf.hessians of a cubic and a bilinear term (values only: TensorFlow builds them with a
    while loop, tensorkeep unrolls it)."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.Variable([[1.0, 2.0], [0.5, -1.0]], name="x")
        v = tf.constant([0.3, -0.7])
        y = tf.reduce_sum(tf.pow(x, 3.0)) + tf.reduce_sum(tf.matmul(x, x)) + \
            tf.reduce_sum(tf.exp(v) * v)
        hessians = tf.hessians(y, [x, v])
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            return [np.asarray(h).tolist() for h in sess.run(hessians)]


def learning_rate_schedules(tf):
    """Each schedule's value at a few global steps, and the nodes it builds."""
    results = {}
    schedules = {
        "exponential": lambda s: tf.train.exponential_decay(0.1, s, 10, 0.5),
        "exponential_staircase": lambda s: tf.train.exponential_decay(0.1, s, 10, 0.5,
                                                                      staircase=True),
        "natural_exp": lambda s: tf.train.natural_exp_decay(0.1, s, 10, 0.5),
        "inverse_time": lambda s: tf.train.inverse_time_decay(0.1, s, 10, 0.5, staircase=True),
        "polynomial": lambda s: tf.train.polynomial_decay(0.1, s, 20, 0.01, power=2.0),
        "polynomial_cycle": lambda s: tf.train.polynomial_decay(0.1, s, 20, 0.01, cycle=True),
        "cosine": lambda s: tf.train.cosine_decay(0.1, s, 30, alpha=0.1),
        "piecewise_constant": lambda s: tf.train.piecewise_constant(s, [5, 20],
                                                                    [0.1, 0.05, 0.01]),
    }
    for name, schedule in schedules.items():
        graph = tf.Graph()
        with graph.as_default():
            step = tf.placeholder(tf.int64, [], name="step")
            rate = schedule(step)
            with tf.Session(graph=graph) as sess:
                values = [float(sess.run(rate, {step: s})) for s in (0, 1, 9, 10, 25, 45)]
            results[name] = {"values": values, "name": rate.name,
                             "nodes": _node_summary(graph)}
    return results


def global_step_graph(tf):
    graph = tf.Graph()
    with graph.as_default():
        with tf.name_scope("somewhere"):
            step = tf.train.get_or_create_global_step()
        again = tf.train.get_or_create_global_step()
        increment = tf.assign_add(step, 5)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(increment)
            value = tf.train.global_step(sess, step)
        return {"nodes": _node_summary(graph), "same": again is step, "value": value,
                "name": step.name, "dtype": step.dtype.base_dtype.name,
                "collection": [v.name for v in tf.get_collection(tf.GraphKeys.GLOBAL_STEP)]}
