"""tf.train.Saver: the save/restore subgraph (with TensorFlow's node names), checkpoint
numbering, rotation of old checkpoints and the `checkpoint` state file.

A Saver adds, under a name scope `save` (`save_1`, ...), a filename placeholder `save/Const`,
a SaveV2 op whose run writes every variable to a tensor bundle (`save/control_dependency`
returns the prefix once written) and RestoreV2 + Assign ops grouped as `save/restore_all`.
`save()` and `restore()` run those ops in a session.

Data safety: a save writes the bundle under temporary names and renames it into place, then
the meta graph, then replaces the state file atomically, and only then deletes checkpoints
rotated out, and only files of checkpoints this saver wrote (or was told about through
`recover_last_checkpoints`) that lie in the directory it saves into.
"""

import difflib
import logging
import math
import os
import time

from tensorkeep import io as tkio
from tensorkeep.framework import device as device_lib
from tensorkeep.framework import errors
from tensorkeep.framework import gc_pause
from tensorkeep.framework import meta_graph
from tensorkeep.framework import ops
from tensorkeep.io import protos
from tensorkeep.ops import array_ops
from tensorkeep.ops import control_flow_ops
from tensorkeep.ops import io_ops
from tensorkeep.ops.partitioned_variables import PartitionedVariable
from tensorkeep.training import checkpoint_management
from tensorkeep.training.checkpoint_management import V1, V2
from tensorkeep.training import saveable_object
from tensorkeep.training.meta_graph_api import (  # noqa: F401 (in TensorFlow's saver module)
    export_meta_graph, import_meta_graph)
from tensorkeep.training.saveable_object import (  # noqa: F401 (tf.train.Saver's companions)
    ReferenceVariableSaveable, SaveableObject, SaveSpec)

_MANUAL_CONTROL_DEPENDENCY = "_has_manual_control_dependencies"
# Where tf.train.Checkpoint stores the object graph that maps variables to checkpoint keys.
OBJECT_GRAPH_PROTO_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
_logger = logging.getLogger("tensorflow")

# TensorFlow's saver module carries these tf.train names too; scripts import them from it.
get_checkpoint_state = checkpoint_management.get_checkpoint_state
update_checkpoint_state = checkpoint_management.update_checkpoint_state
generate_checkpoint_state_proto = checkpoint_management.generate_checkpoint_state_proto
latest_checkpoint = checkpoint_management.latest_checkpoint
checkpoint_exists = checkpoint_management.checkpoint_exists
get_checkpoint_mtimes = checkpoint_management.get_checkpoint_mtimes
remove_checkpoint = checkpoint_management.remove_checkpoint


class CheckpointNotFoundError(errors.NotFoundError, ValueError):
    """The path given to restore() holds no checkpoint. TensorFlow 2 raises ValueError here
    and TensorFlow 1 NotFoundError; this is both, so either `except` clause catches it."""


# --- device strings -----------------------------------------------------------------------------

def canonical_device(device):
    """TensorFlow's canonical spelling of a device: "/cpu:0" -> "/device:CPU:0"."""
    return device_lib.canonical_name(device)


def set_cpu0(device):
    """The CPU:0 device of the task `device` belongs to."""
    return device_lib.DeviceSpec.from_string(device).replace(
        device_type="CPU", device_index=0).to_string()


# --- the builder --------------------------------------------------------------------------------

