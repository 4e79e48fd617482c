"""Linear algebra and diagonal ops against real TensorFlow, all from one TensorFlow process:
the OpDefs, the GraphDefs of the programs in linalg_cases.py node for node (builders' node
names, gradient graphs), their values (float32 and float64, batched; gradients included), each
side running the other's GraphDef, complex inputs, and the error messages of rejected inputs.

Decompositions are compared through what is unique about them (see linalg_cases.py): LAPACK
implementations may flip the sign of a QR, SVD or eigen vector."""

import numpy as np
import pytest

import tensorkeep as tf
import linalg_cases
from control_flow_cases import DRIVER
from driver_interop import assert_same_nodes, describe_in_both
from tensorkeep.framework import op_def
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.io import protos

pytestmark = pytest.mark.tf

OP_TYPES = ["Cholesky", "MatrixInverse", "MatrixDeterminant", "LogMatrixDeterminant",
            "MatrixSolve", "MatrixTriangularSolve", "MatrixSolveLs", "Qr", "Svd",
            "SelfAdjointEigV2", "MatrixBandPart", "MatrixDiag", "MatrixDiagV2", "MatrixDiagV3",
            "MatrixDiagPart", "MatrixDiagPartV2", "MatrixDiagPartV3", "MatrixSetDiag",
            "MatrixSetDiagV2", "MatrixSetDiagV3", "Diag", "DiagPart"]

_SCOPE = {"tf": tf}
exec(DRIVER, _SCOPE)  # noqa: S102 (the shared driver, run with tensorkeep as tf)

STATIC_SHAPES = """
def static_shapes(code):
    graph, fetch_names, _, _ = build_case(code)
    shapes = [graph.get_tensor_by_name(name).shape for name in fetch_names]
    return [None if shape.ndims is None else shape.as_list() for shape in shapes]
"""
exec(STATIC_SHAPES, _SCOPE)  # noqa: S102

# What TensorFlow reports besides the cases, in the same process.
TENSORFLOW_EXTRAS = """
import linalg_cases
from tf_oracle import stripped_op_def

extras.update(
    op_defs={name: stripped_op_def(name).hex() for name in request["op_types"]},
    complex=linalg_cases.complex_values(tf),
    errors=linalg_cases.error_messages(tf),
    raw=linalg_cases.raw_op_values(tf, lambda op_type, **kwargs: getattr(
        tf.raw_ops, op_type)(**kwargs)),
    shapes={name: static_shapes(code) for name, code in cases.items()})
"""


@pytest.fixture(scope="module")
def both():
    """(ours, theirs, extras), as driver_interop.describe_in_both."""
    return describe_in_both(_SCOPE, linalg_cases.CASES, tensorflow_prelude=STATIC_SHAPES,
                            tensorflow_extras=TENSORFLOW_EXTRAS,
                            request={"op_types": OP_TYPES})


def _assert_close(mine, reference, where):
    """Run results agree within the precision of their dtype (LAPACK libraries differ in
    rounding: TensorFlow's Eigen and NumPy's OpenBLAS)."""
    assert len(mine) == len(reference), where
    for run_index, (got, want) in enumerate(zip(mine, reference)):
        if isinstance(want, dict) or isinstance(got, dict):
            assert got == want, "%s run %d" % (where, run_index)
            continue
        assert len(got) == len(want), where
        for fetch_index, (value, expected) in enumerate(zip(got, want)):
            label = "%s run %d fetch %d" % (where, run_index, fetch_index)
            assert value["dtype"] == expected["dtype"], label
            assert value["shape"] == expected["shape"], label
            rtol = 2e-4 if expected["dtype"] == "float32" else 1e-9
            scale = max(1.0, np.max(np.abs(expected["values"]), initial=0.0))
            np.testing.assert_allclose(value["values"], expected["values"], rtol=rtol,
                                       atol=rtol * scale, err_msg=label)


def test_op_defs_equal_tensorflows(both):
    _, _, extras = both
    for name in OP_TYPES:
        expected = protos.OpDef.FromString(bytes.fromhex(extras["op_defs"][name]))
        assert op_def.get_schema(name).op_def == expected, name


