"""Graphs tensorkeep builds against the graphs TensorFlow 2.21 (tf.compat.v1, graph mode) builds
for the same program: node names, types, inputs, control inputs, devices and attrs, the values
they compute, and the OpDefs a meta graph carries in its stripped_op_list.

Covered: tf.Variable's guard against reading uninitialized variables in initial values and
initialized_value()'s tf.cond (also as moving-average shadows and optimizer slots start), OpDef
flags (is_aggregate, allows_uninitialized_input, deprecation, output full types),
placeholder_with_default's naming, add_n of one input, tf.get_static_value, and tf.group over
several devices. Real TensorFlow runs every case once, in one subprocess for this file.
"""

import functools
import glob
import json
import os
import textwrap

import pytest

from tf_oracle import SHARED, run_tensorflow

# Shared verbatim by both runs (exec'd with `tf` and `np` bound).
RUNNER = r'''
def _encode(value):
    value = np.asarray(value)
    return {"dtype": str(value.dtype), "shape": list(value.shape), "hex": value.tobytes().hex()}


def _node(op):
    node = op.node_def
    attrs = {key: str(node.attr[key]).strip() for key in sorted(node.attr) if key != "value"}
    return [op.name, op.type, [t.name for t in op.inputs], [c.name for c in op.control_inputs],
            op.device, attrs]


def run_case(code):
    graph = tf.Graph()
    namespace = {"tf": tf, "np": np}
    out = {}
    with graph.as_default():
        exec(code, namespace)
        out["nodes"] = [_node(op) for op in graph.get_operations()]
        out["extra"] = namespace.get("extra")
        if namespace.get("export_op_list"):
            op_list = tf.train.export_meta_graph().meta_info_def.stripped_op_list
            out["op_list"] = {op_def.name: op_def.SerializeToString(deterministic=True).hex()
                              for op_def in op_list.op}
        fetches = namespace.get("fetches")
        if fetches is not None:
            with tf.Session(graph=graph) as sess:
                try:
                    for init_op in namespace.get("init_ops") or [
                            [tf.global_variables_initializer(),
                             tf.local_variables_initializer()]]:
                        sess.run(init_op)
                    out["values"] = [_encode(value) for value in sess.run(fetches)]
                except tf.errors.OpError as error:
                    lines = str(error).splitlines()
                    out["values"] = [type(error).__name__,
                                     next((l for l in lines if "Attempting" in l), lines[0])]
    return out
'''

CASES = {}


def case(name, code):
    CASES[name] = textwrap.dedent(code)


# matrix_transpose of an input of unknown rank builds its permutation with the generated Range
# op (`Range`, not tf.range's `range`), as do the gradients that use it (Cholesky's).
case("matrix_transpose_unknown_rank", """
    a = tf.placeholder(tf.float32)
    t = tf.matrix_transpose(a)
    fetches = []
""")


# Initial values that read other variables are rewritten to read them through
# initialized_value() (ops copied as `<op>_<variable>`), except variables outside the variable
# collections; nested guards, local variables, get_variable and device scopes included.
case("variables_reading_variables", """
    v = tf.Variable([1.0, 2.0], name="v")
    w = tf.Variable(v * 2.0 + tf.constant(1.0), name="w")
    u = tf.Variable(v.initialized_value() * 3.0, name="u")
    local = tf.Variable(tf.zeros([2]), collections=[tf.GraphKeys.LOCAL_VARIABLES], name="local")
    y = tf.Variable(local + 1.0, name="y")
    stranger = tf.Variable(3.0, collections=[], name="stranger")
    z = tf.Variable(stranger * 2.0, collections=[], name="z")
    with tf.variable_scope("scope"):
        g = tf.get_variable("g", initializer=v.initialized_value() + u.initialized_value())
    with tf.device("/device:CPU:0"):
        d = tf.Variable(tf.identity(v), name="d")
    with tf.control_dependencies([w.initializer]):
        late = tf.Variable(v + 0.5, name="late")
    fetches = [v, w, u, y, g, d, late]
""")

