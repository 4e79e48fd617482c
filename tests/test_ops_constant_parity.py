"""Constants as TensorFlow 2.21 (tf.compat.v1, graph mode) builds them, checked live against
real TensorFlow in one subprocess for this file:

- tf.zeros / tf.ones / zeros_like / ones_like graphs node for node (a Const for shapes of under
  1000 elements, empty ones included; Fill for larger or scalar shapes; names and scopes);
- the TensorProtos of tf.constant and make_tensor_proto for integers at the edges of int32,
  uint32, int64 and uint64 (values over 2**63 kept exactly where TensorFlow keeps them, out of
  range values wrapped around, lists mixing them going through float64 as in TensorFlow), for
  Python values given with a shape of no elements, and for float16 and bfloat16 scalars,
  vectors and matrices (tensor_content for whole arrays of several elements);
- the errors (their types) where TensorFlow refuses the values.
"""

import functools
import textwrap
import warnings

import numpy as np
import pytest

from tf_oracle import run_tensorflow

# Each case runs in a fresh graph on both sides (`tf`, `np` bound); its GraphDef is compared.
GRAPH_CASES = {
    "zeros_small_and_empty": """
        for shape in ([0], [2, 0], [], [3], [2, 3], [0, 2000], (0,), np.array([2, 0])):
            tf.zeros(shape)
            tf.ones(shape)
    """,
    "zeros_dtypes": """
        for dtype in (tf.float32, tf.int32, tf.int64, tf.bool, tf.complex64, tf.float16,
                      tf.bfloat16, tf.uint8, tf.string):
            for shape in ([0], [2, 0], [], [3]):
                tf.zeros(shape, dtype=dtype)
                if dtype != tf.string:
                    tf.ones(shape, dtype=dtype)
    """,
    "zeros_around_1000_elements": """
        for shape in ([999], [1000], [1001], [10, 100], [10, 101], [2000]):
            tf.zeros(shape)
            tf.ones(shape, dtype=tf.int32)
    """,
    "zeros_scalar_and_tensor_shapes": """
        tf.zeros(0)
        tf.zeros(3)
        tf.ones(0)
        tf.zeros(tf.constant([2, 3]))
        tf.zeros((2, tf.constant(3)))
        tf.zeros(tf.TensorShape([2, 0]))
        tf.zeros(tf.TensorShape([2, 600]))
    """,
    "zeros_names": """
        tf.zeros([0], name="z")
        tf.ones([0], name="o")
        tf.zeros([2000], name="big")
        with tf.name_scope("scope"):
            tf.zeros([0, 3], name="z")
            tf.zeros([3000])
            tf.ones([], name="one")
    """,
    "zeros_like_and_ones_like": """
        empty = tf.placeholder(tf.float32, [3, 0])
        tf.zeros_like(empty)
        tf.ones_like(empty)
        tf.zeros_like(empty, dtype=tf.int32)
        tf.ones_like(empty, dtype=tf.int32)
        tf.zeros_like(tf.constant([1.0, 2.0]))
        tf.ones_like(tf.constant([1.0, 2.0]))
        tf.zeros_like(tf.constant(np.zeros([0])))
        tf.ones_like(tf.constant(np.zeros([0])))
        tf.zeros_like(tf.constant(np.zeros([2000])))
        tf.ones_like(tf.constant(np.zeros([2000])))
    """,
    # ones of strings fail in TensorFlow after building the shape's tensor.
    "ones_of_strings_fail": """
        for shape in ([0], [2, 0], [3]):
            try:
                tf.ones(shape, dtype=tf.string)
            except TypeError:
                pass
    """,
}

