"""`tensorkeep convert`: bit-exact round trips, files the other libraries read, renames and casts."""

import filecmp
import os
import sys

import ml_dtypes
import numpy as np
import pytest

from cli_support import CORPUS, GOLDEN, corpus_expectations, require_shared, run_cli
from tensorkeep.io import bundle, read_checkpoint

DATA = ".data-00000-of-00001"


@pytest.fixture(autouse=True)
def _shared():
    require_shared()


def _same_files(first_prefix, second_prefix):
    return all(filecmp.cmp(first_prefix + suffix, second_prefix + suffix, shallow=False)
               for suffix in (".index", DATA))


def _tf_written_checkpoints():
    """Single-file V2 checkpoints written by TensorFlow, without string tensors."""
    prefixes = [os.path.join(GOLDEN, "model", "model2.ckpt"), os.path.join(GOLDEN, "tt", "model.ckpt")]
    for case_dir, expect in corpus_expectations():
        for checkpoint in expect.get("checkpoints", ()):
            if checkpoint["format"] == "V2" and checkpoint["num_shards_declared"] == 1 \
                    and "string" not in checkpoint["dtypes_present"] \
                    and checkpoint["num_readable"] == checkpoint["num_variables"]:
                prefixes.append(os.path.join(case_dir, checkpoint["prefix"]))
    return prefixes


@pytest.mark.parametrize("prefix", _tf_written_checkpoints(), ids=lambda p: os.path.relpath(p, os.path.dirname(CORPUS)))
@pytest.mark.parametrize("via", ["safetensors", "npz"])
def test_tensorflow_checkpoint_round_trip_is_bit_exact(prefix, via, tmp_path):
    middle = tmp_path / f"model.{via}"
    assert run_cli("convert", prefix, middle)[0] == 0
    assert run_cli("convert", middle, tmp_path / "back" / "model.ckpt")[0] == 0
    assert _same_files(prefix, str(tmp_path / "back" / "model.ckpt"))


def _dtype_zoo(prefix):
    """A checkpoint of every dtype the formats share, in a shuffled data order."""
    rng = np.random.default_rng(7)
    tensors = []
    for name in ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                 "uint16", "uint32", "uint64", "bool", "complex64", "float8_e5m2", "float8_e4m3fn"]:
        dtype = getattr(ml_dtypes, name, None) if name in ("bfloat16", "float8_e5m2", "float8_e4m3fn") else name
        for shape in [(), (0,), (3, 0, 2), (2, 3), (7,)]:
            values = rng.standard_normal(shape) * 50
            if name == "bool":
                values = values > 0
            elif name.startswith("complex"):
                values = values + 1j * rng.standard_normal(shape)
            tensors.append((f"{name}/{'x'.join(map(str, shape)) or 'scalar'}", np.asarray(values).astype(dtype), None))
    tensors.append(("quantized/qint8", np.arange(-3, 3, dtype=np.int8).reshape(2, 3), 11))
    order = rng.permutation(len(tensors))
    with bundle.BundleWriter(prefix) as writer:
        for index in order:
            name, value, datatype = tensors[index]
            writer.add(name, value, datatype)
    return {name: value for name, value, _ in tensors}


@pytest.mark.parametrize("via", ["safetensors", "npz"])
def test_every_dtype_round_trips_bit_exact(via, tmp_path):
    original = str(tmp_path / "zoo" / "ckpt")
    _dtype_zoo(original)
    assert run_cli("convert", original, tmp_path / f"zoo.{via}")[0] == 0
    assert run_cli("convert", tmp_path / f"zoo.{via}", tmp_path / "back" / "ckpt")[0] == 0
    assert _same_files(original, str(tmp_path / "back" / "ckpt"))


def test_safetensors_library_reads_what_we_write(tmp_path):
    from safetensors import safe_open

    prefix = str(tmp_path / "zoo" / "ckpt")
    values = _dtype_zoo(prefix)
    assert run_cli("convert", prefix, tmp_path / "zoo.safetensors")[0] == 0
    with safe_open(str(tmp_path / "zoo.safetensors"), framework="numpy") as handle:
        assert set(handle.keys()) == set(values)
        assert handle.metadata() == {"tensorkeep.dtypes": '{"quantized/qint8": "qint8"}'}
        for name in handle.keys():
            if name.startswith(("bfloat16", "float8")):
                continue  # safetensors' numpy front end has no such dtypes.
            loaded = handle.get_tensor(name)
            assert loaded.shape == values[name].shape and loaded.dtype == values[name].dtype
            assert loaded.tobytes() == values[name].tobytes(), name


def test_safetensors_written_by_the_library_converts_to_a_checkpoint(tmp_path):
    from safetensors.numpy import save_file

    rng = np.random.default_rng(3)
    tensors = {"dense/kernel": rng.standard_normal((4, 3)).astype(np.float32),
               "dense/bias": np.arange(3, dtype=np.float16), "step": np.array(5, dtype=np.int64),
               "mask": np.array([True, False])}
    save_file(tensors, str(tmp_path / "lib.safetensors"), metadata={"format": "np"})
    assert run_cli("convert", tmp_path / "lib.safetensors", tmp_path / "ckpt" / "model.ckpt")[0] == 0
    restored = read_checkpoint(str(tmp_path / "ckpt" / "model.ckpt"))
    assert set(restored) == set(tensors)
    for name, value in tensors.items():
        assert restored[name].dtype == value.dtype and np.array_equal(restored[name], value)