@pytest.mark.parametrize("name", sorted(linalg_cases.CASES))
def test_graphs_match_tensorflow(both, name):
    ours, theirs, _ = both
    assert_same_nodes(ours[name]["nodes"], theirs[name]["nodes"])


@pytest.mark.parametrize("name", sorted(linalg_cases.CASES))
def test_values_match_tensorflow(both, name):
    ours, theirs, _ = both
    _assert_close(ours[name]["results"], theirs[name]["results"], name)


@pytest.mark.parametrize("name", sorted(linalg_cases.CASES))
def test_graph_defs_run_on_the_other_side(both, name):
    _, theirs, _ = both
    reference = theirs[name]
    _assert_close(reference["runs_ours"], reference["results"],
                  name + " (tensorkeep's GraphDef in TensorFlow)")
    runs = _SCOPE["build_case"](linalg_cases.CASES[name])[3]
    tensorkeep_runs = _SCOPE["run_graph_def"](reference["graph_def"], reference["fetches"],
                                              reference["init"], runs)
    _assert_close(tensorkeep_runs, reference["results"],
                  name + " (TensorFlow's GraphDef in tensorkeep)")


@pytest.mark.parametrize("name", sorted(linalg_cases.CASES))
def test_static_shapes_match_tensorflow(both, name):
    _, _, extras = both
    assert _SCOPE["static_shapes"](linalg_cases.CASES[name]) == extras["shapes"][name]


def test_raw_ops_match_tensorflow(both):
    _, _, extras = both
    ours = linalg_cases.raw_op_values(tf, apply_op)
    assert len(ours) == len(extras["raw"])
    for index, (mine, reference) in enumerate(zip(ours, extras["raw"])):
        np.testing.assert_allclose(np.array(mine, float), np.array(reference, float),
                                   rtol=1e-9, atol=1e-12, err_msg="output %d" % index)


def test_complex_values_match_tensorflow(both):
    _, _, extras = both
    ours = linalg_cases.complex_values(tf)
    for dtype, rtol in (("complex64", 2e-4), ("complex128", 1e-9)):
        for index, (mine, reference) in enumerate(zip(ours[dtype], extras["complex"][dtype])):
            for part in (0, 1):
                np.testing.assert_allclose(mine[part], reference[part], rtol=rtol, atol=rtol * 10,
                                           err_msg="%s fetch %d" % (dtype, index))


def test_error_messages_match_tensorflow(both):
    _, _, extras = both
    ours = linalg_cases.error_messages(tf)
    assert sorted(ours) == sorted(extras["errors"])
    for name, expected in extras["errors"].items():
        assert ours[name] is not None, name
        assert ours[name][0] == expected[0], name
        assert expected[1] in ours[name][1], name


def test_public_names_exist_like_tensorflows():
    for name in ["cholesky", "cholesky_solve", "matrix_inverse", "matrix_determinant",
                 "matrix_solve", "matrix_triangular_solve", "matrix_solve_ls", "qr", "svd",
                 "self_adjoint_eig", "self_adjoint_eigvals", "matrix_band_part", "matrix_diag",
                 "matrix_diag_part", "matrix_set_diag", "diag", "diag_part", "trace", "eye"]:
        assert callable(getattr(tf, name)), name
    for name in ["adjoint", "band_part", "cholesky", "cholesky_solve", "det", "diag",
                 "diag_part", "eigh", "eigvalsh", "eye", "inv", "logdet", "lstsq", "matmul",
                 "qr", "set_diag", "slogdet", "solve", "svd", "tensor_diag", "tensor_diag_part",
                 "trace", "triangular_solve"]:
        assert callable(getattr(tf.linalg, name)), name


def test_ops_are_registered_by_the_registry_alone():
    # A GraphDef importer reaches the registry without the namespace: load_all_ops finds them.
    registry = op_def.load_all_ops()
    for name in OP_TYPES:
        assert name in registry, name
