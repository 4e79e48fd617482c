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
            if key not in ("_class", "value")}


def _class(op):
    node = op.node_def
    return [s.decode() for s in node.attr["_class"].list.s] if "_class" in node.attr else []


def run_case(code):
    graph = tf.Graph()
    namespace = {"tf": tf, "np": np}
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


@functools.lru_cache(maxsize=None)
def tensorflow_results():
    """{case name: result} from real TensorFlow, computed once per test session."""
    program = ("import numpy as np\n" + RUNNER + "\nresults = {}\n"
               "for _name, _code in CASES.items():\n"
               "    results[_name] = run_case(_code)\n"
               "emit(results)\n")
    return run_tensorflow("CASES = %r\n" % (CASES,) + program, timeout=300)


def tensorkeep_result(name):
    import numpy as np

    import tensorkeep as tf

    namespace = {"tf": tf, "np": np}
    exec(RUNNER, namespace)
    return namespace["run_case"](CASES[name])