def test_npz_is_what_numpy_loads(tmp_path):
    prefix = str(tmp_path / "zoo" / "ckpt")
    values = _dtype_zoo(prefix)
    assert run_cli("convert", prefix, tmp_path / "zoo.npz")[0] == 0
    with np.load(tmp_path / "zoo.npz", allow_pickle=False) as archive:
        assert set(archive.files) == set(values)
        for name, value in values.items():
            loaded = archive[name]
            assert loaded.shape == value.shape
            if value.dtype.name in ("bfloat16", "float8_e5m2", "float8_e4m3fn"):
                assert loaded.dtype == np.dtype(f"u{value.dtype.itemsize}")  # Raw bits.
            assert loaded.tobytes() == value.tobytes(), name


def test_strings_go_to_npz_but_not_to_safetensors(tmp_path):
    prefix = os.path.join(CORPUS, "Nighthawks829+save-load-model", "training_2", "cp-0000.ckpt")
    code, _, err = run_cli("convert", prefix, tmp_path / "out.safetensors")
    assert code == 1 and "string tensor" in err and "safetensors cannot store" in err
    assert not os.path.exists(tmp_path / "out.safetensors")
    assert run_cli("convert", prefix, tmp_path / "out.npz")[0] == 0
    assert run_cli("convert", tmp_path / "out.npz", tmp_path / "back" / "ckpt")[0] == 0
    original, restored = read_checkpoint(prefix), read_checkpoint(str(tmp_path / "back" / "ckpt"))
    assert set(original) == set(restored)
    for name in original:
        assert original[name].dtype == restored[name].dtype
        assert np.array_equal(original[name], restored[name]), name
    # Leaving the strings out makes safetensors possible.
    code, _, err = run_cli("convert", prefix, tmp_path / "out.safetensors", "--exclude", "^_CHECKPOINTABLE")
    assert code == 0, err
    from safetensors.numpy import load_file

    assert set(load_file(str(tmp_path / "out.safetensors"))) == {name for name in original if "/" in name}


def test_rename_exclude_and_cast(tmp_path):
    prefix = os.path.join(CORPUS, "YHGui+TensorFlow_Estimator_Basics", "model", "model.ckpt-2000")
    code, out, err = run_cli("convert", prefix, tmp_path / "w.npz", "--rename", "^dense/=layer0/",
                             "--rename", "kernel$=weight", "--exclude", "Adam|power", "--dtype", "float16")
    assert code == 0, err
    original = read_checkpoint(prefix)
    with np.load(tmp_path / "w.npz") as archive:
        kept = [name for name in original if "Adam" not in name and "power" not in name]
        expected_names = {name.replace("dense/", "layer0/", 1) if name.startswith("dense/") else name
                          for name in kept}
        expected_names = {name[:-len("kernel")] + "weight" if name.endswith("kernel") else name
                          for name in expected_names}
        assert set(archive.files) == expected_names
        assert np.array_equal(archive["layer0/weight"], original["dense/kernel"].astype(np.float16))
        assert archive["global_step"].dtype == np.int64  # Only floating-point tensors are cast.
    assert "cast to float16" in out


@pytest.mark.parametrize("argv, message", [
    (["--rename", "^dense.*=x"], "the same name"),
    (["--rename", "noequals"], "expected REGEX=REPL"),
    (["--dtype", "int8"], "floating-point tensors can be cast to"),
    (["--exclude", "."], "--exclude leaves none"),
])
def test_convert_option_errors(argv, message, tmp_path):
    prefix = os.path.join(CORPUS, "YHGui+TensorFlow_Estimator_Basics", "model", "model.ckpt-2000")
    code, _, err = run_cli("convert", prefix, tmp_path / "x.npz", *argv)
    assert code == 1 and message in err and err.count("\n") == 1


def test_corrupt_safetensors_is_reported(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes((10 ** 12).to_bytes(8, "little") + b"{}")
    code, _, err = run_cli("convert", path, tmp_path / "out.npz")
    assert code == 1 and "not a valid safetensors file" in err


def test_torch_state_dict_loads_with_weights_only(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install tensorkeep[torch])")
    prefix = str(tmp_path / "zoo" / "ckpt")
    values = _dtype_zoo(prefix)
    code, _, err = run_cli("convert", prefix, tmp_path / "model.pt", "--exclude", "quantized|float8_e4m3fn/3x0")
    assert code == 0, err
    state = torch.load(str(tmp_path / "model.pt"), weights_only=True)
    assert set(state) == {name for name in values if name != "quantized/qint8"} - {"float8_e4m3fn/3x0x2"}
    for name, tensor in state.items():
        value = values[name]
        assert tuple(tensor.shape) == value.shape
        if value.dtype.name in ("bfloat16", "float8_e5m2", "float8_e4m3fn"):
            bits = tensor.view(torch.int16 if value.dtype.itemsize == 2 else torch.uint8).numpy()
            assert bits.tobytes() == value.tobytes(), name
        else:
            assert tensor.numpy().tobytes() == value.tobytes(), name
    # A cast goes through memory rather than the memory map, with the same names.
    assert run_cli("convert", prefix, tmp_path / "half.pt", "--exclude", "quantized", "--dtype", "float16")[0] == 0
    half = torch.load(str(tmp_path / "half.pt"), weights_only=True)
    assert half["float32/2x3"].dtype == torch.float16 and half["int64/7"].dtype == torch.int64


def test_missing_torch_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    code, _, err = run_cli("convert", os.path.join(GOLDEN, "tt", "model.ckpt"), tmp_path / "model.pt")
    assert code == 1 and "pip install tensorkeep[torch]" in err
