"""Sparse-tensor ops against real TensorFlow (one subprocess for everything).

The programs of tests/sparse_cases.py (unordered and duplicate indices, gradients, placeholders,
operators on SparseTensor) are built with tensorkeep and with TensorFlow (tf.compat.v1, graph
mode): their nodes (names, types, inputs) and values must agree, bad inputs must fail with the
same error class and message, and the OpDefs of the sparse ops must be TensorFlow's.
"""

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework import op_def as op_def_lib
from tensorkeep.io import protos

import sparse_cases
from tf_oracle import require_tensorflow, run_tensorflow

pytestmark = pytest.mark.tf

_TENSORFLOW_SIDE = """
import sparse_cases
from tensorflow.python.framework import op_def_registry
op_defs = {}
for name in sparse_cases.OP_TYPES:
    found = op_def_registry.get(name)
    op_defs[name] = None if found is None else found.SerializeToString().hex()
emit({"cases": sparse_cases.run_all(tf), "op_defs": op_defs})
"""


@pytest.fixture(scope="module")
def theirs():
    require_tensorflow()
    return run_tensorflow(_TENSORFLOW_SIDE)


@pytest.fixture(scope="module")
def ours():
    return sparse_cases.run_all(tf)


def _error_text(message):
    """The error's own text: TensorFlow prefixes where the node was defined and both sides
    append the node name."""
    if "\nNode: '" in message:
        message = message.split("\nNode: '", 1)[1].split("\n", 1)[1]
    return message.split("\n\t [[")[0]


def _assert_close(actual, expected, where):
    if isinstance(expected, dict) and "indices" in expected:
        for part in ("indices", "values", "dense_shape"):
            _assert_close(actual[part], expected[part], "%s.%s" % (where, part))
        return
    assert actual["dtype"] == expected["dtype"], where
    assert actual["shape"] == expected["shape"], where
    # float32 exp and sums may differ in the last bit from TensorFlow's vectorised kernels.
    np.testing.assert_allclose(np.array(actual["value"], dtype=np.float64),
                               np.array(expected["value"], dtype=np.float64),
                               rtol=1e-6, atol=1e-7, err_msg=where)


@pytest.mark.parametrize("name", sorted(sparse_cases.CASES))
def test_nodes_match_tensorflow(name, theirs, ours):
    assert ours[name]["nodes"] == theirs["cases"][name]["nodes"]


@pytest.mark.parametrize("name", sorted(sparse_cases.CASES))
def test_static_shapes_match_tensorflow(name, theirs, ours):
    assert ours[name]["static_shapes"] == theirs["cases"][name]["static_shapes"]


@pytest.mark.parametrize("name", sorted(sparse_cases.CASES))
def test_values_match_tensorflow(name, theirs, ours):
    expected = theirs["cases"][name]["results"]
    actual = ours[name]["results"]
    assert len(actual) == len(expected)
    for i, (mine, reference) in enumerate(zip(actual, expected)):
        _assert_close(mine, reference, "%s[%d]" % (name, i))


@pytest.mark.parametrize("name", sorted(sparse_cases.ERROR_CASES))
def test_errors_match_tensorflow(name, theirs, ours):
    expected, actual = theirs["cases"][name], ours[name]
    if expected["error"] is None:
        assert actual == expected
        return
    assert actual["error"] is not None, actual
    assert actual["error"][0] == expected["error"][0]
    assert _error_text(actual["error"][1]) == _error_text(expected["error"][1])


@pytest.mark.parametrize("op_type", sparse_cases.OP_TYPES)
def test_op_defs_match_tensorflow(op_type, theirs):
    encoded = theirs["op_defs"][op_type]
    assert encoded is not None, "TensorFlow has no op %s" % op_type
    expected = protos.OpDef.FromString(bytes.fromhex(encoded))
    for arg in list(expected.input_arg) + list(expected.output_arg):
        arg.description = ""
    for attr in expected.attr:
        attr.description = ""
    expected.ClearField("summary")
    expected.ClearField("description")
    assert str(op_def_lib.get_schema(op_type).op_def) == str(expected)
