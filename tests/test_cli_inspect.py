"""`tensorkeep inspect` and the inspect_checkpoint module against real TensorFlow's reports."""

import contextlib
import hashlib
import io
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from cli_support import (CORPUS, GOLDEN, INSPECT_CALLS, corpus_expectations, require_shared, run_cli, run_json,
                         tf_facts)  # noqa: F401 (fixture)

CASES = corpus_expectations()
_SAVE_SCOPE = re.compile(r"^save(_\d+)?/")


@pytest.fixture(autouse=True)
def _shared():
    require_shared()


def _checkpoint_cases():
    for case_dir, expect in CASES:
        for checkpoint in expect.get("checkpoints", ()):
            if checkpoint.get("shadowed_by_v2"):
                continue  # The V2 files at the same prefix are what gets read.
            yield pytest.param(case_dir, checkpoint, id=f"{os.path.basename(case_dir)}:{checkpoint['prefix']}")


@pytest.mark.parametrize("case_dir, expected", list(_checkpoint_cases()))
def test_checkpoint_json_matches_corpus(case_dir, expected):
    document = run_json("inspect", os.path.join(case_dir, expected["prefix"]))
    assert document["kind"] == "checkpoint"
    assert document["format"] == expected["format"]
    variables = {variable["name"]: variable for variable in document["variables"]}
    assert len(variables) == expected["num_variables"]
    for want in expected["variables"]:
        got = variables[want["name"]]
        assert got["dtype"] == want["dtype"], want["name"]
        assert got["shape"] == want["shape"], want["name"]
        assert got["elements"] == int(np.prod(want["shape"], dtype=np.int64))
        if want["dtype"] != "string":
            assert got["bytes"] == got["elements"] * np.dtype(want["dtype"]).itemsize
    assert document["totals"]["variables"] == expected["num_variables"]
    assert document["totals"]["elements"] == sum(variable["elements"] for variable in variables.values())
    if expected["format"] == "V2" and expected["num_shards_declared"] is not None:
        assert document["num_shards"] == expected["num_shards_declared"]
        present = {os.path.basename(name) for name in expected["data_files_present"]}
        missing = {os.path.basename(name) for name in document["missing_data_files"]}
        assert len(present) + len(missing) == expected["num_shards_declared"]
        assert not present & missing


def test_checkpoint_values_match_corpus_digests():
    case_dir = os.path.join(CORPUS, "AlexFengCisco+Tensorflow")
    with open(os.path.join(case_dir, "expect.json")) as handle:
        expected = {variable["name"]: variable for variable in json.load(handle)["checkpoints"][0]["variables"]}
    document = run_json("inspect", os.path.join(case_dir, "model.ckpt"), "--all-tensors")
    assert {tensor["name"] for tensor in document["tensors"]} == set(expected)
    for tensor in document["tensors"]:
        value = np.array(tensor["values"], dtype=tensor["dtype"]).reshape(tensor["shape"])
        assert hashlib.sha256(value.tobytes()).hexdigest() == expected[tensor["name"]]["sha256"]


def _meta_cases():
    for case_dir, expect in CASES:
        for meta in expect.get("meta_graphs", ()):
            yield pytest.param(case_dir, meta, id=f"{os.path.basename(case_dir)}:{meta['path']}")


@pytest.mark.parametrize("case_dir, expected", list(_meta_cases()))
def test_meta_graph_json_matches_corpus(case_dir, expected):
    document = run_json("inspect", os.path.join(case_dir, expected["path"]))
    assert document["kind"] == "meta_graph"
    assert document["node_count"] == expected["node_count"]
    assert document["op_histogram"] == expected["op_histogram"]
    assert document["producer"] == expected["graph_producer"]
    assert document["tensorflow_version"] == expected["tensorflow_version"]
    assert document["tags"] == expected["tags"]
    assert document["stripped_op_list"] == expected["stripped_op_list"]
    assert sorted(document["collections"]) == expected["collection_names"]
    for name, collection in expected["collections"].items():
        assert document["collections"][name]["kind"] == collection["kind"]
        assert document["collections"][name]["count"] == collection["count"]
    saver = document["saver_def"]
    for field, value in expected["saver_def"].items():
        if field == "version":
            assert saver["version"] == value.split()[0]
        else:
            assert saver[field] == value, field
    assert [(node["name"], node["dtype"], node["shape"]) for node in document["inputs"]] == \
        [(node["name"], node["dtype"], node["shape_attr"]) for node in expected["placeholders"]]
    assert document["signature_defs"] == expected["signature_defs"]


