"""SavedModels, TensorFlow 1.x style: tf.saved_model.loader.load, SavedModelBuilder,
simple_save, signature defs; and reading the variables of TF2 object-graph SavedModels.

A SavedModel directory holds `saved_model.pb` (or `.pbtxt`): a SavedModel proto with one
MetaGraphDef per tag set, each with its signature defs; `variables/variables.{index,data-*}`: a
V2 checkpoint; `assets/`: files the graph reads, fed to their tensors at load time.
"""

import logging
import os
import posixpath
import re

from tensorkeep.framework import dtypes
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.io import gfile
from tensorkeep.io import protos

_logger = logging.getLogger("tensorflow")

# --- constants (tf.saved_model.constants / tag_constants / signature_constants) ------------------

ASSETS_DIRECTORY = "assets"
EXTRA_ASSETS_DIRECTORY = "assets.extra"
ASSETS_KEY = "saved_model_assets"
LEGACY_INIT_OP_KEY = "legacy_init_op"
MAIN_OP_KEY = "saved_model_main_op"
TRAIN_OP_KEY = "saved_model_train_op"
SAVED_MODEL_SCHEMA_VERSION = 1
SAVED_MODEL_FILENAME_PB = "saved_model.pb"
SAVED_MODEL_FILENAME_PBTXT = "saved_model.pbtxt"
VARIABLES_DIRECTORY = "variables"
VARIABLES_FILENAME = "variables"
INIT_OP_SIGNATURE_KEY = "__saved_model_init_op"
TRAIN_OP_SIGNATURE_KEY = "__saved_model_train_op"

SERVING = "serve"
TRAINING = "train"
EVAL = "eval"
GPU = "gpu"
TPU = "tpu"

DEFAULT_SERVING_SIGNATURE_DEF_KEY = "serving_default"
CLASSIFY_INPUTS = "inputs"
CLASSIFY_METHOD_NAME = "tensorflow/serving/classify"
CLASSIFY_OUTPUT_CLASSES = "classes"
CLASSIFY_OUTPUT_SCORES = "scores"
PREDICT_INPUTS = "inputs"
PREDICT_METHOD_NAME = "tensorflow/serving/predict"
PREDICT_OUTPUTS = "outputs"
REGRESS_INPUTS = "inputs"
REGRESS_METHOD_NAME = "tensorflow/serving/regress"
REGRESS_OUTPUTS = "outputs"
DEFAULT_TRAIN_SIGNATURE_DEF_KEY = "train"
DEFAULT_EVAL_SIGNATURE_DEF_KEY = "eval"
SUPERVISED_TRAIN_METHOD_NAME = "tensorflow/supervised/training"
SUPERVISED_EVAL_METHOD_NAME = "tensorflow/supervised/eval"


def _join(*parts):
    return gfile.join(*[gfile.path_str(p) for p in parts])


def get_variables_path(export_dir):
    return _join(export_dir, VARIABLES_DIRECTORY, VARIABLES_FILENAME)


def get_assets_dir(export_dir):
    return _join(export_dir, ASSETS_DIRECTORY)


def contains_saved_model(export_dir):
    """Whether `export_dir` holds a saved_model.pb or saved_model.pbtxt."""
    return gfile.exists(_join(export_dir, SAVED_MODEL_FILENAME_PB)) or \
        gfile.exists(_join(export_dir, SAVED_MODEL_FILENAME_PBTXT))


