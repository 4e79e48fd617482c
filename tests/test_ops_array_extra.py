"""CountUpTo, Roll, ReverseSequence, the segment reductions, the N-d scatters, SpaceToBatch /
BatchToSpace, Bincount, Cross, UniqueWithCounts, UnravelIndex, EnsureShape, CheckNumerics and
HistogramFixedWidth against real TensorFlow, in one TensorFlow process: the same TF1 programs
build the same GraphDefs (gradients included) and compute the same values (errors: the same
classes), each side runs the other's GraphDef, the OpDefs are TensorFlow's, and bad inputs fail
with TensorFlow's error class and message."""

import types

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework import op_def as op_def_lib
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.io import protos

from control_flow_cases import DRIVER
from driver_interop import assert_graph_defs_run_on_both_sides, assert_same_nodes, \
    assert_same_results, describe_in_both

pytestmark = pytest.mark.tf

OP_TYPES = [
    "CountUpTo", "ResourceCountUpTo", "Roll", "ReverseSequence", "SegmentMax", "SegmentMin",
    "SegmentMean", "SegmentProd", "UnsortedSegmentMax", "UnsortedSegmentMin",
    "UnsortedSegmentProd", "ScatterNdUpdate", "ScatterNdAdd", "ScatterNdSub",
    "ResourceScatterNdUpdate", "ResourceScatterNdAdd", "ResourceScatterNdSub",
    "TensorScatterUpdate", "TensorScatterAdd", "TensorScatterSub", "TensorScatterMax",
    "TensorScatterMin", "SpaceToBatchND", "BatchToSpaceND", "SpaceToBatch", "BatchToSpace",
    "Bincount", "DenseBincount", "Cross", "UniqueWithCounts", "UnravelIndex", "EnsureShape",
    "CheckNumerics", "HistogramFixedWidth"]

# The raw ops no TF1 builder makes, under tf.raw_ops' spelling on both sides.
_RAW = types.SimpleNamespace(
    Bincount=lambda arr, size, weights, name=None: apply_op(
        "Bincount", arr=arr, size=size, weights=weights, name=name),
    SpaceToBatch=lambda input, paddings, block_size, name=None: apply_op(  # noqa: A006
        "SpaceToBatch", input=input, paddings=paddings, block_size=block_size, name=name),
    BatchToSpace=lambda input, crops, block_size, name=None: apply_op(  # noqa: A006
        "BatchToSpace", input=input, crops=crops, block_size=block_size, name=name),
    ResourceCountUpTo=lambda resource, limit, T, name=None: apply_op(
        "ResourceCountUpTo", resource=resource, limit=limit, T=T, name=name))

_SCOPE = {"tf": tf, "EXTRA_SCOPE": {"raw": _RAW}}
exec(DRIVER, _SCOPE)  # noqa: S102 (the shared driver, run with tensorkeep as tf)