def _frozen_cases():
    for case_dir, expect in CASES:
        for graph in expect.get("frozen_graphs", ()):
            yield pytest.param(case_dir, graph, id=f"{os.path.basename(case_dir)}:{graph['path']}")


@pytest.mark.parametrize("case_dir, expected", list(_frozen_cases()))
def test_graph_def_json_matches_corpus(case_dir, expected):
    document = run_json("inspect", os.path.join(case_dir, expected["path"]))
    assert document["kind"] == "graph_def"
    assert document["node_count"] == expected["node_count"]
    assert document["op_histogram"] == expected["op_histogram"]
    assert document["producer"] == expected["producer"]
    assert document["library_functions"] == expected.get("library_functions", 0)
    assert [(node["name"], node["dtype"], node["shape"]) for node in document["inputs"]] == \
        [(node["name"], node["dtype"], node["shape_attr"]) for node in expected["placeholders"]]
    # Nodes nobody consumes, as the corpus lists them, less the Saver's and variables'
    # initializers (v/Assign) and snapshots (v/read).
    graph_def = _graph_def(os.path.join(case_dir, expected["path"]), expected["encoding"])
    first_input = {node.name: node.input[0].lstrip("^").split(":")[0] if node.input else None
                   for node in graph_def.node}
    assert [node["name"] for node in document["outputs"]] == \
        [name for name in expected["candidate_outputs"] if not _SAVE_SCOPE.match(name)
         and name not in (f"{first_input[name]}/Assign", f"{first_input[name]}/read")]


def _graph_def(path, encoding):
    from google.protobuf import text_format

    from tensorkeep.io import protos

    with open(path, "rb") as handle:
        data = handle.read()
    if encoding == "text":
        return text_format.Parse(data.decode(), protos.GraphDef())
    return protos.GraphDef.FromString(data)


def _saved_model_cases():
    for case_dir, expect in CASES:
        for model in expect.get("saved_models", ()):
            yield pytest.param(case_dir, model, id=f"{os.path.basename(case_dir)}:{model['path']}")


@pytest.mark.parametrize("case_dir, expected", list(_saved_model_cases()))
def test_saved_model_json_matches_corpus(case_dir, expected):
    directory = os.path.dirname(os.path.join(case_dir, expected["path"]))
    document = run_json("inspect", directory)
    assert document["kind"] == "saved_model"
    assert document["saved_model_schema_version"] == expected["saved_model_schema_version"]
    assert len(document["meta_graphs"]) == len(expected["meta_graphs"])
    for got, want in zip(document["meta_graphs"], expected["meta_graphs"]):
        assert got["tags"] == want["tags"]
        assert got["node_count"] == want["node_count"]
        assert got["op_histogram"] == want["op_histogram"]
        assert sorted(got["collections"]) == want["collection_names"]
        assert got["signature_defs"] == want["signature_defs"]
    variables_prefix = os.path.join(directory, "variables", "variables")
    listed = {os.path.join(case_dir, checkpoint["prefix"]): checkpoint
              for checkpoint in dict(CASES_BY_DIR)[case_dir].get("checkpoints", ())}
    if variables_prefix in listed:
        assert document["variables"]["totals"]["variables"] == listed[variables_prefix]["num_variables"]


CASES_BY_DIR = CASES


@pytest.mark.tf
def test_json_matches_tensorflow_reader(tf_facts):
    for prefix, variables in tf_facts["checkpoints"].items():
        document = run_json("inspect", prefix)
        got = {variable["name"]: [variable["dtype"], variable["shape"]] for variable in document["variables"]}
        assert got == variables, prefix


