"""Checks shared by the test modules that run control_flow_cases.DRIVER programs in tensorkeep
and in real TensorFlow and compare the two sides."""

import json

import numpy as np

from control_flow_cases import DRIVER
from tf_oracle import run_tensorflow


def describe_in_both(driver_scope, cases, tensorflow_prelude=""):
    """(ours, theirs): every case described by tensorkeep (through driver_scope) and by
    TensorFlow (after tensorflow_prelude), where TensorFlow also runs tensorkeep's GraphDefs
    (theirs[name]["runs_ours"])."""
    ours = {name: driver_scope["describe_case"](code) for name, code in cases.items()}
    code = tensorflow_prelude + DRIVER + """
import json
cases = json.loads(%r)
ours = json.loads(%r)
out = {}
for name, case_code in cases.items():
    theirs = describe_case(case_code)
    mine = ours[name]
    theirs["runs_ours"] = run_graph_def(mine["graph_def"], mine["fetches"], mine["init"],
                                        build_case(case_code)[3])
    out[name] = theirs
emit(out)
""" % (json.dumps(cases), json.dumps(
        {n: {k: v for k, v in d.items() if k != "nodes"} for n, d in ours.items()}))
    return ours, run_tensorflow(code)


def assert_same_results(ours, theirs, where):
    """Two sides' run results (as the driver emits them) agree run by run."""
    assert len(ours) == len(theirs), where
    for run_index, (mine, reference) in enumerate(zip(ours, theirs)):
        if isinstance(reference, dict) or isinstance(mine, dict):
            assert mine == reference, "%s run %d" % (where, run_index)
            continue
        for value, expected in zip(mine, reference):
            if isinstance(expected, list):  # strings
                assert value == expected, where
                continue
            assert value["dtype"] == expected["dtype"], where
            assert value["shape"] == expected["shape"], where
            np.testing.assert_allclose(value["values"], expected["values"], rtol=1e-6,
                                       err_msg="%s run %d" % (where, run_index))


def assert_same_nodes(mine, reference):
    """The two GraphDefs' node descriptions are the same sets (the first differences shown)."""
    missing = sorted(set(reference) - set(mine))
    extra = sorted(set(mine) - set(reference))
    assert not missing and not extra, "missing:\n%s\nextra:\n%s" % ("\n".join(missing[:5]),
                                                                     "\n".join(extra[:5]))


def assert_graph_defs_run_on_both_sides(driver_scope, case, reference, name):
    """TensorFlow ran tensorkeep's GraphDef (reference["runs_ours"]) and tensorkeep runs
    TensorFlow's GraphDef: both give TensorFlow's own results."""
    assert_same_results(reference["runs_ours"], reference["results"],
                        name + " (tensorkeep's GraphDef in TensorFlow)")
    runs = driver_scope["build_case"](case)[3]
    tensorkeep_runs = driver_scope["run_graph_def"](reference["graph_def"],
                                                    reference["fetches"], reference["init"],
                                                    runs)
    assert_same_results(tensorkeep_runs, reference["results"],
                        name + " (TensorFlow's GraphDef in tensorkeep)")
