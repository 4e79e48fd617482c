"""Run unmodified TensorFlow 1.x scripts on tensorkeep.

`install_tensorflow_aliases()` makes `import tensorflow` (and the submodule paths scripts reach
into, such as `tensorflow.python.framework.graph_util` or `tensorflow.python.platform.gfile`)
resolve to tensorkeep's modules; `run_script` then runs the script as `__main__`.
"""

import importlib
import os
import runpy
import sys
import types

# tensorflow module path -> tensorkeep module path. Parent packages that are not listed are
# created as plain namespaces pointing at their listed children.
MODULE_ALIASES = {
    "tensorflow": "tensorkeep",
    "tensorflow.compat": "tensorkeep.compat",
    "tensorflow.compat.v1": "tensorkeep",
    "tensorflow.compat.v1.train": "tensorkeep.api.train",
    "tensorflow.compat.v1.nn": "tensorkeep.api.nn",
    "tensorflow.train": "tensorkeep.api.train",
    "tensorflow.nn": "tensorkeep.api.nn",
    "tensorflow.random": "tensorkeep.api.random",
    "tensorflow.gfile": "tensorkeep.api.gfile",
    "tensorflow.errors": "tensorkeep.framework.errors",
    "tensorflow.graph_util": "tensorkeep.framework.graph_util",
    "tensorflow.python.framework.graph_util": "tensorkeep.framework.graph_util",
    "tensorflow.python.framework.graph_util_impl": "tensorkeep.framework.graph_util",
    "tensorflow.python.framework.ops": "tensorkeep.framework.ops",
    "tensorflow.python.framework.dtypes": "tensorkeep.framework.dtypes",
    "tensorflow.python.framework.tensor_shape": "tensorkeep.framework.tensor_shape",
    "tensorflow.python.framework.tensor_util": "tensorkeep.framework.tensor_util",
    "tensorflow.python.framework.errors": "tensorkeep.framework.errors",
    "tensorflow.python.framework.errors_impl": "tensorkeep.framework.errors",
    "tensorflow.python.framework.importer": "tensorkeep.framework.importer",
    "tensorflow.python.framework.meta_graph": "tensorkeep.framework.meta_graph",
    "tensorflow.python.framework.random_seed": "tensorkeep.ops.random_ops",
    "tensorflow.python.framework.constant_op": "tensorkeep.ops.array_ops",
    "tensorflow.python.ops.array_ops": "tensorkeep.ops.array_ops",
    "tensorflow.python.ops.math_ops": "tensorkeep.ops.math_ops",
    "tensorflow.python.ops.state_ops": "tensorkeep.ops.state_ops",
    "tensorflow.python.ops.variables": "tensorkeep.ops.variables",
    "tensorflow.python.ops.random_ops": "tensorkeep.ops.random_ops",
    "tensorflow.python.ops.control_flow_ops": "tensorkeep.ops.control_flow_ops",
    "tensorflow.python.ops.nn_ops": "tensorkeep.ops.nn_ops",
    "tensorflow.python.ops.variable_scope": "tensorkeep.training.variable_scope",
    "tensorflow.python.ops.init_ops": "tensorkeep.ops.init_ops",
    "tensorflow.python.platform.gfile": "tensorkeep.api.gfile",
    "tensorflow.python.platform.tf_logging": "tensorkeep.api.logging",
    "tensorflow.python.training.saver": "tensorkeep.training.saver",
    "tensorflow.python.training.moving_averages": "tensorkeep.training.moving_averages",
    "tensorflow.python.training.checkpoint_management": "tensorkeep.training.checkpoint_management",
    "tensorflow.python.training.training_util": "tensorkeep.training.training_util",
    "tensorflow.python.training.checkpoint_utils": "tensorkeep.training.checkpoint_utils",
    "tensorflow.python.training.py_checkpoint_reader": "tensorkeep.training.checkpoint_utils",
    "tensorflow.python.ops.nn": "tensorkeep.api.nn",
    "tensorflow.python.ops.gradients": "tensorkeep.training.gradients",
    "tensorflow.python.training.optimizer": "tensorkeep.training.optimizer",
    "tensorflow.python.saved_model": "tensorkeep.api.saved_model",
    "tensorflow.python.saved_model.loader": "tensorkeep.training.saved_model",
    "tensorflow.python.saved_model.builder": "tensorkeep.training.saved_model",
    "tensorflow.python.saved_model.tag_constants": "tensorkeep.training.saved_model",
    "tensorflow.python.saved_model.signature_constants": "tensorkeep.training.saved_model",
    "tensorflow.python.saved_model.signature_def_utils": "tensorkeep.training.saved_model",
    "tensorflow.python.ops.resource_variable_ops": "tensorkeep.ops.resource_variable_ops",
    "tensorflow.python.ops.tensor_array_ops": "tensorkeep.ops.tensor_array_ops",
    "tensorflow.python.ops.list_ops": "tensorkeep.ops.list_ops",
    "tensorflow.python.ops.lookup_ops": "tensorkeep.ops.lookup_ops",
    "tensorflow.python.ops.parsing_ops": "tensorkeep.ops.parsing_ops",
    "tensorflow.saved_model": "tensorkeep.api.saved_model",
    "tensorflow.layers": "tensorkeep.api.layers",
    "tensorflow.losses": "tensorkeep.api.losses",
    "tensorflow.logging": "tensorkeep.api.logging",
    "tensorflow.python.client.session": "tensorkeep.runtime.session",
    "tensorflow.python.pywrap_tensorflow": "tensorkeep.training.checkpoint_utils",
    "tensorflow.python.tools.inspect_checkpoint": "tensorkeep.tools.inspect_checkpoint",
    "tensorflow.python.tools.freeze_graph": "tensorkeep.tools.freeze_graph",
    "tensorflow.core.framework.graph_pb2": "tensorkeep.io.protos",
    "tensorflow.core.framework.node_def_pb2": "tensorkeep.io.protos",
    "tensorflow.core.framework.attr_value_pb2": "tensorkeep.io.protos",
    "tensorflow.core.framework.tensor_pb2": "tensorkeep.io.protos",
    "tensorflow.core.protobuf.meta_graph_pb2": "tensorkeep.io.protos",
    "tensorflow.core.protobuf.saver_pb2": "tensorkeep.io.protos",
    "tensorflow.core.protobuf.config_pb2": "tensorkeep.io.protos",
    "tensorflow.contrib": "tensorkeep.api.contrib",
    "tensorflow.contrib.layers": "tensorkeep.api.contrib.layers",
    "tensorflow.contrib.framework": "tensorkeep.api.contrib.framework",
    "tensorflow.app": "tensorkeep.api.app",
    "tensorflow.python.platform.app": "tensorkeep.api.app",
    "tensorflow.python.platform.flags": "tensorkeep.api.app",
    "tensorflow.examples.tutorials.mnist.input_data": "tensorkeep.training.mnist_input",
}


