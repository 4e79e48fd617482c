"""Real TensorFlow as an oracle: run code in the separate `.venv-tf` interpreter (never imported
into the test process). Tests that use it are marked `tf` and skipped when it is absent."""

import json
import os
import subprocess
import sys
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("TENSORKEEP_SHARED", os.path.join(os.path.dirname(REPO), "shared"))


def tf_python():
    """Path of the interpreter with tensorflow-cpu, or None."""
    candidate = os.environ.get("TENSORKEEP_TF_PYTHON", os.path.join(REPO, ".venv-tf", "bin",
                                                                    "python"))
    return candidate if os.path.exists(candidate) else None


SKIP_REASON = ("real TensorFlow not found: create it with `python -m venv .venv-tf && "
               ".venv-tf/bin/pip install tensorflow-cpu` (or set TENSORKEEP_TF_PYTHON)")


def run_tensorflow(code, cwd=None, timeout=600):
    """Runs `code` under real TensorFlow (graph mode, tf = tf.compat.v1); the code reports
    results by calling `emit(obj)` with JSON-serialisable values. Returns the emitted object."""
    python = tf_python()
    if python is None:
        raise RuntimeError(SKIP_REASON)
    prelude = textwrap.dedent("""
        import json, os, sys
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow.compat.v1 as tf
        tf.disable_v2_behavior()
        _emitted = []
        def emit(obj):
            _emitted.append(obj)
    """)
    epilogue = "\nsys.stdout.write('\\n@@TF_ORACLE@@' + json.dumps(_emitted[-1] if _emitted else None))\n"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([python, "-c", prelude + textwrap.dedent(code) + epilogue], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError("TensorFlow subprocess failed:\n" + proc.stderr[-4000:])
    marker = proc.stdout.rfind("@@TF_ORACLE@@")
    return json.loads(proc.stdout[marker + len("@@TF_ORACLE@@"):])


def tensorkeep_python():
    return sys.executable
