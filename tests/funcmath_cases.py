"""TF1 programs for map_fn/foldl/foldr/scan, sort/argsort/searchsorted/repeat, the special
functions, complex parts and the assertion builders, run identically by real TensorFlow and by
tensorkeep (same contract as control_flow_cases: `fetches`, `runs`, optional `init`)."""

CASES = {
    "map_fn_simple": """
x = tf.placeholder(tf.float32, [None, 3], name="x")
y = tf.map_fn(lambda row: tf.reduce_sum(row * row), x)
fetches = [y, tf.gradients(y, x)[0]]
runs = [{"x:0": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]}, {"x:0": [[0.5, -1.0, 2.0]]}]
""",
    "map_fn_nested_dtype": """
a = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], name="a")
b = tf.constant([1, 2, 3], name="b")
out = tf.map_fn(lambda ab: (ab[0] * tf.cast(ab[1], tf.float32), ab[1] * 2), (a, b),
                dtype=(tf.float32, tf.int32), parallel_iterations=4, name="pairs")
plain = tf.map_fn(lambda v: v + 1.0, a, back_prop=False, infer_shape=False)
fetches = [out[0], out[1], plain]
runs = [{}]
""",
    "map_fn_dict": """
x = tf.placeholder(tf.float32, [4], name="x")
out = tf.map_fn(lambda d: {"u": d["u"] + d["v"], "v": d["u"] * d["v"]},
                {"u": x, "v": x * 2.0})
fetches = [out["u"], out["v"], tf.gradients(out["v"], x)[0]]
runs = [{"x:0": [1.0, 2.0, 3.0, -1.0]}]
""",
    "fold_and_scan": """
x = tf.placeholder(tf.float32, [None], name="x")
left = tf.foldl(lambda acc, v: acc * 2.0 + v, x)
left_init = tf.foldl(lambda acc, v: acc + v * v, x, initializer=tf.constant(1.0))
right = tf.foldr(lambda acc, v: acc * 2.0 + v, x)
right_init = tf.foldr(lambda acc, v: acc - v, x, initializer=tf.constant(10.0))
running = tf.scan(lambda acc, v: acc + v, x)
backwards = tf.scan(lambda acc, v: acc * v, x, initializer=tf.constant(1.0), reverse=True)
paired = tf.foldl(lambda acc, e: acc + e[0] * e[1], (x, x * 2.0), initializer=tf.constant(0.0))
paired_right = tf.foldr(lambda acc, e: (acc[0] + e["u"], acc[1] * e["v"]), {"u": x, "v": x},
                        initializer=(tf.constant(0.0), tf.constant(1.0)), name="dict_fold")
fetches = [left, left_init, right, right_init, running, backwards, paired, paired_right[0],
           paired_right[1], tf.gradients(paired, x)[0],
           tf.gradients(running, x)[0], tf.gradients(left_init, x)[0]]
runs = [{"x:0": [1.0, 2.0, 3.0]}, {"x:0": [0.5, -2.0, 4.0, 1.5]}]
""",
    "scan_nested": """
x = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], name="x")
pair = tf.scan(lambda acc, v: (acc[0] + v, acc[1] * v), x,
               initializer=(tf.zeros([2]), tf.ones([2])), name="pairs")
fetches = [pair[0], pair[1], tf.gradients(pair[1], x)[0]]
runs = [{}]
""",
    "sort_search_repeat": """
x = tf.placeholder(tf.float32, [2, 4], name="x")
k = tf.placeholder(tf.int32, [5], name="k")
u = tf.constant([3, 1, 2], tf.uint8)
fetches = [tf.sort(x), tf.sort(x, axis=0, direction="DESCENDING"), tf.argsort(x),
           tf.argsort(x, axis=0, direction="DESCENDING", name="order"), tf.sort(k),
           tf.argsort(k), tf.sort(u),
           tf.searchsorted(tf.constant([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]),
                           tf.constant([[0.0, 3.0], [4.0, 7.0]])),
           tf.searchsorted([1, 2, 2, 3], [2, 5, 0], side="right", out_type=tf.int64),
           tf.repeat(x, 2, axis=1), tf.repeat(x, [1, 3], axis=0), tf.repeat(k, [1, 0, 2, 1, 1]),
           tf.repeat(x, [2, 0, 1, 1], axis=1), tf.repeat(x, 2)]
runs = [{"x:0": [[3.0, 1.0, 2.0, 1.0], [0.0, 5.0, -1.0, 2.0]], "k:0": [4, -2, 7, 0, -2]}]
""",
    "special_functions": """
x = tf.placeholder(tf.float64, [None], name="x")
a = tf.placeholder(tf.float64, [None], name="a")
xf = tf.cast(x, tf.float32)
fetches = [tf.erf(x), tf.erfc(x), tf.lgamma(x), tf.digamma(x), tf.math.erf(xf), tf.math.lgamma(xf),
           tf.igamma(a, tf.abs(x)), tf.igammac(a, tf.abs(x)), tf.math.igamma(a, 2.0),
           tf.zeta(a + 1.0, tf.abs(x) + 0.5),
           tf.polygamma(tf.constant(2.0, tf.float64), tf.abs(x) + 0.1),
           tf.betainc(a, a + 1.0, tf.abs(tf.sin(x))),
           tf.gradients(tf.erf(x) + tf.erfc(x * 2.0) + tf.lgamma(tf.abs(x) + 1.0)
                        + tf.digamma(tf.abs(x) + 1.0), x)[0],
           tf.gradients(tf.igamma(a, tf.abs(x)) + tf.igammac(a, tf.abs(x) + 1.0)
                        + tf.zeta(a + 1.0, tf.abs(x) + 1.0)
                        + tf.polygamma(tf.constant(1.0, tf.float64), tf.abs(x) + 1.0)
                        + tf.betainc(a, a + 1.0, tf.abs(tf.sin(x))), x)[0],
           tf.gradients(tf.igamma(a, tf.abs(x) + 0.5), a)[0]]
runs = [{"x:0": [-2.5, -0.7, 0.3, 1.0, 2.2, 6.0], "a:0": [0.5, 1.0, 2.5, 3.0, 0.2, 7.0]}]
""",
    "complex_parts": """
re = tf.placeholder(tf.float32, [3], name="re")
im = tf.placeholder(tf.float32, [3], name="im")
z = tf.complex(re, im)
z64 = tf.complex(tf.cast(re, tf.float64), tf.cast(im, tf.float64), name="wide")
loss = tf.reduce_sum(tf.real(z) * 2.0 + tf.imag(z) * 3.0 + tf.angle(z))
fetches = [tf.real(z), tf.imag(z), tf.angle(z), tf.real(z64), tf.angle(z64), tf.real(re),
           tf.imag(re), tf.angle(re), tf.gradients(loss, [re, im])[0],
           tf.gradients(loss, [re, im])[1]]
runs = [{"re:0": [1.0, -2.0, 0.5], "im:0": [0.5, 3.0, -1.0]}]
""",
    "complex_abs": """
re = tf.placeholder(tf.float64, [3], name="re")
im = tf.placeholder(tf.float64, [3], name="im")
z = tf.complex(re, im)
magnitude = tf.abs(z)
fetches = [magnitude, tf.abs(tf.complex(tf.cast(re, tf.float32), tf.cast(im, tf.float32))),
           tf.gradients(tf.reduce_sum(magnitude * magnitude), [re, im])[0],
           tf.gradients(tf.reduce_sum(magnitude), [re, im])[1]]
runs = [{"re:0": [3.0, 0.0, -1.5], "im:0": [4.0, 0.0, 2.0]}]
""",
    "special_edges": """
x = tf.constant([-2.0, -1.5, 0.0, 1e-8, 170.5, float("inf"), -float("inf"), float("nan")],
                tf.float64, name="x")
a = tf.constant([0.0, -1.0, 1.0, 1e-3, 50.0, 2.0, 3.0, 1.0], tf.float64, name="a")
u = tf.constant([0.0, 0.5, 1.0, 1.5, -0.1, 0.25, 0.999, 1e-12], tf.float64, name="u")
h = tf.constant([0.5, -1.0, 3.0], tf.float16)
b = tf.cast(h, tf.bfloat16)
fetches = [tf.lgamma(x), tf.digamma(x), tf.erf(x), tf.erfc(x),
           tf.igamma(a, tf.abs(x)), tf.igammac(a, tf.abs(x)), tf.igamma(tf.abs(x), a),
           tf.zeta(x, a), tf.zeta(a + 1.0, x), tf.polygamma(a, tf.abs(x)),
           tf.polygamma(tf.constant(1.5, tf.float64), a), tf.betainc(a, a, u),
           tf.betainc(tf.abs(x), 2.0, u), tf.erf(h), tf.lgamma(h), tf.digamma(b), tf.erfc(b),
           tf.igamma(h, h * 2.0)]
runs = [{}]
""",
    "aliases": """
x = tf.placeholder(tf.float32, [3], name="x")
fetches = [tf.tanh(x), tf.sigmoid(x), tf.log_sigmoid(x), tf.math.log_sigmoid(x, name="ls"),
           tf.log_sigmoid(x * 4.0), tf.gradients(tf.log_sigmoid(x), x)[0]]
runs = [{"x:0": [-30.0, 0.0, 2.5]}]
""",
    "assertions": """
x = tf.placeholder(tf.float32, [None], name="x")
y = tf.placeholder(tf.float32, [None], name="y")
i = tf.placeholder(tf.int32, [None], name="i")
checks = [tf.assert_equal(x, y), tf.assert_none_equal(x, y + 100.0), tf.assert_less(x, y + 1.0),
          tf.assert_less_equal(x, y), tf.assert_greater(y + 1.0, x),
          tf.assert_greater_equal(y, x, message="ge"), tf.assert_negative(x - 10.0),
          tf.assert_positive(x + 10.0), tf.assert_non_negative(x + 5.0),
          tf.assert_non_positive(x - 5.0), tf.assert_near(x, y), tf.assert_rank(x, 1),
          tf.assert_rank_at_least(x, 1), tf.assert_rank(i, tf.placeholder(tf.int32, [], name="r")),
          tf.assert_type(i, tf.int32), tf.assert_integer(i), tf.assert_equal(i, 2, summarize=2),
          tf.debugging.assert_less(x, 3.0)]
scalar = tf.assert_scalar(tf.constant(2.0))
with tf.control_dependencies(checks):
    out = tf.identity(x * 2.0)
fetches = [out, scalar]
runs = [{"x:0": [1.0, 2.0], "y:0": [1.0, 2.0], "i:0": [2, 2], "r:0": 1},
        {"x:0": [1.0, 2.0], "y:0": [1.0, 2.5], "i:0": [2, 2], "r:0": 1},
        {"x:0": [1.0], "y:0": [1.0], "i:0": [2, 3], "r:0": 1},
        {"x:0": [1.0], "y:0": [1.0], "i:0": [2], "r:0": 2}]
""",
}