class _LazyAlias(types.ModuleType):
    """A namespace standing in for a tensorflow package: attributes resolve to its aliased
    children (imported on first use)."""

    def __init__(self, name):
        super().__init__(name)
        self.__path__ = []
        self._children = {}

    def __getattr__(self, attr):
        target = self.__dict__["_children"].get(attr)
        if target is None:
            raise AttributeError("module %r has no attribute %r (tensorkeep provides "
                                 "TensorFlow 1.x's API, not this part)" % (self.__name__, attr))
        return _resolve_alias(target)


class _AliasFinder:
    """Resolves `import tensorflow.X` for the aliased paths (importing targets lazily)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in MODULE_ALIASES:
            import importlib.util
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def __init__(self):
        self._real_specs = {}  # alias -> the aliased module's own spec

    def create_module(self, spec):
        module = _resolve_alias(spec.name)
        self._real_specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module):
        # The import system stamped the alias's spec on the real module: put its own back.
        for alias, spec in list(self._real_specs.items()):
            if sys.modules.get(alias) is module:
                module.__spec__ = spec
                del self._real_specs[alias]


def _resolve_alias(alias):
    module = sys.modules.get(alias)
    if module is None or isinstance(module, _LazyAlias):
        module = importlib.import_module(MODULE_ALIASES[alias])
        sys.modules[alias] = module
        if not hasattr(module, "__path__") and any(a.startswith(alias + ".")
                                                   for a in MODULE_ALIASES):
            # It stands for a tensorflow package with aliased children: let them import.
            module.__path__ = []
    return module


def install_tensorflow_aliases():
    """Makes `import tensorflow...` resolve to tensorkeep in this process."""
    import tensorkeep

    sys.modules["tensorflow"] = tensorkeep
    sys.modules["tensorflow.compat"] = importlib.import_module("tensorkeep.compat")
    sys.modules["tensorflow.compat.v1"] = tensorkeep
    # Intermediate packages (tensorflow.python, tensorflow.python.framework, ...) as namespaces.
    for alias in MODULE_ALIASES:
        parts = alias.split(".")
        for i in range(2, len(parts)):
            parent = ".".join(parts[:i])
            if parent not in MODULE_ALIASES and parent not in sys.modules:
                sys.modules[parent] = _LazyAlias(parent)
        parent_name = ".".join(parts[:-1])
        parent = sys.modules.get(parent_name)
        if isinstance(parent, _LazyAlias):
            parent._children[parts[-1]] = alias
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())


def run_script(path, argv=()):
    """Runs a TF1 script as __main__ with tensorflow resolving to tensorkeep."""
    install_tensorflow_aliases()
    path = os.path.abspath(path)
    sys.argv = [path] + list(argv)
    script_dir = os.path.dirname(path)
    if script_dir not in sys.path:
        sys.path.insert(0, script_dir)
    runpy.run_path(path, run_name="__main__")
