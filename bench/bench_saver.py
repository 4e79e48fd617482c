"""Saver.save and Saver.restore, tensorkeep vs TensorFlow, beside safetensors, NumPy .npz and
torch.save on the same tensors: a 1 GiB model (64 float32 variables of 4,194,304 elements) and
10,000 variables of 100 floats. For the 10,000 variables, also the time to build the graph, its
Saver, and to run its initializer.

Each implementation saves in one process and restores in a fresh one (variables not yet
initialized, as a program that starts by restoring), then restores again into the initialized
variables. Peak memory is the process's peak RSS during the operation minus its RSS just
before it. Files live in the work directory (default /tmp, the repository's disk) and stay in
the page cache. Saves skip the meta graph (`write_meta_graph=False`): the figure is the
checkpoint's.
Usage: .venv/bin/python bench/bench_saver.py [--quick] [--case large|small] [--dir DIR]"""

import argparse
import os
import sys

from common import (MEMORY_PROBE, MIB, REPO, TENSORFLOW_IMPORTS, TENSORKEEP_IMPORTS, TF_PYTHON,
                    emit, goal, have_tensorflow, markdown, row, run_python, speedup, summarize,
                    work_directory)

CASES = {
    "large": {"title": "1 GiB model (64 × 4,194,304 float32)", "variables": 64,
              "elements": 4_194_304},
    "small": {"title": "10,000 variables of 100 float32", "variables": 10_000, "elements": 100},
}

# Builds the model graph; with BUILD_REPEATS > 1 it is built that many times in fresh graphs
# (timing each) and the last one is kept. RUN_INITIALIZER times each graph's first run of its
# initializer in a new session (building the plan, then running it).
GRAPH = """
import json, os, time{imports}
{probe}
VARIABLES, ELEMENTS, REPEATS, BUILD_REPEATS, PREFIX = {variables}, {elements}, {repeats}, {build_repeats}, {prefix!r}
RUN_INITIALIZER = {run_initializer}
timings = {{"build graph": [], "build Saver": []}}
for _ in range(BUILD_REPEATS):
    graph = tf.Graph()
    with graph.as_default():
        start = time.perf_counter()
        variables = [tf.Variable(tf.fill([ELEMENTS], float(index % 7)), name="v%d" % index)
                     for index in range(VARIABLES)]
        timings["build graph"].append(time.perf_counter() - start)
        start = time.perf_counter()
        saver = tf.train.Saver(variables, max_to_keep=None)
        timings["build Saver"].append(time.perf_counter() - start)
        init = tf.global_variables_initializer()
        sess = tf.Session(graph=graph)
        if RUN_INITIALIZER:  # its first run: the plan is built, then run
            start = time.perf_counter()
            sess.run(init)
            timings.setdefault("run initializer", []).append(time.perf_counter() - start)
graph.as_default().__enter__()

def timed_with_peak(fn):
    before = rss()
    reset_peak()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start, peak_rss() - before
"""

SAVE = GRAPH + """
timings["save"], peaks = [], []
for _ in range(REPEATS):
    seconds, peak = timed_with_peak(lambda: saver.save(sess, PREFIX, write_meta_graph=False))
    timings["save"].append(seconds)
    peaks.append(peak)
print("@@" + json.dumps({{"timings": timings, "save_peak": peaks}}))
"""

RESTORE = GRAPH + """
seconds, first_peak = timed_with_peak(lambda: saver.restore(sess, PREFIX))
timings["restore into uninitialized variables"] = [seconds]
timings["restore into initialized variables"], peaks = [], []
for _ in range(REPEATS):
    seconds, peak = timed_with_peak(lambda: saver.restore(sess, PREFIX))
    timings["restore into initialized variables"].append(seconds)
    peaks.append(peak)
total = sum(float(value[0]) + float(value[-1]) for value in sess.run(variables))
expected = sum(2 * float(index % 7) for index in range(VARIABLES))
assert abs(total - expected) < 1e-6, (total, expected)
print("@@" + json.dumps({{"timings": timings, "restore_peak_fresh": first_peak,
                          "restore_peak_again": peaks}}))
"""

