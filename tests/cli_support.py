"""Helpers for the CLI tests: run `tensorkeep` in-process, find reference files, ask real TensorFlow."""

import contextlib
import io
import json
import os
import shutil

import pytest

from tf_oracle import SHARED, require_tensorflow, run_tensorflow

GOLDEN = os.path.join(SHARED, "golden", "seed_files")
CORPUS = os.path.join(SHARED, "corpus")


def run_cli(*argv):
    """(exit code, stdout, stderr) of tensorkeep.tools.cli.main(argv) run in this process."""
    from tensorkeep.tools.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(arg) for arg in argv])
    return code, out.getvalue(), err.getvalue()


def run_json(*argv):
    code, out, err = run_cli(*argv, "--json")
    assert code == 0, err
    return json.loads(out)


def require_shared():
    if not os.path.isdir(GOLDEN) or not os.path.isdir(CORPUS):
        pytest.skip("../shared reference files not found; set TENSORKEEP_SHARED")


def corpus_expectations():
    """[(case directory, expect.json dict)] of every corpus case."""
    if not os.path.isdir(CORPUS):
        return []
    cases = []
    for case in sorted(os.listdir(CORPUS)):
        path = os.path.join(CORPUS, case, "expect.json")
        if os.path.exists(path):
            with open(path) as handle:
                cases.append((os.path.join(CORPUS, case), json.load(handle)))
    return cases


def copy_checkpoint(prefix, directory):
    """Copy the files of checkpoint `prefix` into `directory`; returns the new prefix."""
    base = os.path.basename(prefix)
    for name in os.listdir(os.path.dirname(prefix)):
        if name.startswith(base + "."):
            shutil.copy(os.path.join(os.path.dirname(prefix), name), directory)
    return os.path.join(str(directory), base)


# Everything the CLI tests ask real TensorFlow, gathered in one subprocess (TF takes seconds to import).
_TF_FACTS_CODE = r"""
import contextlib, io
import numpy as np
from tensorflow.python.tools import inspect_checkpoint, freeze_graph

facts = {"checkpoints": {}, "inspect_checkpoint": {}, "frozen": None}
for prefix in PREFIXES:
    reader = tf.train.load_checkpoint(prefix)
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    facts["checkpoints"][prefix] = {name: [dtypes[name].name, list(shapes[name])] for name in shapes}

for label, args in INSPECT_CALLS.items():
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        inspect_checkpoint.print_tensors_in_checkpoint_file(*args)
    facts["inspect_checkpoint"][label] = captured.getvalue()

frozen = freeze_graph.freeze_graph_with_def_protos(
    None, None, FREEZE_PREFIX, "add", None, None, None, True, "",
    input_meta_graph_def=tf.train.import_meta_graph(FREEZE_PREFIX + ".meta").export_meta_graph())
nodes = []
for node in frozen.node:
    value = None
    if node.op == "Const":
        value = tf.make_ndarray(node.attr["value"].tensor).tolist()
    nodes.append({"name": node.name, "op": node.op, "inputs": list(node.input), "value": value})
facts["frozen"] = nodes
emit(facts)
"""


def tf_checkpoint_prefixes():
    prefixes = [os.path.join(GOLDEN, "model", "model2.ckpt"), os.path.join(GOLDEN, "tt", "model.ckpt"),
                os.path.join(GOLDEN, "qq", "model.ckpt")]
    for case_dir, expect in corpus_expectations():
        for checkpoint in expect.get("checkpoints", ()):
            if checkpoint["format"] == "V2" and checkpoint.get("num_readable") == checkpoint["num_variables"]:
                prefixes.append(os.path.join(case_dir, checkpoint["prefix"]))
    return sorted(set(prefixes))


INSPECT_CALLS = {
    "names": ["model/model2.ckpt", "", False],
    "all": ["model/model2.ckpt", "", True],
    "one": ["tt/model.ckpt", "Variable", False],
    "absent": ["tt/model.ckpt", "nope", False],
    "names_only": ["qq/model.ckpt", "", False, True],
    "excluding": ["qq/model.ckpt", "", False, False, "v1"],
}


@pytest.fixture(scope="session")
def tf_facts():
    """What real TensorFlow reports for the reference checkpoints (one subprocess per test run)."""
    require_tensorflow()
    require_shared()
    prelude = (f"PREFIXES = {tf_checkpoint_prefixes()!r}\nINSPECT_CALLS = {INSPECT_CALLS!r}\n"
               f"FREEZE_PREFIX = {os.path.join(GOLDEN, 'tt', 'model.ckpt')!r}\n"
               f"import os\nos.chdir({GOLDEN!r})\n")
    return run_tensorflow(prelude + _TF_FACTS_CODE)
