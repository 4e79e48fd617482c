"""Graphs that tensorkeep and real TensorFlow both build, for test_ops_array_math_tf.py.

Each case is TF1 code executed with `tf` bound to tensorkeep or to tensorflow.compat.v1 (graph
mode) and `np` to NumPy. It sets:
  outputs  tensors to evaluate,
  ys, xs   (optional) tf.gradients(ys, xs) is built and evaluated too,
  feeds    (optional) the feed_dict.
`run_cases(tf)` returns, per case, the evaluated values and the graph's nodes (name, type,
inputs), or the error raised while building. NumPy only: imported on both sides.
"""

import numpy as np


def _r(seed, *shape, low=-2.0, high=2.0, dtype=np.float64):
    return np.random.RandomState(seed).uniform(low, high, shape).astype(dtype)


# --- graphs built on both sides -----------------------------------------------------------------

CASES = [
    # Tensor.__getitem__ -> StridedSlice (names strided_slice, strided_slice/stack, ...)
    ("getitem_slices", """
x = tf.placeholder(tf.float64, [3, 4], name="x")
a = x[1:, ::2]
b = x[-1]
c = x[..., 1]
d = x[None, :, 0]
e = x[::-1, -2:]
f = x[1:3:2, tf.newaxis]
outputs = [a, b, c, d, e, f]
ys = [tf.reduce_sum(a * a), b, c, d, e, f]
xs = [x]
feeds = {x: _r(1, 3, 4)}
"""),
    ("getitem_tensor_index", """
x = tf.constant(_r(2, 4, 3, 2))
i = tf.constant(2)
outputs = [x[i], x[:i, 1], x[i:, ..., 0], x[:, :, ::-1][1]]
"""),
    ("strided_slice_masks", """
x = tf.placeholder(tf.float32, [2, 3, 4], name="x")
y = tf.strided_slice(x, [0, 1, 0], [2, -1, 3], [1, 1, 2], begin_mask=1, end_mask=4,
                     shrink_axis_mask=0, new_axis_mask=0, ellipsis_mask=0)
z = tf.strided_slice(x, [1, 0], [2, 0], [1, 1], shrink_axis_mask=1, ellipsis_mask=2)
w = tf.strided_slice(x, [0, 0, 2], [0, 0, -5], [1, 1, -1], new_axis_mask=1, ellipsis_mask=2)
outputs = [y, z, w]
ys = [y, z, w]
xs = [x]
feeds = {x: _r(3, 2, 3, 4).astype(np.float32)}
"""),
    ("concat_and_stack", """
a = tf.placeholder(tf.float64, [2, 3], name="a")
b = tf.placeholder(tf.float64, [2, 5], name="b")
c = tf.placeholder(tf.float64, [None, 3], name="c")
y1 = tf.concat([a, b], 1)
y2 = tf.concat([a, c], 0)
y3 = tf.concat([a], -1)
s = tf.stack([a, a * 2], axis=1)
u = tf.unstack(b, axis=1)
outputs = [y1, y2, y3, s] + u
ys = [y1, y2, s, u[1]]
xs = [a, b, c]
feeds = {a: _r(4, 2, 3), b: _r(5, 2, 5), c: _r(6, 4, 3)}
"""),
    ("split_and_splitv", """
x = tf.placeholder(tf.float64, [4, 6], name="x")
p, q = tf.split(x, 2, axis=0)
r = tf.split(x, [1, -1, 2], axis=1)
outputs = [p, q] + r
ys = [p * 3.0, r[0], r[1]]
xs = [x]
feeds = {x: _r(7, 4, 6)}
"""),
    ("transpose_tile_reverse", """
x = tf.placeholder(tf.float64, [2, 3, 4], name="x")
t1 = tf.transpose(x)
t2 = tf.transpose(x, [1, 0, 2])
t3 = tf.tile(x, [2, 1, 3])
t4 = tf.reverse(x, [0, -1])
outputs = [t1, t2, t3, t4, tf.invert_permutation([2, 0, 1])]
ys = [t1, t2, t3, t4]
xs = [x]
feeds = {x: _r(8, 2, 3, 4)}
"""),
    ("gather_family", """
p = tf.placeholder(tf.float64, [5, 3], name="p")
q = tf.placeholder(tf.float64, [2, 4, 3], name="q")
g0 = tf.gather(p, [4, 0, 4])
g1 = tf.gather(p, [[2, 1], [0, 0]], axis=1)
g2 = tf.gather(q, [[1, 0], [3, 3]], axis=1, batch_dims=1)
n = tf.gather_nd(q, [[0, 1], [1, 3]])
outputs = [g0, g1, g2, n]
ys = [g0, g1, g2, n]
xs = [p, q]
feeds = {p: _r(9, 5, 3), q: _r(10, 2, 4, 3)}
"""),
    ("slice_and_pad", """
x = tf.placeholder(tf.float64, [3, 4], name="x")
s = tf.slice(x, [1, 0], [2, -1])
p0 = tf.pad(x, [[1, 0], [2, 1]])
p1 = tf.pad(x, [[0, 1], [1, 1]], constant_values=7.5)
p2 = tf.pad(x, [[2, 1], [1, 3]], mode="REFLECT")
p3 = tf.pad(x, [[2, 1], [1, 4]], mode="SYMMETRIC")
outputs = [s, p0, p1, p2, p3]
ys = [s, p0, p1, p2, p3]
xs = [x]
feeds = {x: _r(11, 3, 4)}
"""),
    ("reshape_expand_squeeze", """
x = tf.placeholder(tf.float64, [None, 4], name="x")
r1 = tf.reshape(x, [-1, 2, 2])
r2 = tf.reshape(x, [tf.shape(x)[0], 2, -1])
e = tf.expand_dims(x, -1)
q = tf.squeeze(e, [2])
q2 = tf.squeeze(tf.reshape(x, [-1, 1, 4, 1]))
outputs = [r1, r2, e, q, q2]
ys = [r1, r2, e, q, q2]
xs = [x]
feeds = {x: _r(12, 3, 4)}
"""),
    ("where_select", """
x = tf.placeholder(tf.float64, [2, 3], name="x")
y = tf.placeholder(tf.float64, [2, 3], name="y")
v = tf.placeholder(tf.float64, [3], name="v")
c = x > y
w0 = tf.where(c)
w1 = tf.where(c, x, y)
w2 = tf.where([True, False], x, y)
w3 = tf.where_v2(c, x, v)
outputs = [w0, w1, w2, w3]
ys = [w1, w2, w3]
xs = [x, y, v]
feeds = {x: _r(13, 2, 3), y: _r(14, 2, 3), v: _r(15, 3)}
"""),
    ("one_hot_and_friends", """
i = tf.constant([0, 2, -1, 5])
outputs = [tf.one_hot(i, 3), tf.one_hot(i, 4, axis=0), tf.one_hot(i, 3, on_value=5, off_value=-1),
           tf.one_hot([[1, 0]], 2, dtype=tf.float64, axis=1),
           tf.unique([4, 1, 4, 2, 1, 7])[0], tf.unique([4, 1, 4, 2, 1, 7])[1],
           tf.setdiff1d([1, 5, 3, 7, 5], [5, 7])[0], tf.setdiff1d([1, 5, 3, 7, 5], [5, 7])[1],
           tf.sequence_mask([1, 3, 0]), tf.sequence_mask([[2], [1]], 4, dtype=tf.float32)]
"""),
    ("broadcasting_shapes", """
x = tf.placeholder(tf.float64, [3, 1], name="x")
b = tf.broadcast_to(x, [2, 3, 4])
s0 = tf.constant([2, 1, 3])
s1 = tf.constant([4, 3])
outputs = [b, tf.broadcast_dynamic_shape(s0, s1)]
ys = [b]
xs = [x]
feeds = {x: _r(16, 3, 1)}
"""),
    ("stitch_partition_scatter", """
d = tf.placeholder(tf.float64, [5, 2], name="d")
parts = tf.dynamic_partition(d, [1, 0, 1, 2, 0], 3)
st = tf.dynamic_stitch([[0, 4], [3, 1, 2]], [d[:2], d[2:]])
sc = tf.scatter_nd([[1], [3], [1]], d[:3], [5, 2])
bm = tf.boolean_mask(d, [True, False, True, True, False])
outputs = parts + [st, sc, bm]
ys = parts + [st, sc, bm]
xs = [d]
feeds = {d: _r(17, 5, 2)}
"""),
    ("fill_zeros_ones_naming", """
x = tf.placeholder(tf.float32, [None, 3], name="x")
y = tf.constant(_r(18, 2, 3).astype(np.float32))
outputs = [tf.zeros([2, 3]), tf.ones([2, 3], tf.int32), tf.zeros([40, 30]),
           tf.ones([2, 3], tf.bool),
           tf.zeros(tf.shape(x)), tf.zeros_like(y), tf.ones_like(y), tf.zeros_like(x),
           tf.ones_like(x), tf.zeros_like(y, dtype=tf.int32), tf.fill([2, 2], 3.5),
           tf.shape(y), tf.shape(x), tf.size(y), tf.size(x), tf.rank(x),
           tf.zeros([tf.shape(x)[0], 2])]
feeds = {x: np.ones((4, 3), np.float32)}
"""),
    ("meshgrid_linspace_range", """
a = tf.constant([1.0, 2.0, 3.0])
b = tf.constant([4.0, 5.0])
m = tf.meshgrid(a, b)
n = tf.meshgrid(a, b, indexing="ij")
outputs = m + n + [tf.range(5), tf.range(2, 11, 3), tf.range(5.0, 1.0, -1.5),
                   tf.range(tf.constant(4, tf.int64))]
"""),
    ("dynamic_shapes_grads", """
x = tf.placeholder(tf.float64, [None, None], name="x")
y = tf.placeholder(tf.float64, None, name="y")
axis = tf.placeholder(tf.int32, [], name="axis")
i = tf.constant(1, tf.int64)
outputs = [tf.reduce_sum(x, axis), tf.reduce_prod(x, 1), tf.reduce_max(x, axis, keepdims=True),
           tf.reduce_mean(x, 0), x[i], x[:, 1:tf.constant(3)], tf.squeeze(x[:, :1]),
           tf.matmul(tf.reshape(y, [-1, 2, 3]), x), tf.concat([x, x[:1]], 0), tf.tile(x, [1, 2]),
           tf.gather(x, [0, 1], axis=1), tf.pad(x, [[1, 0], [0, 1]]), tf.transpose(x)]
ys = outputs
xs = [x, y]
feeds = {x: _r(19, 3, 3), y: _r(42, 2, 2, 3), axis: 1}
"""),
    # --- math -------------------------------------------------------------------------------------
    ("broadcast_binary_grads", """
x = tf.placeholder(tf.float64, [2, 3], name="x")
y = tf.placeholder(tf.float64, [3], name="y")
z = tf.placeholder(tf.float64, [2, 1], name="z")
outputs = [x + y, x - z, x * y, x / z, tf.pow(tf.abs(x) + 1.0, y), tf.maximum(x, y),
           tf.minimum(z, x), tf.squared_difference(x, y), tf.atan2(x, z), tf.realdiv(y, z),
           tf.floormod(x, z + 3.0), tf.div_no_nan(x, z), tf.math.multiply_no_nan(x, y)]
ys = outputs
xs = [x, y, z]
feeds = {x: _r(20, 2, 3), y: _r(21, 3, low=0.5), z: _r(22, 2, 1, low=0.5)}
"""),
    ("unknown_shape_binary_grads", """
x = tf.placeholder(tf.float32, [None, 3], name="x")
y = tf.placeholder(tf.float32, [None, 1], name="y")
outputs = [x * y, x - y, x + 1.0]
ys = outputs
xs = [x, y]
feeds = {x: _r(23, 4, 3).astype(np.float32), y: _r(24, 4, 1).astype(np.float32)}
"""),
    ("same_shape_fast_paths", """
x = tf.placeholder(tf.float32, [2, 3], name="x")
y = tf.placeholder(tf.float32, [2, 3], name="y")
outputs = [x * y, x + y, x - y, tf.squared_difference(x, y), 2 - x, x ** 2, -x, abs(x)]
ys = outputs
xs = [x, y]
feeds = {x: _r(25, 2, 3).astype(np.float32), y: _r(26, 2, 3).astype(np.float32)}
"""),
    ("unary_grads", """
x = tf.placeholder(tf.float64, [5], name="x")
p = tf.placeholder(tf.float64, [5], name="p")
u = tf.placeholder(tf.float64, [5], name="u")
outputs = [tf.exp(x), tf.log(p), tf.sqrt(p), tf.rsqrt(p), tf.square(x), tf.reciprocal(p),
           tf.sin(x), tf.cos(x), tf.tan(u), tf.asin(u), tf.acos(u), tf.atan(x), tf.sinh(x),
           tf.cosh(x), tf.asinh(x), tf.acosh(p + 1.0), tf.atanh(u), tf.log1p(p), tf.expm1(x),
           tf.abs(x), tf.negative(x), tf.sign(x), tf.floor(x), tf.ceil(x), tf.round(x * 2),
           tf.rint(x * 2)]
ys = outputs
xs = [x, p, u]
feeds = {x: _r(27, 5), p: _r(28, 5, low=0.2, high=3.0), u: _r(29, 5, low=-0.8, high=0.8)}
"""),
    ("reductions", """
x = tf.placeholder(tf.float64, [2, 3, 4], name="x")
v = tf.placeholder(tf.float64, [None, 3], name="v")
outputs = [tf.reduce_sum(x), tf.reduce_sum(x, 1), tf.reduce_sum(x, [0, 2], keepdims=True),
           tf.reduce_mean(x, -1), tf.reduce_mean(v), tf.reduce_mean(v, 0),
           tf.reduce_prod(x, [1]), tf.reduce_max(x, 2), tf.reduce_min(v, 1, keep_dims=True),
           tf.reduce_sum(v, 1), tf.reduce_logsumexp(x, 1), tf.count_nonzero(tf.round(x)),
           tf.reduce_all(x > -1.0), tf.reduce_any(v > 1.5, 0), tf.argmax(x, 1),
           tf.argmin(v, 1, output_type=tf.int32)]
ys = outputs[:11]
xs = [x, v]
feeds = {x: _r(30, 2, 3, 4), v: _r(31, 4, 3)}
"""),
    ("matmul_family", """
a = tf.placeholder(tf.float64, [2, 3], name="a")
b = tf.placeholder(tf.float64, [3, 4], name="b")
c = tf.placeholder(tf.float64, [4, 3], name="c")
d = tf.placeholder(tf.float64, [2, 2, 3], name="d")
e = tf.placeholder(tf.float64, [3, 5], name="e")
outputs = [tf.matmul(a, b), tf.matmul(a, c, transpose_b=True),
           tf.matmul(b, a, transpose_a=True, transpose_b=True), a @ b, tf.matmul(d, e),
           tf.matmul(d, d, adjoint_b=True)]
ys = outputs
xs = [a, b, c, d, e]
feeds = {a: _r(32, 2, 3), b: _r(33, 3, 4), c: _r(34, 4, 3), d: _r(35, 2, 2, 3), e: _r(36, 3, 5)}
"""),
    ("scans_segments_topk", """
x = tf.placeholder(tf.float64, [3, 4], name="x")
outputs = [tf.cumsum(x, 1), tf.cumsum(x, 0, exclusive=True), tf.cumsum(x, 1, reverse=True),
           tf.cumprod(x, 1), tf.cumprod(x, 0, exclusive=True, reverse=True),
           tf.segment_sum(x, [0, 0, 2]), tf.unsorted_segment_sum(x, [1, -1, 1], 3),
           tf.math.top_k(x, 2).values, tf.math.top_k(x, 2).indices,
           tf.clip_by_value(x, -0.5, 0.7), tf.clip_by_norm(x, 1.5), tf.clip_by_norm(x, 0.8, [1]),
           tf.cast(x, tf.float32), tf.cast(x * 3, tf.int32)]
ys = outputs[:8] + outputs[9:13]
xs = [x]
feeds = {x: _r(37, 3, 4)}
"""),
    ("norms_and_products", """
x = tf.placeholder(tf.float64, [2, 3], name="x")
y = tf.placeholder(tf.float64, [3, 2, 4], name="y")
outputs = [tf.norm(x), tf.norm(x, axis=1), tf.norm(x, ord=1, axis=0), tf.norm(x, ord=np.inf),
           tf.norm(x, ord=3, axis=1, keepdims=True), tf.norm(x, ord="fro", axis=[0, 1]),
           tf.tensordot(x, y, 1), tf.tensordot(x, y, [[0], [1]]),
           tf.einsum("ij,jkl->ikl", x, y), tf.einsum("ij->j", x), tf.add_n([x, x * 2, x]),
           tf.global_norm([x, y])]
ys = outputs
xs = [x, y]
feeds = {x: _r(38, 2, 3), y: _r(39, 3, 2, 4)}
"""),
    ("clip_by_global_norm", """
x = tf.placeholder(tf.float64, [2, 3], name="x")
y = tf.placeholder(tf.float64, [4], name="y")
clipped, norm = tf.clip_by_global_norm([x, y], 1.0)
outputs = clipped + [norm]
feeds = {x: _r(40, 2, 3), y: _r(41, 4)}
"""),
    ("integer_semantics", """
a = tf.constant([7, -7, 7, -7, 0], tf.int32)
b = tf.constant([2, 2, -2, -2, 3], tf.int32)
c = tf.constant([100, -100, 50], tf.int8)
outputs = [a // b, a % b, tf.truncatediv(a, b), tf.truncatemod(a, b), a / b, tf.div(a, b),
           c + c, c * tf.constant(2, tf.int8), tf.abs(c), a * 3, tf.pow(b, 2),
           tf.cast(tf.constant([1.7, -1.7, 2.5]), tf.int32), tf.maximum(a, b),
           tf.reduce_sum(c), tf.reduce_mean(a), tf.reduce_prod(b), tf.cumsum(c)]
"""),
    ("complex_and_strings", """
c = tf.constant(np.array([[1 + 2j, 3j], [2, -1j]], np.complex64))
s = tf.constant(["a", "bc", "a"])
outputs = [tf.transpose(c, conjugate=True), tf.conj(c), tf.matmul(c, c, adjoint_a=True),
           tf.equal(s, "a"), s + "!", tf.unique(s).y, tf.reverse(s, [0]), tf.gather(s, [2, 0])]
"""),
    ("logical_and_comparisons", """
x = tf.constant([1.0, 2.0, 3.0])
y = tf.constant([3.0, 2.0, 1.0])
p = x < y
q = x >= y
outputs = [p & q, p | q, p ^ q, ~p, tf.logical_xor(p, q), tf.equal(x, y), tf.not_equal(x, 2.0),
           x <= 2.0, x > y, tf.is_finite(x / (y - 2.0)), tf.is_nan(x - x)]
"""),
]