def parse_saved_model(export_dir):
    """The SavedModel proto of `export_dir` (binary preferred over text); IOError if there is
    none or it does not parse."""
    from google.protobuf import text_format
    from google.protobuf.message import DecodeError

    saved_model = protos.SavedModel()
    path_pb = _join(export_dir, SAVED_MODEL_FILENAME_PB)
    path_pbtxt = _join(export_dir, SAVED_MODEL_FILENAME_PBTXT)
    if gfile.exists(path_pb):
        try:
            saved_model.ParseFromString(gfile.read_file(path_pb))
        except DecodeError as exc:
            raise IOError("Cannot parse file %s: %s." % (path_pb, exc)) from exc
    elif gfile.exists(path_pbtxt):
        try:
            text_format.Parse(gfile.read_file(path_pbtxt).decode("utf-8"), saved_model)
        except text_format.ParseError as exc:
            raise IOError("Cannot parse file %s: %s." % (path_pbtxt, exc)) from exc
    else:
        raise IOError("SavedModel file does not exist at: %s%s{%s|%s}"
                      % (gfile.path_str(export_dir), os.path.sep, SAVED_MODEL_FILENAME_PBTXT,
                         SAVED_MODEL_FILENAME_PB))
    return saved_model


# --- tensor infos and signature defs ---------------------------------------------------------------

def build_tensor_info(tensor):
    """The TensorInfo (name, dtype, shape) of a Tensor or SparseTensor."""
    tensor_info = protos.TensorInfo()
    if hasattr(tensor, "indices") and hasattr(tensor, "dense_shape") and \
            not isinstance(tensor, ops.Tensor) and hasattr(tensor, "values"):
        tensor_info.dtype = tensor.dtype.as_datatype_enum
        tensor_info.coo_sparse.values_tensor_name = tensor.values.name
        tensor_info.coo_sparse.indices_tensor_name = tensor.indices.name
        tensor_info.coo_sparse.dense_shape_tensor_name = tensor.dense_shape.name
        tensor_info.tensor_shape.CopyFrom(tensor.values.shape.as_proto()
                                          if getattr(tensor, "shape", None) is None
                                          else tensor_shape.as_shape(tensor.shape).as_proto())
        return tensor_info
    tensor = ops.convert_to_tensor(tensor)
    tensor_info.name = tensor.name
    tensor_info.dtype = tensor.dtype.as_datatype_enum
    tensor_info.tensor_shape.CopyFrom(tensor.shape.as_proto())
    return tensor_info


def build_tensor_info_from_op(op):
    """The TensorInfo of an operation (name only, DT_INVALID, unknown rank)."""
    tensor_info = protos.TensorInfo(name=op.name)
    tensor_info.tensor_shape.unknown_rank = True
    return tensor_info


def get_tensor_from_tensor_info(tensor_info, graph=None, import_scope=None):
    """The Tensor (or SparseTensor) a TensorInfo names, in `graph`."""
    graph = graph or ops.get_default_graph()

    def by_name(name):
        return graph.get_tensor_by_name(ops.prepend_name_scope(name, import_scope))
    encoding = tensor_info.WhichOneof("encoding")
    if encoding == "name":
        return by_name(tensor_info.name)
    if encoding == "coo_sparse":
        from tensorkeep.ops import sparse_ops  # noqa: F401 (SparseTensor lives there)

        sparse = tensor_info.coo_sparse
        return sparse_ops.SparseTensor(by_name(sparse.indices_tensor_name),
                                       by_name(sparse.values_tensor_name),
                                       by_name(sparse.dense_shape_tensor_name))
    raise ValueError("Invalid TensorInfo.encoding: %s" % encoding)


def get_element_from_tensor_info(tensor_info, graph=None, import_scope=None):
    graph = graph or ops.get_default_graph()
    return graph.as_graph_element(ops.prepend_name_scope(tensor_info.name, import_scope))


def build_signature_def(inputs=None, outputs=None, method_name=None, defaults=None):
    """A SignatureDef from {key: TensorInfo} maps and a method name."""
    signature_def = protos.SignatureDef()
    for key, info in (inputs or {}).items():
        signature_def.inputs[key].CopyFrom(info)
    for key, info in (outputs or {}).items():
        signature_def.outputs[key].CopyFrom(info)
    if method_name is not None:
        signature_def.method_name = method_name
    for name, default in (defaults or {}).items():
        if default.op.type != "Const":
            raise ValueError("Unable to convert object %s of type %s to TensorProto."
                             % (default, type(default)))
        signature_def.defaults[name].CopyFrom(default.op.get_attr("value"))
    return signature_def


