"""The Saver's graph: TensorFlow's nodes (names, inputs, devices, attrs) and SaverDef, checked
against the meta graphs TensorFlow wrote for the seed programs; var_list forms and their
validation; SaverDef round trips."""

import os

import numpy as np
import pytest
from google.protobuf import text_format

import tensorkeep as tf
from tensorkeep.framework import op_def
from tensorkeep.io import protos
from tensorkeep.training import saver as saver_lib


def _golden_meta(shared_dir, folder):
    with open(os.path.join(shared_dir, "golden", "seed_files", folder, "model.ckpt.meta"),
              "rb") as handle:
        return protos.MetaGraphDef.FromString(handle.read())


def _seed_01():
    v1 = tf.Variable(tf.random_normal([1], stddev=1, seed=1))
    v2 = tf.Variable(tf.random_normal([1], stddev=1, seed=1))
    v1 + v2  # noqa: B018 (the seed program's `result`)
    tf.global_variables_initializer()
    return tf.train.Saver()


def _seed_05():
    v1 = tf.Variable(tf.constant(1.0, shape=[1]), name="v1")
    v2 = tf.Variable(tf.constant(2.0, shape=[1]), name="v2")
    v1 + v2  # noqa: B018
    tf.global_variables_initializer()
    return tf.train.Saver()


@pytest.mark.parametrize("folder,build", [("tt", _seed_01), ("qq", _seed_05)])
def test_saver_nodes_and_saver_def_equal_tensorflows(shared_dir, folder, build):
    golden = _golden_meta(shared_dir, folder)
    with tf.Graph().as_default() as graph:
        saver = build()
        ours = {node.name: node for node in graph.as_graph_def(add_shapes=True).node}
    theirs = [node for node in golden.graph_def.node if node.name.startswith("save/")]
    assert [node.name for node in theirs] == [name for name in ours if name.startswith("save/")]
    for node in theirs:
        assert ours[node.name] == node, text_format.MessageToString(ours[node.name])
    assert saver.as_saver_def() == golden.saver_def
    assert saver.saver_def.filename_tensor_name == "save/Const:0"
    assert saver.saver_def.save_tensor_name == "save/control_dependency:0"
    assert saver.saver_def.restore_op_name == "save/restore_all"


def test_second_saver_and_named_saver_get_their_own_scope():
    with tf.Graph().as_default():
        v = tf.Variable([1.0], name="v1")
        first = tf.train.Saver()
        second = tf.train.Saver({"v1": v})
        named = tf.train.Saver([v], name="mine")
    assert second.saver_def.filename_tensor_name == "save_1/Const:0"
    assert second.saver_def.restore_op_name == "save_1/restore_all"
    assert named.saver_def.save_tensor_name == "mine/control_dependency:0"
    assert first.saver_def.restore_op_name == "save/restore_all"


def test_dict_var_list_uses_the_dict_keys_as_checkpoint_names():
    with tf.Graph().as_default() as graph:
        other = tf.Variable([1.0], name="other-v1")
        tf.train.Saver({"v1": other})
        names = graph.get_tensor_by_name("save/SaveV2/tensor_names:0").op.get_attr("value")
    assert list(names.string_val) == [b"v1"]


def test_list_var_list_is_keyed_by_op_name_and_sorted():
    with tf.Graph().as_default() as graph:
        b = tf.Variable([1.0], name="b")
        a = tf.Variable([1, 2], name="a")
        tf.train.Saver([b, a])
        save = graph.get_operation_by_name("save/SaveV2")
        names = graph.get_operation_by_name("save/SaveV2/tensor_names").get_attr("value")
    assert list(names.string_val) == [b"a", b"b"]
    assert [t.name for t in save.inputs[3:]] == ["a:0", "b:0"]
    assert save.get_attr("dtypes") == [tf.int32, tf.float32]


