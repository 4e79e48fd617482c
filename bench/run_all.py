"""Runs the whole benchmark suite (or one benchmark) and prints every figure and goal.

Usage: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
           .venv/bin/python bench/run_all.py [--only NAME]... [--quick] [--dir DIR] [--json FILE]

Benchmarks run one after another, never concurrently (the 1 GiB cases of tensorkeep and
TensorFlow would otherwise compete for memory and cores). TensorFlow runs from its own virtual
environment (.venv-tf, or $TENSORKEEP_TF_PYTHON) in subprocesses; without it, the suite reports
tensorkeep alone. The JSON of every result goes to --json (default bench/results.json); the
markdown tables are what BENCHMARKS.md shows.
"""

import argparse
import json
import os
import sys
import time

from common import OPENBLAS_OVERRIDES, REPO, have_tensorflow, machine_facts, markdown

sys.path.insert(0, REPO)

import bench_cnn  # noqa: E402
import bench_conv2d  # noqa: E402
import bench_convert  # noqa: E402
import bench_import  # noqa: E402
import bench_machine  # noqa: E402
import bench_mlp  # noqa: E402
import bench_saver  # noqa: E402
import bench_session_run  # noqa: E402

BENCHMARKS = {
    "import": bench_import.run,
    "machine": bench_machine.run,
    "saver": bench_saver.run,
    "session_run": bench_session_run.run,
    "mlp": bench_mlp.run,
    "cnn": bench_cnn.run,
    "conv2d": bench_conv2d.run,
    "convert": bench_convert.run,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS),
                        help="run only this benchmark (repeatable)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, same sizes")
    parser.add_argument("--dir", help="parent of the work directories (default: the system's /tmp)")
    parser.add_argument("--json", default=os.path.join(REPO, "bench", "results.json"),
                        help="where to write every result as JSON")
    args = parser.parse_args()
    names = args.only or list(BENCHMARKS)
    overrides = [name for name in OPENBLAS_OVERRIDES if name in os.environ]
    if overrides:
        print("note: %s set: NumPy's OpenBLAS runs the kernels they force, not its best for this "
              "CPU; run with `env -u %s` to measure what a default installation does"
              % (", ".join(overrides), " -u ".join(overrides)), flush=True)
    facts = machine_facts()
    facts["tensorflow"] = have_tensorflow()
    facts["load_average_at_start"] = os.getloadavg()
    print("machine:", json.dumps(facts), flush=True)
    results = []
    limits = None
    for name in names:
        start = time.perf_counter()
        print("running %s ..." % name, flush=True)
        if name == "saver":
            result = bench_saver.run(quick=args.quick, directory=args.dir, limits=limits)
        else:
            result = BENCHMARKS[name](quick=args.quick, directory=args.dir)
        if name == "machine":
            limits = result["limits"]
        result["seconds"] = time.perf_counter() - start
        result["load_average_after"] = os.getloadavg()
        results.append(result)
        print(markdown([result]), flush=True)
        print(flush=True)
    with open(args.json, "w") as f:
        json.dump({"machine": facts, "quick": args.quick, "results": results}, f, indent=1)
    print("=" * 100)
    print(markdown(results))
    print("\nJSON written to %s" % args.json)


if __name__ == "__main__":
    main()