class BaseSaverBuilder:
    """Adds the save and restore ops of a Saver to the graph (subclass to change the ops)."""

    SaveSpec = SaveSpec
    SaveableObject = SaveableObject
    VariableSaveable = ReferenceVariableSaveable

    def __init__(self, write_version=V2):
        self._write_version = write_version

    def save_op(self, filename_tensor, saveables):
        """The op writing every spec of `saveables` to `filename_tensor`."""
        tensor_names, tensors, tensor_slices = [], [], []
        for saveable in saveables:
            for spec in saveable.specs:
                tensor_names.append(spec.name)
                tensors.append(spec.tensor)
                tensor_slices.append(spec.slice_spec)
        if self._write_version == V1:
            return io_ops.save_slices(filename_tensor, tensor_names, tensor_slices, tensors,
                                      name="save")
        if self._write_version == V2:
            # For V2 the "filename" is the prefix of a tensor bundle.
            return io_ops.save_v2(filename_tensor, tensor_names, tensor_slices, tensors)
        raise RuntimeError("Unexpected write_version: %r" % (self._write_version,))

    def bulk_restore(self, filename_tensor, saveables, preferred_shard, restore_sequentially):
        """The restored tensors of every spec of `saveables`, one restore op each."""
        all_tensors = []
        for saveable in saveables:
            device = set_cpu0(saveable.device) if saveable.device else None
            with ops.device(device):
                all_tensors.extend(self.restore_op(filename_tensor, saveable, preferred_shard))
        return all_tensors

    def restore_op(self, filename_tensor, saveable, preferred_shard):
        return [io_ops.restore_v2(filename_tensor, [spec.name], [spec.slice_spec],
                                  [spec.dtype])[0] for spec in saveable.specs]

    def sharded_filename(self, filename_tensor, shard, num_shards):
        return io_ops.sharded_filename(filename_tensor, shard, num_shards)

    def _add_save_ops(self, filename_tensor, saveables):
        save = self.save_op(filename_tensor, saveables)
        return control_flow_ops.with_dependencies([save], filename_tensor)

    def _add_sharded_save_ops_v2(self, checkpoint_prefix, per_device):
        """Each device's variables go to a bundle `<prefix>_temp/part-0000i-of-0000n`;
        MergeV2Checkpoints then moves them under `<prefix>` (S3 uses `<prefix>.part` instead
        of a temporary directory). Returns the prefix, once merged."""
        with ops.device("/device:CPU:*"):
            is_s3 = io_ops.regex_full_match(checkpoint_prefix, "^s3://.*")
            suffix = array_ops.where(is_s3, array_ops.constant(".part"),
                                     array_ops.constant(os.path.normpath("_temp/part")))
            temp_prefix = io_ops.string_join([checkpoint_prefix, suffix])
        num_shards = array_ops.constant(len(per_device), name="num_shards")
        sharded_saves, sharded_prefixes = [], []
        last_device = None
        for shard, (device, saveables) in enumerate(per_device):
            last_device = device
            with ops.device(set_cpu0(device)):
                sharded_prefix = self.sharded_filename(temp_prefix, shard, num_shards)
                sharded_prefixes.append(sharded_prefix)
                sharded_saves.append(self._add_save_ops(sharded_prefix, saveables))
        with ops.control_dependencies([save.op for save in sharded_saves]):
            with ops.device(set_cpu0(last_device)):
                with ops.name_scope(None, "MergeV2Checkpoints") as scope:
                    prefixes = array_ops.stack(sharded_prefixes, name="checkpoint_prefixes")
                    merge = io_ops.merge_v2_checkpoints(prefixes, checkpoint_prefix,
                                                        delete_old_dirs=True, name=scope)
                with ops.control_dependencies([merge]):
                    return array_ops.identity(checkpoint_prefix)

    def _add_sharded_save_ops(self, filename_tensor, per_device):
        if self._write_version == V2:
            return self._add_sharded_save_ops_v2(filename_tensor, per_device)
        num_shards = array_ops.constant(len(per_device), name="num_shards")
        sharded_saves = []
        for shard, (device, saveables) in enumerate(per_device):
            with ops.device(device):
                sharded_name = self.sharded_filename(filename_tensor, shard, num_shards)
                sharded_saves.append(self._add_save_ops(sharded_name, saveables))
        with ops.control_dependencies([save.op for save in sharded_saves]):
            return io_ops.sharded_filespec(filename_tensor, num_shards)

    def _add_restore_ops(self, filename_tensor, saveables, restore_sequentially, reshape,
                         preferred_shard=-1, name="restore_all"):
        all_tensors = self.bulk_restore(filename_tensor, saveables, preferred_shard,
                                        restore_sequentially)
        assign_ops = []
        position = 0
        for saveable in saveables:
            shapes = None
            if reshape:
                # Let the restore reshape to each variable's shape (same element count).
                shapes = []
                for spec in saveable.specs:
                    shape = spec.tensor.get_shape()
                    shapes.append(shape if shape.is_fully_defined()
                                  else array_ops.shape(spec.tensor))
            restored = all_tensors[position:position + len(saveable.specs)]
            position += len(saveable.specs)
            assign_ops.append(saveable.restore(restored, shapes))
        return control_flow_ops.group(*assign_ops, name=name)

    def _add_sharded_restore_ops(self, filename_tensor, per_device, restore_sequentially,
                                 reshape):
        sharded_restores = []
        for shard, (device, saveables) in enumerate(per_device):
            with ops.device(device):
                sharded_restores.append(self._add_restore_ops(
                    filename_tensor, saveables, restore_sequentially, reshape,
                    preferred_shard=shard, name="restore_shard"))
        return control_flow_ops.group(*sharded_restores, name="restore_all")

    @staticmethod
    def _group_by_devices(saveables):
        """[(canonical device, saveables on it)] sorted by device."""
        per_device = {}
        for saveable in saveables:
            devices = {canonical_device(spec.device) for spec in saveable.specs}
            if len(devices) != 1:
                raise ValueError("All tensors of a saveable object must be on the same "
                                 "device: %s" % saveable.name)
            per_device.setdefault(devices.pop(), []).append(saveable)
        return sorted(per_device.items(), key=lambda item: item[0])

    def build(self, names_to_saveables, reshape=False, sharded=False, max_to_keep=5,
              keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
              filename="model"):
        """Adds the save/restore ops for `names_to_saveables` (a dict or a list of variables)
        and returns their SaverDef."""
        return self._build_internal(names_to_saveables, reshape, sharded, max_to_keep,
                                    keep_checkpoint_every_n_hours, name,
                                    restore_sequentially, filename)[0]

    def _build_internal(self, names_to_saveables, reshape=False, sharded=False, max_to_keep=5,
                        keep_checkpoint_every_n_hours=10000.0, name=None,
                        restore_sequentially=False, filename="model"):
        """(SaverDef, saveables)."""
        if not isinstance(names_to_saveables, dict):
            names_to_saveables = saveable_object.op_list_to_dict(names_to_saveables)
        saveables = saveable_object.validate_and_slice_inputs(names_to_saveables)
        if max_to_keep is None:
            max_to_keep = 0
        graph = ops.get_default_graph()
        first_new_op = len(graph.get_operations())
        with ops.name_scope(name, "save", [saveable.op for saveable in saveables]):
            filename_tensor = array_ops.placeholder_with_default(filename or "model", shape=(),
                                                                 name="filename")
            # "Const" is the name every TensorFlow version feeds the path through.
            filename_tensor = array_ops.placeholder_with_default(filename_tensor, shape=(),
                                                                 name="Const")
            if sharded:
                per_device = self._group_by_devices(saveables)
                save_tensor = self._add_sharded_save_ops(filename_tensor, per_device)
                restore_op = self._add_sharded_restore_ops(filename_tensor, per_device,
                                                           restore_sequentially, reshape)
            else:
                save_tensor = self._add_save_ops(filename_tensor, saveables)
                restore_op = self._add_restore_ops(filename_tensor, saveables,
                                                   restore_sequentially, reshape)
        _mark_control_inputs(graph.get_operations()[first_new_op:])
        for element in _all_collection_elements(graph):
            if isinstance(element, PartitionedVariable):
                # A meta graph importer looks a partitioned variable's concat op up by name.
                try:
                    graph.get_operation_by_name(element.name)
                except KeyError:
                    element.as_tensor()
        saver_def = protos.SaverDef(
            filename_tensor_name=filename_tensor.name, save_tensor_name=save_tensor.name,
            restore_op_name=restore_op.name, max_to_keep=max_to_keep, sharded=sharded,
            keep_checkpoint_every_n_hours=keep_checkpoint_every_n_hours,
            version=self._write_version)
        return saver_def, saveables