def predict_signature_def(inputs, outputs):
    """A Predict signature: any {name: tensor} inputs and outputs."""
    if inputs is None or not inputs:
        raise ValueError("Prediction `inputs` cannot be None or empty.")
    if outputs is None or not outputs:
        raise ValueError("Prediction `outputs` cannot be None or empty.")
    return build_signature_def({k: build_tensor_info(v) for k, v in inputs.items()},
                               {k: build_tensor_info(v) for k, v in outputs.items()},
                               PREDICT_METHOD_NAME)


def regression_signature_def(examples, predictions):
    """A Regress signature: string examples in, float predictions out."""
    if examples is None:
        raise ValueError("Regression `examples` cannot be None.")
    if predictions is None:
        raise ValueError("Regression `predictions` cannot be None.")
    examples_info = build_tensor_info(examples)
    if examples_info.dtype != dtypes.string.as_datatype_enum:
        raise ValueError("Regression input tensors must be of type string. Found tensors with "
                         "type %s." % examples_info.dtype)
    predictions_info = build_tensor_info(predictions)
    if predictions_info.dtype != dtypes.float32.as_datatype_enum:
        raise ValueError("Regression output tensors must be of type float. Found tensors with "
                         "type %s." % predictions_info.dtype)
    return build_signature_def({REGRESS_INPUTS: examples_info},
                               {REGRESS_OUTPUTS: predictions_info}, REGRESS_METHOD_NAME)


def classification_signature_def(examples, classes, scores):
    """A Classify signature: string examples in, string classes and/or float scores out."""
    if examples is None:
        raise ValueError("Classification `examples` cannot be None.")
    if classes is None and scores is None:
        raise ValueError("Classification `classes` and `scores` cannot both be None.")
    examples_info = build_tensor_info(examples)
    if examples_info.dtype != dtypes.string.as_datatype_enum:
        raise ValueError("Classification input tensors must be of type string. Found tensors "
                         "of type %s" % examples_info.dtype)
    outputs = {}
    if classes is not None:
        classes_info = build_tensor_info(classes)
        if classes_info.dtype != dtypes.string.as_datatype_enum:
            raise ValueError("Classification classes must be of type string Tensor. Found "
                             "tensors of type %s.`" % classes_info.dtype)
        outputs[CLASSIFY_OUTPUT_CLASSES] = classes_info
    if scores is not None:
        scores_info = build_tensor_info(scores)
        if scores_info.dtype != dtypes.float32.as_datatype_enum:
            raise ValueError("Classification scores must be a float Tensor.")
        outputs[CLASSIFY_OUTPUT_SCORES] = scores_info
    return build_signature_def({CLASSIFY_INPUTS: examples_info}, outputs,
                               CLASSIFY_METHOD_NAME)


def op_signature_def(op, key):
    """A signature holding only `op` as its output (init and train ops)."""
    return build_signature_def(outputs={key: build_tensor_info_from_op(op)})


def is_valid_signature(signature_def):
    """Whether `signature_def` is a well-formed Predict, Classify or Regress signature."""
    if signature_def is None or not signature_def.method_name:
        return False
    method = signature_def.method_name
    if method not in (PREDICT_METHOD_NAME, CLASSIFY_METHOD_NAME, REGRESS_METHOD_NAME):
        return False
    string_type = dtypes.string.as_datatype_enum
    float_type = dtypes.float32.as_datatype_enum
    if method == PREDICT_METHOD_NAME:
        return bool(signature_def.inputs) and bool(signature_def.outputs)
    if method == CLASSIFY_METHOD_NAME:
        inputs = signature_def.inputs.get(CLASSIFY_INPUTS)
        if inputs is None or inputs.dtype != string_type or len(signature_def.inputs) != 1:
            return False
        outputs = signature_def.outputs
        if not outputs or set(outputs) - {CLASSIFY_OUTPUT_CLASSES, CLASSIFY_OUTPUT_SCORES}:
            return False
        if CLASSIFY_OUTPUT_CLASSES in outputs and \
                outputs[CLASSIFY_OUTPUT_CLASSES].dtype != string_type:
            return False
        return CLASSIFY_OUTPUT_SCORES not in outputs or \
            outputs[CLASSIFY_OUTPUT_SCORES].dtype == float_type
    inputs = signature_def.inputs.get(REGRESS_INPUTS)
    outputs = signature_def.outputs.get(REGRESS_OUTPUTS)
    return (inputs is not None and inputs.dtype == string_type and outputs is not None and
            outputs.dtype == float_type and len(signature_def.inputs) == 1 and
            len(signature_def.outputs) == 1)