CASES = {
    "count_up_to": """
v = tf.Variable(0, name="v")
w = tf.Variable(np.int64(5), name="w")
first = tf.count_up_to(v, 2, name="counter")
second = w.count_up_to(7)
init = tf.global_variables_initializer()
fetches = [first, second]
runs = [{}, {}, {}]
""",
    "resource_count_up_to": """
v = tf.Variable(3, name="rv", use_resource=True)
w = tf.Variable(np.int64(0), name="rw", use_resource=True)
counted = raw.ResourceCountUpTo(resource=v.handle, limit=5, T=tf.int32)
public = tf.count_up_to(w, 10, name="public")
init = tf.global_variables_initializer()
fetches = [counted, public]
runs = [{}, {}, {}]
""",
    "roll": """
x = tf.placeholder(tf.float32, [None, 3], name="x")
n = tf.placeholder(tf.int32, [None, 2], name="n")
a = tf.roll(x, 1, 0)
b = tf.roll(x, [-1, 4], [0, 1], name="both")
c = tf.roll(x, [2, -1], [1, 1])
d = tf.roll(n, tf.constant(-3, tf.int64), tf.constant(0, tf.int64))
e = tf.manip.roll(x, [1], [-1])
grad = tf.gradients(tf.reduce_sum(b * x) + tf.reduce_sum(c * c), x)[0]
fetches = [a, b, c, d, e, grad]
runs = [{"x:0": [[1., 2., 3.], [4., 5., 6.]], "n:0": [[1, 2], [3, 4], [5, 6]]},
        {"x:0": np.zeros([0, 3]), "n:0": [[7, 8]]}]
""",
    "reverse_sequence": """
x = tf.placeholder(tf.float32, [3, 4], name="x")
lengths = tf.placeholder(tf.int64, [3], name="lengths")
a = tf.reverse_sequence(x, lengths, seq_axis=1, batch_axis=0)
b = tf.reverse_sequence(tf.transpose(x), tf.constant([4, 0, 2], tf.int32), seq_axis=0,
                        batch_axis=1, name="by_columns")
c = tf.reverse_sequence(tf.cast(x, tf.int32), [1, 2, 3], 1)
grad = tf.gradients(tf.reduce_sum(a * x) + tf.reduce_sum(b), x)[0]
fetches = [a, b, c, grad]
runs = [{"x:0": np.arange(12).reshape(3, 4), "lengths:0": [0, 4, 2]},
        {"x:0": np.ones([3, 4]), "lengths:0": [5, 1, 1]},
        {"x:0": np.ones([3, 4]), "lengths:0": [-1, 1, 1]}]
""",
    "sorted_segments": """
x = tf.placeholder(tf.float32, [None, 2], name="x")
i = tf.placeholder(tf.int32, [None, 2], name="i")
ids = tf.placeholder(tf.int32, [None], name="ids")
outs = [tf.segment_max(x, ids), tf.segment_min(x, ids), tf.segment_mean(x, ids),
        tf.segment_prod(x, ids), tf.math.segment_max(i, ids), tf.math.segment_min(i, ids),
        tf.segment_mean(i, ids), tf.segment_prod(i, ids)]
grads = tf.gradients([tf.reduce_sum(o * o) for o in outs[:4]], x)
fetches = outs + grads
runs = [{"x:0": [[1., 2.], [3., 2.], [0., -1.], [4., 0.], [-2., 0.]],
         "i:0": [[1, -7], [3, 2], [0, -1], [4, 5], [-2, 9]], "ids:0": [0, 0, 2, 2, 4]},
        {"x:0": [[1., 2.], [3., 2.]], "i:0": [[1, 2], [3, 2]], "ids:0": [1, 0]},
        {"x:0": [[1., 2.], [3., 2.]], "i:0": [[1, 2], [3, 2]], "ids:0": [-1, 0]},
        {"x:0": np.zeros([0, 2]), "i:0": np.zeros([0, 2]), "ids:0": []}]
""",
    "unsorted_segments": """
x = tf.placeholder(tf.float32, [2, 3, 2], name="x")
i = tf.placeholder(tf.int64, [None], name="i")
ids = tf.placeholder(tf.int32, [2, 3], name="ids")
flat = tf.constant([1, -1, 0, 1], name="flat")
outs = [tf.unsorted_segment_max(x, ids, 4), tf.unsorted_segment_min(x, ids, 4),
        tf.unsorted_segment_prod(x, ids, 4), tf.math.unsorted_segment_mean(x, ids, 4),
        tf.unsorted_segment_sqrt_n(x, ids, tf.constant(4, tf.int64)),
        tf.unsorted_segment_max(i, flat, 3), tf.unsorted_segment_min(i, flat, 3),
        tf.unsorted_segment_prod(i, flat, 3)]
grads = tf.gradients([tf.reduce_sum(o * o) for o in outs[:5]], x)
fetches = outs + grads
runs = [{"x:0": [[[1., 2.], [3., 2.], [0., 5.]], [[3., 1.], [-1., 0.], [2., 0.]]],
         "ids:0": [[0, 0, 2], [-1, 0, 2]], "i:0": [4, 5, -6, 7]},
        {"x:0": np.ones([2, 3, 2]), "ids:0": [[0, 4, 0], [0, 0, 0]], "i:0": [1, 2, 3, 4]}]
""",
    "segment_dtypes": """
ids = tf.constant([0, 0, 1, 3], tf.int64, name="ids")
d = tf.placeholder(tf.float64, [4], name="d")
b = tf.placeholder(tf.uint8, [4], name="b")
h = tf.placeholder(tf.float16, [4], name="h")
s = tf.placeholder(tf.int16, [4], name="s")
fetches = [tf.segment_max(d, ids), tf.segment_mean(d, ids), tf.segment_prod(b, ids),
           tf.segment_min(h, ids), tf.segment_mean(s, ids),
           tf.unsorted_segment_max(b, ids, 5), tf.unsorted_segment_min(s, ids, 5),
           tf.unsorted_segment_max(h, ids, tf.constant(5, tf.int64)),
           tf.unsorted_segment_prod(d, ids, 5), tf.unsorted_segment_mean(h, ids, 5),
           tf.roll(b, -1, 0), tf.tensor_scatter_nd_min(s, [[1], [1]], [-3, 7]),
           tf.reverse_sequence(tf.reshape(h, [2, 2]), np.array([2, 1], np.int32), 1)]
runs = [{"d:0": [1.5, -2., 4., 8.], "b:0": [200, 3, 7, 255], "h:0": [0.5, -1.5, 2., 3.],
         "s:0": [-7, 2, 9, -1]}]
""",
    "scatter_nd_ref": """
v = tf.Variable(tf.zeros([4, 3]), name="v")
k = tf.Variable([1, 2, 3, 4], name="k")
updated = tf.scatter_nd_update(v, [[1], [3]], [[1., 2., 3.], [4., 5., 6.]])
with tf.control_dependencies([updated]):
    added = tf.scatter_nd_add(v, [[1, 2], [1, 2], [0, 0]], [5., 1., -2.])
with tf.control_dependencies([added]):
    subbed = tf.scatter_nd_sub(v, tf.constant([[2]], tf.int64), [[1., 1., 1.]])
with tf.control_dependencies([subbed]):
    after = tf.identity(v)
counted = tf.scatter_nd_add(k, [[0], [0], [3]], [10, 1, -4])
fetches = [after, counted]
init = tf.global_variables_initializer()
runs = [{}, {}]
""",
    "scatter_nd_resource": """
v = tf.Variable(tf.zeros([4, 3]), name="v", use_resource=True)
updated = tf.scatter_nd_update(v, [[1], [3]], [[1., 2., 3.], [4., 5., 6.]])
with tf.control_dependencies([updated]):
    added = tf.scatter_nd_add(v, [[1, 2], [1, 2]], [5., 1.])
with tf.control_dependencies([added]):
    subbed = tf.scatter_nd_sub(v, [[2]], [[1., 1., 1.]], name="sub")
with tf.control_dependencies([subbed]):
    after = v.read_value()
fetches = [after]
init = tf.global_variables_initializer()
runs = [{}, {}]
""",
    "tensor_scatter": """
x = tf.placeholder(tf.float32, [4, 3], name="x")
n = tf.placeholder(tf.int32, [2, 2, 2], name="n")
u = tf.placeholder(tf.float32, [2, 3], name="u")
rows = [[1], [3]]
outs = [tf.tensor_scatter_nd_update(x, rows, u), tf.tensor_scatter_nd_add(x, [[1], [1]], u),
        tf.tensor_scatter_nd_sub(x, rows, u, name="minus"),
        tf.tensor_scatter_nd_max(x, [[0, 0], [0, 0], [2, 1]], [5., 9., -1.]),
        tf.tensor_scatter_nd_min(x, [[0, 0], [2, 1]], [5., -1.]),
        tf.tensor_scatter_update(x, rows, u), tf.tensor_scatter_add(x, rows, u),
        tf.tensor_scatter_sub(x, rows, u),
        tf.tensor_scatter_nd_add(n, tf.constant([[0, 1], [0, 1]], tf.int64), [[1, 2], [3, 4]]),
        tf.tensor_scatter_nd_max(n, [[1, 0, 1]], [100]),
        tf.tensor_scatter_nd_update(x, np.zeros([0, 1], np.int32), np.zeros([0, 3], np.float32)),
        tf.tensor_scatter_nd_update(n, [[0, 0, 1], [0, 0, 1]], [5, 7])]
grads = tf.gradients([tf.reduce_sum(o * o) for o in outs[:5]], [x, u])
fetches = outs + grads
runs = [{"x:0": np.arange(12).reshape(4, 3) - 4, "u:0": [[1., 2., 3.], [9., 9., 9.]],
         "n:0": np.arange(8).reshape(2, 2, 2)}]
""",
    "space_batch": """
img = tf.placeholder(tf.float32, [2, 4, 5, 2], name="img")
seq = tf.placeholder(tf.int32, [1, 6, 2], name="seq")
s2b = tf.space_to_batch_nd(img, [2, 2], [[0, 2], [1, 2]])
back = tf.batch_to_space_nd(s2b, [2, 2], [[0, 2], [1, 2]])
v1 = tf.space_to_batch(img, [[0, 0], [1, 0]], 2)
v1_back = tf.batch_to_space(v1, [[0, 0], [1, 0]], block_size=2)
nn = tf.nn.space_to_batch(img, [[2, 2], [1, 0]], 2, name="nn_s2b")
seq_s2b = tf.space_to_batch_nd(seq, tf.constant([3], tf.int64), [[1, 2]])
raw_s2b = raw.SpaceToBatch(input=img, paddings=[[0, 0], [1, 0]], block_size=2)
raw_b2s = raw.BatchToSpace(input=raw_s2b, crops=[[0, 0], [1, 0]], block_size=2)
grads = tf.gradients([tf.reduce_sum(s2b * s2b), tf.reduce_sum(v1_back * 3.),
                      tf.reduce_sum(raw_b2s * raw_b2s)], img)
fetches = [s2b, back, v1, v1_back, nn, seq_s2b, raw_s2b, raw_b2s] + grads
runs = [{"img:0": np.arange(80).reshape(2, 4, 5, 2), "seq:0": np.arange(12).reshape(1, 6, 2)}]
""",
    "bincount": """
arr = tf.placeholder(tf.int32, [None], name="arr")
w = tf.placeholder(tf.float32, [None], name="w")
counts = tf.bincount(arr)
weighted = tf.bincount(arr, weights=w, minlength=6, maxlength=10)
capped = tf.math.bincount(arr, maxlength=2, dtype=tf.int64)
raw_counts = raw.Bincount(arr=arr, size=4, weights=w)
raw_plain = raw.Bincount(arr=arr, size=3, weights=tf.constant([], tf.float64))
fetches = [counts, weighted, capped, raw_counts, raw_plain]
runs = [{"arr:0": [1, 2, 2, 7], "w:0": [0.5, 1., 2., 3.]},
        {"arr:0": [], "w:0": []},
        {"arr:0": [1, -2], "w:0": [1., 1.]}]
""",
    "cross_unique_unravel": """
a = tf.placeholder(tf.float32, [None, 3], name="a")
b = tf.placeholder(tf.float32, [None, 3], name="b")
c = tf.cross(a, b)
ci = tf.linalg.cross(tf.cast(a, tf.int32), tf.cast(b, tf.int32))
y, idx, count = tf.unique_with_counts(tf.constant([4, 1, 4, 4, 2, 1]))
y64, idx64, count64 = tf.unique_with_counts(tf.constant([2.5, -1.0, 2.5]),
                                            out_idx=tf.int64, name="u64")
flat = tf.placeholder(tf.int32, [None], name="flat")
unravelled = tf.unravel_index(flat, [2, 3, 4])
one = tf.unravel_index(tf.constant(17, tf.int64), tf.constant([3, 6], tf.int64))
grads = tf.gradients(tf.reduce_sum(c * c), [a, b])
fetches = [c, ci, y, idx, count, y64, idx64, count64, unravelled, one] + grads
runs = [{"a:0": [[1., 2., 3.], [0., -1., 5.]], "b:0": [[4., 5., 6.], [2., 2., 2.]],
         "flat:0": [0, 5, 23]},
        {"a:0": [[1., 2., 3.]], "b:0": [[4., 5., 6.]], "flat:0": [24]}]
""",
    "checks_and_histograms": """
x = tf.placeholder(tf.float32, [None, 2], name="x")
shaped = tf.ensure_shape(x, [None, 2])
fixed = tf.ensure_shape(x, [3, 2], name="three_rows")
checked = tf.check_numerics(x, "x went bad")
verified = tf.verify_tensor_all_finite(x * 2., "doubled")
debug = tf.debugging.check_numerics(x, "debug")
finite = tf.debugging.assert_all_finite(x, "finite")
hist = tf.histogram_fixed_width(x, [0., 4.], nbins=4)
hist64 = tf.histogram_fixed_width(tf.cast(x, tf.int64), tf.constant([-2, 3], tf.int64),
                                  nbins=tf.constant(5), dtype=tf.int64, name="h64")
grads = tf.gradients([tf.reduce_sum(checked * checked), tf.reduce_sum(shaped * fixed),
                      tf.reduce_sum(verified)], x)
fetches = [shaped, fixed, checked, verified, debug, finite, hist, hist64] + grads
runs = [{"x:0": [[0.5, 1.], [3.9, 4.], [-7., 100.]]},
        {"x:0": [[0.5, 1.], [1., np.nan], [2., 3.]]},
        {"x:0": [[1., 1.]]}]
""",
}

