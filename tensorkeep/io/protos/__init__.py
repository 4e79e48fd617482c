"""TensorFlow's protocol buffer messages, built from our own schemas at first use.

    from tensorkeep.io.protos import GraphDef, NodeDef, TensorProto, DT_FLOAT

The .proto files beside this module keep TensorFlow's package (`tensorflow`), message and
field names, field numbers and enums, so the wire and text formats are TensorFlow's. They
are compiled by scripts/gen_protos.py into `descriptors.binpb`, which is loaded here into a
private `DescriptorPool`: an installed TensorFlow in the same process, whose default pool
already holds messages with these full names, is never disturbed. Use `pool` wherever
protobuf needs it (e.g. `text_format.Parse(..., descriptor_pool=pool)` to expand Any).

Every top-level message (nested ones as attributes, e.g. `MetaGraphDef.MetaInfoDef`), every
top-level enum as an enum wrapper (`DataType.Name(1) == "DT_FLOAT"`) and every value of a
top-level enum (`DT_FLOAT`, `DT_FLOAT_REF`, ...) is a module attribute. Nothing is loaded
until one is first asked for, so importing this module costs nothing.
"""

import threading
from pathlib import Path

_DESCRIPTOR_SET_PATH = Path(__file__).with_name("descriptors.binpb")
_load_lock = threading.Lock()
_exports = None


def _split_descriptor_set(data):
    """The serialized FileDescriptorProtos of a FileDescriptorSet (field 1, length-delimited)."""
    files = []
    position = 0
    while position < len(data):
        if data[position] != 0x0A:
            raise ValueError(f"{_DESCRIPTOR_SET_PATH}: unexpected field tag {data[position]:#x}")
        position += 1
        length = shift = 0
        while True:
            byte = data[position]
            position += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        files.append(data[position:position + length])
        position += length
    return files


def _load():
    from google.protobuf import descriptor_pool, message_factory
    from google.protobuf.internal import enum_type_wrapper

    private_pool = descriptor_pool.DescriptorPool()
    file_names = []
    for serialized_file in _split_descriptor_set(_DESCRIPTOR_SET_PATH.read_bytes()):
        file_names.append(private_pool.AddSerializedFile(serialized_file).name)

    exports = {"pool": private_pool}
    for file_name in file_names:
        file_descriptor = private_pool.FindFileByName(file_name)
        if file_descriptor.package != "tensorflow":
            continue  # google.protobuf.Any and friends: reachable through the pool.
        for name, message_descriptor in file_descriptor.message_types_by_name.items():
            exports[name] = message_factory.GetMessageClass(message_descriptor)
        for name, enum_descriptor in file_descriptor.enum_types_by_name.items():
            exports[name] = enum_type_wrapper.EnumTypeWrapper(enum_descriptor)
            for value in enum_descriptor.values:
                exports[value.name] = value.number
    return exports


def _all_exports():
    global _exports
    if _exports is None:
        with _load_lock:
            if _exports is None:
                _exports = _load()
    return _exports


def __getattr__(name):
    if name.startswith("__") and name != "__all__":
        raise AttributeError(name)
    exports = _all_exports()
    if name == "__all__":
        return sorted(exports)
    try:
        value = exports[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value  # Later lookups bypass __getattr__.
    return value


def __dir__():
    return sorted(set(globals()) | set(_all_exports()))