# --- loading ---------------------------------------------------------------------------------------

class SavedModelLoader:
    """Loads the graph of one tag set of a SavedModel and restores its variables."""

    def __init__(self, export_dir):
        self._export_dir = gfile.path_str(export_dir)
        self._variables_path = get_variables_path(self._export_dir)
        self._saved_model = parse_saved_model(self._export_dir)

    @property
    def export_dir(self):
        return self._export_dir

    @property
    def variables_path(self):
        return self._variables_path

    @property
    def saved_model(self):
        return self._saved_model

    def get_meta_graph_def_from_tags(self, tags):
        available = []
        for meta_graph_def in self._saved_model.meta_graphs:
            graph_tags = set(meta_graph_def.meta_info_def.tags)
            available.append(graph_tags)
            if graph_tags == set(tags):
                return meta_graph_def
        raise RuntimeError(
            "MetaGraphDef associated with tags %s could not be found in SavedModel, with "
            "available tags '%s'. To inspect available tag-sets in the SavedModel, please use "
            "the SavedModel CLI: `saved_model_cli`." % (str(list(tags)).strip("[]"), available))

    def load_graph(self, graph, tags, import_scope=None, **saver_kwargs):
        """Imports the tag set's meta graph into `graph`; returns (saver, return elements)."""
        from tensorkeep.training import meta_graph_api

        meta_graph_def = self.get_meta_graph_def_from_tags(tags)
        with graph.as_default():
            return meta_graph_api._import_meta_graph_with_return_elements(
                meta_graph_def, import_scope=import_scope, **saver_kwargs)

    def restore_variables(self, sess, saver, import_scope=None):
        from tensorkeep.ops import variables

        with sess.graph.as_default():
            if saver is None and not variables.global_variables(scope=import_scope) and \
                    not ops.get_collection(ops.GraphKeys.SAVEABLE_OBJECTS, scope=import_scope):
                _logger.info("The specified SavedModel has no variables; no checkpoints were "
                             "restored.")
            elif saver is not None:
                saver.restore(sess, self._variables_path)
            else:
                raise ValueError("No tf.train.Saver object was passed to the function "
                                 "`SavedModelLoader.restore_variables`. Since there are "
                                 "variables in the graph, a saver is required.")

    def run_init_ops(self, sess, tags, import_scope=None):
        meta_graph_def = self.get_meta_graph_def_from_tags(tags)
        with sess.graph.as_default():
            feeds = _asset_feeds(self._export_dir, meta_graph_def, import_scope)
            init_op = _init_op(meta_graph_def, import_scope)
            if init_op is not None:
                sess.run(fetches=[init_op], feed_dict=feeds)

    def load(self, sess, tags, import_scope=None, **saver_kwargs):
        with sess.graph.as_default():
            saver, _ = self.load_graph(sess.graph, tags, import_scope, **saver_kwargs)
            self.restore_variables(sess, saver, import_scope)
            self.run_init_ops(sess, tags, import_scope)
        return self.get_meta_graph_def_from_tags(tags)


