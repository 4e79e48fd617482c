"""Runs one of these TF1 programs on real TensorFlow 2.x, for comparison with tensorkeep:

    .venv-tf/bin/python examples/mnist/run_with_tensorflow.py mnist_train.py --flags...

TensorFlow 2 still has the TF1 API as tf.compat.v1, but no longer ships tf.contrib or the
tutorials' MNIST reader. This shim makes `import tensorflow` give tf.compat.v1 in graph mode,
adds tf.contrib.layers.l2_regularizer (TF1's definition: scale * l2_loss(weights)) and serves
`tensorflow.examples.tutorials.mnist.input_data` from tensorkeep's copy of the reader, so both
frameworks see the same images in the same order. That file needs only NumPy plus three
framework modules (dtypes, errors, random seeds); here they are TensorFlow's own, so tensorkeep
itself is not imported.
"""

import os
import runpy
import sys
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _l2_regularizer(tf):
    def l2_regularizer(scale, scope=None):
        if scale == 0.0:
            return lambda _: None

        def l2(weights):
            with tf.name_scope(scope, "l2_regularizer", [weights]) as name:
                my_scale = tf.convert_to_tensor(scale, dtype=weights.dtype.base_dtype,
                                                name="scale")
                return tf.multiply(my_scale, tf.nn.l2_loss(weights), name=name)
        return l2
    return l2_regularizer


def _load_input_data():
    """tensorkeep/training/mnist_input.py with its tensorkeep imports bound to TensorFlow."""
    import importlib.util
    from tensorflow.python.framework import dtypes, errors, random_seed

    framework = types.ModuleType("tensorkeep.framework")
    framework.dtypes, framework.errors = dtypes, errors
    ops = types.ModuleType("tensorkeep.ops")
    ops.random_ops = random_seed  # only get_seed is used
    sys.modules.update({"tensorkeep": types.ModuleType("tensorkeep"),
                        "tensorkeep.framework": framework,
                        "tensorkeep.framework.dtypes": dtypes,
                        "tensorkeep.framework.errors": errors,
                        "tensorkeep.ops": ops, "tensorkeep.ops.random_ops": random_seed})
    name = "tensorflow.examples.tutorials.mnist.input_data"
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(REPO, "tensorkeep", "training", "mnist_input.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def install():
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    contrib = types.ModuleType("tensorflow.contrib")
    contrib.layers = types.ModuleType("tensorflow.contrib.layers")
    contrib.layers.l2_regularizer = _l2_regularizer(tf)
    tf.contrib = contrib

    mnist_input = _load_input_data()
    modules = {"tensorflow": tf, "tensorflow.contrib": contrib,
               "tensorflow.contrib.layers": contrib.layers,
               "tensorflow.examples.tutorials.mnist.input_data": mnist_input}
    for package in ("tensorflow.examples", "tensorflow.examples.tutorials",
                    "tensorflow.examples.tutorials.mnist"):
        modules[package] = types.ModuleType(package)
        modules[package].__path__ = []
    modules["tensorflow.examples.tutorials.mnist"].input_data = mnist_input
    sys.modules.update(modules)


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: run_with_tensorflow.py SCRIPT [flags...]")
    script = os.path.abspath(sys.argv[1])
    install()
    sys.argv = [script] + sys.argv[2:]
    sys.path.insert(0, os.path.dirname(script))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