# (values, dtype, shape) as Python expressions (`np`, `ml_dtypes` bound), evaluated on each side.
CONSTANT_CASES = [
    # integers at the edges, no dtype: int32 while no value is lost, else int64, uint64 when
    # every value needs it, float32 (through float64) for lists mixing negatives and >= 2**63
    "2**31 - 1", "-2**31", "2**31", "-2**31 - 1", "2**32 - 1", "[2**31 - 1, -2**31]",
    "[2**31, 1]", "[-1, 2**31]", "2**63 - 1", "-2**63", "[-2**63, 2**63 - 1]", "2**63",
    "2**64 - 1", "[2**63 + 1, 2**64 - 1]", "[2**64 - 1]", "[2**63, True]", "[[2**63], [2**64 - 1]]",
    "[2**63, -1]", "[1, 2**63]", "[2**63, 2**64 - 1, 0]", "[2**63, 1.5]", "2**64", "-2**63 - 1",
    # with a dtype: exact where NumPy infers the dtype's kind, through float64 otherwise
    ("2**63", "uint64"), ("2**64 - 1", "uint64"), ("[2**63, 1]", "uint64"),
    ("[2**63 + 1, 1]", "uint64"), ("[2**64 - 1, 0, 5]", "uint64"),
    ("[2**63 + 1, 2**64 - 1]", "uint64"),
    ("[[2**63 + 1], [3]]", "uint64"), ("[2**63, 2**63, 2**63]", "uint64"), ("2**62", "uint64"),
    ("True", "uint64"), ("[]", "uint64"), ("2**64", "uint64"),
    ("-2**63", "int64"), ("2**63 - 1", "int64"), ("[-2**63, 2**63 - 1]", "int64"),
    ("[2**53 + 1, -1]", "int64"), ("[1, 2**64 - 1]", "int64"),
    ("2**31", "uint32"), ("2**32 - 1", "uint32"), ("[2**31, 2**32 - 1]", "uint32"),
    ("[2**31, 5]", "uint32"),
    # out of range: wrapped around, as a C cast does
    ("2**63", "int64"), ("[2**63, -1]", "int64"), ("[2**63, -1]", "uint64"), ("-1", "uint64"),
    ("-2**63", "uint64"), ("-1", "uint32"), ("2**32", "uint32"), ("[2**32 + 5, 1]", "uint32"),
    ("2**40", "int32"), ("[2**32 - 1, 2**31]", "int32"), ("2**15", "int16"), ("2**63", "uint16"),
    # floats refused for integer dtypes, even integral ones
    ("3.0", "int32"), ("[1, 2.0]", "int64"), ("3.0", "uint64"), ("[2**63, 2.0]", "uint64"),
    ("1.5", "uint64"), ("[1, None]", "int32"),
    # broadcast to a shape
    ("2**63", "uint64", "[3]"), ("2**63", "uint64", "[2, 2]"), ("[2**63, 7]", "uint64", "[4]"),
    ("2**31", "uint32", "[3]"), ("[2**31, 5]", "uint32", "[3]"), ("2**64 - 1", "uint64", "[1]"),
    # NumPy values: cast as they are
    ("np.uint64(2**64 - 1)",), ("np.array([2**63, 1], np.uint64)",),
    ("np.array([2**63, 1], np.uint64)", "int64"), ("np.int64(-1)", "uint64"),
    ("np.array([3.5, -2.5])", "int32"), ("[np.uint64(2**63), np.uint64(1)]",),
    ("[np.uint64(2**63), 1]",), ("[np.uint32(5), np.uint32(2**31)]",),
    ("[np.int8(1), np.int8(2)]",),
    ("[np.complex64(1), np.complex64(2j)]",),
    # Python values with a shape of no elements: only strings are still looked at
    ("0.0", None, "[0]"), ("[1.0, 2.0]", None, "[0]"), ("'abc'", None, "[0]"),
    ("'abc'", "string", "[0]"), ("[['a'], ['b', 'c']]", "string", "[0]"),
    ("[b'x', 'y']", "string", "[2, 0]"), ("0.0", "string", "[0]"), ("5", None, "[2, 0]"),
    ("5", "int32", "[2, 0]"), ("[1, 2, 3]", "float16", "[0, 5]"), ("1+2j", None, "[0]"),
    ("True", "bool", "[0]"), ("0.0", "bool", "[0]"), ("[2**63]", "uint64", "[0]"),
    ("1", "complex64", "[0]"), ("1", "bfloat16", "[0]"), ("1", "qint8", "[0]"),
    ("np.float32(3)", None, "[0]"), ("np.zeros(0)", None, "[2, 0]"), ("np.zeros(3)", None, "[0]"),
    ("None",), ("None", None, "[0]"), ("None", "float32", "[2]"),
]
for _dtype, _numpy in (("bfloat16", "ml_dtypes.bfloat16"), ("float16", "np.float16")):
    CONSTANT_CASES += [
        (value, _dtype) for value in (
            "1.5", "0.0", "-0.0", "float('nan')", "float('inf')", "1e10", "3.14159", "1", "[1.5]",
            "[[1.0]]", "[]", "[1.5, -2.25, 3.0]", "[[1.0, 2.0], [3.0, 4.5]]", "[1, 2]",
            "np.array([1.5, 2.5], np.float32)", "np.float32(1.5)")]
    CONSTANT_CASES += [
        ("1.5", _dtype, "[3]"), ("1.5", _dtype, "[2, 2]"), ("[1.0, 2.0]", _dtype, "[3]"),
        ("[1.0, 2.0]", _dtype, "[2]"), ("[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]", _dtype, "[2, 3]"),
        ("np.array(1.5, %s)" % _numpy,),
        ("np.array([1.5, 2.5], %s)" % _numpy,),
        ("np.array([[1.5, 2.5], [3, 4]], %s)" % _numpy,),
        ("np.array([1.5], %s)" % _numpy,),
        ("np.array([1.5, 2.5], %s)" % _numpy, None, "[2]"),
        ("np.array(1.5, %s)" % _numpy, None, "[4]"),
        ("np.array([1.5, 2.5], %s)" % _numpy, _dtype, "[3]"),
        ("[%s(1.5), %s(2.5)]" % (_numpy, _numpy),),
        ("np.zeros([2, 0], %s)" % _numpy,),
    ]