def _asset_feeds(export_dir, meta_graph_def, import_scope):
    """{asset tensor name: path of the asset file} for the meta graph's assets."""
    asset_protos = list(meta_graph_def.asset_file_def)
    if not asset_protos and ASSETS_KEY in meta_graph_def.collection_def:
        for any_proto in meta_graph_def.collection_def[ASSETS_KEY].any_list.value:
            asset = protos.AssetFileDef()
            any_proto.Unpack(asset)
            asset_protos.append(asset)
    feeds = {}
    for asset in asset_protos:
        name = asset.tensor_info.name
        if import_scope:
            name = "%s/%s" % (import_scope, name)
        feeds[name] = _join(get_assets_dir(export_dir), _checked_asset_filename(export_dir, asset.filename))
    return feeds


def _checked_asset_filename(export_dir, filename):
    """`filename` if it names a file inside the assets directory; a SavedModel from elsewhere
    must not make the graph read files outside it (absolute paths, `..`)."""
    portable = filename.replace("\\", "/")
    normalized = posixpath.normpath(portable)
    if not filename or posixpath.isabs(portable) or os.path.isabs(filename) or re.match(r"^[A-Za-z]:", portable) \
            or normalized == ".." or normalized.startswith("../"):
        raise ValueError("The SavedModel at %s names the asset file %r, which lies outside its assets "
                         "directory; refusing to load it." % (export_dir, filename))
    return filename


def _init_op(meta_graph_def, import_scope):
    """The op to run after restoring: the init signature's, else the main op, else the legacy
    init op."""
    signature = meta_graph_def.signature_def.get(INIT_OP_SIGNATURE_KEY)
    if signature is not None:
        info = signature.outputs[INIT_OP_SIGNATURE_KEY]
        return get_element_from_tensor_info(info, import_scope=import_scope)
    for key in (MAIN_OP_KEY, LEGACY_INIT_OP_KEY):
        if key in meta_graph_def.collection_def:
            names = meta_graph_def.collection_def[key].node_list.value
            if len(names) != 1:
                raise RuntimeError("Expected exactly one SavedModel init op. Found %d: %s."
                                   % (len(names), list(names)))
            return ops.get_collection(key)[0]
    return None


def load(sess, tags, export_dir, import_scope=None, **saver_kwargs):
    """tf.saved_model.loader.load: imports the meta graph tagged `tags` into sess.graph,
    restores the variables into `sess`, runs the init op; returns the MetaGraphDef."""
    return SavedModelLoader(export_dir).load(sess, tags, import_scope, **saver_kwargs)


def maybe_saved_model_directory(export_dir):
    return contains_saved_model(export_dir)


# --- building --------------------------------------------------------------------------------------

