"""TF1 programs differentiating through tf.while_loop, run identically by real TensorFlow
(tf = tf.compat.v1) and by tensorkeep with control_flow_cases.DRIVER: each defines `fetches`,
`runs` (feed dicts keyed by tensor name) and optionally `init`."""

CASES = {
    "scalar_power_loop": """
x = tf.placeholder(tf.float32, [], name="x")
w = tf.placeholder(tf.float32, [], name="w")
_, y = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * w), [0, x])
gx, gw = tf.gradients(y, [x, w])
fetches = [y, gx, gw]
runs = [{"x:0": 1.5, "w:0": 2.0}, {"x:0": -0.5, "w:0": 0.75}]
""",
    "fed_trip_count_two_variables": """
n = tf.placeholder(tf.int32, [], name="n")
a0 = tf.placeholder(tf.float32, [2], name="a0")
b0 = tf.placeholder(tf.float32, [2], name="b0")
c = tf.constant([0.5, -1.5], name="c")
def body(i, a, b):
    return i + 1, a * b + c, tf.sin(b) + 0.5 * a
_, a, b = tf.while_loop(lambda i, a, b: i < n, body, [0, a0, b0])
loss = tf.reduce_sum(a * a) + tf.reduce_sum(3.0 * b)
ga, gb = tf.gradients(loss, [a0, b0])
ga_only_a, = tf.gradients(a, [a0])
fetches = [a, b, ga, gb, ga_only_a]
runs = [{"n:0": 0, "a0:0": [1.0, 2.0], "b0:0": [0.5, -0.25]},
        {"n:0": 1, "a0:0": [1.0, 2.0], "b0:0": [0.5, -0.25]},
        {"n:0": 4, "a0:0": [0.3, -0.7], "b0:0": [0.2, 0.9]}]
""",
    "rnn_tensor_array": """
xs = tf.placeholder(tf.float32, [5, 2, 3], name="xs")
h0 = tf.placeholder(tf.float32, [2, 4], name="h0")
W = tf.Variable(tf.constant(0.1 * np.arange(-8, 8, dtype=np.float32).reshape(4, 4)), name="W")
U = tf.Variable(tf.constant(0.2 * np.arange(-6, 6, dtype=np.float32).reshape(3, 4)), name="U")
inputs = tf.TensorArray(tf.float32, size=5).unstack(xs)
def body(t, h):
    return t + 1, tf.nn.tanh(tf.matmul(h, W) + tf.matmul(inputs.read(t), U))
_, h = tf.while_loop(lambda t, h: t < 5, body, [0, h0])
loss = tf.reduce_sum(h * h)
gW, gU, gh0, gxs = tf.gradients(loss, [W, U, h0, xs])
init = tf.global_variables_initializer()
fetches = [loss, gW, gU, gh0, gxs]
runs = [{"xs:0": np.sin(np.arange(30)).reshape(5, 2, 3).tolist(),
         "h0:0": np.cos(np.arange(8)).reshape(2, 4).tolist()}]
""",
    "rnn_gather_training": """
xs = tf.constant(np.sin(np.arange(24, dtype=np.float32)).reshape(4, 2, 3), name="xs")
target = tf.constant(np.cos(np.arange(8, dtype=np.float32)).reshape(2, 4), name="target")
W = tf.Variable(tf.constant(0.1 * np.arange(-8, 8, dtype=np.float32).reshape(4, 4)), name="W")
U = tf.Variable(tf.constant(0.2 * np.arange(-6, 6, dtype=np.float32).reshape(3, 4)), name="U")
h0 = tf.Variable(tf.zeros([2, 4]), name="h0")
def body(t, h):
    return t + 1, tf.nn.tanh(tf.matmul(h, W) + tf.matmul(tf.gather(xs, t), U))
_, h = tf.while_loop(lambda t, h: t < 4, body, [0, h0])
loss = tf.reduce_mean(tf.square(h - target))
train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
with tf.control_dependencies([train]):
    loss_before_step = tf.identity(loss)
init = tf.global_variables_initializer()
fetches = [loss_before_step]
runs = [{}, {}, {}, {}, {}]
""",
    "cond_in_body": """
x = tf.placeholder(tf.float32, [], name="x")
w = tf.placeholder(tf.float32, [], name="w")
def body(i, s):
    s = tf.cond(tf.equal(tf.floormod(i, 2), 0), lambda: s * w + x, lambda: tf.square(s) - w)
    return i + 1, s
_, y = tf.while_loop(lambda i, s: i < 5, body, [0, x])
gx, gw = tf.gradients(y, [x, w])
fetches = [y, gx, gw]
runs = [{"x:0": 0.5, "w:0": 1.25}, {"x:0": -0.3, "w:0": 0.8}]
""",
    "loops_in_sequence": """
x = tf.placeholder(tf.float32, [3], name="x")
w = tf.placeholder(tf.float32, [3], name="w")
_, a = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * w + 1.0), [0, x])
_, b = tf.while_loop(lambda i, v: i < 2, lambda i, v: (i + 1, tf.exp(-v) * w), [0, a * 0.5])
gx, gw = tf.gradients(tf.reduce_sum(b), [x, w])
fetches = [b, gx, gw]
runs = [{"x:0": [0.1, 0.2, -0.3], "w:0": [1.0, 0.5, -0.5]}]
""",
    "nested_loops": """
x = tf.placeholder(tf.float32, [], name="x")
w = tf.placeholder(tf.float32, [], name="w")
def outer_body(i, acc):
    _, inner = tf.while_loop(lambda j, a: j < i + 1, lambda j, a: (j + 1, a * w + x),
                             [0, acc])
    return i + 1, inner
_, y = tf.while_loop(lambda i, a: i < 3, outer_body, [0, x])
gx, gw = tf.gradients(y, [x, w])
fetches = [y, gx, gw]
runs = [{"x:0": 0.5, "w:0": 0.9}]
""",
    "unused_and_unconnected": """
x = tf.placeholder(tf.float32, [2], name="x")
w = tf.placeholder(tf.float32, [2], name="w")
z = tf.placeholder(tf.float32, [2], name="z")
_, a, b, c = tf.while_loop(lambda i, a, b, c: i < 3,
                           lambda i, a, b, c: (i + 1, a * w, b + a, c * 2.0), [0, x, x, z])
gx, gw, gz = tf.gradients(b, [x, w, z], unconnected_gradients="zero")
fetches = [b, gx, gw, gz]
runs = [{"x:0": [1.0, -2.0], "w:0": [0.5, 3.0], "z:0": [1.0, 1.0]}]
""",
    "max_iterations_and_embedding": """
ids = tf.placeholder(tf.int32, [None], name="ids")
emb = tf.Variable(tf.constant(np.arange(12, dtype=np.float32).reshape(6, 2) / 10.0), name="emb")
def body(t, s):
    return t + 1, s * 0.9 + tf.gather(emb, ids[t])
_, s = tf.while_loop(lambda t, s: t < tf.size(ids), body, (0, tf.zeros([2])),
                     maximum_iterations=4)
g_emb, = tf.gradients(tf.reduce_sum(s * s), [emb])
init = tf.global_variables_initializer()
fetches = [s, tf.convert_to_tensor(g_emb)]
runs = [{"ids:0": [1, 3, 1, 5, 0]}, {"ids:0": [2]}]
""",
    "no_backprop_loop": """
x = tf.placeholder(tf.float32, [], name="x")
_, y = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * x), [0, x], back_prop=False)
g, = tf.gradients(y, [x])
fetches = [y, tf.constant(g is None)]
runs = [{"x:0": 2.0}]
""",
    "sparse_gradient_inside_cond": """
xs = tf.placeholder(tf.float32, [4, 3], name="xs")
v0 = tf.placeholder(tf.float32, [5, 3], name="v0")
def body(t, v):
    row = tf.cond(t < 2, lambda: tf.gather(xs, t) * 2.0, lambda: tf.zeros([3]))
    return t + 1, v * 0.5 + row
_, v = tf.while_loop(lambda t, v: t < 4, body, [0, v0])
loss = tf.reduce_sum(v * v)
gxs, gv0 = tf.gradients(loss, [xs, v0])
fetches = [loss, tf.convert_to_tensor(gxs), tf.convert_to_tensor(gv0)]
runs = [{"xs:0": np.arange(12.0).reshape(4, 3).tolist(),
         "v0:0": np.linspace(-1, 1, 15).reshape(5, 3).tolist()}]
""",
    "unknown_shapes": """
x = tf.placeholder(tf.float32, [None, 2], name="x")
w = tf.placeholder(tf.float32, [2, 2], name="w")
def body(i, h):
    h = tf.cond(tf.reduce_sum(h) > 0.0, lambda: tf.matmul(h, w), lambda: h - tf.reduce_mean(h))
    return i + 1, h
_, h = tf.while_loop(lambda i, h: i < 3, body, [0, x],
                     shape_invariants=[tf.TensorShape([]), tf.TensorShape([None, 2])])
gx, gw = tf.gradients(tf.reduce_sum(tf.square(h)), [x, w])
fetches = [h, gx, gw]
runs = [{"x:0": [[1.0, 2.0], [-3.0, 0.5]], "w:0": [[0.5, -1.0], [1.5, 0.25]]},
        {"x:0": [[-1.0, -2.0]], "w:0": [[0.5, -1.0], [1.5, 0.25]]}]
""",
    "resource_variables_momentum": """
W = tf.get_variable("W", initializer=tf.constant([[0.5, -0.25], [0.75, 0.1]]), use_resource=True)
b = tf.get_variable("b", initializer=tf.constant([0.1, -0.2]), use_resource=True)
x = tf.constant([[1.0, 2.0], [-1.0, 0.5], [0.3, 0.3]], name="x")
def body(i, h):
    return i + 1, tf.nn.sigmoid(tf.matmul(h, W) + b)
_, h = tf.while_loop(lambda i, h: i < 3, body, [0, x])
loss = tf.reduce_sum(tf.square(h - 0.5))
train = tf.train.MomentumOptimizer(0.8, 0.9).minimize(loss)
with tf.control_dependencies([train]):
    loss_before_step = tf.identity(loss)
init = tf.global_variables_initializer()
fetches = [loss_before_step]
runs = [{}, {}, {}, {}]
""",
}
