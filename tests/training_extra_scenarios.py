"""Training programs for FtrlOptimizer, ProximalAdagradOptimizer and AdagradDAOptimizer that
tensorkeep and real TensorFlow both run, written once against the TF1 API: every function takes
the `tf` module to use (tensorkeep, or tensorflow.compat.v1 in the oracle subprocess) and
returns plain JSON-able results.

The model mixes dense and sparse updates: an embedding table and a per-id bias vector (a
variable of scalar rows, which TensorFlow's sparse kernels update by a separate loop) are read
with embedding_lookup / gather at ids that repeat, then a dense layer.
"""

import numpy as np

STEPS = 6
IDS = [1, 3, 3, 7, 0, 1, 9, 3]


def _hyper(tf, dtype, value):
    """A hyper-parameter as a constant of the variables' dtype (ProximalAdagrad feeds its
    hyper-parameters uncast to the ref-variable ops, so float64 needs float64 tensors)."""
    return tf.constant(value, dtype=dtype) if dtype == "float64" else value


OPTIMIZERS = {
    "ftrl": lambda tf, dtype, step: tf.train.FtrlOptimizer(
        0.3, l1_regularization_strength=0.001, l2_regularization_strength=0.02),
    "ftrl_no_l1": lambda tf, dtype, step: tf.train.FtrlOptimizer(0.2),
    "ftrl_shrinkage": lambda tf, dtype, step: tf.train.FtrlOptimizer(
        0.3, initial_accumulator_value=0.2, l1_regularization_strength=0.001,
        l2_regularization_strength=0.01, l2_shrinkage_regularization_strength=0.05, beta=0.1,
        accum_name="acc", linear_name="lin"),
    "ftrl_power": lambda tf, dtype, step: tf.train.FtrlOptimizer(
        0.2, learning_rate_power=-0.7, l1_regularization_strength=0.001),
    "proximal_adagrad": lambda tf, dtype, step: tf.train.ProximalAdagradOptimizer(
        _hyper(tf, dtype, 0.2), l1_regularization_strength=_hyper(tf, dtype, 0.001),
        l2_regularization_strength=_hyper(tf, dtype, 0.02)),
    "proximal_adagrad_no_l1": lambda tf, dtype, step: tf.train.ProximalAdagradOptimizer(
        _hyper(tf, dtype, 0.2), initial_accumulator_value=0.3,
        l1_regularization_strength=_hyper(tf, dtype, 0.0),
        l2_regularization_strength=_hyper(tf, dtype, 0.0)),
    "adagrad_da": lambda tf, dtype, step: tf.train.AdagradDAOptimizer(
        0.5, step, l1_regularization_strength=0.001, l2_regularization_strength=0.02),
    "adagrad_da_no_l1": lambda tf, dtype, step: tf.train.AdagradDAOptimizer(
        0.5, step, initial_gradient_squared_accumulator_value=0.2),
}

# (optimizer, dtype, resource variables?)
CASES = [(name, dtype, resource) for name in sorted(OPTIMIZERS)
         for dtype in ("float32", "float64") for resource in (False, True)]


def case_id(case):
    name, dtype, resource = case
    return "%s-%s-%s" % (name, dtype, "resource" if resource else "ref")


def make_data(seed=11):
    rng = np.random.default_rng(seed)
    return {
        "embedding": rng.standard_normal((10, 4)) * 0.5,
        "bias_table": rng.standard_normal(10) * 0.1,
        "w": rng.standard_normal((4, 3)) * 0.5,
        "b": rng.standard_normal(3) * 0.1,
        "y": rng.standard_normal((len(IDS), 3)),
    }


