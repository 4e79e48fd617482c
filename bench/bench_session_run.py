"""Session.run latency on the seed's `v1 + v2` graph, tensorkeep vs TensorFlow (same machine,
same run). Usage: .venv/bin/python bench/bench_session_run.py"""

import sys

from common import emit, have_tensorflow, run_python, summarize, TF_PYTHON

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
for _ in range(7):
    n = 5000
    t = time.perf_counter()
    for _ in range(n):
        sess.run(result)
    samples.append((time.perf_counter() - t) / n * 1e6)
print("@@" + json.dumps(samples))
"""


def main():
    ours = run_python(sys.executable, CODE.format(imports="\nimport tensorkeep as tf"))
    result = {"benchmark": "Session.run(v1 + v2) latency, microseconds per call",
              "tensorkeep": summarize(ours)}
    if have_tensorflow():
        theirs = run_python(TF_PYTHON, CODE.format(
            imports="\nimport tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()"))
        result["tensorflow"] = summarize(theirs)
        result["tensorkeep_time_over_tensorflow"] = (result["tensorkeep"]["median"] /
                                                     result["tensorflow"]["median"])
    emit(result)


if __name__ == "__main__":
    main()