def test_partitioned_variable_slices_are_saved_under_the_full_name():
    with tf.Graph().as_default() as graph:
        tf.get_variable("emb", shape=[10, 4], partitioner=tf.fixed_size_partitioner(2))
        tf.train.Saver()
        specs = graph.get_operation_by_name("save/SaveV2/shape_and_slices").get_attr("value")
        names = graph.get_operation_by_name("save/SaveV2/tensor_names").get_attr("value")
        restore = graph.get_operation_by_name("save/RestoreV2")
    assert list(names.string_val) == [b"emb", b"emb"]
    assert list(specs.string_val) == [b"10 4 0,5:0,4", b"10 4 5,5:0,4"]
    # RestoreV2 knows each slice's shape from its spec.
    assert [t.shape.as_list() for t in restore.outputs] == [[5, 4], [5, 4]]


def test_reshape_restores_through_reshape_without_shape_validation():
    with tf.Graph().as_default() as graph:
        tf.Variable([[1.0, 2.0]], name="m")
        tf.train.Saver(reshape=True)
        assign = graph.get_operation_by_name("save/Assign")
    assert assign.inputs[1].op.type == "Reshape"
    assert assign.get_attr("validate_shape") is False


def test_saver_def_options():
    with tf.Graph().as_default():
        tf.Variable(1.0, name="v")
        saver = tf.train.Saver(max_to_keep=None, keep_checkpoint_every_n_hours=0.5,
                               write_version=tf.train.SaverDef.V1)
    assert saver.saver_def.max_to_keep == 0
    assert saver.saver_def.keep_checkpoint_every_n_hours == 0.5
    assert saver.saver_def.version == tf.train.SaverDef.V1
    assert not saver.saver_def.sharded


def test_to_proto_strips_export_scope_and_from_proto_prepends_import_scope():
    with tf.Graph().as_default():
        with tf.name_scope("outer"):
            tf.Variable(1.0, name="v")
            saver = tf.train.Saver(name="saver")
    stripped = saver.to_proto(export_scope="outer")
    assert stripped.filename_tensor_name == "saver/Const:0"
    assert stripped.restore_op_name == "saver/restore_all"
    assert saver.to_proto(export_scope="elsewhere") is None
    assert saver.to_proto() is saver.as_saver_def()
    recreated = tf.train.Saver.from_proto(stripped, import_scope="imported")
    assert recreated.saver_def.save_tensor_name == "imported/saver/control_dependency:0"
    # The proto handed in is not modified.
    assert stripped.save_tensor_name == "saver/control_dependency:0"


def test_defer_build_and_allow_empty():
    with tf.Graph().as_default() as graph:
        with pytest.raises(ValueError, match="No variables to save"):
            tf.train.Saver()
        empty = tf.train.Saver(allow_empty=True)
        with tf.Session() as sess:
            assert empty.save(sess, "unused", write_meta_graph=False) is None
            assert empty.restore(sess, "unused") is None
        v = tf.Variable(1.0, name="v")
        deferred = tf.train.Saver(defer_build=True)
        assert not [op for op in graph.get_operations() if op.name.startswith("save")]
        with tf.Session() as sess:
            with pytest.raises(RuntimeError, match="build"):
                deferred.save(sess, "unused")
        deferred.build()
        assert deferred.saver_def.restore_op_name == "save/restore_all"
        with pytest.raises(ValueError, match="cannot be deferred"):
            tf.train.Saver([v], defer_build=True)


def test_invalid_var_lists_are_rejected():
    with tf.Graph().as_default():
        v = tf.Variable(1.0, name="v")
        with pytest.raises(ValueError, match="two names"):
            tf.train.Saver({"a": v, "b": v})
        with pytest.raises(TypeError, match="Not a variable"):
            tf.train.Saver({"c": tf.constant(1.0)})
        with pytest.raises(TypeError, match="dict or a list"):
            tf.train.Saver(v)
        with pytest.raises(TypeError, match="not a string"):
            tf.train.Saver({1: v})


def test_device_strings():
    assert saver_lib.canonical_device("/cpu:0") == "/device:CPU:0"
    assert saver_lib.canonical_device("/job:ps/task:1/gpu:2") == "/job:ps/task:1/device:GPU:2"
    assert saver_lib.set_cpu0("/job:worker/replica:0/task:3/device:GPU:1") == \
        "/job:worker/replica:0/task:3/device:CPU:0"
    assert saver_lib.set_cpu0("") == "/device:CPU:0"


