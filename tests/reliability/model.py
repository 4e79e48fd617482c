"""The model the crash and concurrency suites save: a step counter and a few large float32
variables whose values are a function of the step, so any restored state tells which save
wrote it, and a mix of two saves cannot pass for one.

Variable `w<i>` at step s holds (k mod 4093) / 4 + 16 i + s at element k: exact in float32
for every step below 2**20.
"""

import numpy as np

VARIABLES = 4
_CHUNK = 1 << 18
MAX_TO_KEEP = 3


def elements_per_variable(megabytes):
    return max(1, int(megabytes * 2**20) // (4 * VARIABLES))


def base_values(elements):
    pattern = (np.arange(elements, dtype=np.int64) % 4093).astype(np.float32) * np.float32(0.25)
    return [pattern + np.float32(16 * index) for index in range(VARIABLES)]


class StepModel:
    """The graph (in a fresh tf.Graph), its Saver and a Session."""

    def __init__(self, tf, megabytes, max_to_keep=MAX_TO_KEEP):
        self.tf = tf
        self.elements = elements_per_variable(megabytes)
        self._bases = None
        self._feed_buffers = None
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.step = tf.Variable(tf.constant(0, tf.int64), name="global_step")
            self.weights = [tf.Variable(tf.zeros([self.elements]), name=f"w{index}") for index in range(VARIABLES)]
            self._step_value = tf.placeholder(tf.int64, [], name="step_value")
            self._weight_values = [tf.placeholder(tf.float32, [self.elements], name=f"w{index}_value")
                                   for index in range(VARIABLES)]
            self._assign = [tf.assign(self.step, self._step_value)] + [
                tf.assign(weight, value) for weight, value in zip(self.weights, self._weight_values)]
            self.saver = tf.train.Saver(max_to_keep=max_to_keep)
        self.session = tf.Session(graph=self.graph)

    def bases(self):
        if self._bases is None:
            self._bases = base_values(self.elements)
        return self._bases

    def set_step(self, step):
        if self._feed_buffers is None:  # Reused: Assign copies what it is fed.
            self._feed_buffers = [np.empty_like(base) for base in self.bases()]
        feed = {self._step_value: step}
        for placeholder, base, buffer in zip(self._weight_values, self.bases(), self._feed_buffers):
            feed[placeholder] = np.add(base, np.float32(step), out=buffer)
        self.session.run(self._assign, feed)

    def restored_step(self, prefix):
        """Restore `prefix` with the Saver; the step it holds, after checking every variable
        holds exactly that step's values (AssertionError otherwise)."""
        self.saver.restore(self.session, prefix)
        values = self.session.run([self.step] + self.weights)
        return check_state(int(values[0]), values[1:], self.bases())


def check_state(step, weights, bases):
    """`step` if `weights` are exactly the values saved at `step`; AssertionError otherwise."""
    for index, (weight, base) in enumerate(zip(weights, bases)):
        if weight.shape != base.shape or weight.dtype != base.dtype:
            raise AssertionError(f"w{index} has {weight.dtype} {weight.shape}, expected {base.dtype} {base.shape}")
        for start in range(0, base.size, _CHUNK):  # Chunks: no large temporary arrays.
            expected = base[start:start + _CHUNK] + np.float32(step)
            if not np.array_equal(weight[start:start + _CHUNK], expected):
                raise AssertionError(f"w{index} does not hold step {step}'s values (first difference in "
                                     f"elements [{start}, {start + _CHUNK}))")
    return step


def check_tensors(tensors, bases):
    """The step of a {name: array} read with the io layer, checked like check_state."""
    return check_state(int(tensors["global_step"]), [tensors[f"w{index}"] for index in range(VARIABLES)], bases)