class BulkSaverBuilder(BaseSaverBuilder):
    """Restores every tensor of a device with a single RestoreV2 op (what Saver uses)."""

    def bulk_restore(self, filename_tensor, saveables, preferred_shard, restore_sequentially):
        names, slices, dtypes = [], [], []
        for saveable in saveables:
            for spec in saveable.specs:
                names.append(spec.name)
                slices.append(spec.slice_spec)
                dtypes.append(spec.dtype)
        with ops.device("/device:CPU:0"):
            return io_ops.restore_v2(filename_tensor, names, slices, dtypes)


def _mark_control_inputs(new_ops):
    """TensorFlow marks each op used as a control input with `_has_manual_control_dependencies`;
    files it writes carry the attr, so the saver's ops do too."""
    for op in new_ops:
        for control_input in op.control_inputs:
            control_input._set_attr(_MANUAL_CONTROL_DEPENDENCY, True)


def _all_collection_elements(graph):
    for key in graph.get_all_collection_keys():
        yield from graph.get_collection(key)


# --- the Saver ------------------------------------------------------------------------------------

class Saver:
    """Saves and restores variables (TensorFlow 1.x's tf.train.Saver)."""

    @gc_pause.paused_gc
    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
                 saver_def=None, builder=None, defer_build=False, allow_empty=False,
                 write_version=V2, pad_step_number=False,
                 save_relative_paths=False, filename=None):
        if defer_build and var_list is not None:
            raise ValueError("If `var_list` is provided then build cannot be deferred. Either "
                             "set defer_build=False or var_list=None.")
        self._var_list = var_list
        self._reshape = reshape
        self._sharded = sharded
        self._max_to_keep = max_to_keep
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._name = name
        self._restore_sequentially = restore_sequentially
        if saver_def is not None and not isinstance(saver_def, protos.SaverDef):
            raise ValueError("saver_def must be a SaverDef: %s" % (saver_def,))
        if saver_def is not None:
            saver_def = _copy_saver_def(saver_def)
        self.saver_def = saver_def
        self._builder = builder
        self._is_built = False
        self._allow_empty = allow_empty
        self._is_empty = None
        self._write_version = write_version
        self._pad_step_number = pad_step_number
        self._filename = filename
        self._save_relative_paths = save_relative_paths
        self._saveables = None
        self._restore_assigns = None  # (graph, restore op name, its Assign ops)
        self._last_checkpoints = []
        self._checkpoints_to_be_deleted = []
        # Checkpoints this saver may delete when they rotate out (see _may_delete).
        self._written_checkpoints = set()
        self._recovered_checkpoints = set()
        self._object_restore_saver = None
        if not defer_build:
            self.build()
        if self.saver_def:
            self._check_saver_def()
            self._write_version = self.saver_def.version

    # --- building -----------------------------------------------------------------------------
    def build(self):
        if self._is_built:
            return
        self._is_built = True
        if not self.saver_def:
            if self._builder is None:
                self._builder = BulkSaverBuilder(self._write_version)
            if self._var_list is None:
                self._var_list = saveable_object.all_saveable_objects()
            if not isinstance(self._var_list, (dict, list, tuple, set)):
                raise TypeError("Variables to save should be passed in a dict or a list: %s"
                                % (self._var_list,))
            if not len(self._var_list):
                if self._allow_empty:
                    self._is_empty = True
                    return
                raise ValueError("No variables to save")
            self._is_empty = False
            build = getattr(self._builder, "_build_internal", None)
            arguments = (self._var_list, self._reshape, self._sharded, self._max_to_keep,
                         self._keep_checkpoint_every_n_hours, self._name,
                         self._restore_sequentially, self._filename)
            if build is not None:
                self.saver_def, self._saveables = build(*arguments)
            else:  # a builder written against TensorFlow's public interface
                self.saver_def = self._builder.build(*arguments)
        elif self._name:
            # A name given with a saver_def is the scope the saver's graph was imported into.
            self.saver_def.filename_tensor_name = ops.prepend_name_scope(
                self.saver_def.filename_tensor_name, self._name)
            self.saver_def.save_tensor_name = ops.prepend_name_scope(
                self.saver_def.save_tensor_name, self._name)
            self.saver_def.restore_op_name = ops.prepend_name_scope(
                self.saver_def.restore_op_name, self._name)
        self._check_saver_def()
        self._next_checkpoint_time = (
            time.time() + self.saver_def.keep_checkpoint_every_n_hours * 3600)

    def _check_saver_def(self):
        if not isinstance(self.saver_def, protos.SaverDef):
            raise ValueError("saver_def must be a SaverDef: %s" % (self.saver_def,))
        if not self.saver_def.save_tensor_name:
            raise ValueError("saver_def must specify the save_tensor_name: %s"
                             % (self.saver_def,))
        if not self.saver_def.restore_op_name:
            raise ValueError("saver_def must specify the restore_op_name: %s"
                             % (self.saver_def,))

    def as_saver_def(self):
        return self.saver_def

    def to_proto(self, export_scope=None):
        """This saver's SaverDef, with `export_scope` stripped from its names (None when they
        lie outside it)."""
        if export_scope is None:
            return self.saver_def
        names = (self.saver_def.filename_tensor_name, self.saver_def.save_tensor_name,
                 self.saver_def.restore_op_name)
        if not all(name.startswith(export_scope) for name in names):
            return None
        saver_def = _copy_saver_def(self.saver_def)
        saver_def.filename_tensor_name = ops.strip_name_scope(saver_def.filename_tensor_name,
                                                              export_scope)
        saver_def.save_tensor_name = ops.strip_name_scope(saver_def.save_tensor_name,
                                                          export_scope)
        saver_def.restore_op_name = ops.strip_name_scope(saver_def.restore_op_name,
                                                         export_scope)
        return saver_def

    @staticmethod
    def from_proto(saver_def, import_scope=None):
        return Saver(saver_def=saver_def, name=import_scope)

    # --- the list of recent checkpoints ---------------------------------------------------------
    @property
    def last_checkpoints(self):
        """The checkpoints not yet deleted, oldest first."""
        return [path for path, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints):
        """Deprecated: sets the recent checkpoints (never deleted by rotation)."""
        assert isinstance(last_checkpoints, list)
        self._last_checkpoints = [(path, math.inf) for path in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time):
        """Sets the recent checkpoints as [(prefix, timestamp)], oldest first."""
        assert isinstance(last_checkpoints_with_time, list)
        self._last_checkpoints = last_checkpoints_with_time

    def recover_last_checkpoints(self, checkpoint_paths):
        """Takes over `checkpoint_paths` (typically the state file's list after a restart) as
        the recent checkpoints, timestamped by their files; those that no longer exist are
        dropped. They rotate out like checkpoints this saver wrote."""
        checkpoints_with_mtimes = []
        for path in checkpoint_paths:
            mtimes = checkpoint_management.get_checkpoint_mtimes([path])
            if mtimes:
                checkpoints_with_mtimes.append((path, mtimes[0]))
                self._recovered_checkpoints.add(path)
        self.set_last_checkpoints_with_time(checkpoints_with_mtimes)

    def _record_last_checkpoint(self, latest_save_path):
        if not self.saver_def.max_to_keep:
            return
        self._last_checkpoints = [entry for entry in self._last_checkpoints
                                  if entry[0] != latest_save_path]
        self._last_checkpoints.append((latest_save_path, time.time()))
        if len(self._last_checkpoints) > self.saver_def.max_to_keep:
            self._checkpoints_to_be_deleted.append(self._last_checkpoints.pop(0))

    def _maybe_delete_old_checkpoints(self, save_dir, meta_graph_suffix="meta"):
        """Deletes the oldest rotated-out checkpoint unless keep_checkpoint_every_n_hours
        keeps it."""
        if not self._checkpoints_to_be_deleted:
            return
        path, timestamp = self._checkpoints_to_be_deleted.pop(0)
        if timestamp > self._next_checkpoint_time:
            self._next_checkpoint_time += self.saver_def.keep_checkpoint_every_n_hours * 3600
            return
        if self._may_delete(path, save_dir):
            checkpoint_management.remove_checkpoint(path, self.saver_def.version,
                                                    meta_graph_suffix)

    def _may_delete(self, path, save_dir):
        """Only checkpoints this saver wrote, or recovered ones inside the directory it saves
        into (a state file may name paths anywhere)."""
        if path in self._written_checkpoints:
            return True
        return path in self._recovered_checkpoints and _is_inside(save_dir, path)

    # --- save -------------------------------------------------------------------------------------
    def save(self, sess, save_path, global_step=None, latest_filename=None,
             meta_graph_suffix="meta", write_meta_graph=True, write_state=True,
             strip_default_attrs=False, save_debug_info=False):
        """Writes the variables to a checkpoint at `save_path` (`save_path-<global_step>` with a
        step) and returns its prefix; None for a saver with no variables."""
        if not self._is_built:
            raise RuntimeError("`build()` should be called before save if defer_build==True")
        if latest_filename is None:
            latest_filename = checkpoint_management.DEFAULT_STATE_FILENAME
        if os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        save_path = _as_str(save_path)
        if global_step is not None:
            if not isinstance(global_step, int) and not _is_numpy_integer(global_step):
                global_step = int(sess.run(global_step))
            if self._pad_step_number:
                checkpoint_file = "%s-%08d" % (save_path, global_step)
            else:
                checkpoint_file = "%s-%d" % (save_path, global_step)
        else:
            checkpoint_file = save_path
            if os.path.basename(save_path) == latest_filename and not self._sharded:
                raise ValueError("'latest_filename' collides with 'save_path': '%s' and '%s'"
                                 % (latest_filename, save_path))
        if not callable(getattr(sess, "run", None)):
            raise TypeError("'sess' must be a Session; %s" % (sess,))
        save_dir = os.path.dirname(save_path)
        model_checkpoint_path = None
        if not self._is_empty:
            try:
                model_checkpoint_path = _as_str(sess.run(
                    self.saver_def.save_tensor_name,
                    {self.saver_def.filename_tensor_name: checkpoint_file}))
            except (errors.FailedPreconditionError, errors.NotFoundError) as error:
                if save_dir and not tkio.gfile.isdir(save_dir):
                    raise ValueError("Parent directory of %s doesn't exist, can't save."
                                     % save_path) from error
                raise
            self._written_checkpoints.add(model_checkpoint_path)
        if write_meta_graph:
            meta_graph_filename = checkpoint_management.meta_graph_filename(
                checkpoint_file, meta_graph_suffix=meta_graph_suffix)
            with sess.graph.as_default():
                self.export_meta_graph(meta_graph_filename,
                                       strip_default_attrs=strip_default_attrs,
                                       save_debug_info=save_debug_info)
        if model_checkpoint_path is not None and write_state:
            self._record_last_checkpoint(model_checkpoint_path)
            checkpoint_management.update_checkpoint_state_internal(
                save_dir=save_dir, model_checkpoint_path=model_checkpoint_path,
                all_model_checkpoint_paths=self.last_checkpoints,
                latest_filename=latest_filename,
                save_relative_paths=self._save_relative_paths)
            self._maybe_delete_old_checkpoints(save_dir, meta_graph_suffix=meta_graph_suffix)
        return model_checkpoint_path

    def export_meta_graph(self, filename=None, collection_list=None, as_text=False,
                          export_scope=None, clear_devices=False,
                          clear_extraneous_savers=False, strip_default_attrs=False,
                          save_debug_info=False):
        """Writes the default graph with this saver's SaverDef as a MetaGraphDef."""
        return meta_graph.export_meta_graph(
            filename=filename,
            graph_def=ops.get_default_graph().as_graph_def(add_shapes=True),
            saver_def=self.saver_def, collection_list=collection_list, as_text=as_text,
            export_scope=export_scope, clear_devices=clear_devices,
            clear_extraneous_savers=clear_extraneous_savers,
            strip_default_attrs=strip_default_attrs, save_debug_info=save_debug_info)

    # --- restore --------------------------------------------------------------------------------
    def _assigns_run_by_restore(self, graph):
        """The Assign ops that running the restore op runs (its control dependencies, through
        the NoOps that group them): RestoreV2 may read their tensors into the variables'
        buffers (see io_ops.assigns_running)."""
        name = self.saver_def.restore_op_name
        cached = self._restore_assigns
        if cached is not None and cached[0] is graph and cached[1] == name:
            return cached[2]
        try:
            pending = [graph.get_operation_by_name(name)]
        except (KeyError, ValueError):
            return frozenset()
        assigns, seen = set(), set()
        while pending:
            op = pending.pop()
            if op in seen:
                continue
            seen.add(op)
            if op.type == "Assign":
                assigns.add(op)
            elif op.type == "NoOp":
                pending.extend(op.control_inputs)
        assigns = frozenset(assigns)
        self._restore_assigns = (graph, name, assigns)
        return assigns

    def restore(self, sess, save_path):
        """Loads the variables from the checkpoint at `save_path` (a prefix as returned by
        save() or latest_checkpoint())."""
        if self._is_empty:
            return
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        checkpoint_prefix = _as_str(save_path)
        if not checkpoint_management.checkpoint_exists_internal(checkpoint_prefix):
            message = "The passed save_path is not a valid checkpoint: %s" % checkpoint_prefix
            latest = checkpoint_management.latest_checkpoint(checkpoint_prefix) \
                if tkio.gfile.isdir(checkpoint_prefix) else None
            if latest:
                message += (" (a directory; its latest checkpoint, as "
                            "tf.train.latest_checkpoint(%r) returns, is %s)"
                            % (checkpoint_prefix, latest))
            raise CheckpointNotFoundError(None, None, message)
        try:
            with io_ops.assigns_running(self._assigns_run_by_restore(sess.graph)):
                sess.run(self.saver_def.restore_op_name,
                         {self.saver_def.filename_tensor_name: checkpoint_prefix})
        except errors.NotFoundError as error:
            try:
                names_to_keys = object_graph_key_mapping(checkpoint_prefix)
            except errors.OpError:
                names_to_keys = None
            if names_to_keys is None:
                raise self._restore_error(error, checkpoint_prefix, "a Variable name or other "
                                          "graph key that is missing") from None
            # An object-based checkpoint (tf.train.Checkpoint, Keras): restore through a
            # second saver that reads each variable under its key in the object graph.
            _logger.warning("Restoring an object-based checkpoint using a name-based saver. "
                            "This may be somewhat fragile, and will re-build the Saver.")
            self._object_restore_saver = saver_from_object_based_checkpoint(
                checkpoint_prefix, var_list=self._var_list, builder=self._builder,
                names_to_keys=names_to_keys, cached_saver=self._object_restore_saver)
            self._object_restore_saver.restore(sess, checkpoint_prefix)
        except errors.InvalidArgumentError as error:
            raise self._restore_error(error, checkpoint_prefix, "a mismatch between the "
                                      "current graph and the graph") from None

    def _restore_error(self, error, checkpoint_prefix, likely_cause):
        """The error of a failed restore, explained in terms of this saver's variables."""
        message = ("Restoring from checkpoint failed. This is most likely due to %s from the "
                   "checkpoint. Please ensure that you have not altered the graph expected "
                   "based on the checkpoint. Original error:\n\n%s"
                   % (likely_cause, error.message))
        details = self._compare_with_checkpoint(checkpoint_prefix)
        if details:
            message += "\n\n" + details
        return type(error)(error.node_def, error.op, message)

    def _compare_with_checkpoint(self, checkpoint_prefix):
        """What differs between this saver's variables and the checkpoint, with the fix."""
        if not self._saveables:
            return ""
        try:
            reader = tkio.open_checkpoint_reader(checkpoint_prefix)
        except errors.OpError:
            return ""
        with reader:
            keys = reader.keys()
            missing, mismatches, renames = [], [], []
            for saveable in self._saveables:
                variable_name = _display_name(saveable.op)
                for spec in saveable.specs:
                    if not reader.has(spec.name):
                        close = difflib.get_close_matches(spec.name, keys, n=3)
                        missing.append("  %s (variable %s)%s" % (
                            spec.name, variable_name,
                            "; closest keys in the checkpoint: " + ", ".join(close)
                            if close else ""))
                        renames.append("%r: <variable %s>" % (close[0] if close else spec.name,
                                                              variable_name))
                        continue
                    mismatches.extend(self._spec_mismatches(reader, spec, variable_name))
        lines = []
        if missing:
            lines.append("Keys the saver looks for that %s does not hold:" % checkpoint_prefix)
            lines.extend(missing)
            lines.append("If these variables were saved under other names, map the names in "
                         "the checkpoint to your variables: tf.train.Saver({%s})"
                         % ", ".join(renames))
        if mismatches:
            lines.append("Variables that do not match the checkpoint %s:" % checkpoint_prefix)
            lines.extend(mismatches)
        return "\n".join(lines)

    def _spec_mismatches(self, reader, spec, variable_name):
        datatype, stored_shape = reader.dtype_and_shape(spec.name)
        expected = spec.dtype.base_dtype.as_datatype_enum
        if datatype != expected:
            return ["  key %s holds dtype %s but variable %s has dtype %s" % (
                spec.name, protos.DataType.Name(datatype)[3:].lower(), variable_name,
                protos.DataType.Name(expected)[3:].lower())]
        shape = spec.tensor.get_shape()
        if spec.slice_spec:
            full_shape = [int(d) for d in spec.slice_spec.split(" ")[:-1]]
            if list(stored_shape) != full_shape:
                return ["  key %s holds shape %s but partitioned variable %s has full shape %s"
                        % (spec.name, list(stored_shape), variable_name, full_shape)]
        elif shape.is_fully_defined() and tuple(shape.as_list()) != tuple(stored_shape):
            if self._reshape and math.prod(shape.as_list()) == math.prod(stored_shape):
                return []
            return ["  key %s holds shape %s but variable %s has shape %s"
                    % (spec.name, list(stored_shape), variable_name, shape.as_list())]
        return []


