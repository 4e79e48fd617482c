"""TF1 programs with tf.cond / tf.while_loop whose meta graphs carry control-flow contexts, and
the helpers both sides (tensorkeep and real TensorFlow, bound to `tf`) use to export, import,
differentiate and run them. Imports nothing from either library, so TensorFlow's interpreter
can load it.

Each program defines `y` (the output), `xs` (what to differentiate y with respect to) and
`runs` (feed dicts keyed by tensor name)."""

import numpy as np

CASES = {
    "cond": """
x = tf.placeholder(tf.float32, [2], name="x")
p = tf.placeholder(tf.bool, [], name="p")
w = tf.constant([1.5, -2.0], name="w")
y = tf.cond(p, lambda: tf.reduce_sum(x * x * w), lambda: tf.reduce_sum(tf.sin(x) + w))
xs = [x]
runs = [{"x:0": [3.0, 4.0], "p:0": True}, {"x:0": [3.0, 4.0], "p:0": False}]
""",
    "nested_cond": """
x = tf.placeholder(tf.float32, [], name="x")
p = tf.placeholder(tf.bool, [], name="p")
q = tf.placeholder(tf.bool, [], name="q")
y = tf.cond(p, lambda: tf.cond(q, lambda: x * x * x, lambda: 3.0 * x),
            lambda: tf.cond(x > 0.0, lambda: tf.exp(x), lambda: x - 1.0))
xs = [x]
runs = [{"x:0": 2.0, "p:0": True, "q:0": True}, {"x:0": 2.0, "p:0": True, "q:0": False},
        {"x:0": 0.5, "p:0": False, "q:0": True}, {"x:0": -0.5, "p:0": False, "q:0": True}]
""",
    "while": """
x = tf.placeholder(tf.float32, [], name="x")
_, y = tf.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s * x + 1.0), [0, x],
                     parallel_iterations=7)
xs = [x]
runs = [{"x:0": 1.5}, {"x:0": -0.5}]
""",
    "while_maximum_iterations": """
x = tf.placeholder(tf.float32, [3], name="x")
limit = tf.placeholder_with_default(5, [], name="limit")
y = tf.reduce_sum(tf.while_loop(lambda s: tf.reduce_sum(s) < 100.0, lambda s: s * 2.0 + x,
                                [x], maximum_iterations=limit, back_prop=True))
xs = [x]
runs = [{"x:0": [1.0, 2.0, 3.0]}, {"x:0": [1.0, 2.0, 3.0], "limit:0": 1}]
""",
    "nested_while": """
x = tf.placeholder(tf.float32, [], name="x")
def outer_body(i, acc):
    def inner_body(j, a):
        return j + 1, a * x + 1.0
    _, acc = tf.while_loop(lambda j, a: j < i + 1, inner_body, [0, acc])
    return i + 1, acc
_, y = tf.while_loop(lambda i, a: i < 3, outer_body, [0, x])
xs = [x]
runs = [{"x:0": 1.5}, {"x:0": -0.5}]
""",
    "cond_in_while": """
x = tf.placeholder(tf.float32, [], name="x")
def body(i, s):
    s = tf.cond(tf.equal(tf.floormod(i, 2), 0), lambda: s * x, lambda: s + x * x)
    return i + 1, s
_, y = tf.while_loop(lambda i, s: i < 5, body, [0, 1.0])
xs = [x]
runs = [{"x:0": 0.5}, {"x:0": 2.0}]
""",
    "while_in_cond": """
x = tf.placeholder(tf.float32, [], name="x")
p = tf.placeholder(tf.bool, [], name="p")
def loop():
    return tf.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * x), [0, 1.0])[1]
y = tf.cond(p, loop, lambda: x - 100.0)
xs = [x]
runs = [{"x:0": 0.5, "p:0": True}, {"x:0": 0.5, "p:0": False}]
""",
}

# Cases whose gradient involves a while loop (tensorkeep builds no loop gradients).
LOOP_GRADIENT_CASES = ("while", "while_maximum_iterations", "nested_while", "cond_in_while",
                       "while_in_cond")

CONTEXT_KEYS = ("cond_context", "while_context")


def build_case(tf, code):
    """(graph, y name, xs names, runs) of a program."""
    graph = tf.Graph()
    scope = {"tf": tf}
    with graph.as_default():
        exec(code, scope)  # noqa: S102 (the case programs above)
    return graph, scope["y"].name, [x.name for x in scope["xs"]], scope["runs"]


def context_collections(meta_graph_def):
    """{key: [serialized context protos as hex]} of the control-flow collections."""
    return {key: [value.hex() for value in meta_graph_def.collection_def[key].bytes_list.value]
            for key in CONTEXT_KEYS if key in meta_graph_def.collection_def}


def export_case(tf, code, path):
    """Builds a program, writes its meta graph to `path`; returns its description."""
    graph, y, xs, runs = build_case(tf, code)
    meta_graph_def = tf.train.export_meta_graph(filename=path, graph=graph)
    return {"path": path, "y": y, "xs": xs, "runs": runs,
            "collections": context_collections(meta_graph_def)}


def gradient_runs(tf, graph, y, xs, runs):
    """Builds tf.gradients(y, xs) in `graph` and runs [y] + gradients for each feed; a run
    that fails gives {"error": class name}."""
    with graph.as_default():
        output = graph.get_tensor_by_name(y)
        grads = tf.gradients(output, [graph.get_tensor_by_name(x) for x in xs])
    results = []
    with tf.Session(graph=graph) as sess:
        for feed in runs:
            try:
                values = sess.run([output] + grads, feed)
                results.append([np.asarray(v, dtype=np.float64).tolist() for v in values])
            except Exception as exc:  # noqa: BLE001 (reported, compared by the caller)
                results.append({"error": type(exc).__name__, "message": str(exc)[:300]})
    return results


def import_meta_graph(tf, path, import_scope=None):
    """A new graph holding the meta graph in `path` (under import_scope)."""
    graph = tf.Graph()
    with graph.as_default():
        tf.train.import_meta_graph(path, import_scope=import_scope)
    return graph


def scoped_name(name, import_scope):
    return import_scope + "/" + name if import_scope else name


def enter_frames(graph):
    """{Enter node name: frame_name} of a graph."""
    return {node.name: node.attr["frame_name"].s.decode()
            for node in graph.as_graph_def().node if node.op in ("Enter", "RefEnter")}