# A loop in the initial value (a back edge) leaves it unguarded; a tf.cond's result is guarded
# through both branches; a loop's own output cannot initialize a variable. (The unguarded loop
# reads v, so v is initialized first.)
case("control_flow_initial_values", """
    v = tf.Variable(1.0, name="v")
    looped = tf.while_loop(lambda i: i < 10.0, lambda i: i * 2.0, [v.value()])
    w = tf.Variable(tf.identity(looped), name="w")
    chosen = tf.cond(v > 0.0, lambda: v * 2.0, lambda: v + 1.0)
    x = tf.Variable(chosen, name="x")
    try:
        tf.Variable(looped, name="inside")
        extra = None
    except ValueError as error:
        extra = str(error)
    init_ops = [v.initializer, w.initializer, x.initializer]
    fetches = [w, x]
""")

# A moving average's shadow starts from cond(IsVariableInitialized(v), v.read, v.initial_value),
# itself guarded by the shadow variable (the seed program's `v/ExponentialMovingAverage/cond`).
_SHADOWS = """
    v = tf.Variable(2.0, name="v")
    w = tf.Variable(v * 3.0, name="w")
    with tf.name_scope("outer"):
        ema = tf.train.ExponentialMovingAverage(0.5)
        update = ema.apply([v, w])
    fetches = [ema.average(v), ema.average(w)]
"""
case("moving_average_shadows", _SHADOWS + """
    init_ops = [v.initializer, w.initializer,
                tf.variables_initializer([ema.average(v), ema.average(w)])]
""")
# w's shadow still computes w's unguarded initial value (its cond's Switch needs it), which
# reads v: running all initializers in one run fails on `v/read` (TensorFlow, every time).
case("shadows_initialized_in_one_run", _SHADOWS)

# Optimizer slots: zeros slots of a variable of unknown shape start from the same tf.cond.
case("optimizer_slots", """
    p = tf.Variable(tf.ones([3]), validate_shape=False, name="p")
    q = tf.Variable([1.0, -1.0], name="q")
    loss = tf.reduce_sum(p * p) + tf.reduce_sum(q * q)
    train = tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss)
    adam = tf.train.AdamOptimizer(0.01).minimize(loss, var_list=[q])
    extra = [v.name for v in tf.global_variables()]
""")

# A training graph's meta graph: its stripped_op_list carries whole OpDefs (AddN and AddV2 are
# aggregates, Assign and IsVariableInitialized allow uninitialized input, Shape's output has a
# full type).
case("training_op_list", """
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    w = tf.Variable([[1.0], [2.0]], name="w")
    b = tf.Variable(0.5, name="b")
    y = tf.matmul(x, w) + b
    loss = tf.reduce_mean(tf.add_n([tf.square(y), tf.abs(y)]))
    step = tf.train.get_or_create_global_step()
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    ema = tf.train.ExponentialMovingAverage(0.9, num_updates=step)
    with tf.control_dependencies([train]):
        train_and_average = ema.apply([w, b])
    saver = tf.train.Saver()
    export_op_list = True
""")

# placeholder_with_default converts a literal default inside its own name scope; the Saver
# builds its filename placeholders with it.
case("placeholder_with_default", """
    p = tf.placeholder_with_default(1.5, [], name="p")
    q = tf.placeholder_with_default([1, 2], [None])
    r = tf.placeholder_with_default(tf.constant([3.0]), [1], name="r")
    v = tf.Variable(1.0, name="v")
    saver = tf.train.Saver()
    fetches = [p, q, r]
""")

case("add_n", """
    x = tf.constant([1.0, 2.0], name="x")
    v = tf.Variable([3.0, 4.0], name="v")
    one, named, of_variable, two = (tf.add_n([x]), tf.add_n([x], name="total"), tf.add_n([v]),
                                    tf.add_n([x, x]))
    extra = {"one": one.name, "named": named.name, "variable": of_variable.name,
             "two": two.name, "one_is_x": one is x}
    fetches = [one, named, of_variable, two]
""")

