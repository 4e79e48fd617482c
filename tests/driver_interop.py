"""What the test modules that run control_flow_cases.DRIVER programs in tensorkeep and in real
TensorFlow share: the exchange with TensorFlow and the comparisons of the two sides."""

import json
import os
import tempfile

import numpy as np

from control_flow_cases import DRIVER
from tf_oracle import run_tensorflow


# TensorFlow's side of describe_in_both, after the caller's prelude and the driver: the caller's
# extras code follows it, then the emit.
_TENSORFLOW_SIDE = """
import json
with open(%r) as _handover_file:
    _handover = json.load(_handover_file)
cases, request = _handover["cases"], _handover["request"]
described = {}
for name, case_code in cases.items():
    theirs = describe_case(case_code)
    mine = _handover["ours"][name]
    theirs["runs_ours"] = run_graph_def(mine["graph_def"], mine["fetches"], mine["init"],
                                        build_case(case_code)[3])
    described[name] = theirs
extras = {}
"""


def describe_in_both(driver_scope, cases, tensorflow_prelude="", tensorflow_extras="",
                     request=None):
    """(ours, theirs, extras): every case described by tensorkeep (through driver_scope) and by
    TensorFlow, where TensorFlow also runs tensorkeep's GraphDefs (theirs[name]["runs_ours"]).

    One TensorFlow process runs tensorflow_prelude (definitions the cases or the extras need),
    the driver and the cases, then tensorflow_extras: code that may fill the dict `extras`
    (returned; JSON) from `cases` and `request` (any JSON data of the caller's). The cases,
    tensorkeep's GraphDefs and the request reach TensorFlow in a temporary file, so they may be
    of any size (gradient GraphDefs exceed a command line)."""
    ours = {name: driver_scope["describe_case"](code) for name, code in cases.items()}
    handover = {"cases": cases, "request": request,
                "ours": {name: {key: value for key, value in described.items() if key != "nodes"}
                         for name, described in ours.items()}}
    with tempfile.TemporaryDirectory() as directory:
        handover_path = os.path.join(directory, "handover.json")
        with open(handover_path, "w") as handover_file:
            json.dump(handover, handover_file)
        emitted = run_tensorflow(tensorflow_prelude + DRIVER + _TENSORFLOW_SIDE % handover_path
                                 + tensorflow_extras
                                 + "\nemit({'cases': described, 'extras': extras})\n")
    return ours, emitted["cases"], emitted["extras"]


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