def build(tf, data, case):
    """The model and its training op in the default graph: (loss, train_op, global_step)."""
    name, dtype, resource = case
    global_step = tf.train.get_or_create_global_step()

    def variable(key):
        return tf.get_variable(key, initializer=data[key].astype(dtype), use_resource=resource)

    embedding = variable("embedding")
    bias_table = variable("bias_table")
    w = variable("w")
    b = variable("b")
    ids = tf.constant(IDS, dtype=tf.int32)
    rows = tf.nn.embedding_lookup(embedding, ids)
    row_bias = tf.gather(bias_table, ids)
    prediction = tf.matmul(rows, w) + b + tf.expand_dims(row_bias, 1)
    loss = tf.reduce_mean(tf.square(prediction - data["y"].astype(dtype)))
    optimizer = OPTIMIZERS[name](tf, dtype, global_step)
    train = optimizer.minimize(loss, global_step=global_step)
    return loss, train, global_step


def _values(sess, tf):
    variables = tf.global_variables()
    return {v.op.name: np.asarray(value).tolist()
            for v, value in zip(variables, sess.run(variables))}


def run_case(tf, data, case, checkpoint=None):
    """Trains STEPS steps: losses, final values of every global variable (slots included),
    the graph's nodes as [name, op type, data inputs, sorted control inputs]; saves to
    `checkpoint` when given."""
    graph = tf.Graph()
    with graph.as_default():
        loss, train, _ = build(tf, data, case)
        nodes = []
        for node in graph.as_graph_def().node:
            data_inputs = [i for i in node.input if not i.startswith("^")]
            control_inputs = sorted(i for i in node.input if i.startswith("^"))
            nodes.append([node.name, node.op, data_inputs, control_inputs])
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            losses = []
            for _ in range(STEPS):
                losses.append(float(sess.run(loss)))
                sess.run(train)
            losses.append(float(sess.run(loss)))
            if checkpoint is not None:
                tf.train.Saver().save(sess, checkpoint)
            return {"losses": losses, "values": _values(sess, tf), "nodes": nodes}


def restore_case(tf, data, case, checkpoint):
    """Builds the case's graph, restores `checkpoint` (slots included), trains one more step:
    the restored values and the values after that step."""
    graph = tf.Graph()
    with graph.as_default():
        _, train, _ = build(tf, data, case)
        with tf.Session(graph=graph) as sess:
            tf.train.Saver().restore(sess, checkpoint)
            restored = _values(sess, tf)
            sess.run(train)
            return {"restored": restored, "stepped": _values(sess, tf)}


def training_op_defs(tf, data, case):
    """The OpDefs of the training ops in the case's exported meta graph (stripped_op_list),
    serialized as hex, by op name."""
    graph = tf.Graph()
    with graph.as_default():
        build(tf, data, case)
        op_list = tf.train.export_meta_graph().meta_info_def.stripped_op_list
        return {op.name: op.SerializeToString().hex() for op in op_list.op
                if "Apply" in op.name}


# --- the training ops alone --------------------------------------------------------------------
# (op builder, slot names, scalar inputs after grad/indices, attrs): each runs on fixed inputs,
# twice, for float32 and float64 variables, dense, sparse with matrix rows and sparse with
# scalar rows (TensorFlow's separate loop), with repeated and distinct indices.

