"""Our TensorFlow-compatible protobuf schemas: loading, isolation, wire/text compatibility with TF's files."""

import glob
import importlib.util
import os
import subprocess
import sys

from google.protobuf import descriptor_pool, text_format

from tensorkeep.io import protos

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_messages_enums_and_constants_are_exported():
    for name in ["GraphDef", "NodeDef", "AttrValue", "NameAttrList", "TensorProto", "TensorShapeProto",
                 "ResourceHandleProto", "OpDef", "OpList", "OpDeprecation", "FunctionDefLibrary", "FunctionDef",
                 "GradientDef", "VersionDef", "VariableDef", "SaveSliceInfoDef", "SaverDef", "MetaGraphDef",
                 "CollectionDef", "TensorInfo", "SignatureDef", "AssetFileDef", "SavedModel", "BundleHeaderProto",
                 "BundleEntryProto", "TensorSliceProto", "CheckpointState", "TrackableObjectGraph",
                 "SavedObjectGraph", "StructuredValue", "ConfigProto", "GPUOptions", "GraphOptions",
                 "OptimizerOptions", "RunOptions", "RunMetadata", "Summary", "Example", "Features", "Feature",
                 "BytesList", "FloatList", "Int64List", "SavedTensorSlices", "SavedSliceMeta",
                 "SavedTensorSliceMeta", "SavedSlice"]:
        assert getattr(protos, name).DESCRIPTOR.full_name == "tensorflow." + name
    assert protos.MetaGraphDef.MetaInfoDef.DESCRIPTOR.full_name == "tensorflow.MetaGraphDef.MetaInfoDef"
    for kind in ["NodeList", "BytesList", "Int64List", "FloatList", "AnyList"]:
        assert hasattr(protos.CollectionDef, kind)
    assert (protos.DT_FLOAT, protos.DT_STRING, protos.DT_HALF, protos.DT_FLOAT_REF) == (1, 7, 19, 101)
    assert protos.DataType.Name(protos.DT_BFLOAT16) == "DT_BFLOAT16"
    assert set(dir(protos)) >= {"GraphDef", "DT_INT64", "pool"}


def test_private_pool_never_touches_the_default_pool():
    assert protos.pool is not descriptor_pool.Default()
    assert protos.GraphDef.DESCRIPTOR.file.pool is protos.pool
    try:
        descriptor_pool.Default().FindMessageTypeByName("tensorflow.GraphDef")
    except KeyError:
        pass
    else:  # Only an installed TensorFlow may have put it there, never us.
        assert "tensorflow" in sys.modules


def test_config_proto_as_tf1_scripts_build_it():
    config = protos.ConfigProto(allow_soft_placement=True, log_device_placement=False,
                                gpu_options=protos.GPUOptions(allow_growth=True, per_process_gpu_memory_fraction=0.4))
    config.graph_options.optimizer_options.opt_level = protos.OptimizerOptions.L0
    parsed = protos.ConfigProto.FromString(config.SerializeToString())
    assert parsed.gpu_options.allow_growth and parsed.allow_soft_placement
    assert protos.RunOptions(trace_level=protos.RunOptions.FULL_TRACE).trace_level == 3


def test_any_expands_in_text_format_with_the_pool():
    meta = protos.MetaGraphDef()
    meta.collection_def["savers"].any_list.value.add().Pack(protos.SaverDef(filename_tensor_name="save/Const:0"))
    text = text_format.MessageToString(meta, descriptor_pool=protos.pool)
    assert "[type.googleapis.com/tensorflow.SaverDef]" in text
    assert text_format.Parse(text, protos.MetaGraphDef(), descriptor_pool=protos.pool) == meta


def assert_fully_understood(message_class, data, path):
    """Every byte TF wrote lands in a known field (map order may differ, so sizes are compared)."""
    message = message_class.FromString(data)
    known_only = message_class()
    known_only.CopyFrom(message)
    known_only.DiscardUnknownFields()
    assert known_only == message, f"{path} has fields our schemas do not know"
    assert message.ByteSize() == len(data), path
    return message


def test_tf_written_files_round_trip_through_our_schemas(shared_dir):
    golden = os.path.join(shared_dir, "golden", "seed_files")
    for path, message_class in [("tt/model.ckpt.meta", protos.MetaGraphDef),
                                ("model/model2.ckpt.meta", protos.MetaGraphDef),
                                ("model/combined_model.pb", protos.GraphDef)]:
        with open(os.path.join(golden, path), "rb") as handle:
            data = handle.read()
        assert_fully_understood(message_class, data, path)
    meta = protos.MetaGraphDef.FromString(open(os.path.join(golden, "tt/model.ckpt.meta"), "rb").read())
    assert meta.saver_def.restore_op_name.startswith("save/")
    assert any(node.op == "VariableV2" for node in meta.graph_def.node)


def test_saved_model_object_graph_parses(shared_dir):
    corpus = os.path.join(shared_dir, "corpus")
    saved_models = [os.path.join(directory, name) for directory, _, names in os.walk(corpus)
                    for name in names if name == "saved_model.pb"]
    object_graph_sizes = []
    for path in saved_models:
        with open(path, "rb") as handle:
            data = handle.read()
        saved_model = assert_fully_understood(protos.SavedModel, data, path)
        object_graph_sizes.append(len(saved_model.meta_graphs[0].object_graph_def.nodes))
    assert max(object_graph_sizes) > 0  # TF2 SavedModels among them


def test_tf2_checkpoint_object_graph_parses(shared_dir):
    from tensorkeep import io as tkio

    prefixes = [path[:-len(".index")] for path in glob.glob(
        os.path.join(shared_dir, "corpus", "**", "*.index"), recursive=True)]
    graphs = 0
    for prefix in prefixes:
        with tkio.open_checkpoint_reader(prefix) as reader:
            if not reader.has("_CHECKPOINTABLE_OBJECT_GRAPH"):
                continue
            try:
                serialized = reader.read("_CHECKPOINTABLE_OBJECT_GRAPH")[()]
            except tkio.errors.NotFoundError:
                continue  # data file absent from the corpus copy
        graph = assert_fully_understood(protos.TrackableObjectGraph, serialized, prefix)
        assert graph.nodes[0].children
        graphs += 1
    assert graphs >= 2


def test_descriptor_set_is_up_to_date(tmp_path):
    """The committed descriptors.binpb is what scripts/gen_protos.py builds from the .proto files."""
    spec = importlib.util.spec_from_file_location("gen_protos", os.path.join(REPO, "scripts", "gen_protos.py"))
    gen_protos = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_protos)
    output = tmp_path / "descriptors.binpb"
    assert gen_protos.compile_descriptor_set(output) == 0
    assert output.read_bytes() == gen_protos.OUTPUT.read_bytes(), "run scripts/gen_protos.py"


def test_schemas_load_on_first_use_only():
    # Loading costs ~20 ms (mostly importing protobuf); `import tensorkeep` must not pay it.
    code = "import tensorkeep.io.protos as protos\nassert protos._exports is None, 'protos loaded at import time'\n"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
