"""`tensorkeep freeze` and `tensorkeep run` against TensorFlow's recorded outputs and its own freezer."""

import json
import os

import numpy as np
import pytest
from google.protobuf import text_format

from cli_support import CORPUS, GOLDEN, require_shared, run_cli, tf_facts  # noqa: F401 (fixture)
from tensorkeep.io import protos


@pytest.fixture(autouse=True)
def _shared():
    require_shared()


def _seed_output(name):
    with open(os.path.join(os.path.dirname(GOLDEN), "..", "seed", "expected", name)) as handle:
        return handle.read()


def test_freeze_then_run_prints_the_seed_result(tmp_path):
    frozen = tmp_path / "frozen.pb"
    code, out, err = run_cli("freeze", "--meta", os.path.join(GOLDEN, "tt", "model.ckpt.meta"),
                             "--checkpoint", os.path.join(GOLDEN, "tt"), "--outputs", "add", "-o", frozen)
    assert code == 0, err
    assert out == f"wrote {frozen}: 5 nodes (2 constants), outputs add\n"
    code, out, err = run_cli("run", frozen, "--output", "add", "-o", tmp_path / "out")
    assert code == 0, err
    value = np.load(tmp_path / "out" / "add.npy")
    # 03_save_and_restore prints the sum the checkpoint holds.
    assert f"{value}" in _seed_output("03_save_and_restore.out").splitlines()
    assert out == f"add:0: float32 [1] -> {tmp_path / 'out' / 'add.npy'}\n"


@pytest.mark.tf
def test_frozen_graph_equals_tensorflows(tf_facts, tmp_path):
    frozen_path = tmp_path / "frozen.pbtxt"
    assert run_cli("freeze", "--meta", os.path.join(GOLDEN, "tt", "model.ckpt.meta"), "--checkpoint",
                   os.path.join(GOLDEN, "tt", "model.ckpt"), "--outputs", "add", "-o", frozen_path, "--text")[0] == 0
    graph_def = text_format.Parse(frozen_path.read_text(), protos.GraphDef())
    from tensorkeep.io.numpy_codec import tensor_proto_to_ndarray

    ours = [{"name": node.name, "op": node.op, "inputs": list(node.input),
             "value": tensor_proto_to_ndarray(node.attr["value"].tensor).tolist() if node.op == "Const" else None}
            for node in graph_def.node]
    assert ours == tf_facts["frozen"]


def _recorded_run(case, graph_path):
    with open(os.path.join(CORPUS, case, "expect.json")) as handle:
        expect = json.load(handle)
    for section in ("frozen_graphs", "meta_graphs"):
        for graph in expect.get(section, ()):
            if graph["path"] == graph_path:
                return graph["run"] if section == "frozen_graphs" else graph["forward"]
    raise KeyError(graph_path)


@pytest.mark.parametrize("case, graph_path, model", [
    ("haibeey+puzzle15ml", "frozen_model.pb", "frozen_model.pb"),
    ("rohanath123+TFMobile", "frozen_model.pb", "frozen_model.pb"),
    ("RyanMolina+neural-encryption", "frozen_model.pb", "frozen_model.pb"),
    ("haibeey+puzzle15ml", "modeldir/model.ckpt.meta", "modeldir"),
    ("RyanMolina+neural-encryption", "checkpoint/encryptor_model-500000.meta", "checkpoint/encryptor_model-500000"),
])
def test_run_reproduces_tensorflows_recorded_outputs(case, graph_path, model, tmp_path):
    recorded = _recorded_run(case, graph_path)
    arrays = np.load(os.path.join(CORPUS, case, "io.npz"))
    argv = ["run", os.path.join(CORPUS, case, model), "-o", tmp_path]
    for feed in recorded["inputs"]:
        np.save(tmp_path / f"{feed['npz_key']}.npy", arrays[feed["npz_key"]])
        argv += ["--input", f"{feed['tensor']}={tmp_path / (feed['npz_key'] + '.npy')}"]
    for fetch in recorded["outputs"]:
        argv += ["--output", fetch["tensor"]]
    code, out, err = run_cli(*argv)
    assert code == 0, err
    for fetch in recorded["outputs"]:
        node = fetch["tensor"].rsplit(":", 1)[0]
        value = np.load(tmp_path / (node.replace("/", "__") + ".npy"))
        assert value.dtype == np.dtype(fetch["dtype"]) and list(value.shape) == fetch["shape"]
        np.testing.assert_allclose(value, arrays[fetch["npz_key"]], rtol=1e-5, atol=1e-6)
        assert f"{fetch['tensor']}: {fetch['dtype']} [{','.join(map(str, fetch['shape']))}]" in out


@pytest.mark.parametrize("argv, message", [
    (["freeze", "--meta", os.path.join(GOLDEN, "tt", "model.ckpt.meta"), "--checkpoint",
      os.path.join(GOLDEN, "tt"), "--outputs", "ad", "-o", "x.pb"], "no node named ad in"),
    (["freeze", "--meta", os.path.join(GOLDEN, "tt", "model.ckpt"), "--checkpoint",
      os.path.join(GOLDEN, "tt"), "--outputs", "add", "-o", "x.pb"], "expected a .meta MetaGraphDef"),
    (["run", os.path.join(GOLDEN, "model", "combined_model.pb"), "--output", "nothing"], "--output nothing"),
    (["run", os.path.join(GOLDEN, "model", "combined_model.pb"), "--input", "v1", "--output", "add"],
     "expected NAME=FILE.npy"),
    (["run", os.path.join(GOLDEN, "model", "combined_model.pb"), "--input", "v1=/nonexistent.npy", "--output",
      "add"], "/nonexistent.npy"),
])
def test_freeze_and_run_errors(argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(*argv)
    assert code == 1 and message in err and err.count("\n") == 1, err
    assert not os.path.exists(tmp_path / "x.pb")


def test_freeze_graph_module_signature(tmp_path):
    from tensorkeep.tools import freeze_graph

    output = tmp_path / "frozen.pb"
    graph_def = freeze_graph.freeze_graph(
        input_graph=None, input_saver=None, input_binary=True,
        input_checkpoint=os.path.join(GOLDEN, "tt", "model.ckpt"), output_node_names="add", restore_op_name=None,
        filename_tensor_name=None, output_graph=str(output), clear_devices=True, initializer_nodes="",
        input_meta_graph=os.path.join(GOLDEN, "tt", "model.ckpt.meta"))
    assert protos.GraphDef.FromString(output.read_bytes()) == graph_def
    assert [node.op for node in graph_def.node].count("VariableV2") == 0
