"""Shared benchmark plumbing: medians of repeated runs, the TensorFlow subprocess, reporting."""

import json
import os
import platform
import statistics
import subprocess
import sys
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TF_PYTHON = os.environ.get("TENSORKEEP_TF_PYTHON", os.path.join(REPO, ".venv-tf", "bin", "python"))


def summarize(samples):
    """median, min, max of a list of numbers."""
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples)}


def run_python(python, code, timeout=3600):
    """Runs `code` in a fresh interpreter; the code prints one JSON line prefixed with @@."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([python, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@")][-1]
    return json.loads(line[2:])


def have_tensorflow():
    return os.path.exists(TF_PYTHON)


def machine_facts():
    facts = {"python": platform.python_version(), "machine": platform.machine(),
             "cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    facts["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import numpy as np
        facts["numpy"] = np.__version__
        config = np.show_config(mode="dicts")
        blas = config.get("Build Dependencies", {}).get("blas", {})
        facts["blas"] = "%s %s" % (blas.get("name", "?"), blas.get("version", ""))
    except Exception:  # numpy's config layout varies between versions
        pass
    return facts


def emit(result):
    print(json.dumps(result, indent=1))
    sys.stdout.flush()