# Nodes not compared (values still are): tensorkeep's Einsum gradient is its own (simpler)
# graph, not TensorFlow's.
UNCHECKED_NODES = {"norms_and_products": ["gradients/einsum"]}

# Graph-build errors: both must raise ValueError with the same message head.
ERROR_CASES = [
    ("matmul_dims", "tf.matmul(tf.zeros([2, 3]), tf.zeros([4, 5]))"),
    ("concat_dims", "tf.concat([tf.zeros([2, 3]), tf.zeros([3, 4])], 0)"),
    ("reshape_count", "tf.reshape(tf.zeros([2, 3]), [4])"),
    ("add_broadcast", "tf.zeros([2, 3]) + tf.zeros([4])"),
    ("transpose_perm", "tf.transpose(tf.zeros([2, 3]), [0, 2])"),
    ("getitem_bounds", "tf.zeros([2, 3])[5]"),
    ("squeeze_dim", "tf.squeeze(tf.zeros([2, 3]), [0])"),
    ("tile_rank", "tf.tile(tf.zeros([2, 3]), [1, 2, 3])"),
    ("gather_axis", "tf.gather(tf.zeros([2, 3]), [1], axis=3)"),
    ("expand_dims_range", "tf.expand_dims(tf.zeros([2, 3]), 4)"),
    ("pad_rank", "tf.pad(tf.zeros([2, 3]), [[1, 1]])"),
    ("split_even", "tf.split(tf.zeros([2, 3]), 2, axis=1)"),
    ("select_shapes", "tf.where(tf.zeros([2, 3]) > 0, tf.zeros([2, 3]), tf.zeros([3, 3]))"),
    ("reduce_axis", "tf.reduce_sum(tf.zeros([2, 3]), 2)"),
    ("stack_rank", "tf.stack([tf.zeros([2, 3]), tf.zeros([2])])"),
    ("unstack_axis", "tf.unstack(tf.zeros([2, 3]), axis=2)"),
    ("batch_matmul_dims", "tf.matmul(tf.zeros([2, 2, 3]), tf.zeros([2, 4, 3]))"),
]