@pytest.mark.tf
def test_inspect_checkpoint_module_prints_what_tensorflow_prints(tf_facts):
    from tensorkeep.tools import inspect_checkpoint

    cwd = os.getcwd()
    os.chdir(GOLDEN)
    try:
        for label, args in INSPECT_CALLS.items():
            captured = io.StringIO()
            with contextlib.redirect_stdout(captured):
                inspect_checkpoint.print_tensors_in_checkpoint_file(*args)
            assert captured.getvalue() == tf_facts["inspect_checkpoint"][label], label
    finally:
        os.chdir(cwd)


def test_directory_uses_latest_checkpoint_and_lists_others():
    directory = os.path.join(CORPUS, "YHGui+TensorFlow_Estimator_Basics", "model")
    code, out, err = run_cli("inspect", directory)
    assert code == 0, err
    assert out.startswith(f"checkpoint: {os.path.join(directory, 'model.ckpt-2000')} (V2, 1 data file)")
    assert "dense/kernel  " in out and "global_step" in out
    assert re.search(r"^total: 15 tensors, \d+ elements, \d+ bytes", out, re.M)
    assert f"other checkpoints: {os.path.join(directory, 'model.ckpt-0')}, " \
           f"{os.path.join(directory, 'model.ckpt-1000')}" in out


def test_state_file_with_foreign_absolute_paths_is_followed():
    # The state file names /home/mpk/...; the checkpoint sits beside it.
    directory = os.path.join(CORPUS, "mpk001+MNIST_MLP", "model")
    document = run_json("inspect", directory)
    assert document["path"] == os.path.join(directory, "model.ckpt-29001")


def test_tensor_values_print_like_numpy():
    prefix = os.path.join(GOLDEN, "tt", "model.ckpt")
    code, out, _ = run_cli("inspect", prefix, "--tensor", "Variable")
    from tensorkeep.io import read_checkpoint

    value = read_checkpoint(prefix)["Variable"]
    assert code == 0
    assert out.endswith(f"tensor: Variable (float32) [1]\n{value}\n")


def test_frozen_graph_constant_value():
    document = run_json("inspect", os.path.join(GOLDEN, "model", "combined_model.pb"), "--tensor", "v2")
    assert document["tensors"] == [{"name": "v2", "dtype": "float32", "shape": [1], "values": [2.0]}]
    assert document["outputs"] == [{"name": "add", "op": "AddV2"}]


def test_meta_graph_text_report():
    code, out, _ = run_cli("inspect", os.path.join(GOLDEN, "model", "model2.ckpt.meta"))
    assert code == 0
    assert "saver: version V2, filename save/Const:0, save save/control_dependency:0, restore save/restore_all" in out
    assert "moving_average_variables (bytes_list, 1): v:0" in out
    assert "inputs (Placeholder): none" in out


@pytest.mark.parametrize("argv, message", [
    (["inspect", "/nonexistent/model.ckpt"], "/nonexistent/model.ckpt: no such file, directory or checkpoint prefix"),
    (["inspect", os.path.join(GOLDEN, "tt", "model.ckpt"), "--tensor", "Variabel"], "Variable"),
    (["inspect", os.path.join(CORPUS, "AlexFengCisco+Tensorflow", "source.json")], "is not a checkpoint"),
])
def test_errors_are_one_line_with_exit_1(argv, message):
    code, out, err = run_cli(*argv)
    assert code == 1
    assert err.startswith("tensorkeep: error: ") and err.count("\n") == 1
    assert message in err
    assert "Traceback" not in err


def test_usage_errors_exit_2_and_help_has_examples():
    code, _, err = run_cli("inspect")
    assert code == 2 and "usage:" in err
    code, _, _ = run_cli("inspect", "x", "--bogus")
    assert code == 2
    for command in ("inspect", "diff", "convert", "freeze", "run"):
        code, out, _ = run_cli(command, "--help")
        assert code == 0 and "examples:" in out, command


def test_command_line_subprocess_smoke():
    prefix = os.path.join(GOLDEN, "model", "model2.ckpt")
    proc = subprocess.run([sys.executable, "-m", "tensorkeep", "inspect", prefix, "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert [variable["name"] for variable in json.loads(proc.stdout)["variables"]] == \
        ["v", "v/ExponentialMovingAverage"]
    assert proc.stderr == ""  # Not a terminal: no progress bar, no noise.
    proc = subprocess.run([sys.executable, "-m", "tensorkeep", "inspect", prefix + "x"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