CONSTANT_CASES = [(case,) if isinstance(case, str) else case for case in CONSTANT_CASES]
CONSTANT_CASES = [case + (None,) * (3 - len(case)) for case in CONSTANT_CASES]

# Both sides: every case's GraphDef nodes as text (the nodes' experimental_type cleared:
# tensorkeep does not infer full types for Shape nodes, a difference outside these cases'
# subject), every constant case's serialized TensorProto from tf.constant and from
# make_tensor_proto, or the type of the error raised.
RUNNER = r'''
import ml_dtypes


def graph_nodes(code):
    graph = tf.Graph()
    with graph.as_default():
        exec(code, {"tf": tf, "np": np})
    nodes = []
    for node in graph.as_graph_def().node:
        node.ClearField("experimental_type")
        nodes.append(str(node))
    return nodes


def encoded(build):
    try:
        return build().SerializeToString(deterministic=True).hex()
    except Exception as error:  # the type of error is compared
        return type(error).__name__


def constant_protos(values_code, dtype_name, shape_code):
    scope = {"np": np, "ml_dtypes": ml_dtypes}
    values = eval(values_code, scope)
    dtype = None if dtype_name is None else tf.as_dtype(dtype_name)
    shape = None if shape_code is None else eval(shape_code, scope)
    with tf.Graph().as_default():
        const = encoded(lambda: tf.constant(values, dtype=dtype, shape=shape).op.get_attr("value"))
    proto = encoded(lambda: tf.make_tensor_proto(values, dtype=dtype, shape=shape))
    return [const, proto]


def run_all(graph_cases, constant_cases):
    return {"graphs": {name: graph_nodes(code) for name, code in graph_cases.items()},
            "constants": [constant_protos(*case) for case in constant_cases]}
'''


def _cases():
    return {name: textwrap.dedent(code) for name, code in GRAPH_CASES.items()}, CONSTANT_CASES


@functools.lru_cache(maxsize=None)
def _tensorflow_results():
    graph_cases, constant_cases = _cases()
    return run_tensorflow("import numpy as np\n" + RUNNER + "emit(run_all(%r, %r))\n"
                          % (graph_cases, constant_cases))


@functools.lru_cache(maxsize=None)
def _tensorkeep_results():
    import tensorkeep as tf

    scope = {"tf": tf, "np": np}
    exec(RUNNER, scope)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's, on casts that overflow (TensorFlow's too)
        return scope["run_all"](*_cases())


@pytest.mark.tf
@pytest.mark.parametrize("name", sorted(GRAPH_CASES))
def test_zeros_and_ones_graphs_match_tensorflow_node_for_node(name):
    ours = _tensorkeep_results()["graphs"][name]
    theirs = _tensorflow_results()["graphs"][name]
    assert [n.splitlines()[0] for n in ours] == [n.splitlines()[0] for n in theirs]
    for mine, reference in zip(ours, theirs):
        assert mine == reference


@pytest.mark.tf
@pytest.mark.parametrize("index", range(len(CONSTANT_CASES)),
                         ids=[" ".join(str(part) for part in case if part is not None)
                              for case in CONSTANT_CASES])
def test_constant_tensor_protos_match_tensorflow(index):
    ours = _tensorkeep_results()["constants"][index]
    theirs = _tensorflow_results()["constants"][index]
    assert ours == theirs, CONSTANT_CASES[index]


@pytest.mark.parametrize("values, dtype", [
    ([2**63, 2**63 + 1, 2**64 - 1], None), (2**64 - 1, "uint64"), ([2**63, 1], "uint64"),
    ([2**64 - 1, 0, 5], "uint64"), ([2**63, -1], "int64"), ([-2**63, 2**63 - 1], None),
    ([2**31, 2**32 - 1], "uint32"), (-1, "uint64"), (2**40, "int32")])
def test_integer_constants_build_without_warnings(values, dtype):
    import tensorkeep as tf

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tf.Graph().as_default():
            tf.constant(values, dtype=dtype)
            tf.make_tensor_proto(values, dtype=dtype)


def test_uint64_constants_above_2_63_are_exact():
    import tensorkeep as tf

    with tf.Graph().as_default():
        values = [2**63, 2**63 + 1, 2**64 - 1]
        const = tf.constant(values)
        assert const.dtype == tf.uint64
        proto = const.op.get_attr("value")
        assert np.frombuffer(proto.tensor_content, "<u8").tolist() == values
        scalar = tf.constant(2**64 - 1, dtype=tf.uint64).op.get_attr("value")
        assert list(scalar.uint64_val) == [2**64 - 1]
        with tf.Session() as sess:
            assert sess.run(const).tolist() == values
