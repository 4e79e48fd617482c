"""MLP 784-500-10 training, steps per second with Adam and with plain SGD, batch 100 fed through
feed_dict each step, tensorkeep (also on one kernel thread, intra_op_parallelism_threads=1) vs
TensorFlow, each in its own interpreter, measured in turns (bench/interleaved.py); wall and CPU
time.
Usage: .venv/bin/python bench/bench_mlp.py [--quick]"""

import sys

from common import (REPO, TENSORFLOW_IMPORTS, TENSORKEEP_IMPORTS, TF_PYTHON, goal,
                    have_tensorflow, row, speedup, standard_main, summarize)
from interleaved import Workers, in_turns

# A worker (bench/interleaved.py): both models built, initialized and warmed up (20 steps each);
# then it answers requests for one timed sample (`steps` training steps of one optimizer) or for
# the loss on the first batch. Every worker gets the same requests in the same order, so the
# models see the same batches and the losses are comparable.
CODE = """
import time
import numpy as np{imports}
rng = np.random.default_rng(0)
batches = [(rng.standard_normal((100, 784)).astype(np.float32),
            rng.integers(0, 10, 100).astype(np.int64)) for _ in range(10)]
models = {{}}
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
    models[name] = {{"sess": sess, "x": x, "labels": labels, "train": train, "loss": loss,
                    "step": 0}}

def steps(name, count):
    model = models[name]
    feeds = model["x"], model["labels"]
    for _ in range(count):
        images, targets = batches[model["step"] % len(batches)]
        model["sess"].run(model["train"], dict(zip(feeds, (images, targets))))
        model["step"] += 1

for name in models:
    steps(name, 20)

def handle(request):
    model = models[request["optimizer"]]
    if request["what"] == "loss":
        return float(model["sess"].run(model["loss"], {{model["x"]: batches[0][0],
                                                       model["labels"]: batches[0][1]}}))
    count = request["steps"]
    wall, cpu = time.perf_counter(), time.process_time()
    steps(request["optimizer"], count)
    return {{"steps_per_second": count / (time.perf_counter() - wall),
            "cpu_ms_per_step": (time.process_time() - cpu) * 1e3 / count}}
"""

ONE_THREAD = "tf.ConfigProto(intra_op_parallelism_threads=1)"
ONE_THREAD_LABEL = "tensorkeep, intra_op_parallelism_threads=1"


def run(quick=False, directory=None):
    samples, count = (5, 50) if quick else (11, 100)
    programs = {"tensorkeep": (sys.executable, CODE.format(imports=TENSORKEEP_IMPORTS,
                                                            config=None))}
    programs[ONE_THREAD_LABEL] = (sys.executable, CODE.format(imports=TENSORKEEP_IMPORTS,
                                                              config=ONE_THREAD))
    if have_tensorflow():
        programs["tensorflow"] = (TF_PYTHON, CODE.format(imports=TENSORFLOW_IMPORTS,
                                                         config=None))
    with Workers(programs) as workers:
        measured = {optimizer: in_turns(workers, {"what": "steps", "optimizer": optimizer,
                                                  "steps": count}, samples)
                    for optimizer in ("Adam", "SGD")}
        losses = {optimizer: in_turns(workers, {"what": "loss", "optimizer": optimizer}, 1)
                  for optimizer in ("Adam", "SGD")}
    rows, goals = [], []
    for optimizer in ("Adam", "SGD"):
        r = row("MLP 784-500-10 training, %s, batch 100" % optimizer, "steps/s", "higher",
                **{name: summarize([a["steps_per_second"] for a in answers])
                   for name, answers in measured[optimizer].items()})
        rows.append(r)
        ratio = speedup(r)
        goals.append(goal("MLP training with %s ≥ TensorFlow's steps/s" % optimizer,
                          "n/a" if ratio is None else "%.2f× TensorFlow's" % ratio,
                          None if ratio is None else ratio >= 1))
    for optimizer in ("Adam", "SGD"):
        rows.append(row("MLP training, %s, CPU time (all threads) per step" % optimizer, "ms",
                        "lower", **{name: summarize([a["cpu_ms_per_step"] for a in answers])
                                    for name, answers in measured[optimizer].items()}))
    return {"name": "mlp", "benchmark": "MLP training steps per second", "rows": rows,
            "goals": goals,
            "loss_after_training": {name: {optimizer: losses[optimizer][name][0]
                                           for optimizer in losses}
                                    for name in programs}}


if __name__ == "__main__":
    sys.path.insert(0, REPO)
    standard_main(run, __doc__.splitlines()[0])