_FTRL_SLOTS = ("accum", "linear")
_DA_SLOTS = ("gradient_accumulator", "gradient_squared_accumulator")
KERNELS = {
    "ftrl": ("ftrl", _FTRL_SLOTS, {"lr": 0.3, "l1": 0.2, "l2": 0.1, "lr_power": -0.5}, {}),
    "ftrl_power_by_lr": ("ftrl", _FTRL_SLOTS,
                         {"lr": 0.3, "l1": 0.05, "l2": 0.1, "lr_power": -0.6},
                         {"multiply_linear_by_lr": True}),
    "ftrl_no_l1_by_lr": ("ftrl", _FTRL_SLOTS, {"lr": 0.3, "l1": 0.0, "l2": 0.0, "lr_power": -0.5},
                         {"multiply_linear_by_lr": True}),
    "ftrl_v2": ("ftrl_v2", _FTRL_SLOTS,
                {"lr": 0.3, "l1": 0.2, "l2": 0.1, "l2_shrinkage": 0.07, "lr_power": -0.5}, {}),
    "ftrl_v2_power_by_lr": ("ftrl_v2", _FTRL_SLOTS,
                            {"lr": 0.3, "l1": 0.05, "l2": 0.1, "l2_shrinkage": 0.07,
                             "lr_power": -0.6}, {"multiply_linear_by_lr": True}),
    "proximal_adagrad": ("proximal_adagrad", ("accum",), {"lr": 0.3, "l1": 0.05, "l2": 0.1}, {}),
    "proximal_adagrad_no_l1": ("proximal_adagrad", ("accum",),
                               {"lr": 0.3, "l1": 0.0, "l2": 0.1}, {}),
    "adagrad_da": ("adagrad_da", _DA_SLOTS,
                   {"lr": 0.3, "l1": 0.05, "l2": 0.1, "global_step": 7}, {}),
    "adagrad_da_no_l1": ("adagrad_da", _DA_SLOTS,
                         {"lr": 0.3, "l1": 0.0, "l2": 0.1, "global_step": 7}, {}),
}
# (kernel, dtype, layout): "dense", "rows" (sparse update of a [5, 3] variable),
# "scalar_rows" (sparse, [5]), and the Resource* ops of the first two.
KERNEL_CASES = [(kernel, dtype, layout) for kernel in sorted(KERNELS)
                for dtype in ("float32", "float64")
                for layout in ("dense", "resource_dense", "rows", "resource_rows", "scalar_rows")]


def kernel_case_id(case):
    return "-".join(case)


def run_kernel(tf, training_ops, case, seed=5):
    """Values of the variable and its slots after applying the op twice on fixed inputs (for
    sparse layouts: once at repeated indices, once at distinct ones)."""
    kernel, dtype, layout = case
    op_name, slot_names, scalars, attrs = KERNELS[kernel]
    rng = np.random.default_rng(seed)
    shape = (5,) if layout == "scalar_rows" else (5, 3)
    resource = layout.startswith("resource")
    graph = tf.Graph()
    with graph.as_default():
        def variable(name, value):
            return tf.get_variable(name, initializer=np.asarray(value, dtype),
                                   use_resource=resource)

        refs = [variable("var", rng.standard_normal(shape))]
        for slot in slot_names:
            if slot in ("accum", "gradient_squared_accumulator"):
                refs.append(variable(slot, 0.1 + rng.random(shape)))
            else:
                refs.append(variable(slot, rng.standard_normal(shape) * 0.3))
        hyper = [tf.constant(value, dtype="int64" if name == "global_step" else dtype)
                 for name, value in scalars.items()]
        updates = []
        prefix = "resource_" if resource else ""
        inputs = [r.handle for r in refs] if resource else refs
        if layout.endswith("dense"):
            build = getattr(training_ops, prefix + "apply_" + op_name)
            for _ in range(2):
                grad = tf.constant(rng.standard_normal(shape).astype(dtype))
                updates.append(build(*inputs, *_with_grad(op_name, grad, None, hyper), **attrs))
        else:
            build = getattr(training_ops, prefix + "sparse_apply_" + op_name)
            for indices in ([0, 2, 2, 4], [3, 1]):
                grad = tf.constant(rng.standard_normal((len(indices),) + shape[1:]).astype(dtype))
                index_tensor = tf.constant(indices, dtype="int64")
                updates.append(build(*inputs, *_with_grad(op_name, grad, index_tensor, hyper),
                                     **attrs))
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            for update in updates:
                sess.run(update)
            return [np.asarray(value).tolist() for value in sess.run(refs)]


def _with_grad(op_name, grad, indices, hyper):
    """The op's inputs after the refs: ProximalAdagrad takes the scalars before the gradient,
    Ftrl and AdagradDA after it."""
    tail = [grad] if indices is None else [grad, indices]
    if op_name == "proximal_adagrad":
        return hyper + tail
    return tail + hyper
