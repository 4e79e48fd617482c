"""MLP 784-500-10 training, steps per second with Adam and with plain SGD, batch 100 fed through
feed_dict each step, tensorkeep vs TensorFlow (same machine, same run).
Usage: .venv/bin/python bench/bench_mlp.py [--quick]"""

import sys

from common import (ALL_BLAS_THREADS, ALL_BLAS_THREADS_LABEL, REPO, TENSORFLOW_IMPORTS,
                    TENSORKEEP_IMPORTS, TF_PYTHON, goal, have_tensorflow, row, run_python,
                    speedup, standard_main, summarize)

CODE = """
import json, time
import numpy as np{imports}
SAMPLES, STEPS = {samples}, {steps}
rng = np.random.default_rng(0)
batches = [(rng.standard_normal((100, 784)).astype(np.float32),
            rng.integers(0, 10, 100).astype(np.int64)) for _ in range(10)]
results = {{}}
for name in ("Adam", "SGD"):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 784])
        labels = tf.placeholder(tf.int64, [None])
        w1 = tf.Variable(tf.truncated_normal([784, 500], stddev=0.05, seed=1))
        b1 = tf.Variable(tf.zeros([500]))
        w2 = tf.Variable(tf.truncated_normal([500, 10], stddev=0.05, seed=2))
        b2 = tf.Variable(tf.zeros([10]))
        hidden = tf.nn.relu(tf.matmul(x, w1) + b1)
        logits = tf.matmul(hidden, w2) + b2
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                             logits=logits))
        optimizer = (tf.train.AdamOptimizer(1e-3) if name == "Adam"
                     else tf.train.GradientDescentOptimizer(0.1))
        train = optimizer.minimize(loss)
        sess = tf.Session(graph=graph, config={config})
        sess.run(tf.global_variables_initializer())
        step = 0
        def steps(count):
            global step
            for _ in range(count):
                images, targets = batches[step % len(batches)]
                sess.run(train, {{x: images, labels: targets}})
                step += 1
        steps(20)
        samples = []
        for _ in range(SAMPLES):
            start = time.perf_counter()
            steps(STEPS)
            samples.append(STEPS / (time.perf_counter() - start))
        first_loss = sess.run(loss, {{x: batches[0][0], labels: batches[0][1]}})
        results[name] = {{"steps_per_second": samples, "loss_after": float(first_loss)}}
print("@@" + json.dumps(results))
"""


def run(quick=False, directory=None):
    settings = dict(samples=3 if quick else 7, steps=50 if quick else 100)
    measured = {"tensorkeep": run_python(sys.executable, CODE.format(
        imports=TENSORKEEP_IMPORTS, config=None, **settings))}
    measured[ALL_BLAS_THREADS_LABEL] = run_python(sys.executable, CODE.format(
        imports=TENSORKEEP_IMPORTS, config=ALL_BLAS_THREADS, **settings))
    if have_tensorflow():
        measured["tensorflow"] = run_python(TF_PYTHON, CODE.format(imports=TENSORFLOW_IMPORTS,
                                                                   config=None, **settings))
    rows, goals = [], []
    for optimizer in ("Adam", "SGD"):
        r = row("MLP 784-500-10 training, %s, batch 100" % optimizer, "steps/s", "higher",
                **{name: summarize(m[optimizer]["steps_per_second"]) for name, m in measured.items()})
        rows.append(r)
        ratio = speedup(r)
        goals.append(goal("MLP training with %s ≥ TensorFlow's steps/s" % optimizer,
                          "n/a" if ratio is None else "%.2f× TensorFlow's" % ratio,
                          None if ratio is None else ratio >= 1))
    return {"name": "mlp", "benchmark": "MLP training steps per second", "rows": rows,
            "goals": goals,
            "loss_after_training": {name: {k: v["loss_after"] for k, v in m.items()}
                                    for name, m in measured.items()}}


if __name__ == "__main__":
    sys.path.insert(0, REPO)
    standard_main(run, __doc__.splitlines()[0])