case("static_values", """
    def static(tensor):
        value = tf.get_static_value(tensor)
        return None if value is None else [str(value.dtype), value.tolist()]
    unknown = tf.placeholder(tf.int32, [], name="unknown")
    counts = tf.range(1, 10, 3)
    floats = tf.range(0.5, 2.0, 0.5)
    rows = tf.unstack(tf.constant([[1, 2], [3, 4]]))
    columns = tf.unstack(tf.constant([[1, 2], [3, 4]]), axis=1)
    parts = tf.split(tf.constant([1, 2, 3, 4]), 2)
    extra = {
        "range": static(counts), "float_range": static(floats),
        "range_unknown": static(tf.range(unknown)),
        "unstack": [static(t) for t in rows], "unstack_axis_1": [static(t) for t in columns],
        "equal": static(tf.equal(counts, 4)), "not_equal": static(tf.not_equal(counts, 4)),
        "equal_unknown": static(tf.equal(counts, unknown)),
        "pack_axis_1": static(tf.stack([counts, counts], axis=1)),
        "pack": static(tf.stack([counts, counts])),
        "split": [static(t) for t in parts],
        "concat": static(tf.concat([counts, counts], 0)),
        "fill_shape": tf.fill(tf.range(1, 4), 0.0).shape.as_list(),
        "reshape_shape": tf.reshape(tf.zeros([6]), tf.stack(tf.unstack(
            tf.constant([2, 3])))).shape.as_list(),
    }
""")

# tf.group over inputs on several devices: one NoOp per device (in device order) under the
# group's scope, then the root; inputs on one device give one NoOp placed on that device.
case("group_devices", """
    with tf.device("/device:CPU:0"):
        a = tf.constant(1.0, name="a")
    with tf.device("/device:CPU:1"):
        b = tf.constant(2.0, name="b")
    c = tf.constant(3.0, name="c")
    everything = tf.group(a, b, c)
    named = tf.group([b, a], name="two")
    with tf.device("/device:CPU:1"):
        elsewhere = tf.group(a)
        here = tf.group(c)
    ops_and_tensors = tf.group(c, a.op)
    empty = tf.group()
""")

# colocate_with: groups are the sorted union over nested scopes; an op takes the device of the
# innermost colocation op that has one, and device scopes outside colocate_with do not reach in;
# colocate_with(None, ignore_existing=True) leaves colocation.
case("colocation_groups_and_devices", """
    with tf.device("/device:CPU:1"):
        a = tf.constant(1.0, name="zeta")
    b = tf.constant(2.0, name="alpha")
    with tf.device("/device:CPU:0"):
        c = tf.constant(3.0, name="mid")
    with tf.device("/device:CPU:2"):
        with tf.colocate_with(a):
            inside_a = tf.identity(a, name="inside_a")
            with tf.colocate_with(b):
                inside_both = tf.add(a, b, name="inside_both")
                with tf.colocate_with(c):
                    inside_three = tf.add(inside_both, c, name="inside_three")
            with tf.device("/device:CPU:3"):
                scoped_inside = tf.identity(b, name="scoped_inside")
            with tf.colocate_with(None, ignore_existing=True):
                reset = tf.identity(b, name="reset")
        outside = tf.identity(b, name="outside")
    with tf.colocate_with(inside_both.op):
        of_colocated = tf.identity(b, name="of_colocated")
""")

# Device scopes: nested strings merge (inner fields win), legacy "/cpu:0" spelling becomes
# "/device:CPU:0", device functions see the op, None hides enclosing scopes, "" changes nothing;
# import_graph_def merges the scopes with each node's own device; tf.DeviceSpec works as a scope.
case("device_scopes", """
    with tf.device("/job:ps/task:1"):
        with tf.device("/cpu:0"):
            legacy = tf.constant(1.0, name="legacy")
        with tf.device("/device:GPU:2"):
            with tf.device("/job:worker"):
                inner_job = tf.constant(1.0, name="inner_job")
        with tf.device(None):
            hidden = tf.constant(1.0, name="hidden")
            with tf.device("/replica:3"):
                replica_only = tf.constant(1.0, name="replica_only")
        with tf.device(""):
            empty = tf.constant(1.0, name="empty")
        with tf.device(lambda op: "/gpu:1" if op.type == "Const" else ""):
            by_function = tf.constant(1.0, name="by_function")
            not_const = tf.identity(by_function, name="not_const")
        with tf.device(tf.DeviceSpec(device_type="CPU", device_index=3)):
            from_spec = tf.constant(1.0, name="from_spec")
    imported = tf.Graph()
    with imported.as_default():
        with tf.device("/cpu:0"):
            x = tf.constant(2.0, name="x")
        tf.identity(x, name="y")
    with tf.device("/job:importer"):
        tf.import_graph_def(imported.as_graph_def(), name="imported")
""")


@functools.lru_cache(maxsize=None)
def _tensorflow_run():
    program = ("import numpy as np\n" + RUNNER + "\nresults = {}\n"
               "for _name, _code in CASES.items():\n"
               "    results[_name] = run_case(_code)\n"
               "emit(results)\n")
    try:
        return run_tensorflow("CASES = %r\n" % (CASES,) + program, timeout=300), None
    except RuntimeError as exc:  # remembered: one failing subprocess, not one per test
        return None, exc