def test_restore_kernel_reads_into_fresh_immutable_arrays(tmp_path):
    """RestoreV2 hands out arrays that own their data and are read-only: nothing else
    references them, so a consumer (Assign) may keep them without copying."""
    with tf.Graph().as_default() as graph:
        v = tf.Variable(np.arange(6, dtype=np.float32), name="v")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(v.initializer)
            prefix = saver.save(sess, str(tmp_path / "m"), write_meta_graph=False)
        restore = graph.get_operation_by_name("save/RestoreV2")
    run = op_def.get_schema("RestoreV2").kernel(restore, None)
    value = run(np.array(prefix.encode(), dtype=object), np.array([b"v"], dtype=object),
                np.array([b""], dtype=object))
    assert np.array_equal(value, np.arange(6, dtype=np.float32))
    assert value.flags.owndata and not value.flags.writeable


def test_filename_default_and_custom_builder():
    class CountingBuilder(saver_lib.BulkSaverBuilder):
        calls = 0

        def save_op(self, filename_tensor, saveables):
            CountingBuilder.calls += 1
            return super().save_op(filename_tensor, saveables)

    with tf.Graph().as_default() as graph:
        tf.Variable(1.0, name="v")
        tf.train.Saver(filename="weights.ckpt", builder=CountingBuilder())
        default = graph.get_operation_by_name("save/filename/input").get_attr("value")
    assert list(default.string_val) == [b"weights.ckpt"]
    assert CountingBuilder.calls == 1
    assert tf.train.SaverDef.V2 == 2 and tf.train.SaverDef().version == tf.train.SaverDef.LEGACY


def test_resource_variables_save_their_read_and_restore_with_assign_variable_op(tmp_path):
    from tensorkeep.ops.resource_variable_ops import ResourceVariable

    with tf.Graph().as_default() as graph:
        r = ResourceVariable([1.0, 2.0], name="r")
        a = tf.Variable([3.0], name="a")
        saver = tf.train.Saver()
        save = graph.get_operation_by_name("save/SaveV2")
        # TensorFlow's layout: the variable's own read is saved; the restored value goes
        # through an Identity on the variable's device into AssignVariableOp.
        assert [t.name for t in save.inputs[3:]] == ["a:0", "r/Read/ReadVariableOp:0"]
        assign = graph.get_operation_by_name("save/AssignVariableOp")
        assert [t.name for t in assign.inputs] == ["r:0", "save/Identity:0"]
        assert graph.get_operation_by_name("save/Identity").inputs[0].name == "save/RestoreV2:1"
        with tf.Session() as sess:
            sess.run([r.initializer, a.initializer])
            prefix = saver.save(sess, str(tmp_path / "m"), write_meta_graph=False)
            sess.run(r.assign([0.0, 0.0]))
            saver.restore(sess, prefix)
            assert sess.run(r.value()).tolist() == [1.0, 2.0]
    assert tf.train.list_variables(prefix) == [("a", [1]), ("r", [2])]


def test_partitioned_resource_variable_round_trip(tmp_path):
    from tensorkeep.ops.resource_variable_ops import ResourceVariable
    from tensorkeep.ops.variables import SaveSliceInfo

    full = np.arange(8, dtype=np.float32).reshape(4, 2)
    with tf.Graph().as_default():
        parts = []
        for index in range(2):
            part = ResourceVariable(full[2 * index:2 * index + 2], name="emb/part_%d" % index)
            part._set_save_slice_info(SaveSliceInfo("emb", [4, 2], [2 * index, 0], [2, 2]))
            parts.append(part)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run([part.initializer for part in parts])
            prefix = saver.save(sess, str(tmp_path / "m"), write_meta_graph=False)
            sess.run([part.assign(tf.zeros([2, 2])) for part in parts])
            saver.restore(sess, prefix)
            restored = np.concatenate(sess.run([part.value() for part in parts]))
    assert np.array_equal(restored, full)
    assert np.array_equal(tf.train.load_variable(prefix, "emb"), full)
