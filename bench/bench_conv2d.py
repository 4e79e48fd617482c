"""Conv2D forward + both backward passes on a 64x28x28x32 batch with 5x5x32x64 filters (SAME),
tensorkeep vs TensorFlow (same machine, same run). Usage: .venv/bin/python bench/bench_conv2d.py [--quick]"""

import sys

from common import (ALL_BLAS_THREADS, ALL_BLAS_THREADS_LABEL, TENSORFLOW_IMPORTS,
                    TENSORKEEP_IMPORTS, TF_PYTHON, have_tensorflow, row, run_python,
                    standard_main, summarize)

CODE = """
import json, time
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
samples = {{"forward": [], "forward+backward": []}}
for i in range({repeats}):
    t = time.perf_counter()
    sess.run(y, feed)
    samples["forward"].append(time.perf_counter() - t)
    t = time.perf_counter()
    sess.run([y, dx, dw], feed)
    samples["forward+backward"].append(time.perf_counter() - t)
print("@@" + json.dumps({{k: v[2:] for k, v in samples.items()}}))
"""


def run(quick=False, directory=None):
    repeats = 5 if quick else 9  # the first two runs are warm-up
    measured = {"tensorkeep": run_python(sys.executable, CODE.format(
        imports=TENSORKEEP_IMPORTS, repeats=repeats, config=None))}
    measured[ALL_BLAS_THREADS_LABEL] = run_python(sys.executable, CODE.format(
        imports=TENSORKEEP_IMPORTS, repeats=repeats, config=ALL_BLAS_THREADS))
    if have_tensorflow():
        measured["tensorflow"] = run_python(TF_PYTHON, CODE.format(imports=TENSORFLOW_IMPORTS,
                                                                   repeats=repeats, config=None))
    rows = [row("Conv2D 64×28×28×32 * 5×5×32×64 SAME, %s" % part, "ms", "lower",
                **{name: summarize([s * 1e3 for s in m[part]]) for name, m in measured.items()})
            for part in ("forward", "forward+backward")]
    return {"name": "conv2d", "benchmark": "Conv2D kernels alone", "rows": rows, "goals": []}


if __name__ == "__main__":
    standard_main(run, __doc__.splitlines()[0])