# Programs whose run fails: TensorFlow's error class and message (the line before the node's
# name). `fed(value)` is a placeholder with that default and an unknown shape, so that shape
# inference leaves the check to the kernel.
ERROR_CASES = {
    "count_up_to_limit": "v = tf.Variable(2, name='v')\ninit = v.initializer\n"
                         "fetch = v.count_up_to(2)",
    "roll_axis": "fetch = tf.roll(fed([1, 2, 3]), 1, fed(2))",
    "roll_sizes": "fetch = tf.roll(fed([1, 2, 3]), fed([1, 1]), fed([0]))",
    "roll_scalar": "fetch = tf.roll(fed(1.0), 1, 0)",
    "reverse_sequence_long": "fetch = tf.reverse_sequence(fed([[1, 2, 3]]), "
                             "fed(np.array([4], np.int64)), 1)",
    "reverse_sequence_count": "fetch = tf.reverse_sequence(fed([[1, 2]]), "
                              "fed(np.array([1, 1], np.int64)), 1)",
    "segment_not_sorted": "fetch = tf.segment_max(fed([1., 2., 3.]), fed([1, 0, 0]))",
    "segment_negative": "fetch = tf.segment_mean(fed([1., 2., 3.]), fed([-1, 0, 0]))",
    "segment_size": "fetch = tf.segment_prod(fed([1., 2., 3.]), fed([0, 0]))",
    "unsorted_out_of_range": "fetch = tf.unsorted_segment_min(fed([[1.], [2.]]), fed([0, 5]), 3)",
    "unsorted_shape": "fetch = tf.unsorted_segment_prod(fed([1, 2, 3]), fed([0, 0]), 3)",
    "tensor_scatter_index": "fetch = tf.tensor_scatter_nd_update(fed([1., 2., 3.]), fed([[5]]), "
                            "[1.])",
    "tensor_scatter_negative": "fetch = tf.tensor_scatter_nd_add(fed([1., 2., 3.]), fed([[-1]]), "
                               "[1.])",
    "tensor_scatter_outer": "fetch = tf.tensor_scatter_nd_sub(fed([[1., 2., 3.]]), [[0]], "
                            "fed([1., 2.]))",
    "tensor_scatter_inner": "fetch = tf.tensor_scatter_nd_max(fed([[1., 2., 3.]]), [[0]], "
                            "fed([[1., 2.]]))",
    "scatter_nd_index": "v = tf.Variable([1., 2., 3.], name='v')\ninit = v.initializer\n"
                        "fetch = tf.scatter_nd_update(v, [[4]], [1.])",
    # TensorFlow's builder passes the name on as bad_indices_policy, which then fails the run.
    "scatter_nd_named": "v = tf.Variable([1., 2., 3.], name='v')\ninit = v.initializer\n"
                        "fetch = tf.scatter_nd_add(v, [[0]], [1.], name='adder')",
    "scatter_nd_updates": "v = tf.Variable([1., 2., 3.], name='v')\ninit = v.initializer\n"
                          "fetch = tf.scatter_nd_add(v, fed([[0]]), fed([1., 2.]))",
    "space_to_batch_divisible": "fetch = tf.space_to_batch_nd(fed(np.zeros([1, 3, 3, 1])), "
                                "tf.placeholder_with_default([2, 2], [2]), [[0, 0], [0, 0]])",
    "space_to_batch_padding": "fetch = tf.space_to_batch_nd(fed(np.zeros([1, 4, 4, 1])), [2, 2], "
                              "tf.placeholder_with_default([[-1, 1], [0, 0]], [2, 2]))",
    "space_to_batch_block": "fetch = tf.space_to_batch_nd(fed(np.zeros([1, 4, 4, 1])), "
                            "tf.placeholder_with_default([0, 2], [2]), [[0, 0], [0, 0]])",
    "batch_to_space_batch": "fetch = tf.batch_to_space_nd(fed(np.zeros([3, 2, 2, 1])), [2, 2], "
                            "[[0, 0], [0, 0]])",
    "batch_to_space_crops": "fetch = tf.batch_to_space_nd(fed(np.zeros([4, 2, 2, 1])), [2, 2], "
                            "tf.placeholder_with_default([[3, 3], [0, 0]], [2, 2]))",
    "cross_length": "fetch = tf.cross(fed([1., 2.]), fed([1., 2.]))",
    "cross_shapes": "fetch = tf.cross(fed([1., 2., 3.]), fed([[1., 2., 3.]]))",
    "unique_rank": "fetch = tf.unique_with_counts(fed([[1]]))[0]",
    "unravel_bound": "fetch = tf.unravel_index(fed([7]), [2, 3])",
    "unravel_zero_dim": "fetch = tf.unravel_index([0], fed([0, 3]))",
    "ensure_shape": "fetch = tf.ensure_shape(fed([[1., 2.]]), [None, 3])",
    "check_numerics_nan": "fetch = tf.check_numerics(fed([np.nan, 1.]), 'hello')",
    "check_numerics_both": "fetch = tf.check_numerics(fed([np.inf, np.nan]), 'hello')",
    "histogram_range": "fetch = tf.histogram_fixed_width([1., 2.], fed([5., 0.]), nbins=5)",
    "histogram_bins": "fetch = tf.histogram_fixed_width([1., 2.], [0., 5.], nbins=fed(0))",
    "bincount_negative": "fetch = tf.bincount(fed([1, -1]))",
}

