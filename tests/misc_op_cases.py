"""TF1 programs exercising resource variables, TensorArray, TensorList, hash tables, Example
parsing, summaries and the assorted ops of misc_ops, run identically by real TensorFlow and by
tensorkeep (same contract as control_flow_cases: `fetches`, `runs`, optional `init`; the
modules `rvo` (resource_variable_ops) and `list_ops` are in scope)."""

SERIALIZED = (b"\n.\n\x11\n\x01a\x12\x0c\x12\n\n\x08\x00\x00@@\x00\x00\x80@\n\x0c\n\x01b\x12\x07"
              b"\x1a\x05\n\x03\x07\x08\t\n\x0b\n\x01c\x12\x06\n\x04\n\x02hi")

CASES = {
    "resource_variables": """
v = rvo.ResourceVariable([[1.0, 2.0], [3.0, 4.0]], name="v")
w = rvo.ResourceVariable(lambda: tf.zeros([2]), name="w")
x = tf.placeholder(tf.float32, [None, 2], name="x")
y = tf.matmul(x, v) + w
rows = v.sparse_read([1, 0])
with tf.control_dependencies([w.assign_add([1.0, 0.5], read_value=False)]):
    bump = w.read_value()
init = tf.global_variables_initializer()
fetches = [y, rows, bump]
runs = [{"x:0": [[1.0, 1.0]]}, {"x:0": [[2.0, -1.0]]}]
""",
    "resource_training_step": """
v = rvo.ResourceVariable([1.0, -2.0, 3.0], name="v")
loss = tf.reduce_sum(tf.square(v))
step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
with tf.control_dependencies([step]):
    after = tf.identity(v.read_value())
init = tf.global_variables_initializer()
fetches = [after]
runs = [{}, {}]
""",
    "tensor_array_ops": """
x = tf.placeholder(tf.float32, [3, 2], name="x")
ta = tf.TensorArray(tf.float32, size=3, clear_after_read=False).unstack(x)
ta = ta.write(1, x[2] * 10.0)
grown = tf.TensorArray(tf.float32, size=0, dynamic_size=True).write(0, x[0]).write(4, x[1])
fetches = [ta.read(1), ta.stack(), ta.gather([2, 0]), ta.concat(), grown.size(),
           tf.TensorArray(tf.float32, size=2).split(x[:2], [1, 1]).concat()]
runs = [{"x:0": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]}]
""",
    "tensor_list_ops": """
x = tf.placeholder(tf.float32, [3, 2], name="x")
l = list_ops.tensor_list_from_tensor(x, element_shape=[2])
l = list_ops.tensor_list_set_item(l, 1, x[0] * 2.0)
l = list_ops.tensor_list_push_back(l, x[2] + 1.0)
popped, last = list_ops.tensor_list_pop_back(l, element_dtype=tf.float32)
reserved = list_ops.tensor_list_reserve([2], 3, tf.float32)
reserved = list_ops.tensor_list_set_item(reserved, 2, x[1])
fetches = [list_ops.tensor_list_stack(l, tf.float32), last, list_ops.tensor_list_length(popped),
           list_ops.tensor_list_get_item(l, 3, tf.float32),
           list_ops.tensor_list_gather(l, [0, 2], tf.float32),
           list_ops.tensor_list_stack(reserved, tf.float32, element_shape=[2])]
runs = [{"x:0": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]}]
""",
    "hash_tables": """
keys = tf.constant(["a", "b", "c"])
values = tf.constant([1, 2, 3], tf.int64)
table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, values), -1)
words = tf.placeholder(tf.string, [None], name="words")
found = table.lookup(words)
size = table.size()
init = tf.tables_initializer()
fetches = [found, size]
runs = [{"words:0": ["a", "zz", "c", "b"]}, {"words:0": []}]
""",
    "parse_example": """
s = tf.placeholder(tf.string, [None], name="s")
features = tf.parse_example(s, {
    "a": tf.FixedLenFeature([2], tf.float32, default_value=[0.0, 1.0]),
    "b": tf.VarLenFeature(tf.int64),
    "c": tf.FixedLenFeature([], tf.string, default_value="")})
fetches = [features["a"], features["b"].indices, features["b"].values,
           features["b"].dense_shape, features["c"]]
runs = [{"s:0": [%r, b""]}, {"s:0": [b"", b""]}]
""" % SERIALIZED,
    "summaries": """
x = tf.placeholder(tf.float32, [None], name="x")
tf.summary.scalar("loss", tf.reduce_mean(x))
tf.summary.histogram("values", x)
tf.summary.scalar("loss", tf.reduce_max(x), family="train")
merged = tf.summary.merge_all()
fetches = [merged]
runs = [{"x:0": [1.0, -2.5, 3.25, 0.0, 1e-3, 7e6]}, {"x:0": [0.5]}]
""",
    "fake_quant_and_depth_to_space": """
x = tf.placeholder(tf.float32, [1, 2, 2, 8], name="x")
lo = tf.constant(-1.3)
hi = tf.constant(2.7)
q = tf.quantization.fake_quant_with_min_max_vars(x, lo, hi, num_bits=8)
q4 = tf.quantization.fake_quant_with_min_max_vars(x, lo, hi, num_bits=4, narrow_range=True)
qa = tf.quantization.fake_quant_with_min_max_args(x, min=-0.5, max=0.75)
d = tf.nn.depth_to_space(q, 2)
s2d = tf.nn.space_to_depth(d, 2)
g = tf.gradients(tf.reduce_sum(q * x), [x, lo, hi])
fetches = [q, q4, qa, d, s2d] + g
runs = [{"x:0": [[[[-2.0, -1.3, -0.7, 0.0, 0.01, 0.5, 2.6, 3.0]] * 2] * 2]}]
""",
    "decode_raw_sets_contrast": """
raw = tf.placeholder(tf.string, [2], name="raw")
decoded = tf.decode_raw(raw, tf.int16)
a = tf.constant([[1, 2, 3, 3], [4, 5, 6, 7]])
b = tf.constant([[3, 9, 1, 1], [6, 4, 0, 0]])
diff = tf.sets.difference(a, b)
union = tf.sets.union(a, b)
images = tf.placeholder(tf.float32, [1, 2, 2, 3], name="images")
contrast = tf.image.adjust_contrast(images, 1.7)
fetches = [decoded, diff.indices, diff.values, diff.dense_shape, union.values, contrast]
runs = [{"raw:0": [b"\\x01\\x00\\xff\\xff", b"\\x10\\x00\\x00\\x80"],
         "images:0": [[[[0.1, 0.5, 0.9], [0.2, 0.3, 0.4]], [[1.0, 0.0, 0.5], [0.7, 0.6, 0.1]]]]}]
""",
}
