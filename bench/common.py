"""Shared benchmark plumbing: medians of repeated runs, the TensorFlow subprocess, peak-memory
probes, result rows and their markdown rendering."""

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TF_PYTHON = os.environ.get("TENSORKEEP_TF_PYTHON", os.path.join(REPO, ".venv-tf", "bin", "python"))
TENSORKEEP_IMPORTS = "\nimport tensorkeep as tf"
TENSORFLOW_IMPORTS = "\nimport tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()"
# Set on some machines (this one) for old OpenBLAS builds; they make a current NumPy use slower
# kernels (AVX2 "Haswell" instead of AVX-512 "SkylakeX" here). Benchmarks are meant to run with
# them unset in that command alone (`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ...`);
# machine_facts records which OpenBLAS kernel the run used.
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
GIB = 1 << 30
MIB = 1 << 20

# Pasted into benchmark programs: the resident memory of the process and its peak since the
# last reset_peak() (Linux: VmHWM in /proc/self/status, reset through clear_refs).
MEMORY_PROBE = """
def _status_bytes(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
def rss():
    return _status_bytes("VmRSS:")
def peak_rss():
    return _status_bytes("VmHWM:")
def reset_peak():
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")
"""


def summarize(samples):
    """median, min, max of a list of numbers."""
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples),
            "runs": len(samples)}


def child_environment():
    """Environment of benchmark subprocesses. Modules are byte-compiled once and cached (in
    /tmp, outside the tree), as they are for an installed package: a shell that sets
    PYTHONDONTWRITEBYTECODE would otherwise make every import compile its sources."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="",
               PYTHONPYCACHEPREFIX=os.path.join(tempfile.gettempdir(), "tensorkeep-bench-pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_python(python, code, timeout=3600):
    """Runs `code` in a fresh interpreter; the code prints one JSON line prefixed with @@."""
    env = child_environment()
    proc = subprocess.run([python, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@")][-1]
    return json.loads(line[2:])


def have_tensorflow():
    return os.path.exists(TF_PYTHON)


def work_directory(parent=None):
    """A temporary directory for benchmark files; /tmp shares the disk of the repository here."""
    return tempfile.TemporaryDirectory(prefix="tensorkeep-bench-", dir=parent)


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
        with open("/proc/meminfo") as f:
            facts["memory_gib"] = round(int(f.readline().split()[1]) / (1 << 20), 1)
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
    from tensorkeep.runtime import blas_threads

    facts["openblas_kernel"] = blas_threads.core_name()
    facts["openblas_environment"] = {name: os.environ[name] for name in OPENBLAS_OVERRIDES
                                     if name in os.environ}
    return facts


# --- result rows --------------------------------------------------------------------------------
# A benchmark returns {"benchmark": title, "rows": [...], "goals": [...], ...raw data}.
# A row is one figure measured for several implementations (tensorkeep, tensorflow, and
# others such as safetensors); `better` says which direction wins.

def row(figure, unit, better, **implementations):
    return {"figure": figure, "unit": unit, "better": better,
            "results": {name: value for name, value in implementations.items() if value is not None}}


def speedup(row_, name="tensorkeep", baseline="tensorflow"):
    """How many times better `name` is than `baseline` on this row (>1: `name` wins)."""
    results = row_["results"]
    if name not in results or baseline not in results:
        return None
    ours, theirs = results[name]["median"], results[baseline]["median"]
    if ours == 0 or theirs == 0:
        return None
    return theirs / ours if row_["better"] == "lower" else ours / theirs


def goal(text, measured, met):
    """One of the issue's goals: what it asks, what was measured, whether it is met (None:
    not measurable in this run, e.g. without TensorFlow)."""
    return {"goal": text, "measured": measured, "met": met}


def scaled(summary, factor):
    return {key: (value * factor if key != "runs" else value) for key, value in summary.items()}


def _number(value):
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return "%.0f" % value
    if abs(value) >= 10:
        return "%.1f" % value
    if abs(value) >= 1:
        return "%.2f" % value
    return "%.3g" % value


def _versus(row_, name):
    ratio = speedup(row_, name)
    if ratio is None:
        return ""
    is_memory = row_["unit"] in ("MiB", "GiB", "bytes")
    if ratio >= 1:
        return "%s× %s" % (_number(ratio), "less" if is_memory else "faster")
    return "%s× %s" % (_number(1 / ratio), "more" if is_memory else "slower")


def markdown(results):
    """Markdown tables (figures, then goals) for a list of benchmark results."""
    lines = ["| benchmark | figure | implementation | median | min | max | runs | vs TensorFlow |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for result in results:
        for r in result.get("rows", []):
            for name, value in r["results"].items():
                vs = _versus(r, name) if name != "tensorflow" else ""
                lines.append("| %s | %s (%s, %s is better) | %s | %s | %s | %s | %d | %s |" % (
                    result["name"], r["figure"], r["unit"], r["better"], name,
                    _number(value["median"]), _number(value["min"]), _number(value["max"]),
                    value.get("runs", 1), vs))
    lines += ["", "| goal | measured | met |", "| --- | --- | --- |"]
    for result in results:
        for g in result.get("goals", []):
            met = {True: "yes", False: "**no**", None: "n/a"}[g["met"]]
            lines.append("| %s | %s | %s |" % (g["goal"], g["measured"], met))
    return "\n".join(lines)


def standard_main(run, description):
    """Command line of one benchmark: [--quick] [--dir DIR]; prints JSON, then markdown."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, same sizes")
    parser.add_argument("--dir", help="parent of the work directory (default: the system's /tmp)")
    args = parser.parse_args()
    result = run(quick=args.quick, directory=args.dir)
    emit(result)
    print()
    print(markdown([result]))


def emit(result):
    print(json.dumps(result, indent=1))
    sys.stdout.flush()
