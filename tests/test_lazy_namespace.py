"""The lazy top-level namespace (tensorkeep/__init__.py + tensorkeep/api/top_level.py).

`import tensorkeep` must not import NumPy or the layers; the first `tf.X` loads the namespace,
and then every name must be the very object the layers define, whatever was imported before.
Each case runs in a fresh interpreter: the point is what an import does to sys.modules.
"""

import ast
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = REPO / "tensorkeep"
TOP_LEVEL = PACKAGE / "api" / "top_level.py"


def _run(code):
    """Runs `code` in a fresh interpreter; returns the JSON it prints on its last line."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _namespace_bindings():
    """[(bound name, module path, attribute)] of every `from M import a [as b]` and
    `import M.a as b` of the namespace module, read from its source."""
    bindings = []
    for node in ast.parse(TOP_LEVEL.read_text()).body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.asname, "top_level.py binds each imported module to a name"
                module, _, attribute = alias.name.rpartition(".")
                bindings.append((alias.asname, module, attribute))
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "top_level.py uses absolute imports"
            for alias in node.names:
                bindings.append((alias.asname or alias.name, node.module, alias.name))
        else:
            assert isinstance(node, ast.Expr), "top_level.py only maps names: %s" % ast.dump(node)
    return bindings


def _subpackages():
    # Regular packages and namespace packages (framework/, ops/, ... have no __init__.py).
    return sorted({path.parent.name for path in PACKAGE.glob("*/*.py")})


# Checks every binding against the object its module defines; the first lines of the program
# run before, the names are checked after.
_CHECK_BINDINGS = """
import importlib, json
import tensorkeep as tf

def defined(module, attribute):
    if module == "tensorkeep":  # a subpackage of the package itself
        return importlib.import_module(module + "." + attribute)
    try:
        return getattr(importlib.import_module(module), attribute)
    except AttributeError:
        return importlib.import_module(module + "." + attribute)

wrong = [name for name, module, attribute in BINDINGS
         if getattr(tf, name, None) is not defined(module, attribute)]
print(json.dumps(wrong))
"""


def _check_program(prelude=""):
    return (prelude + "\nBINDINGS = %r\n" % (_namespace_bindings(),)
            + textwrap.dedent(_CHECK_BINDINGS))


def test_namespace_module_binds_hundreds_of_names():
    names = [name for name, _, _ in _namespace_bindings()]
    assert len(names) > 300 and len(set(names)) == len(names)


def test_import_loads_neither_numpy_nor_the_layers():
    loaded = _run("""
        import json, sys
        import tensorkeep
        version = tensorkeep.__version__, tensorkeep.VERSION, tensorkeep.GRAPH_DEF_VERSION
        print(json.dumps(sorted(sys.modules)))
    """)
    assert "numpy" not in loaded
    assert "google.protobuf" not in loaded
    assert [name for name in loaded if name.startswith("tensorkeep")] == ["tensorkeep"]


def test_every_name_is_the_object_its_layer_defines():
    assert _run(_check_program()) == []


@pytest.mark.parametrize("first_import", [
    "import tensorkeep.io.bundle, tensorkeep.io.gfile",
    "from tensorkeep import io as tkio; tkio.read_checkpoint",
    "import tensorkeep.training.saver, tensorkeep.framework.ops, tensorkeep.runtime.session",
    "import tensorkeep.api.train, tensorkeep.api.nn, tensorkeep.compat",
    "import tensorkeep.tools.cli, tensorkeep.tools.runner",
    "import tensorkeep.ops.array_ops",
])
def test_subpackages_imported_first_do_not_shadow_the_namespace(first_import):
    assert _run(_check_program(first_import)) == []


def test_subpackages_imported_after_loading_do_not_shadow_the_namespace():
    imports_after = "\n".join("import tensorkeep.%s" % name for name in _subpackages())
    program = _check_program("import tensorkeep as tf\ntf.Variable\n" + imports_after)
    assert _run(program) == []


def test_a_name_asked_for_while_the_namespace_loads():
    # A layer module that asks for tf.X while the namespace module runs (here: a finder
    # consulted when the namespace imports tensorkeep.api.graph_util) sees what is bound so far;
    # the namespace still ends up complete.
    prelude = """
import sys, tensorkeep
asked = []
class AskWhileLoading:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorkeep.api.graph_util":
            asked.append((hasattr(tensorkeep, "float32"), hasattr(tensorkeep, "flags")))
        return None
