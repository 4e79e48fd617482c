"""tf.import_graph_def: naming, input maps, return elements, validation and its error messages
(TensorFlow 2.21's, recorded from it), shapes, devices, and running what was imported."""

import logging
import os

import pytest
from google.protobuf import text_format

import tensorkeep as tf
from tensorkeep.framework import op_def as op_def_lib
from tensorkeep.io import protos

CONST = ('node { name: "c" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } } '
         'attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape {} float_val: 1 } '
         '} } }\n')


def graph_def(text):
    return text_format.Parse(text, protos.GraphDef())


def identity(name, source, extra=""):
    return ('node { name: "%s" op: "Identity" input: "%s" attr { key: "T" value { type: DT_FLOAT } '
            '} %s }\n' % (name, source, extra))


def test_frozen_seed_graph_runs_to_three(shared_dir):
    path = os.path.join(shared_dir, "golden", "seed_files", "model", "combined_model.pb")
    with tf.Graph().as_default() as graph:
        with tf.gfile.FastGFile(path, "rb") as f:
            frozen = tf.GraphDef()
            frozen.ParseFromString(f.read())
        result = tf.import_graph_def(frozen, return_elements=["add:0"])
        assert [t.name for t in result] == ["import/add:0"]
        read = graph.get_operation_by_name("import/v1/read")
        assert read.get_attr("_class") == [b"loc:@import/v1"]
        with tf.Session() as sess:
            value = sess.run(result)
    # TensorFlow's output for the seed program: run: [array([3.], dtype=float32)]
    assert repr(value) == "[array([3.], dtype=float32)]"


def test_names_follow_tensorflow():
    """The names TensorFlow 2.21 gives in the same sequence of imports (recorded from it)."""
    with tf.Graph().as_default() as graph:
        tf.constant(1.0, name="c")
        tf.constant(1.0, name="import")
        tf.constant(1.0, name="scope/x")
        tf.import_graph_def(graph_def(CONST))
        tf.import_graph_def(graph_def(CONST))
        tf.import_graph_def(graph_def(CONST + 'node { name: "scope" op: "NoOp" } '
                                              'node { name: "c_1" op: "NoOp" }'), name="")
        with tf.name_scope("outer"):
            tf.import_graph_def(graph_def(CONST))
        tf.import_graph_def(graph_def(CONST), name="mine")
        tf.import_graph_def(graph_def(CONST), name="mine")
        tf.import_graph_def(graph_def(CONST), name="trailing/")
        names = [op.name for op in graph.get_operations()]
        assert names == ["c", "import", "scope/x", "import_1/c", "import_2/c", "c_2", "scope_1",
                         "c_1", "outer/import/c", "mine/c", "mine_1/c", "trailing/c"]
        # Imported names are taken: new ops are made unique around them.
        assert tf.constant(2.0, name="c_2").name == "c_2_1:0"
        assert tf.constant(2.0, name="import_3").name == "import_3:0"


def test_imported_nodes_inside_control_dependencies_get_them():
    with tf.Graph().as_default() as graph:
        k = tf.constant(3.0, name="k")
        with tf.control_dependencies([k.op]):
            tf.import_graph_def(graph_def(CONST + identity("i", "c") +
                                          'node { name: "n" op: "NoOp" }'), name="cd")
        for name in ("cd/c", "cd/i", "cd/n"):
            assert [op.name for op in graph.get_operation_by_name(name).control_inputs] == ["k"]


def test_input_map_and_return_elements():
    text = (CONST + identity("i", "c") + 'node { name: "n" op: "NoOp" input: "^i" }')
    with tf.Graph().as_default() as graph:
        five = tf.constant(5.0, name="five")
        guard = tf.constant(0.0, name="guard")  # a control input is mapped to a tensor's op
        t_mapped, c_op, i_out, n_op = tf.import_graph_def(
            graph_def(text), input_map={"c:0": five, "^i": guard},
            return_elements=["c:0", "c", "i:0", "n"])
        assert t_mapped is five
        assert c_op.name == "import/c" and n_op.name == "import/n"
        assert i_out.op.inputs[0] is five
        assert n_op.control_inputs == [guard.op]
        with tf.Session() as sess:
            assert sess.run(i_out) == 5.0


def test_input_map_values_are_converted_in_the_import_scope():
    with tf.Graph().as_default():
        (out,) = tf.import_graph_def(graph_def(CONST + identity("i", "c")),
                                     input_map={"c": 7.0}, return_elements=["i:0"])
        assert out.op.inputs[0].name == "import/_inputs/Const:0"
        with tf.Session() as sess:
            assert sess.run(out) == 7.0
        with pytest.raises(ValueError, match="requires a non-empty `name` if `input_map` "
                                             "contains non-Tensor values"):
            tf.import_graph_def(graph_def(CONST), input_map={"c:0": 1.0}, name="")