class SavedModelBuilder:
    """tf.saved_model.builder.SavedModelBuilder: writes a SavedModel with one meta graph per
    tag set; the first also saves the variables."""

    def __init__(self, export_dir):
        self._export_dir = gfile.path_str(export_dir)
        self._saved_model = protos.SavedModel(saved_model_schema_version=SAVED_MODEL_SCHEMA_VERSION)
        if gfile.exists(self._export_dir):
            if gfile.listdir(self._export_dir):
                raise AssertionError(
                    "Export directory %s already exists, and isn't empty. Please choose a "
                    "different export directory, or delete all the contents of the specified "
                    "directory." % self._export_dir)
        else:
            gfile.makedirs(self._export_dir)
        self._has_saved_variables = False
        self._saved_asset_files = set()

    # --- collections of the graph ---------------------------------------------------------------
    def _save_and_write_assets(self, assets_collection):
        from google.protobuf import any_pb2  # protobuf runtime (~10 ms): paid by saves, not imports

        filename_map = {}
        for asset_tensor in assets_collection or []:
            source = _asset_path_from_tensor(asset_tensor)
            filename = _unique_asset_filename(source, filename_map)
            asset = protos.AssetFileDef(filename=filename)
            asset.tensor_info.name = asset_tensor.name
            any_proto = any_pb2.Any()
            any_proto.Pack(asset)
            ops.add_to_collection(ASSETS_KEY, any_proto)
            filename_map[filename] = source
        if not filename_map:
            _logger.info("No assets to write.")
            return
        destination = get_assets_dir(self._export_dir)
        gfile.makedirs(destination)
        for filename, source in filename_map.items():
            target = _join(destination, filename)
            if gfile.exists(source) and source != target and target not in self._saved_asset_files:
                gfile.copy(source, target, overwrite=True)
                self._saved_asset_files.add(target)

    @staticmethod
    def _maybe_add_main_op(main_op):
        if main_op is None:
            return
        if not isinstance(main_op, ops.Operation):
            raise TypeError("main_op needs to be an Operation: %r" % (main_op,))
        for key in (MAIN_OP_KEY, LEGACY_INIT_OP_KEY):
            if ops.get_collection(key):
                raise ValueError("Graph already contains one or more main ops under the "
                                 "collection %s." % key)
        ops.add_to_collection(MAIN_OP_KEY, main_op)

    @staticmethod
    def _validate_signature_def_map(signature_def_map):
        for key, signature in signature_def_map.items():
            for infos in (signature.inputs, signature.outputs):
                for info in infos.values():
                    if info.WhichOneof("encoding") is None:
                        raise AssertionError(
                            "Invalid `tensor_info`: %s. All TensorInfo protos used in the "
                            "SignatureDefs must have one of the 'encoding' fields (e.g., name "
                            "or coo_sparse) set." % info)
                    if info.dtype == 0:
                        raise AssertionError(
                            "Invalid `tensor_info`: %s. All TensorInfo protos used in the "
                            "SignatureDefs must have the dtype field set." % info)
        for reserved in (INIT_OP_SIGNATURE_KEY, TRAIN_OP_SIGNATURE_KEY):
            if reserved in signature_def_map:
                raise KeyError("SignatureDef map key \"%s\" is reserved. Please use a different "
                               "key." % reserved)

    @staticmethod
    def _maybe_create_saver(saver):
        if saver:
            return saver
        from tensorkeep.training.saver import Saver

        return Saver(_all_saveable_objects(), sharded=True,
                     write_version=protos.SaverDef.V2, allow_empty=True)

    def _tag_and_add_meta_graph(self, meta_graph_def, tags, signature_def_map):
        for tag in tags:
            meta_graph_def.meta_info_def.tags.append(tag)
        for key in signature_def_map or {}:
            meta_graph_def.signature_def[key].CopyFrom(signature_def_map[key])
        self._saved_model.meta_graphs.add().CopyFrom(meta_graph_def)

    # --- public -----------------------------------------------------------------------------------
    def add_meta_graph_and_variables(self, sess, tags, signature_def_map=None,
                                     assets_collection=None, legacy_init_op=None,
                                     clear_devices=False, main_op=None,
                                     strip_default_attrs=False, saver=None):
        """Saves the session's variables and the graph as the first meta graph."""
        if self._has_saved_variables:
            raise AssertionError("Graph state including variables and assets has already been "
                                 "saved. Please invoke `add_meta_graph()` instead.")
        signature_def_map = signature_def_map or {}
        self._validate_signature_def_map(signature_def_map)
        main_op = main_op or legacy_init_op
        with sess.graph.as_default():
            self._save_and_write_assets(assets_collection)
            self._maybe_add_main_op(main_op)
            gfile.makedirs(_join(self._export_dir, VARIABLES_DIRECTORY))
            saver = self._maybe_create_saver(saver)
            saver.save(sess, get_variables_path(self._export_dir), write_meta_graph=False,
                       write_state=False)
            meta_graph_def = saver.export_meta_graph(clear_devices=clear_devices,
                                                     strip_default_attrs=strip_default_attrs)
        self._tag_and_add_meta_graph(meta_graph_def, tags, signature_def_map)
        self._has_saved_variables = True

    def add_meta_graph(self, tags, signature_def_map=None, assets_collection=None,
                       legacy_init_op=None, clear_devices=False, main_op=None,
                       strip_default_attrs=False, saver=None):
        """Adds the current graph as another meta graph (the variables are already saved)."""
        if not self._has_saved_variables:
            raise AssertionError("Graph state including variables and assets has not been "
                                 "saved yet. Please invoke `add_meta_graph_and_variables()` "
                                 "first.")
        signature_def_map = signature_def_map or {}
        self._validate_signature_def_map(signature_def_map)
        main_op = main_op if main_op is not None else legacy_init_op
        self._save_and_write_assets(assets_collection)
        self._maybe_add_main_op(main_op)
        saver = self._maybe_create_saver(saver)
        meta_graph_def = saver.export_meta_graph(clear_devices=clear_devices,
                                                 strip_default_attrs=strip_default_attrs)
        self._tag_and_add_meta_graph(meta_graph_def, tags, signature_def_map)

    def save(self, as_text=False):
        """Writes saved_model.pb (or saved_model.pbtxt); returns its path."""
        if not gfile.exists(self._export_dir):
            gfile.makedirs(self._export_dir)
        if as_text:
            from google.protobuf import text_format

            path = _join(self._export_dir, SAVED_MODEL_FILENAME_PBTXT)
            gfile.write_file_atomically(path,
                                        text_format.MessageToString(self._saved_model).encode())
        else:
            path = _join(self._export_dir, SAVED_MODEL_FILENAME_PB)
            gfile.write_file_atomically(path,
                                        self._saved_model.SerializeToString(deterministic=True))
        _logger.info("SavedModel written to: %s", path)
        return path