_ERROR_DRIVER = """
import numpy as np

def message_line(message):
    # The line before the failing node's "[[{{node ...}}]]" (TensorFlow's graph execution
    # errors put a traceback before it).
    lines = [line for line in message.split("\\n") if line.strip()]
    marker = next(i for i, line in enumerate(lines) if "[[{{node" in line)
    return lines[marker - 1]

def run_error_case(code):
    graph = tf.Graph()
    scope = {"tf": tf, "np": np, "fed": lambda value: tf.placeholder_with_default(value, None)}
    with graph.as_default():
        exec(code, scope)
    with tf.Session(graph=graph) as sess:
        if scope.get("init") is not None:
            sess.run(scope["init"])
        try:
            sess.run(scope["fetch"])
        except tf.errors.OpError as exc:
            return [type(exc).__name__, message_line(exc.message)]
    return None
"""

exec(_ERROR_DRIVER, _SCOPE)  # noqa: S102 (the same error driver, with tensorkeep)

_TENSORFLOW_PRELUDE = _ERROR_DRIVER + """
EXTRA_SCOPE = {"raw": tf.raw_ops}
"""

# What TensorFlow reports besides the cases, in the same process.
_TENSORFLOW_EXTRAS = """
from tf_oracle import stripped_op_def
extras["errors"] = {name: run_error_case(code) for name, code in request["errors"].items()}
extras["op_defs"] = {name: stripped_op_def(name).hex() for name in request["op_types"]}
"""