# --- the runner (used on both sides) --------------------------------------------------------------

def _encode(value):
    """A JSON-able value: complex numbers as [real, imag], strings decoded as latin-1."""
    value = np.asarray(value)
    flat = value.ravel()
    if value.dtype.kind == "c":
        data = [[float(v.real), float(v.imag)] for v in flat]
    elif value.dtype.kind in "OS":
        data = [v.decode("latin-1") if isinstance(v, bytes) else v for v in flat.tolist()]
    else:
        data = flat.tolist()
    return {"dtype": value.dtype.name, "shape": list(value.shape), "data": data}


def decode(encoded):
    """The NumPy value of an `_encode`d one."""
    data = encoded["data"]
    if encoded["dtype"].startswith("complex"):
        data = [complex(re, im) for re, im in data]
    if encoded["dtype"] == "object":
        return np.array([d.encode("latin-1") for d in data] or [],
                        dtype=object).reshape(encoded["shape"])
    return np.array(data, dtype=encoded["dtype"]).reshape(encoded["shape"])


def _nodes(graph):
    nodes = {}
    for op in graph.get_operations():
        node = op.node_def
        data = [i for i in node.input if not i.startswith("^")]
        control = sorted(i for i in node.input if i.startswith("^"))
        nodes[op.name] = [op.type, data, control]
    return nodes


