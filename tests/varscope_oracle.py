"""Programs about variable scopes, initializers, regularizers and moving averages, run both by
real TensorFlow (one subprocess for the whole test session) and by tensorkeep, recording what
a user can observe: node names, op types, inputs, attrs, initial values (bit for bit), values
after update steps, and error messages.

Each case is TF1 code using `tf` (tensorflow.compat.v1 or tensorkeep) in a fresh graph. It may
define `steps(sess)` returning a list of fetches to run in order after initialization (each
recorded), and `fetch` names of extra tensors to record; `expect_error = True` records the
message of the exception the code raises instead.
"""

import functools
import textwrap

from tf_oracle import run_tensorflow

# Shared verbatim by both runs (exec'd with `tf` and `np` bound).
RUNNER = r'''
def _encode(value):
    value = np.asarray(value)
    return {"dtype": str(value.dtype), "shape": list(value.shape),
            "hex": value.tobytes().hex() if value.dtype != object else repr(value.tolist())}


def _attrs(op):
    node = op.node_def
    return {key: str(node.attr[key]).strip() for key in sorted(node.attr)
            if key not in ("_class", "value", "_has_manual_control_dependencies")}


def _class(op):
    node = op.node_def
    return [s.decode() for s in node.attr["_class"].list.s] if "_class" in node.attr else []


def run_case(code):
    graph = tf.Graph()
    namespace = {"tf": tf, "np": np, "moving_averages": moving_averages}
    out = {}
    with graph.as_default():
        try:
            exec(code, namespace)
        except Exception as exc:  # the case may test an error
            if not namespace.get("expect_error"):
                raise
            message = str(exc).split(" Originally defined at:")[0]
            out["error"] = [type(exc).__name__, message]
            return out
        out["nodes"] = [[op.name, op.type, [t.name for t in op.inputs],
                         [c.name for c in op.control_inputs], _attrs(op), _class(op)]
                        for op in graph.get_operations()]
        out["collections"] = {
            key: sorted(getattr(item, "name", str(item)) for item in graph.get_collection(key))
            for key in ("variables", "trainable_variables", "local_variables",
                        "moving_average_variables", "regularization_losses", "model_variables")}
        out["extra"] = namespace.get("extra")
        with tf.Session(graph=graph) as sess:
            sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
            variables = graph.get_collection("variables") + graph.get_collection(
                "local_variables")
            out["initial"] = {v.name: _encode(sess.run(v)) for v in variables}
            out["fetch"] = {name: _encode(sess.run(name)) for name in namespace.get("fetch", [])}
            steps = namespace.get("steps")
            if steps is not None:
                out["steps"] = []
                for fetches in steps(sess):
                    out["steps"].append([_encode(v) for v in sess.run(fetches)])
    return out
'''

CASES = {}


def case(name, code):
    CASES[name] = textwrap.dedent(code)


# TensorFlow 2.x has no tf.contrib: these rebuild TF 1.15's tf.contrib.layers functions from
# its documented definitions, with TensorFlow's own ops, for the TensorFlow run.
TF_CONTRIB_SHIM = r'''
import math, types

def _l1_regularizer(scale, scope=None):
    def l1(weights):
        with tf.name_scope(scope, "l1_regularizer", [weights]) as name:
            my_scale = tf.convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return tf.multiply(my_scale, tf.reduce_sum(tf.abs(weights)), name=name)
    return l1

def _l2_regularizer(scale, scope=None):
    def l2(weights):
        with tf.name_scope(scope, "l2_regularizer", [weights]) as name:
            my_scale = tf.convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return tf.multiply(my_scale, tf.nn.l2_loss(weights), name=name)
    return l2

def _sum_regularizer(regularizer_list, scope=None):
    def sum_reg(weights):
        with tf.name_scope(scope, "sum_regularizer", [weights]) as name:
            return tf.add_n([reg(weights) for reg in regularizer_list], name=name)
    return sum_reg

def _variance_scaling_initializer(factor=2.0, mode="FAN_IN", uniform=False, seed=None,
                                  dtype=tf.float32):
    def initializer(shape, dtype=dtype, partition_info=None):
        fan_in = float(shape[-2]) if len(shape) > 1 else float(shape[-1])
        fan_out = float(shape[-1])
        for dim in shape[:-2]:
            fan_in *= float(dim)
            fan_out *= float(dim)
        n = {"FAN_IN": fan_in, "FAN_OUT": fan_out, "FAN_AVG": (fan_in + fan_out) / 2.0}[mode]
        if uniform:
            limit = math.sqrt(3.0 * factor / n)
            return tf.random_uniform(shape, -limit, limit, dtype, seed=seed)
        return tf.truncated_normal(shape, 0.0, math.sqrt(1.3 * factor / n), dtype, seed=seed)
    return initializer

def _xavier_initializer(uniform=True, seed=None, dtype=tf.float32):
    return _variance_scaling_initializer(1.0, "FAN_AVG", uniform, seed, dtype)

tf.contrib = types.SimpleNamespace(layers=types.SimpleNamespace(
    l1_regularizer=_l1_regularizer, l2_regularizer=_l2_regularizer,
    sum_regularizer=_sum_regularizer, xavier_initializer=_xavier_initializer,
    variance_scaling_initializer=_variance_scaling_initializer))
'''


@functools.lru_cache(maxsize=None)
def _tensorflow_run():
    program = ("import numpy as np\n"
               "from tensorflow.python.training import moving_averages\n"
               + TF_CONTRIB_SHIM + RUNNER + "\nresults = {}\n"
               "for _name, _code in CASES.items():\n"
               "    results[_name] = run_case(_code)\n"
               "emit(results)\n")
    try:
        return run_tensorflow("CASES = %r\n" % (CASES,) + program, timeout=300), None
    except RuntimeError as exc:  # remembered: one failing subprocess, not one per test
        return None, exc


def tensorflow_results():
    """{case name: result} from real TensorFlow, computed once per test session."""
    results, error = _tensorflow_run()
    if error is not None:
        raise error
    return results


def tensorkeep_result(name):
    """The same record from tensorkeep, as JSON would carry it (tuples become lists)."""
    import json

    import numpy as np

    import tensorkeep as tf
    from tensorkeep.training import moving_averages

    namespace = {"tf": tf, "np": np, "moving_averages": moving_averages}
    exec(RUNNER, namespace)
    return json.loads(json.dumps(namespace["run_case"](CASES[name])))