def _copy_saver_def(saver_def):
    copy = protos.SaverDef()
    copy.CopyFrom(saver_def)
    return copy


def _display_name(op):
    return getattr(op, "name", str(op))


def _as_str(path):
    if isinstance(path, bytes):
        return os.fsdecode(path)
    return os.fspath(path) if isinstance(path, os.PathLike) else str(path)


def _is_numpy_integer(value):
    return type(value).__module__ == "numpy" and hasattr(value, "dtype") and \
        value.dtype.kind in "iu" and getattr(value, "ndim", 1) == 0


def _is_inside(directory, path):
    """Whether checkpoint `path` lies in `directory` (after resolving `..` and links)."""
    if "://" in path or "://" in directory:
        return os.path.dirname(os.path.normpath(path)) == os.path.normpath(directory)
    return os.path.dirname(os.path.realpath(path)) == os.path.realpath(directory or ".")


# --- object-based checkpoints ---------------------------------------------------------------------

def object_graph_key_mapping(checkpoint_path):
    """{variable name: checkpoint key} of an object-based checkpoint; None for a name-based
    one."""
    with tkio.open_checkpoint_reader(checkpoint_path) as reader:
        if not reader.has(OBJECT_GRAPH_PROTO_KEY):
            return None
        serialized = reader.read(OBJECT_GRAPH_PROTO_KEY)[()]
    object_graph = protos.TrackableObjectGraph.FromString(serialized)
    return {attribute.full_name: attribute.checkpoint_key
            for node in object_graph.nodes for attribute in node.attributes}


