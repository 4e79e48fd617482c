"""Builders of hostile files: well-formed enough to get past the first checks, lying about
sizes, offsets, order or structure further in."""

import os

import numpy as np

from tensorkeep.io import bundle, crc32c, protos, table


def entry(dtype, shape, offset=0, size=0, checksum=0, shard_id=0, slices=()):
    proto = protos.BundleEntryProto(dtype=dtype, offset=offset, size=size, shard_id=shard_id,
                                    crc32c=crc32c.mask(checksum))
    proto.shape.SetInParent()
    for dim in shape:
        proto.shape.dim.add().size = dim
    for extents in slices:
        slice_proto = proto.slices.add()
        for start, length in extents:
            extent = slice_proto.extent.add()
            extent.start = start
            if length is not None:
                extent.length = length
    return proto


def write_bundle(prefix, entries, data=b"", num_shards=1):
    """A bundle whose index holds `entries` ({key: BundleEntryProto}) as given, and whose
    single data file holds `data`."""
    with open(bundle.data_filename(prefix, 0, num_shards), "wb") as handle:
        handle.write(data)
    items = [(bundle.HEADER_KEY, bundle._header_bytes(num_shards))]
    items += [(key.encode() if isinstance(key, str) else key, value.SerializeToString())
              for key, value in sorted(entries.items())]
    bundle.write_index(bundle.index_filename(prefix), items)


def write_unordered_index(prefix, items, data):
    """An index table whose keys are stored in the order given, not sorted."""
    with open(bundle.data_filename(prefix, 0, 1), "wb") as handle:
        handle.write(data)
    with open(bundle.index_filename(prefix), "wb") as handle:
        writer = table.TableWriter(handle)
        for key, value in [(bundle.HEADER_KEY, bundle._header_bytes(1))] + items:
            writer._num_entries = 0  # skips the writer's own order check
            writer.add(key, value)
        writer.finish()


def float_entry_and_data(values):
    data = np.asarray(values, "<f4").tobytes()
    return entry(protos.DT_FLOAT, np.shape(values), size=len(data), checksum=crc32c.value(data)), data


def nested_attr_graph_def(depth):
    """A GraphDef whose one node has an attr nested `depth` levels deep (func -> attr -> func...)."""
    graph_def = protos.GraphDef()
    node = graph_def.node.add(name="c", op="NoOp")
    value = node.attr["deep"]
    for _ in range(depth):
        value = value.func.attr["x"]
    value.i = 1
    return graph_def


def nested_attr_text(depth):
    """The text format of nested_attr_graph_def(depth), built without recursion."""
    return ('node { name: "c" op: "NoOp" attr { key: "deep" value { '
            + 'func { attr { key: "x" value { ' * depth + "i: 1" + " } } }" * depth + " } } }")


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as handle:
        handle.write(data)
    return path


def nested_attr_bytes(depth):
    """The wire bytes of nested_attr_graph_def(depth), built from the inside out (no recursion)."""
    from tensorkeep.io.table import encode_varint

    def field(number, payload):  # a length-delimited field
        return encode_varint(number << 3 | 2) + encode_varint(len(payload)) + payload

    value = bytes([3 << 3]) + b"\x01"  # AttrValue.i = 1
    for _ in range(depth):
        entry = field(1, b"x") + field(2, value)  # map<string, AttrValue> entry
        value = field(10, field(2, entry))  # AttrValue.func = NameAttrList{attr: {x: value}}
    node = field(1, b"c") + field(2, b"NoOp") + field(5, field(1, b"deep") + field(2, value))
    return field(1, node)


def write_v1_checkpoint(path, name, shape, stored_values, datatype=None):
    """A V1 checkpoint (one table) declaring tensor `name` of `shape` as one full slice, whose
    stored data holds `stored_values` (float32) whatever the shape says."""
    from tensorkeep.io import tensor_slices

    datatype = protos.DT_FLOAT if datatype is None else datatype
    extents = [(0, None)] * len(shape)
    meta = protos.SavedTensorSlices()
    tensor = meta.meta.tensor.add(name=name, type=datatype)
    tensor.shape.SetInParent()
    for size in shape:
        tensor.shape.dim.add().size = size
    tensor_slices.fill_proto(tensor.slice.add(), extents)
    data = protos.SavedTensorSlices()
    data.data.name = name
    tensor_slices.fill_proto(data.data.slice, extents)
    data.data.data.dtype = datatype
    data.data.data.float_val.extend(stored_values)
    items = sorted([(b"", meta.SerializeToString()),
                    (tensor_slices.encode_tensor_name_slice(name.encode(), extents), data.SerializeToString())])
    write(path, table.build_table(items))