@pytest.fixture(scope="module")
def both():
    """(ours, theirs, extras), as driver_interop.describe_in_both."""
    return describe_in_both(_SCOPE, CASES, tensorflow_prelude=_TENSORFLOW_PRELUDE,
                            tensorflow_extras=_TENSORFLOW_EXTRAS,
                            request={"errors": ERROR_CASES, "op_types": OP_TYPES})


def test_op_defs_equal_tensorflows(both):
    for name in OP_TYPES:
        theirs = protos.OpDef.FromString(bytes.fromhex(both[2]["op_defs"][name]))
        assert op_def_lib.get_schema(name).op_def == theirs, name


@pytest.mark.parametrize("name", sorted(CASES))
def test_graphs_match_tensorflow(both, name):
    assert_same_nodes(both[0][name]["nodes"], both[1][name]["nodes"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_tensorflow(both, name):
    assert_same_results(both[0][name]["results"], both[1][name]["results"], name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_graph_defs_run_on_the_other_side(both, name):
    assert_graph_defs_run_on_both_sides(_SCOPE, CASES[name], both[1][name], name)


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_errors_match_tensorflow(both, name):
    theirs = both[2]["errors"][name]
    assert theirs is not None, name
    assert _SCOPE["run_error_case"](ERROR_CASES[name]) == theirs