def tensorflow_result(name):
    results, error = _tensorflow_run()
    if error is not None:
        raise error
    return results[name]


@functools.lru_cache(maxsize=None)
def _tensorkeep_run(name):
    import numpy as np

    import tensorkeep as tf

    namespace = {"tf": tf, "np": np}
    exec(RUNNER, namespace)
    return json.dumps(namespace["run_case"](CASES[name]))


def tensorkeep_result(name):
    return json.loads(_tensorkeep_run(name))


def _assert_same_nodes(ours, theirs):
    assert [node[0] for node in ours] == [node[0] for node in theirs]
    for our_node, their_node in zip(ours, theirs):
        assert our_node == their_node


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_graph_matches_tensorflow(name):
    _assert_same_nodes(tensorkeep_result(name)["nodes"], tensorflow_result(name)["nodes"])


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(name for name in CASES if "fetches =" in CASES[name]))
def test_values_match_tensorflow(name):
    assert tensorkeep_result(name)["values"] == tensorflow_result(name)["values"]


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(name for name in CASES if "extra =" in CASES[name]))
def test_results_match_tensorflow(name):
    assert tensorkeep_result(name)["extra"] == tensorflow_result(name)["extra"]


def _op_defs(encoded):
    from tensorkeep.io import protos

    return {name: protos.OpDef.FromString(bytes.fromhex(data)) for name, data in encoded.items()}


@pytest.mark.tf
def test_meta_graph_stripped_op_list_matches_tensorflow():
    ours = _op_defs(tensorkeep_result("training_op_list")["op_list"])
    theirs = _op_defs(tensorflow_result("training_op_list")["op_list"])
    assert sorted(ours) == sorted(theirs)
    for name in sorted(theirs):
        assert str(ours[name]) == str(theirs[name]), name


# --- against the files TensorFlow wrote (no TensorFlow needed) ----------------------------------

def _golden_meta_paths():
    return sorted(glob.glob(os.path.join(SHARED, "golden", "**", "*.meta"), recursive=True))


def _read_meta_graph(path):
    from tensorkeep.io import protos

    meta_graph_def = protos.MetaGraphDef()
    with open(path, "rb") as f:
        meta_graph_def.ParseFromString(f.read())
    return meta_graph_def


def _golden_op_defs():
    found = {}
    for path in _golden_meta_paths():
        for op_def in _read_meta_graph(path).meta_info_def.stripped_op_list.op:
            found.setdefault(op_def.name, op_def)
    return found


def _golden_op_def_params():
    return sorted(_golden_op_defs()) or [
        pytest.param(None, marks=pytest.mark.skip(reason="no golden meta graphs"))]


@pytest.mark.parametrize("op_type", _golden_op_def_params())
def test_registered_op_defs_equal_those_in_tensorflows_meta_graphs(op_type, shared_dir):
    from tensorkeep.framework import op_def as op_def_lib
    import tensorkeep  # noqa: F401 (registers the ops)

    schema = op_def_lib.get_schema(op_type)
    assert schema is not None, op_type
    assert str(schema.op_def) == str(_golden_op_defs()[op_type])


def _seed_ema_graph():
    """The graph of the seed program 06_ema_save up to its save (as written to model2.ckpt)."""
    import tensorkeep as tf

    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable(0, dtype=tf.float32, name="v")
        ema = tf.train.ExponentialMovingAverage(0.99)
        ema.apply(tf.global_variables())
        saver = tf.train.Saver()
        tf.global_variables_initializer()
        tf.assign(v, 10)
        return saver.export_meta_graph()


def test_seed_moving_average_graph_equals_tensorflows(shared_dir):
    golden = _read_meta_graph(os.path.join(shared_dir, "golden", "seed_files", "model",
                                           "model2.ckpt.meta"))
    ours = _seed_ema_graph()
    assert [n.name for n in ours.graph_def.node] == [n.name for n in golden.graph_def.node]
    for our_node, their_node in zip(ours.graph_def.node, golden.graph_def.node):
        assert str(our_node) == str(their_node)
    assert str(ours.meta_info_def.stripped_op_list) == str(golden.meta_info_def.stripped_op_list)
