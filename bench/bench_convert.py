"""Converting a 1 GiB checkpoint (64 float32 variables of 4,194,304 elements) to safetensors
and back: wall time and peak RSS of the converting process, which streams tensor by tensor.

Each conversion runs in a fresh interpreter, so its peak RSS is the conversion's alone.

Usage: .venv/bin/python bench/bench_convert.py [--quick] [--variables 64] [--elements 4194304] [--dir DIR]
Prints the JSON result and markdown table rows for BENCHMARKS.md.
"""

import argparse
import os
import sys

from common import MIB, REPO, emit, markdown, row, run_python, summarize, work_directory

CONVERT = """
import json, resource, time
from tensorkeep.tools.convert import convert
start = time.perf_counter()
convert({src!r}, {dst!r})
elapsed = time.perf_counter() - start
print("@@" + json.dumps({{"seconds": elapsed,
                          "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}}))
"""

BASELINE = """
import json, resource
import tensorkeep.tools.convert
print("@@" + json.dumps({"peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def write_checkpoint(prefix, variables, elements):
    import numpy as np

    from tensorkeep.io import bundle

    rng = np.random.default_rng(0)
    with bundle.BundleWriter(prefix) as writer:
        for index in range(variables):
            writer.add(f"layer_{index:02d}/kernel", rng.standard_normal(elements, dtype=np.float32))


def run(quick=False, directory=None, variables=64, elements=4_194_304):
    repeats = 2 if quick else 5
    total = variables * elements * 4
    samples = {"checkpoint → safetensors": [], "safetensors → checkpoint": []}
    with work_directory(directory) as work:
        prefix = os.path.join(work, "ckpt", "model.ckpt")
        write_checkpoint(prefix, variables, elements)
        safetensors_path = os.path.join(work, "model.safetensors")
        for _ in range(repeats):
            samples["checkpoint → safetensors"].append(
                run_python(sys.executable, CONVERT.format(src=prefix, dst=safetensors_path)))
            samples["safetensors → checkpoint"].append(run_python(
                sys.executable, CONVERT.format(src=safetensors_path, dst=os.path.join(work, "back", "m"))))
        baseline = run_python(sys.executable, BASELINE)["peak_rss_bytes"]
    size = "%.0f MiB (%d × %d float32)" % (total / MIB, variables, elements)
    rows = []
    for label, measured in samples.items():
        rows.append(row("convert %s, %s" % (size, label), "s", "lower",
                        tensorkeep=summarize([m["seconds"] for m in measured])))
        rows.append(row("convert %s, %s" % (size, label), "GB/s", "higher",
                        tensorkeep=summarize([total / m["seconds"] / 1e9 for m in measured])))
        rows.append(row("convert %s, %s: peak RSS above the interpreter with the converter "
                        "imported (%.0f MiB)" % (size, label, baseline / MIB), "MiB", "lower",
                        tensorkeep=summarize([(m["peak_rss_bytes"] - baseline) / MIB
                                              for m in measured])))
    return {"name": "convert", "benchmark": "convert a checkpoint to safetensors and back",
            "rows": rows, "goals": [], "largest_tensor_bytes": elements * 4,
            "interpreter_baseline_rss_bytes": baseline}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, same sizes")
    parser.add_argument("--variables", type=int, default=64)
    parser.add_argument("--elements", type=int, default=4_194_304)
    parser.add_argument("--dir", help="parent of the work directory (default: the system's /tmp)")
    args = parser.parse_args()
    sys.path.insert(0, REPO)
    result = run(args.quick, args.dir, args.variables, args.elements)
    emit(result)
    print()
    print(markdown([result]))


if __name__ == "__main__":
    main()
