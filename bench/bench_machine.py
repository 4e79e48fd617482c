"""The machine's own limits for the bytes of the 1 GiB model: memcpy, writing and reading a file
of that size through the page cache, CRC-32C (the crc32c package tensorkeep uses). Nothing is
dropped from the page cache: reads are of a file just written, as a restore right after a save is. Reading into new
16 MiB arrays (the model's tensors) includes the page faults of fresh memory, which a restore
into variables that do not exist yet pays; writing + fsync is what a durable save pays.
Usage: .venv/bin/python bench/bench_machine.py [--quick] [--dir DIR]"""

import os
import sys

from common import GIB, MEMORY_PROBE, REPO, row, run_python, standard_main, summarize, work_directory

CODE = """
import json, os, time
import numpy as np
import crc32c
{probe}
SIZE, REPEATS, PATH, TENSOR = {size}, {repeats}, {path!r}, 16 << 20
source = np.random.default_rng(0).integers(0, 255, SIZE, dtype=np.uint8)
target = np.empty_like(source)
target.fill(1)
samples = {{name: [] for name in ("memcpy into an existing buffer", "copy into a new array",
                                   "write a file (page cache)", "write a file + fsync",
                                   "read a file into an existing buffer", "crc32c")}}

def timed(name, fn):
    start = time.perf_counter()
    fn()
    samples[name].append(SIZE / (time.perf_counter() - start) / 1e9)

def write_file(sync):
    fd = os.open(PATH, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    view = memoryview(source)
    written = 0
    while written < SIZE:
        written += os.write(fd, view[written:written + (1 << 30)])
    if sync:
        os.fsync(fd)
    os.close(fd)

def read_file(into=None):
    fd = os.open(PATH, os.O_RDONLY)
    view = memoryview(target if into is None else into)
    filled = 0
    while filled < SIZE:
        filled += os.readv(fd, [view[filled:]])
    os.close(fd)

for _ in range(REPEATS):
    timed("memcpy into an existing buffer", lambda: np.copyto(target, source))
    timed("copy into a new array", lambda: source.copy())
    os.path.exists(PATH) and os.remove(PATH)
    timed("write a file (page cache)", lambda: write_file(False))
    os.remove(PATH)
    timed("write a file + fsync", lambda: write_file(True))
    timed("read a file into an existing buffer", read_file)
    timed("crc32c", lambda: crc32c.crc32c(source))
print("@@" + json.dumps(samples))
"""

# In a process of its own, as a restore into new variables runs: memory never used before.
FRESH_READ = """
import json, os, time
import numpy as np
SIZE, PATH, TENSOR = {size}, {path!r}, 16 << 20
start = time.perf_counter()
fd = os.open(PATH, os.O_RDONLY)
arrays = []
for offset in range(0, SIZE, TENSOR):
    array = np.empty(TENSOR, np.uint8)
    os.preadv(fd, [memoryview(array)], offset)
    arrays.append(array)
os.close(fd)
print("@@" + json.dumps(SIZE / (time.perf_counter() - start) / 1e9))
"""


def measure(quick=False, directory=None):
    """{figure: summary of GB/s} for 1 GiB."""
    repeats = 3 if quick else 7
    with work_directory(directory) as work:
        path = os.path.join(work, "one_gib.bin")
        samples = run_python(sys.executable, CODE.format(probe=MEMORY_PROBE, size=GIB,
                                                         repeats=repeats, path=path))
        samples["read a file into new 16 MiB arrays (fresh process)"] = [
            run_python(sys.executable, FRESH_READ.format(size=GIB, path=path))
            for _ in range(repeats)]
    return {name: summarize(values) for name, values in samples.items()}


def run(quick=False, directory=None):
    limits = measure(quick, directory)
    rows = [row(name + ", 1 GiB", "GB/s", "higher", machine=value) for name, value in limits.items()]
    return {"name": "machine", "benchmark": "the machine's limits for 1 GiB (GB = 1e9 bytes)",
            "rows": rows, "goals": [], "limits": limits}


if __name__ == "__main__":
    sys.path.insert(0, REPO)
    standard_main(run, __doc__.splitlines()[0])
