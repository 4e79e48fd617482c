"""Run by test_ops_nn.py under real TensorFlow (.venv-tf): evaluates the nn cases.

Usage: python tf_oracle_nn.py REQUEST.pkl RESULT.pkl

REQUEST holds {"cases": nn_cases.all_cases(), "op_types": [...]}. RESULT gets, per case id,
the forward values, the upstream gradient `dy` it used and the gradients TensorFlow computes
(tf.gradients), and for builder cases the graph nodes the builder created; plus "__opdefs__":
TensorFlow's OpDef (serialized, documentation stripped) of each requested op type.
"""

import os
import pickle
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

from tf_oracle import stripped_op_def  # noqa: E402

tf.disable_v2_behavior()


def upstream_gradient(case_id, shape):
    seed = sum(map(ord, case_id))
    return np.random.default_rng(seed).standard_normal(shape)


def resolve(path):
    if path.startswith("layers."):
        # tf.layers lives in tf_keras (when installed), else in TensorFlow's internal copy
        # (which lacks batch normalization).
        try:
            from tf_keras.src.legacy_tf_layers import convolutional, core, normalization, pooling
            modules = (core, convolutional, pooling, normalization)
        except ImportError:
            from tensorflow.python.keras.legacy_tf_layers import convolutional, core, pooling
            modules = (core, convolutional, pooling)
        for module in modules:
            if hasattr(module, path[7:]):
                return getattr(module, path[7:])
        raise AttributeError("tf.%s needs tf_keras, which is not installed" % path)
    obj = tf
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def flatten(value):
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            out.extend(flatten(v))
        return out
    return [value]


def gradients(session, target, xs, feeds, case_id, value):
    """One extra run: stateful ops (dropout's RandomUniform) advance exactly as on our side."""
    dy = upstream_gradient(case_id, np.shape(value)).astype(value.dtype)
    grads = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g
             for g in tf.gradients(target, xs, grad_ys=tf.constant(dy))]
    fetch = [g for g in grads if g is not None]
    values = iter(session.run(fetch, feeds))
    return dy, [None if g is None else next(values) for g in grads]


def run_op(case):
    with tf.Graph().as_default(), tf.Session() as session:
        feeds, placeholders = {}, {}
        for name, value in case["inputs"]:
            value = np.asarray(value)
            placeholder = tf.placeholder(tf.as_dtype(value.dtype),
                                         None if case["unknown_shapes"] else value.shape,
                                         name=name)
            placeholders[name] = placeholder
            feeds[placeholder] = value
        outputs = flatten(getattr(tf.raw_ops, case["op"])(**placeholders, **case["attrs"]))
        result = {"outputs": session.run(outputs, feeds),
                  "static_shapes": [t.shape.as_list() if t.shape.rank is not None else None
                                    for t in outputs]}
        if case["grad"]:
            result["dy"], result["grads"] = gradients(
                session, outputs[case["grad_output"]], [placeholders[n] for n in case["grad"]],
                feeds, case["id"], result["outputs"][case["grad_output"]])
        return result


def run_shape(case):
    with tf.Graph().as_default():
        inputs = {}
        for arg in case["inputs"]:
            if len(arg) == 2:
                inputs[arg[0]] = tf.constant(arg[1], name=arg[0])
            else:
                inputs[arg[0]] = tf.placeholder(arg[1], arg[2], name=arg[0])
        outputs = flatten(getattr(tf.raw_ops, case["op"])(**inputs, **case["attrs"]))
        return {"static_shapes": [t.shape.as_list() if t.shape.rank is not None else None
                                  for t in outputs]}


def run_builder(case):
    graph = tf.Graph()
    with graph.as_default(), tf.Session() as session:
        feeds, placeholders = {}, []

        def convert(arg):
            if isinstance(arg, dict) and "tensor" in arg:
                value = arg["tensor"]
                placeholder = tf.placeholder(tf.as_dtype(value.dtype), value.shape,
                                             name="in%d" % len(placeholders))
                placeholders.append(placeholder)
                feeds[placeholder] = value
                return placeholder
            if isinstance(arg, dict) and "function" in arg:
                return resolve(arg["function"])
            return arg

        args = [convert(a) for a in case["args"]]
        kwargs = {k: convert(v) for k, v in case["kwargs"].items()}
        existing = set(op.name for op in graph.get_operations())
        tf.set_random_seed(case["id"].count("_") + 7)
        outputs = flatten(resolve(case["fn"])(*args, **kwargs))
        nodes = [(op.name, op.type, [t.name for t in op.inputs],
                  sorted(c.name for c in op.control_inputs))
                 for op in graph.get_operations() if op.name not in existing]
        variables = tf.global_variables()
        session.run(tf.global_variables_initializer())
        result = {"outputs": session.run(outputs, feeds), "nodes": nodes,
                  "output_names": [t.name for t in outputs],
                  "collections": collections(), "variables": session.run(variables)}
        updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        if updates:
            session.run(updates, feeds)
            result["variables_after_updates"] = session.run(variables)
        if case["grad"]:
            xs = [p for p in placeholders if p.dtype.is_floating]
            result["dy"], result["grads"] = gradients(session, outputs[0], xs, feeds, case["id"],
                                                      result["outputs"][0])
        return result


def collections():
    """Names in the collections builders add to."""
    keys = (tf.GraphKeys.LOSSES, tf.GraphKeys.REGULARIZATION_LOSSES, tf.GraphKeys.UPDATE_OPS,
            tf.GraphKeys.GLOBAL_VARIABLES, tf.GraphKeys.TRAINABLE_VARIABLES)
    return {key: [item.name for item in tf.get_collection(key)] for key in keys}


def main():
    with open(sys.argv[1], "rb") as f:
        request = pickle.load(f)
    results = {}
    for case in request["cases"]:
        try:
            runner = {"op": run_op, "shape": run_shape, "builder": run_builder}[case["kind"]]
            results[case["id"]] = runner(case)
        except Exception as exc:  # recorded: the test compares it with our behaviour
            results[case["id"]] = {"error": "%s: %s" % (type(exc).__name__, exc),
                                   "error_type": type(exc).__name__}
    results["__opdefs__"] = {name: stripped_op_def(name) for name in request["op_types"]}
    with open(sys.argv[2], "wb") as f:
        pickle.dump(results, f)
    print("tf_oracle_nn done")


main()