def test_argument_types_are_checked():
    with tf.Graph().as_default():
        with pytest.raises(TypeError, match="graph_def must be a GraphDef proto"):
            tf.import_graph_def("not a graph")
        with pytest.raises(TypeError, match="input_map must be a dictionary"):
            tf.import_graph_def(graph_def(CONST), input_map={1: tf.constant(1.0)})
        with pytest.raises(TypeError, match="return_elements must be a list of strings"):
            tf.import_graph_def(graph_def(CONST), return_elements=[1])


# (case, GraphDef text, keyword arguments, TensorFlow 2.21's message; each case imports into a
# fresh graph under the default "import" prefix).
MALFORMED = [
    ("missing attr",
     'node { name: "c" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } } }',
     {}, "NodeDef missing attr 'value' from Op<name=Const; signature= -> output:dtype; "
         "attr=value:tensor; attr=dtype:type>; NodeDef: {{node import/c}}"),
    ("input count", CONST + 'node { name: "a" op: "AddV2" input: "c" attr { key: "T" value { type: '
                            'DT_FLOAT } } }',
     {}, "NodeDef expected inputs 'float, float' do not match 1 inputs specified; "
         "Op<name=AddV2; signature=x:T, y:T -> z:T; attr=T:type,allowed=["),
    ("missing input", CONST + identity("i", "nope"), {}, "Node 'i': Unknown input node 'nope'"),
    ("cycle", identity("a", "b") + identity("b", "a"), {}, "2 nodes in a cycle"),
    ("duplicate", CONST + CONST, {}, "Node 'c' is not unique"),
    ("bad name", 'node { name: "_c" op: "NoOp" }', {},
     "Node '_c': Node name contains invalid characters"),
    ("control order", CONST + 'node { name: "i" op: "Identity" input: "^c" input: "c" attr { key: '
                              '"T" value { type: DT_FLOAT } } }',
     {}, "Node 'i': Control dependencies must come after regular dependencies"),
    ("type mismatch", CONST + 'node { name: "i" op: "Identity" input: "c" attr { key: "T" value { '
                              'type: DT_INT32 } } }',
     {}, "Input 0 of node import/i was passed float from import/c:0 incompatible with expected "
         "int32."),
    ("ref input", CONST + 'node { name: "a" op: "Assign" input: "c" input: "c" attr { key: "T" '
                          'value { type: DT_FLOAT } } }',
     {}, "Input 0 of node import/a was passed float from import/c:0 incompatible with expected "
         "float_ref."),
    ("bad output", CONST + identity("i", "c:3"), {},
     "Node 'i': Connecting to invalid output 3 of source node c which has 1 outputs."),
    ("not allowed", 'node { name: "c" op: "Const" attr { key: "dtype" value { type: DT_STRING } } '
                    'attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape {} '
                    'string_val: "a" } } } } node { name: "s" op: "Sqrt" input: "c" attr { key: '
                    '"T" value { type: DT_STRING } } }',
     {}, "Value for attr 'T' of string is not in the list of allowed values: bfloat16, half, "
         "float, double, complex64, complex128\n\t; NodeDef: {{node import/s}}; Op<name=Sqrt; "),
    ("return tensor", CONST, {"return_elements": ["zz:0"]},
     "Requested return tensor 'zz:0' not found in graph def"),
    ("return node", CONST, {"return_elements": ["zz"]},
     "Requested return node 'zz' not found in graph def"),
    ("return index", CONST, {"return_elements": ["c:4"]},
     "Invalid return output 4 of node 'c', which has 1 output(s)"),
    ("colocation", 'node { name: "n" op: "NoOp" attr { key: "_class" value { list { s: '
                   '"loc:@ghost" } } } }',
     {}, "Node 'n' expects to be colocated with unknown node 'ghost'"),
    ("output shapes", 'node { name: "c" op: "Const" attr { key: "_output_shapes" value { list { '
                      'shape { dim { size: 3 } } } } } attr { key: "dtype" value { type: DT_FLOAT '
                      '} } attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape {} '
                      'float_val: 1 } } } }',
     {}, "Node 'import/c' has an _output_shapes attribute inconsistent with the GraphDef for "
         "output #0: Shapes must be equal rank, but are 0 and 1"),
    ("few output shapes", 'node { name: "c" op: "Const" attr { key: "_output_shapes" value { list '
                          '{ } } } attr { key: "dtype" value { type: DT_FLOAT } } attr { key: '
                          '"value" value { tensor { dtype: DT_FLOAT tensor_shape {} float_val: 1 '
                          '} } } }',
     {}, "Node 'import/c' has 1 outputs but the _output_shapes attribute specifies shapes for 0 "
         "outputs"),
    ("bad consumer", CONST + 'versions { producer: 10 bad_consumers: 2474 }', {},
     "GraphDef disallows consumer version 2474.  Please upgrade TensorFlow: this version is "
     "likely buggy."),
    ("no op", 'node { name: "x" }', {}, "Node 'x' does not specify an operation"),
    ("back edge", identity("a", "n") + 'node { name: "n" op: "NextIteration" input: "a" attr { '
                                       'key: "T" value { type: DT_FLOAT } } }',
     {}, "2 nodes in a cycle"),
]


