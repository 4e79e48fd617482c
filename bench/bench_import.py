"""`import tensorkeep` vs `import tensorflow`: wall time and peak resident memory of the whole
process (`python -c "import X"`), beside a bare interpreter and `import numpy`. The CPU time
of the process is shown too: it moves less than wall time when other work shares the cores.
`import tensorkeep` loads its namespace on first use, so "import + first use" also times a
process that imports the library and builds `tf.constant(1.0) + tf.constant(2.0)` in a graph
(TensorFlow through tf.compat.v1 with v2 behaviour disabled, as a TF1 program runs there).
Usage: .venv/bin/python bench/bench_import.py [--quick]"""

import os
import subprocess
import sys
import time

from common import (MIB, REPO, TENSORFLOW_IMPORTS, TF_PYTHON, child_environment, goal,
                    have_tensorflow, row, speedup, standard_main, summarize)

_FIRST_USE = "\nx = tf.constant(1.0) + tf.constant(2.0)"


_REPORT_PEAK = ("\nimport sys\nsys.stdout.write([line for line in open('/proc/self/status') "
                "if line.startswith('VmHWM')][0])")


def _process_cost(python, statement, runs):
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of `python -c statement`,
    `runs` times after a warm-up that fills the page cache and the byte-code cache."""
    env = child_environment()
    # The child reports its own peak (VmHWM): the rusage of a child also counts the memory of
    # the benchmark process it was forked from, before its exec.
    program = statement + _REPORT_PEAK
    seconds, cpu_seconds, peaks = [], [], []
    for index in range(runs + 1):
        start = time.perf_counter()
        child = subprocess.Popen([python, "-c", program], env=env, cwd=REPO,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        output = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        if status != 0:
            raise RuntimeError("%s -c %r failed" % (python, statement))
        if index:
            seconds.append(elapsed)
            cpu_seconds.append(usage.ru_utime + usage.ru_stime)
            peaks.append(int(output.split()[-2]) * 1024 / MIB)
    return summarize(seconds), summarize(peaks), summarize(cpu_seconds)


def run(quick=False, directory=None):
    runs = 3 if quick else 9
    measured = {
        "python -c pass": _process_cost(sys.executable, "pass", runs),
        "import numpy": _process_cost(sys.executable, "import numpy", runs),
        "import tensorkeep": _process_cost(sys.executable, "import tensorkeep", runs),
    }
    first_use = {"tensorkeep": _process_cost(sys.executable,
                                             "import tensorkeep as tf" + _FIRST_USE, runs)}
    if have_tensorflow():
        measured["import tensorflow"] = _process_cost(TF_PYTHON, "import tensorflow", runs)
        first_use["tensorflow"] = _process_cost(TF_PYTHON, TENSORFLOW_IMPORTS + _FIRST_USE, runs)
    names = {"import tensorkeep": "tensorkeep", "import tensorflow": "tensorflow",
             "import numpy": "numpy alone", "python -c pass": "bare interpreter"}
    time_row = row("whole process `python -c \"import X\"`", "s", "lower",
                   **{names[k]: v[0] for k, v in measured.items()})
    cpu_row = row("CPU time (user + system) of that process", "s", "lower",
                  **{names[k]: v[2] for k, v in measured.items()})
    memory_row = row("peak RSS of that process", "MiB", "lower",
                     **{names[k]: v[1] for k, v in measured.items()})
    first_use_time_row = row("whole process: import + first use (build `tf.constant(1.0) + "
                             "tf.constant(2.0)` in a graph)", "s", "lower",
                             **{k: v[0] for k, v in first_use.items()})
    first_use_cpu_row = row("CPU time (user + system) of the import + first use process", "s",
                            "lower", **{k: v[2] for k, v in first_use.items()})
    first_use_memory_row = row("peak RSS of the import + first use process", "MiB", "lower",
                               **{k: v[1] for k, v in first_use.items()})
    time_ratio, memory_ratio = speedup(time_row), speedup(memory_row)
    goals = [
        goal("import ≥20× faster than TensorFlow",
             "n/a" if time_ratio is None else "%.1f× faster" % time_ratio,
             None if time_ratio is None else time_ratio >= 20),
        goal("import in under a tenth of TensorFlow's memory",
             "n/a" if memory_ratio is None else "%.1f× less" % memory_ratio,
             None if memory_ratio is None else memory_ratio > 10),
    ]
    return {"name": "import", "benchmark": "import tensorkeep vs import tensorflow",
            "rows": [time_row, cpu_row, memory_row, first_use_time_row, first_use_cpu_row,
                     first_use_memory_row],
            "goals": goals}


if __name__ == "__main__":
    standard_main(run, __doc__.splitlines()[0])