# Assertions that fire: each program raises while it is built or run; both sides must raise the
# same error class with the same message (up to the node reference TensorFlow appends).
FAILING_ASSERTIONS = {
    "equal_at_run_time": """
x = tf.placeholder(tf.float32, [None], name="x")
y = tf.placeholder(tf.float32, [None], name="y")
check = tf.assert_equal(x, y, message="shapes differ")
tf.Session().run(check, {x: [1.0, 2.0, 3.0, 4.0], y: [1.0, 2.5, 3.0, 4.0]})
""",
    "int32_equal_at_run_time": """
i = tf.placeholder(tf.int32, [None], name="i")
tf.Session().run(tf.assert_equal(i, 2, summarize=2), {i: [2, 3, 4]})
""",
    "assert_matrix_and_text": """
m = tf.placeholder(tf.float32, [2, 3], name="m")
check = tf.Assert(tf.reduce_all(m > 0), ["it's \\"bad\\"\\n", m, m[0], tf.zeros([2, 0])],
                  summarize=4)
tf.Session().run(check, {m: [[1.0, 2.0, 3.0], [4.0, -5.5, 6.0]]})
""",
    "less_at_build_time": """
tf.assert_less(tf.constant([1.0, 5.0]), tf.constant([2.0, 3.0]))
""",
    "greater_equal_at_build_time": """
tf.assert_greater_equal(tf.constant([1, 2]), tf.constant(3), message="too small")
""",
    "none_equal_at_run_time": """
x = tf.placeholder(tf.int64, [2], name="x")
tf.Session().run(tf.assert_none_equal(x, tf.constant([0, 5], tf.int64)), {x: [1, 5]})
""",
    "near_at_run_time": """
x = tf.placeholder(tf.float64, [2], name="x")
tf.Session().run(tf.assert_near(x, tf.constant([1.0, 2.0], tf.float64), rtol=1e-3), {x: [1.0, 2.1]})
""",
    "negative_at_run_time": """
x = tf.placeholder(tf.float32, [None], name="x")
tf.Session().run(tf.assert_negative(x), {x: [-1.0, 0.0]})
""",
    "non_positive_at_run_time": """
x = tf.placeholder(tf.float32, [None], name="x")
tf.Session().run(tf.assert_non_positive(x, message="need <= 0"), {x: [-1.0, 0.5]})
""",
    "rank_at_build_time": """
tf.assert_rank(tf.constant([1.0, 2.0]), 2, message="matrix please")
""",
    "rank_at_least_at_build_time": """
tf.assert_rank_at_least(tf.zeros([2]), 3)
""",
    "rank_at_run_time": """
x = tf.placeholder(tf.float32, name="x")
tf.Session().run(tf.assert_rank(x, 2), {x: [1.0, 2.0]})
""",
    "type": """
tf.assert_type(tf.constant(1.0, name="c"), tf.int32, message="ints only")
""",
    "integer": """
tf.assert_integer(tf.constant([1.0], name="c"))
""",
    "scalar": """
tf.assert_scalar(tf.constant([1.0]), message="one value")
""",
}

FAILURE_DRIVER = """
def describe_failure(code):
    graph = tf.Graph()
    try:
        with graph.as_default():
            exec(code, {"tf": tf})
    except Exception as exc:
        message = getattr(exc, "message", None) or str(exc)
        if "\\nNode: '" in message:  # TensorFlow's session error preamble (node and trace)
            message = message[message.rindex("\\nNode: '") + 1:].split("\\n", 1)[1]
        return [type(exc).__name__, message.split("\\n\\t [[")[0]]
    return None
"""
