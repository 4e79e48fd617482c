"""Session.run latency on the seed's `v1 + v2` graph, tensorkeep vs TensorFlow (same machine,
same run), measured over batches of 5,000 calls after 2,000 warm-up calls.
Usage: .venv/bin/python bench/bench_session_run.py [--quick]"""

import sys

from common import (TENSORFLOW_IMPORTS, TENSORKEEP_IMPORTS, TF_PYTHON, goal, have_tensorflow,
                    row, run_python, speedup, standard_main, summarize)

CODE = """
import json, time{imports}
v1 = tf.Variable(tf.random_normal([1], stddev=1, seed=1))
v2 = tf.Variable(tf.random_normal([1], stddev=1, seed=1))
result = v1 + v2
sess = tf.Session()
sess.run(tf.global_variables_initializer())
for _ in range(2000):
    sess.run(result)
samples = []
for _ in range({samples}):
    n = 5000
    t = time.perf_counter()
    for _ in range(n):
        sess.run(result)
    samples.append((time.perf_counter() - t) / n * 1e6)
print("@@" + json.dumps(samples))
"""


def run(quick=False, directory=None):
    samples = 3 if quick else 7
    measured = {"tensorkeep": run_python(sys.executable, CODE.format(imports=TENSORKEEP_IMPORTS,
                                                                     samples=samples))}
    if have_tensorflow():
        measured["tensorflow"] = run_python(TF_PYTHON, CODE.format(imports=TENSORFLOW_IMPORTS,
                                                                   samples=samples))
    r = row("Session.run(v1 + v2), per call", "µs", "lower",
            **{name: summarize(values) for name, values in measured.items()})
    ratio = speedup(r)
    return {"name": "session_run", "benchmark": "Session.run latency on the seed's v1 + v2 graph",
            "rows": [r],
            "goals": [goal("Session.run ≤ 1/5 of TensorFlow's time per call",
                           "n/a" if ratio is None else "%.1f× faster (%.0f%% of its time)"
                           % (ratio, 100 / ratio), None if ratio is None else ratio >= 5)]}


if __name__ == "__main__":
    standard_main(run, __doc__.splitlines()[0])