sys.meta_path.insert(0, AskWhileLoading())
"""
    program = _check_program(prelude).replace(
        "print(json.dumps(wrong))",
        "print(json.dumps([wrong, asked, tensorkeep._namespace_loaded]))")
    assert _run(program) == [[], [[True, False]], True]


def test_namespace_names_that_are_subpackages_hold_those_subpackages():
    import tensorkeep

    colliding = {name for name, _, _ in _namespace_bindings()} & set(_subpackages())
    # A namespace value other than the subpackage itself would be replaced by the import
    # system whenever that subpackage is imported later.
    assert {"io", "framework", "ops", "training"} <= colliding
    for name, module, attribute in _namespace_bindings():
        if name in colliding:
            assert (module, attribute) == ("tensorkeep", name)
    assert tensorkeep._LIGHT_SUBPACKAGES <= colliding


def test_light_subpackages_load_alone():
    loaded = _run("""
        import json, sys
        import tensorkeep
        tensorkeep.io.read_checkpoint, tensorkeep.compat.as_bytes(b"")
        from tensorkeep import io as tkio
        tkio.gfile.exists("/")
        print(json.dumps(sorted(sys.modules)))
    """)
    assert "tensorkeep.api.top_level" not in loaded and "numpy" not in loaded


def test_other_subpackages_give_their_modules_as_before():
    result = _run("""
        import json
        import tensorkeep
        print(json.dumps([tensorkeep.framework.ops.Graph.__name__,
                          tensorkeep.training.saver.Saver.__name__,
                          tensorkeep.api.train.Saver is tensorkeep.train.Saver]))
    """)
    assert result == ["Graph", "Saver", True]


def test_tf_io_and_gfile_after_importing_io_modules():
    result = _run("""
        import json
        import tensorkeep.io.bundle
        import tensorkeep as tf
        print(json.dumps([tf.io is tensorkeep.io, tf.io.gfile.exists("/"),
                          tf.gfile.Exists("/"), tf.gfile is tensorkeep.api.gfile,
                          tf.errors.__name__]))
    """)
    assert result == [True, True, True, True, "tensorkeep.framework.errors"]


def test_star_import_and_dir_give_the_whole_namespace():
    result = _run("""
        import json
        import tensorkeep
        dir_names = dir(tensorkeep)
        namespace = {}
        exec("from tensorkeep import *", namespace)
        print(json.dumps([dir_names, sorted(namespace)]))
    """)
    dir_names, star_names = result
    bound = {name for name, _, _ in _namespace_bindings()}
    assert bound <= set(dir_names)
    assert {"GraphDef", "ConfigProto", "RegisterGradient", "__version__"} <= set(dir_names)
    public = {name for name in bound if not name.startswith("_")}
    assert public | {"RegisterGradient", "disable_v2_behavior", "VERSION"} <= set(star_names)


def test_unknown_names_raise_attribute_error():
    result = _run("""
        import json
        import tensorkeep as tf
        try:
            tf.no_such_op
            message = None
        except AttributeError as error:
            message = str(error)
        try:
            from tensorkeep import no_such_op
            imported = True
        except ImportError:
            imported = False
        print(json.dumps([message, hasattr(tf, "no_such_op"), hasattr(tf, "__wrapped__"),
                          imported, hasattr(tf, "Variable")]))
    """)
    assert result == ["module 'tensorkeep' has no attribute 'no_such_op'", False, False, False,
                      True]


def test_first_use_builds_and_runs_a_graph():
    result = _run("""
        import json
        import tensorkeep as tf
        total = tf.constant(1.0) + tf.Variable(2.0)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            print(json.dumps(float(session.run(total))))
    """)
    assert result == 3.0


def test_pickled_namespace_objects_load_in_a_fresh_process():
    pickled = subprocess.run(
        [sys.executable, "-c", "import pickle, sys, tensorkeep as tf\n"
         "sys.stdout.buffer.write(pickle.dumps([tf.float32, tf.TensorShape([2, None]), "
         "tf.disable_v2_behavior, tf.AUTO_REUSE]))"],
        cwd=REPO, capture_output=True, check=True).stdout
    result = _run("""
        import json, pickle, sys
        values = pickle.loads(%r)
        import tensorkeep as tf
        print(json.dumps([values[0] is tf.float32, values[1].as_list() == [2, None],
                          values[2] is tf.disable_v2_behavior, values[3] is tf.AUTO_REUSE]))
    """ % (pickled,))
    assert result == [True, True, True, True]


def test_threads_loading_the_namespace_at_once_all_see_it():
    result = _run("""
        import json, threading
        import tensorkeep as tf
        seen = []
        def use(name):
            seen.append(getattr(tf, name) is not None)
        threads = [threading.Thread(target=use, args=(name,))
                   for name in ["Variable", "train", "nn", "float32", "Session", "io"] * 4]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(json.dumps(seen))
    """)
    assert result == [True] * 24


def test_runner_aliases_on_the_lazy_package():
    result = _run("""
        import json, sys
        from tensorkeep.tools.runner import install_tensorflow_aliases
        install_tensorflow_aliases()
        before = "numpy" in sys.modules
        import tensorflow as tf
        import tensorflow.compat.v1 as v1
        from tensorflow.python.framework import ops
        import tensorkeep
        print(json.dumps([before, tf is tensorkeep, v1 is tensorkeep,
                          ops.Graph is tf.Graph, tf.train.Saver.__name__,
                          tf.compat.v1.Variable is tensorkeep.Variable]))
    """)
    assert result == [False, True, True, True, "Saver", True]


def test_version_is_read_without_loading_the_namespace():
    result = _run("""
        import json, sys
        import tensorkeep
        print(json.dumps([tensorkeep.__version__, "tensorkeep.api.top_level" in sys.modules]))
    """)
    assert result == ["0.1.0", False]


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc")
def test_import_stays_light_in_memory():
    peak_kib = _run("""
        import json
        import tensorkeep
        print(json.dumps([int(line.split()[1]) for line in open("/proc/self/status")
                          if line.startswith("VmHWM")][0]))
    """)
    assert peak_kib < 24 * 1024
