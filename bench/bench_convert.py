"""Converting a 1 GiB checkpoint (64 float32 variables of 4,194,304 elements) to safetensors
and back: wall time and peak RSS of the converting process, which streams tensor by tensor.

Usage: .venv/bin/python bench/bench_convert.py [--variables 64] [--elements 4194304] [--dir DIR]
Prints the JSON result and markdown table rows for BENCHMARKS.md.
"""

import argparse
import os
import sys
import tempfile

from common import REPO, emit, machine_facts, run_python

# Each measurement runs in a fresh interpreter, so its peak RSS is the conversion's alone.
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variables", type=int, default=64)
    parser.add_argument("--elements", type=int, default=4_194_304)
    parser.add_argument("--dir", help="work directory (default: a temporary one)")
    args = parser.parse_args()
    sys.path.insert(0, REPO)
    with tempfile.TemporaryDirectory(dir=args.dir) as work:
        prefix = os.path.join(work, "ckpt", "model.ckpt")
        write_checkpoint(prefix, args.variables, args.elements)
        total = args.variables * args.elements * 4
        safetensors_path = os.path.join(work, "model.safetensors")
        to_safetensors = run_python(sys.executable, CONVERT.format(src=prefix, dst=safetensors_path))
        back = run_python(sys.executable, CONVERT.format(src=safetensors_path, dst=os.path.join(work, "back", "m")))
        baseline = run_python(sys.executable, BASELINE)
    mib = 1024 * 1024
    result = {
        "benchmark": f"convert a {total / mib / 1024:.2f} GiB checkpoint ({args.variables} float32 variables of "
                     f"{args.elements} elements)",
        "checkpoint_to_safetensors": to_safetensors,
        "safetensors_to_checkpoint": back,
        "interpreter_baseline_rss_bytes": baseline["peak_rss_bytes"],
        "largest_tensor_bytes": args.elements * 4,
        "machine": machine_facts(),
    }
    emit(result)
    print()
    print("| benchmark | time (s) | throughput | peak RSS | RSS above interpreter baseline |")
    print("| --- | --- | --- | --- | --- |")
    for label, measured in (("checkpoint → safetensors", to_safetensors), ("safetensors → checkpoint", back)):
        print(f"| convert {total / mib:.0f} MiB ({args.variables}×{args.elements} float32), {label} | "
              f"{measured['seconds']:.2f} | {total / mib / measured['seconds']:.0f} MiB/s | "
              f"{measured['peak_rss_bytes'] / mib:.0f} MiB | "
              f"{(measured['peak_rss_bytes'] - baseline['peak_rss_bytes']) / mib:.0f} MiB |")


if __name__ == "__main__":
    main()