@pytest.mark.parametrize("case, text, kwargs, message", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_graphs_raise_tensorflows_errors(case, text, kwargs, message):
    if case == "back edge" and op_def_lib.get_schema("NextIteration") is None:
        pytest.skip("NextIteration is not registered yet")
    with tf.Graph().as_default() as graph:
        existing = tf.constant(0.0, name="existing")
        with pytest.raises(ValueError) as info:
            tf.import_graph_def(graph_def(text), **kwargs)
        assert str(info.value).startswith(message)
        if not kwargs:
            # A failed import leaves the graph as it was.
            assert graph.get_operations() == [existing.op]
            assert existing.consumers() == []


def test_unused_input_map_keys_are_reported():
    with tf.Graph().as_default():
        with pytest.raises(ValueError) as info:
            tf.import_graph_def(graph_def(CONST), input_map={
                "zz:0": tf.constant(1.0), "c:1": tf.constant(2.0), "yy": tf.constant(2.0)})
    assert str(info.value) == ("Attempted to map inputs that were not found in graph_def: "
                               "[c:1, yy:0, zz:0]")


def test_min_consumer_above_our_version_is_rejected():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="GraphDef min consumer version 4000 above current "
                                             "version 2474"):
            tf.import_graph_def(graph_def(CONST + "versions { producer: 5000 min_consumer: "
                                                  "4000 }"))


def test_unknown_op_types_are_named_with_their_node():
    text = ('node { name: "x" op: "FooBar" } node { name: "y" op: "Zap" } '
            'node { name: "z" op: "FooBar" }')
    with tf.Graph().as_default() as graph:
        with pytest.raises(tf.errors.NotFoundError) as info:
            tf.import_graph_def(graph_def(text))
        assert graph.get_operations() == []
    message = str(info.value)
    assert message.startswith("Op type not registered 'FooBar' in binary running on ")
    assert "(node 'x')" in message and message.endswith("lacks are: FooBar, Zap.")


def test_unknown_attrs_are_kept_and_logged(caplog):
    """TensorFlow 2.21 accepts attrs its OpDef lacks (newer producers) and logs an error."""
    text = CONST + identity("i", "c", 'attr { key: "bogus" value { i: 1 } }')
    with tf.Graph().as_default() as graph:
        with caplog.at_level(logging.ERROR, logger="tensorflow"):
            tf.import_graph_def(graph_def(text))
        node = graph.get_operation_by_name("import/i").node_def
        assert node.attr["bogus"].i == 1
    assert "NodeDef mentions attribute bogus which is not in the op definition" in caplog.text


def test_op_types_known_only_from_the_producer_op_list():
    """A meta graph's stripped_op_list lets graphs with op types tensorkeep lacks import (and
    re-export unchanged); only running such a node fails, naming it."""
    op_list = text_format.Parse(
        'op { name: "MysteryOp" input_arg { name: "x" type_attr: "T" } output_arg { name: "y" '
        'type_attr: "T" } attr { name: "T" type: "type" } attr { name: "scale" type: "float" '
        'default_value { f: 2 } } }', protos.OpList())
    text = CONST + ('node { name: "m" op: "MysteryOp" input: "c" attr { key: "T" value { type: '
                    'DT_FLOAT } } }') + identity("after", "m")
    with tf.Graph().as_default() as graph:
        (after,) = tf.import_graph_def(graph_def(text), producer_op_list=op_list,
                                       return_elements=["after:0"], name="")
        mystery = graph.get_operation_by_name("m")
        assert mystery.get_attr("scale") == 2.0  # default filled from the producer's OpDef
        assert after.dtype == tf.float32
        assert mystery.op_def == op_list.op[0]
        with tf.Session() as sess:
            assert sess.run("c:0") == 1.0
            with pytest.raises(tf.errors.UnimplementedError, match="MysteryOp"):
                sess.run(after)


def test_producer_defaults_unknown_here_are_dropped():
    """Attrs the consumer's OpDef lacks but the producer's has at their default are removed
    (TensorFlow's forward compatibility for newer producers)."""
    op_list = text_format.Parse(
        'op { name: "Identity" input_arg { name: "input" type_attr: "T" } output_arg { name: '
        '"output" type_attr: "T" } attr { name: "T" type: "type" } attr { name: "new_flag" type: '
        '"bool" default_value { b: false } } }', protos.OpList())
    text = CONST + identity("i", "c", 'attr { key: "new_flag" value { b: false } }')
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def(text), producer_op_list=op_list)
        assert "new_flag" not in graph.get_operation_by_name("import/i").node_def.attr


