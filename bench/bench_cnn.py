"""A small CNN frozen graph (two conv 5×5 + ReLU + 2×2 max-pool layers of 32 and 64 filters, a
dense layer of 1024 and one of 10, 28×28×1 input): time to read and import the .pb, and
inference time at batch 1 and 64, tensorkeep (also on one kernel thread) vs TensorFlow on the
same file (written by tensorkeep's freeze, so the benchmark runs without TensorFlow too), each
in its own interpreter, measured in turns (bench/interleaved.py); wall and CPU time.
Usage: .venv/bin/python bench/bench_cnn.py [--quick] [--dir DIR]"""

import os
import sys

from common import (REPO, TENSORFLOW_IMPORTS, TENSORKEEP_IMPORTS, TF_PYTHON, goal,
                    have_tensorflow, row, run_python, speedup, standard_main, summarize,
                    work_directory)
from interleaved import Workers, in_turns

FREEZE = """
import json
import tensorkeep as tf
images = tf.placeholder(tf.float32, [None, 28, 28, 1], name="input")
def conv_pool(inputs, filters, name):
    with tf.variable_scope(name):
        kernel = tf.get_variable("kernel", [5, 5, inputs.shape[-1].value, filters],
                                 initializer=tf.truncated_normal_initializer(stddev=0.1, seed=1))
        bias = tf.get_variable("bias", [filters], initializer=tf.constant_initializer(0.1))
        conv = tf.nn.relu(tf.nn.conv2d(inputs, kernel, [1, 1, 1, 1], "SAME") + bias)
        return tf.nn.max_pool(conv, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
def dense(inputs, units, name):
    with tf.variable_scope(name):
        kernel = tf.get_variable("kernel", [inputs.shape[-1].value, units],
                                 initializer=tf.truncated_normal_initializer(stddev=0.05, seed=2))
        bias = tf.get_variable("bias", [units], initializer=tf.constant_initializer(0.1))
        return tf.matmul(inputs, kernel) + bias
net = conv_pool(images, 32, "conv1")
net = conv_pool(net, 64, "conv2")
net = tf.reshape(net, [-1, 7 * 7 * 64])
net = tf.nn.relu(dense(net, 1024, "dense1"))
logits = tf.identity(dense(net, 10, "dense2"), name="logits")
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    frozen = tf.graph_util.convert_variables_to_constants(sess, sess.graph_def, ["logits"])
with open({path!r}, "wb") as f:
    f.write(frozen.SerializeToString())
print("@@" + json.dumps({{"nodes": len(frozen.node), "bytes": frozen.ByteSize()}}))
"""

# A worker (bench/interleaved.py): the graph imported, a session, warm-up runs; then it answers
# requests for one timed sample (import, or `runs` inference runs at a batch size).
CODE = """
import time
import numpy as np{imports}
PATH = {path!r}

def load():
    graph = tf.Graph()
    with graph.as_default():
        graph_def = tf.GraphDef()
        with open(PATH, "rb") as f:
            graph_def.ParseFromString(f.read())
        tf.import_graph_def(graph_def, name="")
    return graph

graph = load()
sess = tf.Session(graph=graph, config={config})
images = graph.get_tensor_by_name("input:0")
logits = graph.get_tensor_by_name("logits:0")
rng = np.random.default_rng(0)
inputs = {{batch: rng.standard_normal((batch, 28, 28, 1)).astype(np.float32) for batch in (1, 64)}}
for x in inputs.values():
    for _ in range(3):
        sess.run(logits, {{images: x}})

def handle(request):
    if request["what"] == "import":
        start = time.perf_counter()
        load()
        return {{"wall": time.perf_counter() - start}}
    x, runs = inputs[request["batch"]], request["runs"]
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(runs):
        out = sess.run(logits, {{images: x}})
    return {{"wall": (time.perf_counter() - wall) / runs, "cpu": (time.process_time() - cpu) / runs,
            "output": out[0].tolist()}}
"""

ONE_THREAD = "tf.ConfigProto(intra_op_parallelism_threads=1)"
ONE_THREAD_LABEL = "tensorkeep, intra_op_parallelism_threads=1"


def _milliseconds(answers, key):
    return {name: summarize([a[key] * 1e3 for a in samples]) for name, samples in answers.items()}


def run(quick=False, directory=None):
    samples = 3 if quick else 7
    with work_directory(directory) as work:
        path = os.path.join(work, "cnn_frozen.pb")
        graph_facts = run_python(sys.executable, FREEZE.format(path=path))
        programs = {"tensorkeep": (sys.executable, CODE.format(
            imports=TENSORKEEP_IMPORTS, path=path, config=None))}
        programs[ONE_THREAD_LABEL] = (sys.executable, CODE.format(
            imports=TENSORKEEP_IMPORTS, path=path, config=ONE_THREAD))
        if have_tensorflow():
            programs["tensorflow"] = (TF_PYTHON, CODE.format(
                imports=TENSORFLOW_IMPORTS, path=path, config=None))
        with Workers(programs) as workers:
            imports = in_turns(workers, {"what": "import"}, samples)
            runs = {batch: in_turns(workers, {"what": "run", "batch": batch,
                                              "runs": 200 if batch == 1 else 10}, samples)
                    for batch in (1, 64)}
    rows = [row("read + import the frozen CNN graph (%d nodes, %.1f MB)"
                % (graph_facts["nodes"], graph_facts["bytes"] / 1e6), "ms", "lower",
                **_milliseconds(imports, "wall"))]
    goals = []
    for batch in (1, 64):
        r = row("CNN inference, batch %d, per Session.run" % batch, "ms", "lower",
                **_milliseconds(runs[batch], "wall"))
        rows.append(r)
        ratio = speedup(r)
        goals.append(goal("CNN inference at batch %d ≥ half of TensorFlow's speed" % batch,
                          "n/a" if ratio is None else "%.2f× TensorFlow's speed" % ratio,
                          None if ratio is None else ratio >= 0.5))
    for batch in (1, 64):
        rows.append(row("CNN inference, batch %d, CPU time (all threads) per Session.run" % batch,
                        "ms", "lower", **_milliseconds(runs[batch], "cpu")))
    agreement = None
    if "tensorflow" in runs[1]:
        import numpy as np
        agreement = max(float(np.max(np.abs(np.subtract(runs[b]["tensorkeep"][-1]["output"],
                                                        runs[b]["tensorflow"][-1]["output"]))))
                        for b in (1, 64))
    return {"name": "cnn", "benchmark": "frozen CNN: import and inference", "rows": rows,
            "goals": goals, "graph": graph_facts, "max_abs_difference_of_outputs": agreement}


if __name__ == "__main__":
    sys.path.insert(0, REPO)
    standard_main(run, __doc__.splitlines()[0])