def run_case(tf, code):
    graph = tf.Graph()
    with graph.as_default():
        scope = {"tf": tf, "np": np, "_r": _r}
        exec(code, scope)
        fetches = list(scope.get("outputs", []))
        n_outputs = len(fetches)
        grads = []
        if "ys" in scope:
            grads = tf.gradients(scope["ys"], scope["xs"])
            grads = [None if g is None else tf.convert_to_tensor(g) for g in grads]
        with tf.Session() as session:
            values = session.run(fetches + [g for g in grads if g is not None],
                                 scope.get("feeds", {}))
    outputs = [_encode(v) for v in values[:n_outputs]]
    grad_values = iter(values[n_outputs:])
    gradients = [None if g is None else _encode(next(grad_values)) for g in grads]
    return {"outputs": outputs, "gradients": gradients, "nodes": _nodes(graph)}


def run_error_case(tf, code):
    graph = tf.Graph()
    with graph.as_default():
        try:
            exec(code, {"tf": tf, "np": np})
        except Exception as exc:  # the comparison is about which error, so catch them all
            return {"type": type(exc).__name__, "message": str(exc)}
    return {"type": None, "message": ""}


def run_all(tf):
    results = {}
    for name, code in CASES:
        try:
            results[name] = run_case(tf, code)
        except Exception as exc:
            results[name] = {"crash": "%s: %s" % (type(exc).__name__, exc)}
    for name, code in ERROR_CASES:
        results["error:" + name] = run_error_case(tf, code)
    return results