def test_output_shapes_refine_inferred_shapes_and_are_dropped():
    text = ('node { name: "p" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } '
            'attr { key: "_output_shapes" value { list { shape { dim { size: -1 } dim { size: 3 '
            '} } } } } }')
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def(text), name="")
        placeholder = graph.get_operation_by_name("p")
        assert placeholder.outputs[0].shape.as_list() == [None, 3]
        assert "_output_shapes" not in placeholder.node_def.attr
        assert graph.as_graph_def(add_shapes=True).node[0].attr["_output_shapes"] == \
            graph_def(text).node[0].attr["_output_shapes"]


def test_legacy_scalar_placeholder_shape_means_unknown():
    """GraphDefs from producer 21 and older wrote unknown Placeholder shapes as scalars."""
    placeholder = ('node { name: "p" op: "Placeholder" attr { key: "dtype" value { type: '
                   'DT_FLOAT } } attr { key: "shape" value { shape { } } } }\n')
    with tf.Graph().as_default():
        (old,) = tf.import_graph_def(graph_def(placeholder + "versions { producer: 21 }"),
                                     return_elements=["p:0"])
        assert old.shape.ndims is None
        doubled = old * 2.0
        with tf.Session() as sess:
            assert sess.run(doubled, {old: [[1.0, 2.0]]}).tolist() == [[2.0, 4.0]]
    with tf.Graph().as_default():
        (new,) = tf.import_graph_def(graph_def(placeholder + "versions { producer: 22 }"),
                                     return_elements=["p:0"])
        assert new.shape.as_list() == []


def test_graph_versions_follow_the_imported_graph():
    with tf.Graph().as_default() as graph:
        assert graph.graph_def_versions.producer == 2474
        tf.import_graph_def(graph_def(CONST + "versions { producer: 21 min_consumer: 12 }"))
        assert graph.graph_def_versions.producer == 21
        assert graph.graph_def_versions.min_consumer == 12
        assert graph.as_graph_def().versions.producer == 21


def test_devices_and_colocation():
    text = ('node { name: "v" op: "Const" device: "/device:CPU:0" attr { key: "dtype" value { '
            'type: DT_FLOAT } } attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape '
            '{} float_val: 1 } } } }' +
            identity("r", "v", 'device: "/device:GPU:0" attr { key: "_class" value { list { s: '
                               '"loc:@v" } } }') + identity("free", "v"))
    with tf.Graph().as_default() as graph:
        with tf.device("/device:CPU:1"):
            tf.import_graph_def(graph_def(text))
        assert graph.get_operation_by_name("import/v").device == "/device:CPU:0"
        # A colocated node takes its group's device.
        assert graph.get_operation_by_name("import/r").device == "/device:CPU:0"
        assert graph.get_operation_by_name("import/free").device == "/device:CPU:1"


def test_get_tensor_by_name_of_an_operation_is_tensorflows_error():
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def(CONST), name="")
        with pytest.raises(ValueError) as info:
            graph.get_tensor_by_name("c")
    assert str(info.value) == ("The name 'c' refers to an Operation, not a Tensor. Tensor names "
                               "must be of the form \"<op_name>:<output_index>\".")


def test_imported_nodes_are_reexported_identically():
    """Import then as_graph_def gives the same nodes (attr defaults filled as TensorFlow does)."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        w = tf.constant([[1.0], [2.0]], name="w")
        with tf.name_scope("layer"):
            y = tf.matmul(x, w, name="y")
        tf.identity(y, name="out")
        original = tf.get_default_graph().as_graph_def()
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(original, name="")
        assert graph.as_graph_def() == original
        with tf.Session() as sess:
            assert sess.run("out:0", {"x:0": [[1.0, 1.0]]}).tolist() == [[3.0]]


def test_while_loop_back_edges(shared_dir):
    if op_def_lib.get_schema("Enter") is None or not hasattr(tf, "while_loop"):
        pytest.skip("control flow ops are not registered yet")
    with tf.Graph().as_default():
        result = tf.while_loop(lambda i: i < 10, lambda i: i + 1, [tf.constant(0)])
        original = tf.get_default_graph().as_graph_def()
    reordered = protos.GraphDef()
    reordered.node.extend(reversed(original.node))
    with tf.Graph().as_default():
        (out,) = tf.import_graph_def(reordered, return_elements=[result.name], name="")
        with tf.Session() as sess:
            assert sess.run(out) == 10
