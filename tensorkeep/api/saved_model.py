"""tf.saved_model (TensorFlow 1.x): loader, builder, simple_save, signature defs, constants."""

from types import SimpleNamespace

from tensorkeep.training import saved_model as _sm
from tensorkeep.training.saved_model import (  # noqa: F401
    load, simple_save, contains_saved_model, build_signature_def, predict_signature_def,
    classification_signature_def, regression_signature_def, is_valid_signature,
    build_tensor_info, get_tensor_from_tensor_info, read_variables, SavedModelBuilder,
    ASSETS_DIRECTORY, ASSETS_KEY, LEGACY_INIT_OP_KEY, MAIN_OP_KEY, TRAIN_OP_KEY,
    SAVED_MODEL_SCHEMA_VERSION, SAVED_MODEL_FILENAME_PB, SAVED_MODEL_FILENAME_PBTXT,
    VARIABLES_DIRECTORY, VARIABLES_FILENAME, SERVING, TRAINING, EVAL, GPU, TPU,
    DEFAULT_SERVING_SIGNATURE_DEF_KEY, CLASSIFY_INPUTS, CLASSIFY_METHOD_NAME,
    CLASSIFY_OUTPUT_CLASSES, CLASSIFY_OUTPUT_SCORES, PREDICT_INPUTS, PREDICT_METHOD_NAME,
    PREDICT_OUTPUTS, REGRESS_INPUTS, REGRESS_METHOD_NAME, REGRESS_OUTPUTS)

Builder = SavedModelBuilder


def _names(*names):
    return SimpleNamespace(**{name: getattr(_sm, name) for name in names})


loader = _names("load", "SavedModelLoader", "maybe_saved_model_directory")
builder = _names("SavedModelBuilder")
tag_constants = _names("SERVING", "TRAINING", "EVAL", "GPU", "TPU")
signature_constants = _names(
    "DEFAULT_SERVING_SIGNATURE_DEF_KEY", "CLASSIFY_INPUTS", "CLASSIFY_METHOD_NAME",
    "CLASSIFY_OUTPUT_CLASSES", "CLASSIFY_OUTPUT_SCORES", "PREDICT_INPUTS", "PREDICT_METHOD_NAME",
    "PREDICT_OUTPUTS", "REGRESS_INPUTS", "REGRESS_METHOD_NAME", "REGRESS_OUTPUTS",
    "DEFAULT_TRAIN_SIGNATURE_DEF_KEY", "DEFAULT_EVAL_SIGNATURE_DEF_KEY",
    "SUPERVISED_TRAIN_METHOD_NAME", "SUPERVISED_EVAL_METHOD_NAME")
signature_def_utils = _names(
    "build_signature_def", "predict_signature_def", "classification_signature_def",
    "regression_signature_def", "is_valid_signature")
utils = _names("build_tensor_info", "build_tensor_info_from_op", "get_tensor_from_tensor_info")
constants = _names(
    "ASSETS_DIRECTORY", "EXTRA_ASSETS_DIRECTORY", "ASSETS_KEY", "LEGACY_INIT_OP_KEY",
    "MAIN_OP_KEY", "TRAIN_OP_KEY", "SAVED_MODEL_SCHEMA_VERSION", "SAVED_MODEL_FILENAME_PB",
    "SAVED_MODEL_FILENAME_PBTXT", "VARIABLES_DIRECTORY", "VARIABLES_FILENAME",
    "INIT_OP_SIGNATURE_KEY", "TRAIN_OP_SIGNATURE_KEY")
