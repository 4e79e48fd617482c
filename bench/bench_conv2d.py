"""Conv2D forward + both backward passes on a 64x28x28x32 batch with 5x5x32x64 filters (SAME),
tensorkeep vs TensorFlow (same machine, same run). Usage: .venv/bin/python bench/bench_conv2d.py"""

import sys

from common import emit, have_tensorflow, machine_facts, run_python, summarize, TF_PYTHON

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
sess = tf.Session()
feed = {{x: x_value, w: w_value}}
samples = {{"forward": [], "forward+backward": []}}
for i in range(7):
    t = time.perf_counter()
    sess.run(y, feed)
    samples["forward"].append(time.perf_counter() - t)
    t = time.perf_counter()
    sess.run([y, dx, dw], feed)
    samples["forward+backward"].append(time.perf_counter() - t)
print("@@" + json.dumps({{k: v[2:] for k, v in samples.items()}}))
"""


def main():
    ours = run_python(sys.executable, CODE.format(imports="\nimport tensorkeep as tf"))
    result = {"benchmark": "Conv2D 64x28x28x32 * 5x5x32x64 SAME, seconds per Session.run",
              "machine": machine_facts(),
              "tensorkeep": {k: summarize(v) for k, v in ours.items()}}
    if have_tensorflow():
        theirs = run_python(TF_PYTHON, CODE.format(
            imports="\nimport tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()"))
        result["tensorflow"] = {k: summarize(v) for k, v in theirs.items()}
        result["tensorkeep_time_over_tensorflow"] = {
            k: result["tensorkeep"][k]["median"] / result["tensorflow"][k]["median"]
            for k in ours}
    emit(result)


if __name__ == "__main__":
    main()
