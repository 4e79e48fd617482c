"""Real TensorFlow as an oracle: run code in the separate `.venv-tf` interpreter (never imported
into the test process). Tests that use it are marked `tf` and skipped when it is absent."""

import json
import os
import subprocess
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("TENSORKEEP_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
TESTS_DIR = os.path.join(REPO, "tests")


def tf_python():
    """Path of the interpreter with tensorflow-cpu, or None."""
    candidate = os.environ.get("TENSORKEEP_TF_PYTHON", os.path.join(REPO, ".venv-tf", "bin",
                                                                    "python"))
    return candidate if os.path.exists(candidate) else None


SKIP_REASON = ("real TensorFlow not found: create it with `python -m venv .venv-tf && "
               ".venv-tf/bin/pip install tensorflow-cpu` (or set TENSORKEEP_TF_PYTHON)")


def require_tensorflow():
    """Skips the calling test or fixture (with SKIP_REASON) when real TensorFlow is absent."""
    if tf_python() is None:
        import pytest  # here: this module is also importable from the TensorFlow interpreter

        pytest.skip(SKIP_REASON)


def run_tensorflow_process(args, cwd=None, timeout=600):
    """Runs the TensorFlow interpreter with `args` (a script and its arguments, or "-c" and
    code) and returns its stdout; a failure raises RuntimeError with the end of its stderr."""
    python = tf_python()
    if python is None:
        raise RuntimeError(SKIP_REASON)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([python] + [str(arg) for arg in args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError("TensorFlow subprocess failed:\n" + proc.stderr[-4000:])
    return proc.stdout


def run_tensorflow(code, cwd=None, timeout=600):
    """Runs `code` under real TensorFlow (graph mode, tf = tf.compat.v1); the code reports
    results by calling `emit(obj)` with JSON-serialisable values; the tests directory is on its
    sys.path. Returns the emitted object."""
    prelude = textwrap.dedent("""
        import json, os, sys
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        sys.path.insert(0, %r)  # the suites' case modules, and this one
        import tensorflow.compat.v1 as tf
        tf.disable_v2_behavior()
        _emitted = []
        def emit(obj):
            _emitted.append(obj)
    """) % TESTS_DIR
    epilogue = "\nsys.stdout.write('\\n@@TF_ORACLE@@' + json.dumps(_emitted[-1] if _emitted else None))\n"
    stdout = run_tensorflow_process(["-c", prelude + textwrap.dedent(code) + epilogue], cwd=cwd,
                                    timeout=timeout)
    marker = stdout.rfind("@@TF_ORACLE@@")
    return json.loads(stdout[marker + len("@@TF_ORACLE@@"):])


def stripped_op_def(op_type):
    """TensorFlow side: the serialized OpDef of `op_type` without its documentation (summary,
    descriptions, deprecation notice), or None when TensorFlow has no such op."""
    from tensorflow.python.framework import op_def_registry

    registered = op_def_registry.get(op_type)
    if registered is None:
        return None
    op_def = type(registered).FromString(registered.SerializeToString())
    op_def.ClearField("summary")
    op_def.ClearField("description")
    op_def.ClearField("deprecation")
    for part in list(op_def.input_arg) + list(op_def.output_arg) + list(op_def.attr):
        part.ClearField("description")
    return op_def.SerializeToString(deterministic=True)