# The same tensors through other libraries' save/load, in tensorkeep's environment.
OTHERS = """
import json, os, time
import numpy as np
{probe}
VARIABLES, ELEMENTS, REPEATS, DIRECTORY = {variables}, {elements}, {repeats}, {directory!r}
tensors = {{"v%d" % index: np.full([ELEMENTS], float(index % 7), np.float32)
           for index in range(VARIABLES)}}

def save_safetensors(path):
    from safetensors.numpy import save_file
    save_file(tensors, path)

def load_safetensors(path):
    from safetensors.numpy import load_file
    return load_file(path)

def save_npz(path):
    np.savez(path, **tensors)

def load_npz(path):
    with np.load(path) as archive:
        return {{name: archive[name] for name in archive.files}}

def save_torch(path):
    import torch
    torch.save({{name: torch.from_numpy(value) for name, value in tensors.items()}}, path)

def load_torch(path):
    import torch
    return torch.load(path)

FORMATS = {{"safetensors": (save_safetensors, load_safetensors, "model.safetensors"),
           "numpy .npz": (save_npz, load_npz, "model.npz"),
           "torch.save": (save_torch, load_torch, "model.pt")}}
results = {{}}
for name, (save, load, filename) in FORMATS.items():
    path = os.path.join(DIRECTORY, filename)
    save(path)  # warm-up: imports the library
    save_times, save_peaks = [], []
    for _ in range(REPEATS):
        before = rss(); reset_peak(); start = time.perf_counter()
        save(path)
        save_times.append(time.perf_counter() - start); save_peaks.append(peak_rss() - before)
    load_times, load_peaks = [], []
    for _ in range(REPEATS):
        before = rss(); reset_peak(); start = time.perf_counter()
        loaded = load(path)
        load_times.append(time.perf_counter() - start); load_peaks.append(peak_rss() - before)
        del loaded
    os.remove(path)
    results[name] = {{"save": save_times, "load": load_times, "save_peak": save_peaks,
                     "load_peak": load_peaks}}
print("@@" + json.dumps(results))
"""


def _measure(python, imports, case, repeats, build_repeats, directory):
    prefix = os.path.join(directory, "model.ckpt")
    settings = dict(imports=imports, probe=MEMORY_PROBE, variables=case["variables"],
                    elements=case["elements"], repeats=repeats, prefix=prefix)
    saved = run_python(python, SAVE.format(build_repeats=build_repeats, run_initializer=True,
                                           **settings))
    restored = run_python(python, RESTORE.format(build_repeats=1, run_initializer=False,
                                                 **settings))
    for name in os.listdir(directory):
        os.remove(os.path.join(directory, name))
    timings = saved["timings"]
    for key in ("build graph", "build Saver"):
        timings[key] += restored["timings"][key]
    timings.update({key: value for key, value in restored["timings"].items() if key not in timings})
    return {"timings": timings, "save_peak": saved["save_peak"],
            "restore_peak_fresh": restored["restore_peak_fresh"],
            "restore_peak_again": restored["restore_peak_again"]}


def run_case(case_name, quick=False, directory=None, limits=None):
    case = CASES[case_name]
    model_bytes = case["variables"] * case["elements"] * 4
    repeats = 3 if quick else 7
    build_repeats = 1 if quick or case_name == "large" else 3
    measured = {}
    with work_directory(directory) as work:
        measured["tensorkeep"] = _measure(sys.executable, TENSORKEEP_IMPORTS, case, repeats,
                                          build_repeats, work)
        if have_tensorflow():
            measured["tensorflow"] = _measure(TF_PYTHON, TENSORFLOW_IMPORTS, case, repeats,
                                              build_repeats, work)
        others = run_python(sys.executable, OTHERS.format(
            probe=MEMORY_PROBE, variables=case["variables"], elements=case["elements"],
            repeats=repeats, directory=work))

    def throughput(samples):
        return summarize([model_bytes / seconds / 1e9 for seconds in samples])

    def mib(samples):
        return summarize([value / MIB for value in samples])

    rows = []
    title = case["title"]
    for operation, key, other_key in (("save", "save", "save"),
                                      ("restore (fresh process)", "restore into uninitialized variables", "load"),
                                      ("restore again (initialized variables)", "restore into initialized variables", None)):
        impls = {name: summarize(m["timings"][key]) for name, m in measured.items()}
        if other_key:
            impls.update({name: summarize(o[other_key]) for name, o in others.items()})
        rows.append(row("%s, %s" % (operation, title), "s", "lower", **impls))
        rows.append(row("%s, %s" % (operation, title), "GB/s", "higher",
                        **{name: throughput(m["timings"][key]) for name, m in measured.items()},
                        **({name: throughput(o[other_key]) for name, o in others.items()}
                           if other_key else {})))
    rows.append(row("save peak RSS above the process's RSS before, " + title, "MiB", "lower",
                    **{name: mib(m["save_peak"]) for name, m in measured.items()},
                    **{name: mib(o["save_peak"]) for name, o in others.items()}))
    rows.append(row("restore (fresh process) peak RSS above RSS before, " + title, "MiB", "lower",
                    **{name: mib([m["restore_peak_fresh"]]) for name, m in measured.items()},
                    **{name: mib(o["load_peak"]) for name, o in others.items()}))
    rows.append(row("restore again peak RSS above RSS before, " + title, "MiB", "lower",
                    **{name: mib(m["restore_peak_again"]) for name, m in measured.items()}))
    if case_name == "small":
        for key in ("build graph", "build Saver", "run initializer"):
            rows.insert(len(rows), row("%s, %s" % (key, title), "s", "lower",
                                       **{name: summarize(m["timings"][key])
                                          for name, m in measured.items()}))
    return {"rows": rows, "goals": _goals(case_name, rows, model_bytes, case, limits),
            "raw": {"measured": measured, "others": others}}


