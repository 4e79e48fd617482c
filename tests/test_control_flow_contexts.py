"""Control-flow contexts in meta graphs: the `cond_context` / `while_context` collections
(CondContextDef / WhileContextDef protos) that tf.cond and tf.while_loop record, written as
TensorFlow writes them and restored onto the imported ops, so that gradients through an
imported cond or loop work on either side."""

import glob
import json
import os

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.io import protos

from control_flow_context_cases import (CASES, CONTEXT_KEYS, LOOP_GRADIENT_CASES,
                                        build_case, context_collections, enter_frames,
                                        export_case, gradient_runs, import_meta_graph,
                                        scoped_name)
from tf_oracle import SHARED, require_tensorflow, run_tensorflow

_PROTO_TYPES = {"cond_context": "CondContextDef", "while_context": "WhileContextDef"}
_SCOPE = "imp"


def _parsed(collections):
    """{key: [context proto]} from context_collections' hex form."""
    return {key: [getattr(protos, _PROTO_TYPES[key]).FromString(bytes.fromhex(value))
                  for value in values]
            for key, values in collections.items()}


def _assert_same_contexts(mine, reference, where):
    """Field-equal collections (byte order of the external_values maps may differ: protobuf
    serializes map entries in no fixed order)."""
    assert sorted(mine) == sorted(reference), where
    mine, reference = _parsed(mine), _parsed(reference)
    for key in reference:
        assert len(mine[key]) == len(reference[key]), (where, key)
        for index, (ours, theirs) in enumerate(zip(mine[key], reference[key])):
            assert ours == theirs, "%s %s[%d]:\nours:\n%s\ntheirs:\n%s" % (
                where, key, index, ours, theirs)


def _assert_same_runs(mine, reference, where):
    assert len(mine) == len(reference), where
    for index, (ours, theirs) in enumerate(zip(mine, reference)):
        assert not isinstance(theirs, dict), "%s run %d: TensorFlow failed: %s" % (
            where, index, theirs)
        assert not isinstance(ours, dict), "%s run %d: %s" % (where, index, ours)
        assert len(ours) == len(theirs), where
        for value, expected in zip(ours, theirs):
            np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6,
                                       err_msg="%s run %d" % (where, index))


def _contexts_of_ops(graph):
    return {op.name: getattr(op._control_flow_context, "name", None)
            for op in graph.get_operations()}


# --- tensorkeep alone -----------------------------------------------------------------------------