def saver_from_object_based_checkpoint(checkpoint_path, var_list=None, builder=None,
                                       names_to_keys=None, cached_saver=None):
    """A Saver restoring `var_list` (default: all saveable objects) from the object-based
    checkpoint at `checkpoint_path`, each variable read under its key in the object graph."""
    if names_to_keys is None:
        names_to_keys = object_graph_key_mapping(checkpoint_path)
        if names_to_keys is None:
            raise ValueError("Checkpoint in %s not an object-based checkpoint."
                             % checkpoint_path)
    if var_list is None:
        var_list = saveable_object.all_saveable_objects()
    if not isinstance(var_list, dict):
        var_list = saveable_object.op_list_to_dict(var_list)
    saveables = saveable_object.validate_and_slice_inputs(var_list)
    current_names = {spec.name for saveable in saveables for spec in saveable.specs}
    previous_names = set(names_to_keys)
    missing_names = current_names - previous_names
    if missing_names:
        extra_names = previous_names - current_names
        raise errors.NotFoundError(
            None, None,
            "\n\nExisting variables not in the checkpoint: %s\n\nVariables names when this "
            "checkpoint was written which don't exist now: %s\n\n(%d variable name(s) did "
            "match)\n\nCould not find some variables in the checkpoint (see names above). "
            "Saver was attempting to load an object-based checkpoint (saved using "
            "tf.train.Checkpoint or tf.keras.Model.save_weights) using variable names. Build "
            "the Saver with only the variables which existed then (var_list=...), as a dict "
            "keyed by their old names if they were renamed."
            % (", ".join(sorted(missing_names)), ", ".join(sorted(extra_names)),
               len(previous_names & current_names)))
    if cached_saver is not None:
        return cached_saver
    for saveable in saveables:
        for spec in saveable.specs:
            spec.name = names_to_keys[spec.name]
    return Saver(saveables, builder=builder)
