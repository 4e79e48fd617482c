"""Checkpoints on S3 (s3:// URLs through s3fs) against a real local S3 server (moto in server mode).

The server listens on 127.0.0.1 only, with dummy credentials, for the duration of this module.
"""

import filecmp
import logging
import os
import sys

import numpy as np
import pytest

from cli_support import CORPUS, GOLDEN, require_shared, run_cli, run_json

s3fs = pytest.importorskip("s3fs", reason="s3fs is not installed (pip install tensorkeep[s3])")
moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed (pip install moto[server])")

BUCKET = "tensorkeep-test"
_ENVIRONMENT = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def s3():
    """An fsspec S3 file system on a fresh local server with one empty bucket."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # One log line per request otherwise.
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    saved = {name: os.environ.get(name) for name in list(_ENVIRONMENT) + ["AWS_ENDPOINT_URL"]}
    try:
        host, port = server.get_host_and_port()
        os.environ.update(_ENVIRONMENT, AWS_ENDPOINT_URL=f"http://{host}:{port}")
        s3fs.S3FileSystem.clear_instance_cache()
        filesystem = s3fs.S3FileSystem(client_kwargs={"endpoint_url": f"http://{host}:{port}"})
        filesystem.mkdir(BUCKET)
        yield filesystem
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.stop()


def _names(s3, directory):
    s3.invalidate_cache()
    return sorted(path.rsplit("/", 1)[-1] for path in s3.ls(f"{BUCKET}/{directory}", detail=False))


def test_saver_saves_rotates_and_restores(s3):
    import tensorkeep as tf

    directory = f"s3://{BUCKET}/train"
    with tf.Graph().as_default():
        weights = tf.Variable(tf.zeros([2, 3]), name="weights")
        step = tf.Variable(0, name="step")
        advance = [tf.assign_add(weights, tf.ones([2, 3])), tf.assign_add(step, 1)]
        saver = tf.train.Saver(max_to_keep=2)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            paths = []
            for number in range(4):
                sess.run(advance)
                paths.append(saver.save(sess, directory + "/model.ckpt", global_step=number))
            assert paths == [f"{directory}/model.ckpt-{number}" for number in range(4)]
            assert _names(s3, "train") == [
                "checkpoint", "model.ckpt-2.data-00000-of-00001", "model.ckpt-2.index", "model.ckpt-2.meta",
                "model.ckpt-3.data-00000-of-00001", "model.ckpt-3.index", "model.ckpt-3.meta"]
            assert tf.train.latest_checkpoint(directory) == f"{directory}/model.ckpt-3"
            state = tf.train.get_checkpoint_state(directory)
            assert list(state.all_model_checkpoint_paths) == [f"{directory}/model.ckpt-2", f"{directory}/model.ckpt-3"]
            sess.run(tf.global_variables_initializer())
            saver.restore(sess, f"{directory}/model.ckpt-2")
            restored_weights, restored_step = sess.run([weights, step])
    assert np.array_equal(restored_weights, np.full((2, 3), 3.0, np.float32)) and restored_step == 3
    # The state file holds paths relative to its directory, as TensorFlow writes them.
    assert s3.cat(f"{BUCKET}/train/checkpoint").decode().splitlines()[0] == 'model_checkpoint_path: "model.ckpt-3"'
    # What the Saver wrote is what the CLI reads.
    document = run_json("inspect", directory)
    assert document["path"] == f"{directory}/model.ckpt-3"
    assert document["other_checkpoints"] == [f"{directory}/model.ckpt-2"]
    assert [(v["name"], v["dtype"], v["shape"]) for v in document["variables"]] == \
        [("step", "int32", []), ("weights", "float32", [2, 3])]


def test_inspect_and_convert_through_s3(s3, tmp_path):
    require_shared()
    source = os.path.join(CORPUS, "YHGui+TensorFlow_Estimator_Basics", "model")
    s3.put(source, f"{BUCKET}/corpus", recursive=True)
    remote = f"s3://{BUCKET}/corpus"
    local_document = run_json("inspect", source)
    remote_document = run_json("inspect", remote)
    assert remote_document["path"] == f"{remote}/model.ckpt-2000"
    assert remote_document["variables"] == local_document["variables"]
    assert remote_document["totals"] == local_document["totals"]

    code, _, err = run_cli("convert", remote, f"{remote}-st/model.safetensors")
    assert code == 0, err
    code, _, err = run_cli("convert", f"{remote}-st/model.safetensors", f"{remote}-back/model.ckpt")
    assert code == 0, err
    s3.get(f"{BUCKET}/corpus-back", str(tmp_path / "back"), recursive=True)
    original = os.path.join(source, "model.ckpt-2000")
    for suffix in (".index", ".data-00000-of-00001"):
        assert filecmp.cmp(original + suffix, str(tmp_path / "back" / ("model.ckpt" + suffix)), shallow=False)

    code, _, err = run_cli("convert", remote, tmp_path / "local.npz", "--exclude", "Adam")
    assert code == 0, err
    with np.load(tmp_path / "local.npz") as archive:
        assert sorted(archive.files) == sorted(v["name"] for v in local_document["variables"] if "Adam" not in v["name"])

    report = run_json("diff", remote, source)
    assert report["identical"] and len(report["compared"]) == 15


def test_freeze_and_run_with_s3_paths(s3, tmp_path):
    require_shared()
    s3.put(os.path.join(GOLDEN, "tt"), f"{BUCKET}/tt", recursive=True)
    remote = f"s3://{BUCKET}/tt"
    code, _, err = run_cli("freeze", "--meta", f"{remote}/model.ckpt.meta", "--checkpoint", remote,
                           "--outputs", "add", "-o", f"{remote}/frozen.pb")
    assert code == 0, err
    code, out, err = run_cli("run", f"{remote}/frozen.pb", "--output", "add", "-o", f"{remote}/out")
    assert code == 0, err
    remote_value = np.load(s3.open(f"{BUCKET}/tt/out/add.npy", "rb"))
    code, _, err = run_cli("run", os.path.join(GOLDEN, "tt", "model.ckpt"), "--output", "add", "-o", tmp_path)
    assert code == 0, err
    assert np.array_equal(remote_value, np.load(tmp_path / "add.npy"))
    assert out.startswith(f"add:0: float32 [1] -> {remote}/out/add.npy")


def test_missing_remote_checkpoint_is_one_line_error(s3):
    code, _, err = run_cli("inspect", f"s3://{BUCKET}/nothing/model.ckpt")
    assert code == 1 and err.startswith("tensorkeep: error: ") and err.count("\n") == 1


def test_missing_s3fs_names_the_extra(monkeypatch):
    import fsspec  # noqa: F401 (loads fsspec.registry)

    monkeypatch.delitem(sys.modules["fsspec.registry"]._registry, "s3", raising=False)
    monkeypatch.setitem(sys.modules, "s3fs", None)  # import s3fs now fails
    code, _, err = run_cli("inspect", f"s3://{BUCKET}/run/model.ckpt")
    assert code == 1 and "pip install tensorkeep[s3]" in err and err.count("\n") == 1