def _find(rows, prefix, unit):
    return next(r for r in rows if r["figure"].startswith(prefix) and r["unit"] == unit)


def _goals(case_name, rows, model_bytes, case, limits):
    def ratio_text(value):
        return "n/a" if value is None else "%.2f×" % value

    goals = []
    if case_name == "large":
        tensor_mib = case["elements"] * 4 / MIB
        # Each operation against the machine's limit for the same work (a save fsyncs its
        # files; a restore into new variables faults fresh memory in), then the stricter one.
        for operation, limit_names in (
                ("save", ("write a file + fsync", "write a file (page cache)")),
                ("restore (fresh process)", ("read a file into new 16 MiB arrays (fresh process)",
                                             "read a file into an existing buffer")),
                ("restore again", ("read a file into an existing buffer",))):
            r = _find(rows, operation, "GB/s")
            ratio = speedup(r)
            goals.append(goal("1 GiB %s ≥2× TensorFlow's throughput" % operation, ratio_text(ratio),
                              None if ratio is None else ratio >= 2))
            for limit_name in limit_names if limits else ():
                ours = r["results"]["tensorkeep"]["median"]
                limit = limits[limit_name]["median"]
                goals.append(goal("1 GiB %s ≥70%% of the machine's '%s' bandwidth" % (operation, limit_name),
                                  "%.0f%% (%.2f of %.2f GB/s)" % (100 * ours / limit, ours, limit),
                                  ours >= 0.7 * limit))
        # Into new variables the model itself is new memory; into initialized ones it is
        # already resident, so only one tensor more may be.
        for prefix, allowed, what in (
                ("restore (fresh process) peak", model_bytes / MIB + tensor_mib, "model + one tensor"),
                ("restore again peak", tensor_mib, "one tensor above the resident model")):
            peak = _find(rows, prefix, "MiB")["results"]["tensorkeep"]["median"]
            goals.append(goal("%s ≤ %s (%.0f MiB)" % (prefix, what, allowed),
                              "%.0f MiB" % peak, peak <= allowed))
    else:
        save = _find(rows, "save, ", "s")["results"]
        restore = _find(rows, "restore (fresh process), ", "s")["results"]
        if "tensorflow" in save:
            ratio = ((save["tensorflow"]["median"] + restore["tensorflow"]["median"]) /
                     (save["tensorkeep"]["median"] + restore["tensorkeep"]["median"]))
        else:
            ratio = None
        goals.append(goal("10,000 variables: save + restore ≥3× faster than TensorFlow",
                          ratio_text(ratio), None if ratio is None else ratio >= 3))
        build = [_find(rows, key, "s")["results"] for key in ("build graph", "build Saver", "run initializer")]
        if all("tensorflow" in b for b in build):
            ratio = (sum(b["tensorflow"]["median"] for b in build) /
                     sum(b["tensorkeep"]["median"] for b in build))
        else:
            ratio = None
        goals.append(goal("10,000 variables: build graph + Saver + initializer ≥10× faster",
                          ratio_text(ratio), None if ratio is None else ratio >= 10))
    return goals


def run(quick=False, directory=None, cases=("large", "small"), limits=None):
    result = {"name": "saver", "benchmark": "Saver.save / Saver.restore", "rows": [], "goals": [],
              "raw": {}}
    if limits is None and "large" in cases:
        import bench_machine
        limits = bench_machine.measure(quick, directory)
        result["limits"] = limits
    for case_name in cases:
        case_result = run_case(case_name, quick, directory, limits)
        result["rows"] += case_result["rows"]
        result["goals"] += case_result["goals"]
        result["raw"][case_name] = case_result["raw"]
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, same sizes")
    parser.add_argument("--case", choices=sorted(CASES), action="append",
                        help="only this case (repeatable; default: both)")
    parser.add_argument("--dir", help="parent of the work directory (default: the system's /tmp)")
    args = parser.parse_args()
    result = run(args.quick, args.dir, tuple(args.case or ("large", "small")))
    emit(result)
    print()
    print(markdown([result]))


if __name__ == "__main__":
    sys.path.insert(0, REPO)
    main()