def _all_saveable_objects():
    from tensorkeep.ops import variables

    return variables.global_variables() + ops.get_collection(ops.GraphKeys.SAVEABLE_OBJECTS)


def _asset_path_from_tensor(path_tensor):
    if not isinstance(path_tensor, ops.Tensor):
        raise TypeError("Asset path tensor %s must be a Tensor." % (path_tensor,))
    if path_tensor.op.type != "Const":
        raise TypeError("Asset path tensor %s must be of type constant.Has type %s instead."
                        % (path_tensor, path_tensor.op.type))
    if path_tensor.dtype != dtypes.string:
        raise TypeError("Asset path tensor %s` must be of dtype string.Has type %s instead."
                        % (path_tensor, path_tensor.dtype))
    values = path_tensor.op.get_attr("value").string_val
    if len(values) != 1:
        raise TypeError("Asset path tensor %s must be a scalar." % path_tensor)
    return values[0].decode() if isinstance(values[0], bytes) else values[0]


def _unique_asset_filename(source, filename_map):
    filename = os.path.basename(source)
    if filename not in filename_map or filename_map[filename] == source:
        return filename
    index = 1
    candidate = filename
    while candidate in filename_map:
        candidate = "%s_%d" % (filename, index)
        index += 1
    return candidate


def simple_save(session, export_dir, inputs, outputs, legacy_init_op=None):
    """tf.saved_model.simple_save: a SavedModel tagged "serve" whose default signature predicts
    `outputs` from `inputs`."""
    signature_def_map = {DEFAULT_SERVING_SIGNATURE_DEF_KEY:
                         predict_signature_def(inputs, outputs)}
    builder = SavedModelBuilder(export_dir)
    builder.add_meta_graph_and_variables(
        session, tags=[SERVING], signature_def_map=signature_def_map,
        assets_collection=session.graph.get_collection(ops.GraphKeys.ASSET_FILEPATHS),
        main_op=legacy_init_op, clear_devices=True)
    builder.save()


# --- TF2 object-graph SavedModels: variables ------------------------------------------------------

def read_variables(export_dir):
    """{object path: ndarray} of the variables of a SavedModel (TF2 object-based, e.g.
    "layer_with_weights-0/kernel"; TF1 name-based: {variable name: ndarray})."""
    from tensorkeep import io as tkio
    from tensorkeep.training import trackable

    prefix = get_variables_path(export_dir)
    if trackable.is_object_based(prefix):
        return trackable.read_variables_by_object_path(prefix)
    with tkio.open_checkpoint_reader(prefix) as reader:
        return {key: reader.read(key) for key in reader.keys()}
