"""tf.gather and tf.nn.embedding_lookup of resource variables against real TensorFlow 2.21
(tf.compat.v1, graph mode): both read only the wanted rows through a ResourceGather op on the
variable's handle, whose gradient is an IndexedSlices shaped by a Const (static shape known)
or a VariableShape op (not known). Compared: every node (name, type, inputs, control inputs,
device, attrs), the values computed, training through the lookups (GradientDescent, Adam;
float32, float64), and the InvalidArgumentError for indices out of range. Real TensorFlow runs
every case once, in one subprocess for this file."""

import json

import numpy as np
import pytest

import tensorkeep as tf
from tf_oracle import require_tensorflow, run_tensorflow

# Shared verbatim by both runs (exec'd with `tf` and `np` bound).
RUNNER = r'''
def _node(op):
    node = op.node_def
    attrs = {key: str(node.attr[key]).strip() for key in sorted(node.attr) if key != "value"}
    return [op.name, op.type, [t.name for t in op.inputs], [c.name for c in op.control_inputs],
            op.device, attrs]


def _plain(value):
    return np.asarray(value).tolist()


def run_case(code):
    """Builds the case's graph; initializes, runs `fetches` (tensors, or tuples of tensors:
    each reported as a list of parts), then `train` `steps` times recording `loss`; an OpError
    is reported as [its class name, its op's name, its message's line about the indices]."""
    graph = tf.Graph()
    namespace = {"tf": tf, "np": np}
    out = {}
    with graph.as_default():
        exec(code, namespace)
        out["nodes"] = [_node(op) for op in graph.get_operations()]
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            try:
                fetched = sess.run(namespace.get("fetches", []))
                out["values"] = [[_plain(part) for part in value]
                                 if isinstance(value, tuple) else [_plain(value)]
                                 for value in fetched]
                losses = []
                for _ in range(namespace.get("steps", 0)):
                    losses.append(float(sess.run(namespace["loss"])))
                    sess.run(namespace["train"])
                out["losses"] = losses
                out["variables"] = {v.op.name: _plain(value) for v, value in zip(
                    tf.global_variables(), sess.run(tf.global_variables()))}
            except tf.errors.OpError as error:
                lines = str(error).splitlines()
                out["error"] = [type(error).__name__, error.op.name if error.op else None,
                                next((l for l in lines if "is not in [0" in l), lines[0])]
    return out
'''

_TRAINING = '''
dtype = tf.%(dtype)s
table = tf.get_variable("table", initializer=np.arange(15, dtype=dtype.as_numpy_dtype)
                        .reshape(5, 3) / 10., use_resource=True)
bias = tf.Variable(np.linspace(-1, 1, 5).astype(dtype.as_numpy_dtype), use_resource=True,
                   name="bias")
ids = tf.constant([[0, 3], [3, 4], [1, 3]], dtype=tf.%(index_dtype)s)
rows = tf.nn.embedding_lookup(table, ids)
row_bias = tf.gather(bias, ids, name="row_bias")
target = tf.constant(np.ones((3, 2, 3)), dtype=dtype)
loss = tf.reduce_mean(tf.square(rows + tf.expand_dims(row_bias, -1) - target))
optimizer = %(optimizer)s
train = optimizer.minimize(loss)
steps = 4
fetches = [rows, row_bias]
'''

_GRADIENTS = '''
table = tf.get_variable("table", initializer=np.arange(8, dtype=np.float32).reshape(4, 2),
                        use_resource=True)
free = tf.Variable(tf.placeholder_with_default(np.ones((3, 2), np.float32), [None, 2]),
                   use_resource=True, validate_shape=False, name="free")
ids = tf.constant([2, 0, 2])
looked_up = tf.nn.embedding_lookup(table, ids, name="lookup")
gathered = tf.gather(table, ids)
from_free = tf.gather(free, ids)
grads = tf.gradients(tf.reduce_sum(looked_up * 3.) + tf.reduce_sum(gathered)
                     + tf.reduce_sum(from_free), [table, free])
fetches = [(g.values, g.indices, g.dense_shape) for g in grads]
'''

_OUT_OF_RANGE = '''
table = tf.get_variable("table", initializer=np.ones((3, 2), np.float32), use_resource=True)
ids = tf.constant(%(ids)s)
fetches = [%(lookup)s]
'''

CASES = {}
for _dtype in ("float32", "float64"):
    for _optimizer_name, _optimizer in (
            ("sgd", "tf.train.GradientDescentOptimizer(0.5)"),
            ("adam", "tf.train.AdamOptimizer(0.1)")):
        for _index_dtype in ("int32", "int64"):
            CASES["train_%s_%s_%s" % (_optimizer_name, _dtype, _index_dtype)] = _TRAINING % {
                "dtype": _dtype, "optimizer": _optimizer, "index_dtype": _index_dtype}
CASES["gradients"] = _GRADIENTS
for _name, _lookup in (("embedding_lookup", "tf.nn.embedding_lookup(table, ids)"),
                       ("gather", "tf.gather(table, ids)")):
    for _ids_name, _ids in (("past_end", "[0, 3]"), ("negative", "[[0, 1], [2, -1]]"),
                            ("scalar", "7")):
        CASES["out_of_range_%s_%s" % (_name, _ids_name)] = _OUT_OF_RANGE % {
            "ids": _ids, "lookup": _lookup}
CASE_IDS = sorted(CASES)


@pytest.fixture(scope="module")
def oracle():
    require_tensorflow()
    return run_tensorflow("import numpy as np\n" + RUNNER + "\ncases = %s\n"
                          "emit({key: run_case(code) for key, code in cases.items()})\n"
                          % json.dumps(CASES))


def _ours(case):
    namespace = {"tf": tf, "np": np}
    exec(RUNNER, namespace)
    return namespace["run_case"](CASES[case])


@pytest.mark.tf
@pytest.mark.parametrize("case", CASE_IDS)
def test_graph_matches_tensorflow(oracle, case):
    ours, theirs = _ours(case)["nodes"], oracle[case]["nodes"]
    assert [node[:2] for node in ours] == [node[:2] for node in theirs]
    assert ours == theirs


@pytest.mark.tf
@pytest.mark.parametrize("case", [c for c in CASE_IDS if not c.startswith("out_of_range")])
def test_values_and_training_match_tensorflow(oracle, case):
    ours, theirs = _ours(case), oracle[case]
    assert "error" not in ours and "error" not in theirs
    tolerance = {"rtol": 1e-5, "atol": 1e-6} if "float64" not in case else {"rtol": 1e-12,
                                                                           "atol": 1e-14}
    assert len(ours["values"]) == len(theirs["values"])
    for mine, their in zip(ours["values"], theirs["values"]):
        assert len(mine) == len(their)
        for part, their_part in zip(mine, their):
            np.testing.assert_allclose(part, their_part, **tolerance)
    np.testing.assert_allclose(ours["losses"], theirs["losses"], **tolerance)
    assert sorted(ours["variables"]) == sorted(theirs["variables"])
    for name, value in theirs["variables"].items():
        np.testing.assert_allclose(ours["variables"][name], value, err_msg=name, **tolerance)


@pytest.mark.tf
@pytest.mark.parametrize("case", [c for c in CASE_IDS if c.startswith("out_of_range")])
def test_out_of_range_index_error_matches_tensorflow(oracle, case):
    theirs = oracle[case]["error"]
    assert theirs[0] == "InvalidArgumentError"
    assert _ours(case)["error"] == theirs
