"""Conv2D forward + both backward passes on a 64x28x28x32 batch with 5x5x32x64 filters (SAME),
tensorkeep (also on one kernel thread) vs TensorFlow, each in its own interpreter, measured in
turns (bench/interleaved.py); wall and CPU time.
Usage: .venv/bin/python bench/bench_conv2d.py [--quick]"""

import sys

from common import (TENSORFLOW_IMPORTS, TENSORKEEP_IMPORTS, TF_PYTHON, have_tensorflow, row,
                    standard_main, summarize)
from interleaved import Workers, in_turns

# A worker (bench/interleaved.py): the graph built and run twice; then it answers requests for
# one timed run of a part ("forward" or "forward+backward").
CODE = """
import time
import numpy as np{imports}
rng = np.random.default_rng(0)
x_value = rng.standard_normal((64, 28, 28, 32)).astype(np.float32)
w_value = rng.standard_normal((5, 5, 32, 64)).astype(np.float32)
x = tf.placeholder(tf.float32, [64, 28, 28, 32])
w = tf.placeholder(tf.float32, [5, 5, 32, 64])
strides = [1, 1, 1, 1]
y = tf.nn.conv2d(x, w, strides, "SAME")
dx = tf.nn.conv2d_backprop_input([64, 28, 28, 32], w, y, strides, "SAME")
dw = tf.nn.conv2d_backprop_filter(x, [5, 5, 32, 64], y, strides, "SAME")
sess = tf.Session(config={config})
feed = {{x: x_value, w: w_value}}
fetches = {{"forward": y, "forward+backward": [y, dx, dw]}}
for _ in range(2):
    sess.run(fetches["forward+backward"], feed)

def handle(request):
    wall, cpu = time.perf_counter(), time.process_time()
    sess.run(fetches[request["part"]], feed)
    return {{"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}}
"""

ONE_THREAD = "tf.ConfigProto(intra_op_parallelism_threads=1)"
ONE_THREAD_LABEL = "tensorkeep, intra_op_parallelism_threads=1"


def run(quick=False, directory=None):
    samples = 3 if quick else 7
    programs = {"tensorkeep": (sys.executable, CODE.format(imports=TENSORKEEP_IMPORTS,
                                                           config=None)),
                ONE_THREAD_LABEL: (sys.executable, CODE.format(imports=TENSORKEEP_IMPORTS,
                                                               config=ONE_THREAD))}
    if have_tensorflow():
        programs["tensorflow"] = (TF_PYTHON, CODE.format(imports=TENSORFLOW_IMPORTS,
                                                         config=None))
    with Workers(programs) as workers:
        measured = {part: in_turns(workers, {"part": part}, samples)
                    for part in ("forward", "forward+backward")}
    rows = []
    for clock, label in (("wall", ""), ("cpu", ", CPU time (all threads)")):
        for part in ("forward", "forward+backward"):
            milliseconds = {name: summarize([s[clock] * 1e3 for s in samples])
                            for name, samples in measured[part].items()}
            rows.append(row("Conv2D 64×28×28×32 * 5×5×32×64 SAME, %s%s" % (part, label), "ms",
                            "lower", **milliseconds))
    return {"name": "conv2d", "benchmark": "Conv2D kernels alone", "rows": rows, "goals": []}


if __name__ == "__main__":
    standard_main(run, __doc__.splitlines()[0])
