"""TF1 programs with control flow, run identically by real TensorFlow (tf = tf.compat.v1) and by
tensorkeep. Each defines `fetches` (tensors), `runs` (feed dicts keyed by tensor name) and
optionally `init` (an op to run first)."""

CASES = {
    "cond_tuple_and_constants": """
x = tf.placeholder(tf.float32, [None, 2], name="x")
p = tf.placeholder(tf.bool, [], name="p")
w = tf.constant([[1.0], [2.0]], name="w")
a, b = tf.cond(p, lambda: (tf.matmul(x, w), tf.constant(1.0)),
               lambda: (tf.matmul(x, w) * 2.0 + 1.0, tf.reduce_sum(x)))
fetches = [a, b]
runs = [{"x:0": [[1.0, 2.0]], "p:0": True}, {"x:0": [[1.0, 2.0], [3.0, 4.0]], "p:0": False}]
""",
    "cond_side_effects": """
v = tf.Variable(10.0, name="v")
p = tf.placeholder(tf.bool, [], name="p")
r = tf.cond(p, lambda: tf.assign_add(v, 1.0), lambda: tf.identity(v))
init = tf.global_variables_initializer()
fetches = [r]
runs = [{"p:0": True}, {"p:0": False}, {"p:0": True}, {"p:0": False}]
""",
    "nested_while": """
x = tf.placeholder(tf.float32, [], name="x")
w = tf.constant(2.0, name="w")
def outer_body(i, acc):
    def inner_body(j, a):
        return j + 1, a + w * x
    _, acc2 = tf.while_loop(lambda j, a: j < i + 1, inner_body, [0, acc])
    return i + 1, acc2
r = tf.while_loop(lambda i, a: i < 3, outer_body, [0, 0.0])
fetches = list(r)
runs = [{"x:0": 1.5}, {"x:0": -0.5}]
""",
    "while_max_iterations_and_invariants": """
x = tf.placeholder(tf.float32, [None, 2], name="x")
n = tf.while_loop(lambda i: i < 10, lambda i: i + 2, [tf.constant(0)], maximum_iterations=3)
grown = tf.while_loop(
    lambda i, s: i < 3, lambda i, s: (i + 1, tf.concat([s, s], 0)), (0, x),
    shape_invariants=(tf.TensorShape([]), tf.TensorShape([None, 2])))
fetches = [n, grown[1]]
runs = [{"x:0": [[1.0, 2.0]]}]
""",
    "case_and_assert": """
x = tf.placeholder(tf.int32, [], name="x")
r = tf.case([(tf.less(x, 0), lambda: tf.constant(-1)), (tf.equal(x, 0), lambda: tf.constant(0))],
            default=lambda: tf.constant(1))
e = tf.case([(tf.less(x, 0), lambda: tf.constant(-10)), (tf.greater(x, 0), lambda: x * 10)],
            exclusive=True)
fetches = [r, e]
runs = [{"x:0": -3}, {"x:0": 0}, {"x:0": 4}]
""",
    "cond_in_while_in_cond": """
x = tf.placeholder(tf.float32, [], name="x")
p = tf.placeholder(tf.bool, [], name="p")
def loop():
    def body(i, s):
        s = tf.cond(tf.equal(tf.floormod(i, 2), 0), lambda: s + x, lambda: s * 2.0)
        return i + 1, s
    return tf.while_loop(lambda i, s: i < 5, body, [0, 1.0])[1]
r = tf.cond(p, loop, lambda: x - 100.0)
fetches = [r]
runs = [{"x:0": 0.5, "p:0": True}, {"x:0": 0.5, "p:0": False}]
""",
    "tensor_array_loop": """
x = tf.placeholder(tf.float32, [4, 3], name="x")
inputs = tf.TensorArray(tf.float32, size=4).unstack(x)
outputs = tf.TensorArray(tf.float32, size=4)
def body(t, state, out):
    state = state * 0.5 + inputs.read(t)
    return t + 1, state, out.write(t, state)
_, last, out = tf.while_loop(lambda t, s, o: t < 4, body, [0, tf.zeros([3]), outputs])
fetches = [last, out.stack()]
runs = [{"x:0": [[1.0, 2.0, 3.0], [0.0, 1.0, 0.0], [2.0, 2.0, 2.0], [-1.0, 0.5, 4.0]]}]
""",
    "cond_gradients": """
x = tf.placeholder(tf.float32, [2], name="x")
w = tf.Variable([1.0, 2.0], name="w")
p = tf.placeholder(tf.bool, [], name="p")
y = tf.cond(p, lambda: tf.reduce_sum(x * w * w), lambda: tf.reduce_sum(x + w))
gx, gw = tf.gradients(y, [x, w])
init = tf.global_variables_initializer()
fetches = [y, gx, gw]
runs = [{"x:0": [3.0, 4.0], "p:0": True}, {"x:0": [3.0, 4.0], "p:0": False}]
""",
}

# Runs a case in whichever `tf` is bound: builds the graph, runs it, and describes the result.
DRIVER = """
import json as _json
import numpy as _np

def _jsonable(value):
    value = _np.asarray(value)
    if value.dtype == object:
        return [v.decode() for v in value.reshape(-1)]
    return {"dtype": str(value.dtype), "shape": list(value.shape),
            "values": value.astype(_np.float64).reshape(-1).tolist()}

def _run(graph, fetch_names, init_name, runs):
    results = []
    with tf.Session(graph=graph) as sess:
        if init_name:
            sess.run(init_name)
        for feed in runs:
            try:
                values = sess.run(fetch_names, feed)
                results.append([_jsonable(v) for v in values])
            except Exception as exc:
                results.append({"error": type(exc).__name__})
    return results

def _node_texts(graph):
    from google.protobuf import text_format
    texts = []
    for node in graph.as_graph_def().node:
        for key in [k for k in node.attr if k == "_output_shapes"]:
            del node.attr[key]
        node.ClearField("experimental_type") if hasattr(node, "experimental_type") else None
        texts.append(text_format.MessageToString(node, as_one_line=True))
    return sorted(texts)

def build_case(code):
    graph = tf.Graph()
    scope = {"tf": tf, "np": _np}
    scope.update(globals().get("EXTRA_SCOPE", {}))
    with graph.as_default():
        exec(code, scope)
    init = scope.get("init")
    return graph, [t.name for t in scope["fetches"]], init.name if init is not None else "", scope["runs"]

def describe_case(code):
    graph, fetch_names, init_name, runs = build_case(code)
    return {"nodes": _node_texts(graph), "fetches": fetch_names, "init": init_name,
            "results": _run(graph, fetch_names, init_name, runs),
            "graph_def": graph.as_graph_def().SerializeToString().hex()}

def run_graph_def(hex_graph_def, fetch_names, init_name, runs):
    graph_def = tf.GraphDef() if hasattr(tf, "GraphDef") else None
    graph_def.ParseFromString(bytes.fromhex(hex_graph_def))
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
    return _run(graph, fetch_names, init_name, runs)
"""