def test_only_outermost_contexts_are_collected():
    graph, *_ = build_case(tf, CASES["cond_in_while"])
    assert graph.get_collection("cond_context") == []
    assert [c.name for c in graph.get_collection("while_context")] == ["while/while_context"]
    graph, *_ = build_case(tf, CASES["nested_cond"])
    assert [c.name for c in graph.get_collection("cond_context")] == [
        "cond/cond_text", "cond/cond_text_1"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_import_attaches_the_contexts_a_local_build_has(case, tmp_path):
    graph, *_ = build_case(tf, CASES[case])
    path = str(tmp_path / "case.meta")
    tf.train.export_meta_graph(filename=path, graph=graph)
    imported = import_meta_graph(tf, path)
    assert _contexts_of_ops(imported) == _contexts_of_ops(graph)
    # Outer/nested links are rebuilt: each op's context chain names the same contexts.
    for op in graph.get_operations():
        chain, imported_chain = [], []
        context = op._control_flow_context
        while context is not None:
            chain.append(context.name)
            context = context.outer_context
        context = imported.get_operation_by_name(op.name)._control_flow_context
        while context is not None:
            imported_chain.append(context.name)
            context = context.outer_context
        assert imported_chain == chain, op.name
    # And they are written back as they were read.
    reexported = tf.train.export_meta_graph(graph=imported)
    original = tf.train.export_meta_graph(graph=graph)
    _assert_same_contexts(context_collections(reexported), context_collections(original), case)


def test_scoped_import_renames_contexts_and_loop_frames(tmp_path):
    path = str(tmp_path / "case.meta")
    export_case(tf, CASES["while_in_cond"], path)
    graph = import_meta_graph(tf, path, import_scope=_SCOPE)
    (loop,) = [c for c in graph.get_collection("cond_context")[0]._nested_contexts]
    assert loop.name == "imp/cond/while/while_context"
    assert set(enter_frames(graph).values()) == {"imp/cond/while/while_context"}
    # Exporting the scope again gives back the original names.
    rescoped = tf.train.export_meta_graph(graph=graph, export_scope=_SCOPE)
    original = tf.train.export_meta_graph(graph=build_case(tf, CASES["while_in_cond"])[0])
    _assert_same_contexts(context_collections(rescoped), context_collections(original),
                          "export_scope")


def _reference_metas():
    """The TensorFlow-written meta graphs among the reference files that hold contexts."""
    paths = []
    for path in sorted(glob.glob(os.path.join(SHARED, "**", "*.meta"), recursive=True)):
        meta_graph_def = protos.MetaGraphDef()
        with open(path, "rb") as f:
            meta_graph_def.ParseFromString(f.read())
        if any(key in meta_graph_def.collection_def for key in CONTEXT_KEYS):
            paths.append(path)
    return paths


@pytest.mark.parametrize("path", _reference_metas(),
                         ids=lambda p: os.path.relpath(p, SHARED))
def test_reference_meta_graph_contexts_survive_import_and_export(path):
    original = protos.MetaGraphDef()
    with open(path, "rb") as f:
        original.ParseFromString(f.read())
    graph = tf.Graph()
    with graph.as_default():
        tf.train.import_meta_graph(original)
    for key in CONTEXT_KEYS:
        for context in graph.get_collection(key):
            assert type(context).__name__ in ("CondContext", "WhileContext")
    reexported = tf.train.export_meta_graph(graph=graph)
    _assert_same_contexts(context_collections(reexported), context_collections(original), path)


def test_gradient_through_the_imported_ema_cond(shared_dir):
    """The seed's EMA model guards its initial value with a cond (is v initialized?): imported
    with its contexts, the gradient of the cond's output with respect to the initial value is
    1 while the false branch runs and 0 once v is initialized, as for a cond built here."""
    path = os.path.join(shared_dir, "golden", "seed_files", "model", "model2.ckpt.meta")
    graph = import_meta_graph(tf, path)
    assert {c.branch for c in graph.get_collection("cond_context")} == {0, 1}
    assert graph.get_operation_by_name("cond/Switch_1")._control_flow_context.branch == 0
    assert graph.get_operation_by_name("cond/read/Switch")._control_flow_context.branch == 1
    with graph.as_default():
        initial_value = graph.get_tensor_by_name("v/initial_value:0")
        (grad,) = tf.gradients(graph.get_tensor_by_name("cond/Merge:0"), [initial_value])
        with tf.Session() as sess:
            assert sess.run(grad) == 1.0
            sess.run("v/Assign")
            assert sess.run(grad) == 0.0


# --- against real TensorFlow ---------------------------------------------------------------------

_TENSORFLOW_SIDE = """
import json
from control_flow_context_cases import *

cases = json.loads(%r)
ours = json.loads(%r)
directory = %r
scope = %r
out = {}
for name, code in cases.items():
    theirs = export_case(tf, code, os.path.join(directory, name + ".tf.meta"))
    graph, y, xs, runs = build_case(tf, code)
    theirs["original_runs"] = gradient_runs(tf, graph, y, xs, runs)
    mine = ours[name]
    imported = import_meta_graph(tf, mine["path"])
    theirs["imported_ours_runs"] = gradient_runs(tf, imported, mine["y"], mine["xs"], runs)
    theirs["reexported_ours"] = context_collections(tf.train.export_meta_graph(
        graph=import_meta_graph(tf, mine["path"])))
    scoped = import_meta_graph(tf, theirs["path"], import_scope=scope)
    theirs["scoped_reexport"] = context_collections(tf.train.export_meta_graph(graph=scoped))
    theirs["scoped_frames"] = enter_frames(scoped)
    out[name] = theirs
emit(out)
"""


@pytest.fixture(scope="module")
def both_sides(tmp_path_factory):
    """(ours, theirs): each case exported by tensorkeep, and what TensorFlow (in one
    subprocess) made of the same program and of tensorkeep's files."""
    require_tensorflow()
    directory = str(tmp_path_factory.mktemp("contexts"))
    ours = {name: export_case(tf, code, os.path.join(directory, name + ".tk.meta"))
            for name, code in CASES.items()}
    theirs = run_tensorflow(_TENSORFLOW_SIDE % (json.dumps(CASES), json.dumps(ours),
                                                directory, _SCOPE))
    return ours, theirs


@pytest.mark.tf
@pytest.mark.parametrize("case", sorted(CASES))
def test_exported_contexts_equal_tensorflows(both_sides, case):
    ours, theirs = both_sides
    assert ours[case]["collections"], case
    _assert_same_contexts(ours[case]["collections"], theirs[case]["collections"], case)


@pytest.mark.tf
@pytest.mark.parametrize("case", sorted(CASES))
def test_tensorflow_differentiates_through_our_imported_control_flow(both_sides, case):
    ours, theirs = both_sides
    _assert_same_runs(theirs[case]["imported_ours_runs"], theirs[case]["original_runs"], case)
    # TensorFlow restored our contexts and writes them back unchanged.
    _assert_same_contexts(theirs[case]["reexported_ours"], ours[case]["collections"], case)


@pytest.mark.tf
@pytest.mark.parametrize("case", sorted(CASES))
def test_tensorflow_contexts_survive_our_import_and_export(both_sides, case):
    _, theirs = both_sides
    reference = theirs[case]
    graph = import_meta_graph(tf, reference["path"])
    reexported = tf.train.export_meta_graph(graph=graph)
    _assert_same_contexts(context_collections(reexported), reference["collections"], case)
    if case in LOOP_GRADIENT_CASES:
        # No loop gradients here: check the imported graph computes the same outputs.
        with tf.Session(graph=graph) as sess:
            values = [[np.asarray(sess.run(reference["y"], feed), np.float64).tolist()]
                      for feed in reference["runs"]]
        expected = [run[:1] for run in reference["original_runs"]]
        _assert_same_runs(values, expected, case)
        return
    runs = gradient_runs(tf, graph, reference["y"], reference["xs"], reference["runs"])
    _assert_same_runs(runs, reference["original_runs"], case)


@pytest.mark.tf
@pytest.mark.parametrize("case", sorted(CASES))
def test_scoped_import_matches_tensorflows(both_sides, case):
    _, theirs = both_sides
    reference = theirs[case]
    graph = import_meta_graph(tf, reference["path"], import_scope=_SCOPE)
    reexported = tf.train.export_meta_graph(graph=graph)
    _assert_same_contexts(context_collections(reexported), reference["scoped_reexport"], case)
    assert enter_frames(graph) == reference["scoped_frames"]
    if case not in LOOP_GRADIENT_CASES:
        runs = [{scoped_name(k, _SCOPE): v for k, v in feed.items()}
                for feed in reference["runs"]]
        results = gradient_runs(tf, graph, scoped_name(reference["y"], _SCOPE),
                                [scoped_name(x, _SCOPE) for x in reference["xs"]], runs)
        _assert_same_runs(results, reference["original_runs"], case)
