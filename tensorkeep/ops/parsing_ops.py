"""Parsing serialized tf.train.Example protos: ParseExample, ParseExampleV2, ParseSingleExample
(what Estimator serving input functions put at the front of exported graphs), and
tf.parse_example / tf.parse_single_example with FixedLenFeature, VarLenFeature and
FixedLenSequenceFeature.
"""

import collections

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient
from tensorkeep.framework.sparse_tensor import SparseTensor

_KIND_OF_DTYPE = {dtypes.float32: "float_list", dtypes.int64: "int64_list",
                  dtypes.string: "bytes_list"}
_DTYPE_NAME_OF_KIND = {"float_list": "float", "int64_list": "int64", "bytes_list": "string"}


def _decode_examples(op, serialized, names):
    from tensorkeep.io import protos

    examples = []
    for i, data in enumerate(np.asarray(serialized).reshape(-1)):
        example = protos.Example()
        try:
            example.ParseFromString(bytes(data))
        except Exception:  # noqa: BLE001 (any decode failure is a malformed input)
            raise errors.InvalidArgumentError(
                None, op, "Could not parse example input, value: '%s'" % bytes(data)[:100])
        examples.append(example)
    return examples


def _example_name(names, index):
    names = np.asarray(names).reshape(-1)
    return bytes(names[index]).decode() if index < len(names) else "<unknown>"


def _feature_values(op, example, key, dtype, names, index):
    """The values of feature `key` of `example` (None if absent), checked against `dtype`."""
    feature = example.features.feature.get(key)
    if feature is None:
        return None
    kind = feature.WhichOneof("kind")
    if kind is None:
        return np.zeros([0], dtype=object if dtype == dtypes.string else dtype.as_numpy)
    wanted = _KIND_OF_DTYPE[dtype]
    if kind != wanted:
        raise errors.InvalidArgumentError(
            None, op, "Name: %s, Feature: %s.  Data types don't match. Data type: %s but "
            "expected type: %s" % (_example_name(names, index), key, _DTYPE_NAME_OF_KIND[kind],
                                   _DTYPE_NAME_OF_KIND[wanted]))
    values = getattr(feature, kind).value
    if dtype == dtypes.string:
        return np.array(list(values), dtype=object)
    return np.array(values, dtype=dtype.as_numpy)


def _parse(op, examples, names, sparse_keys, sparse_types, dense_keys, dense_types,
           dense_shapes, dense_defaults, ragged_keys=(), ragged_value_types=(),
           ragged_split_types=(), single=False):
    """The op's outputs for a list of Examples (batched unless `single`)."""
    batch = len(examples)
    sparse_indices, sparse_values, sparse_shapes = [], [], []
    for key, dtype in zip(sparse_keys, sparse_types):
        indices, values, longest = [], [], 0
        for b, example in enumerate(examples):
            found = _feature_values(op, example, key, dtype, names, b)
            if found is None:
                continue
            longest = max(longest, len(found))
            for position, value in enumerate(found):
                indices.append([position] if single else [b, position])
                values.append(value)
        width = 1 if single else 2
        sparse_indices.append(np.array(indices, np.int64).reshape(-1, width))
        sparse_values.append(np.array(values, dtype=object if dtype == dtypes.string
                                      else dtype.as_numpy))
        sparse_shapes.append(np.array([longest] if single else [batch, longest], np.int64))
    dense_values = []
    for key, dtype, shape, default in zip(dense_keys, dense_types, dense_shapes,
                                          dense_defaults):
        dims = shape.as_list() if shape.ndims is not None else []
        variable_length = bool(dims) and dims[0] is None
        np_dtype = object if dtype == dtypes.string else dtype.as_numpy
        default = np.asarray(default)
        rows = []
        for b, example in enumerate(examples):
            found = _feature_values(op, example, key, dtype, names, b)
            if found is None:
                if default.size == 0 and not variable_length:
                    raise errors.InvalidArgumentError(
                        None, op, "Name: %s, Feature: %s (data type: %s) is required but could "
                        "not be found." % (_example_name(names, b), key, dtype.name))
                rows.append(None)
                continue
            if variable_length:
                element = int(np.prod(dims[1:], dtype=np.int64))
                if element and len(found) % element:
                    raise errors.InvalidArgumentError(
                        None, op, "Name: %s, Key: %s, Index: %d.  Number of values is not a "
                        "multiple of stride length. Saw %d values but output shape is: %s"
                        % (_example_name(names, b), key, b, len(found), shape))
                rows.append(found.reshape([-1] + dims[1:]))
            else:
                expected = int(np.prod(dims, dtype=np.int64))
                if len(found) != expected:
                    raise errors.InvalidArgumentError(
                        None, op, "Name: %s, Key: %s, Index: %d.  Number of float values != "
                        "expected.  Values size: %d but output shape: %s"
                        % (_example_name(names, b), key, b, len(found), shape))
                rows.append(found.reshape(dims))
        if variable_length:
            longest = max([len(r) for r in rows if r is not None] or [0])
            fill = default.reshape(-1)[0] if default.size else (b"" if dtype == dtypes.string
                                                               else 0)
            out = np.full([batch, longest] + dims[1:], fill, dtype=np_dtype)
            for b, row in enumerate(rows):
                if row is not None:
                    out[b, :len(row)] = row
        else:
            out = np.empty([batch] + dims, dtype=np_dtype)
            for b, row in enumerate(rows):
                out[b, ...] = default.reshape(dims) if row is None else row
        dense_values.append(out[0] if single else out)
    ragged_values, ragged_splits = [], []
    for key, dtype, split_type in zip(ragged_keys, ragged_value_types, ragged_split_types):
        values, splits = [], [0]
        for b, example in enumerate(examples):
            found = _feature_values(op, example, key, dtype, names, b)
            if found is not None:
                values.extend(found)
            splits.append(len(values))
        ragged_values.append(np.array(values, dtype=object if dtype == dtypes.string
                                      else dtype.as_numpy))
        ragged_splits.append(np.array(splits, dtype=split_type.as_numpy))
    return (sparse_indices + sparse_values + sparse_shapes + dense_values + ragged_values +
            ragged_splits)


def _strings(array):
    return [bytes(x).decode() for x in np.asarray(array).reshape(-1)]


def _parse_example_kernel(op, ctx):
    n_sparse, n_dense = op._attrs["Nsparse"], op._attrs["Ndense"]
    sparse_types = op._attrs["sparse_types"]
    dense_types = op._attrs["Tdense"]
    dense_shapes = op._attrs["dense_shapes"]

    def run(serialized, names, *rest):
        sparse_keys = [_strings(k)[0] for k in rest[:n_sparse]]
        dense_keys = [_strings(k)[0] for k in rest[n_sparse:n_sparse + n_dense]]
        defaults = rest[n_sparse + n_dense:]
        return _parse(op, _decode_examples(op, serialized, names), names, sparse_keys,
                      sparse_types, dense_keys, dense_types, dense_shapes, defaults)
    return run


def _parse_example_v2_kernel(op, ctx):
    sparse_types = op._attrs["sparse_types"]
    dense_types = op._attrs["Tdense"]
    dense_shapes = op._attrs["dense_shapes"]
    ragged_value_types = op._attrs["ragged_value_types"]
    ragged_split_types = op._attrs["ragged_split_types"]

    def run(serialized, names, sparse_keys, dense_keys, ragged_keys, *defaults):
        return _parse(op, _decode_examples(op, serialized, names), names,
                      _strings(sparse_keys), sparse_types, _strings(dense_keys), dense_types,
                      dense_shapes, defaults, _strings(ragged_keys), ragged_value_types,
                      ragged_split_types)
    return run


def _parse_single_kernel(op, ctx):
    sparse_keys = [_as_text(k) for k in op._attrs["sparse_keys"]]
    dense_keys = [_as_text(k) for k in op._attrs["dense_keys"]]

    def run(serialized, *defaults):
        examples = _decode_examples(op, np.asarray(serialized).reshape(1), [])
        return _parse(op, examples, [], sparse_keys, op._attrs["sparse_types"], dense_keys,
                      op._attrs["Tdense"], op._attrs["dense_shapes"], defaults, single=True)
    return run


def _as_text(value):
    return value.decode() if isinstance(value, bytes) else value


def _parse_shapes(op, n_sparse, single=False):
    """Static shapes: sparse [?, 2] / [?] / [2], dense [batch] + dense_shape, ragged [?]."""
    batch = [] if single else [op._inputs[0]._shape_val.as_list()[0]
                               if op._inputs[0]._shape_val.ndims == 1 else None]
    rank = 1 if single else 2
    shapes = [tensor_shape.TensorShape([None, rank])] * n_sparse + \
        [tensor_shape.TensorShape([None])] * n_sparse + \
        [tensor_shape.TensorShape([rank])] * n_sparse
    for shape in op._attrs["dense_shapes"]:
        shapes.append(tensor_shape.TensorShape(batch).concatenate(shape)
                      if shape.ndims is not None else tensor_shape.unknown_shape())
    while len(shapes) < len(op._outputs):
        shapes.append(tensor_shape.TensorShape([None]))
    return shapes


_FEATURE_TYPES = "{float, int64, string}"
register_op("ParseExample",
            inputs=["serialized: string", "names: string", "sparse_keys: Nsparse * string",
                    "dense_keys: Ndense * string", "dense_defaults: Tdense"],
            outputs=["sparse_indices: Nsparse * int64", "sparse_values: sparse_types",
                     "sparse_shapes: Nsparse * int64", "dense_values: Tdense"],
            attrs=["Nsparse: int >= 0", "Ndense: int >= 0",
                   "sparse_types: list(%s) >= 0" % _FEATURE_TYPES,
                   "Tdense: list(%s) >= 0" % _FEATURE_TYPES, "dense_shapes: list(shape) >= 0"],
            kernel=_parse_example_kernel,
            shape=lambda op: _parse_shapes(op, op._attrs["Nsparse"]))
register_op("ParseExampleV2",
            inputs=["serialized: string", "names: string", "sparse_keys: string",
                    "dense_keys: string", "ragged_keys: string", "dense_defaults: Tdense"],
            outputs=["sparse_indices: num_sparse * int64", "sparse_values: sparse_types",
                     "sparse_shapes: num_sparse * int64", "dense_values: Tdense",
                     "ragged_values: ragged_value_types",
                     "ragged_row_splits: ragged_split_types"],
            attrs=["Tdense: list(%s) >= 0" % _FEATURE_TYPES, "num_sparse: int >= 0",
                   "sparse_types: list(%s) >= 0" % _FEATURE_TYPES,
                   "ragged_value_types: list(%s) >= 0" % _FEATURE_TYPES,
                   "ragged_split_types: list({int32, int64}) >= 0",
                   "dense_shapes: list(shape) >= 0"],
            kernel=_parse_example_v2_kernel,
            shape=lambda op: _parse_shapes(op, op._attrs["num_sparse"]))
register_op("ParseSingleExample", inputs=["serialized: string", "dense_defaults: Tdense"],
            outputs=["sparse_indices: num_sparse * int64", "sparse_values: sparse_types",
                     "sparse_shapes: num_sparse * int64", "dense_values: Tdense"],
            attrs=["num_sparse: int >= 0", "sparse_keys: list(string) >= 0",
                   "dense_keys: list(string) >= 0",
                   "sparse_types: list(%s) >= 0" % _FEATURE_TYPES,
                   "Tdense: list(%s) >= 0" % _FEATURE_TYPES, "dense_shapes: list(shape) >= 0"],
            kernel=_parse_single_kernel,
            shape=lambda op: _parse_shapes(op, op._attrs["num_sparse"], single=True))
for _op_type in ("ParseExample", "ParseExampleV2", "ParseSingleExample"):
    register_gradient(_op_type, None)


# --- tf.parse_example ------------------------------------------------------------------------------

FixedLenFeature = collections.namedtuple("FixedLenFeature", ["shape", "dtype", "default_value"])
FixedLenFeature.__new__.__defaults__ = (None,)
FixedLenSequenceFeature = collections.namedtuple(
    "FixedLenSequenceFeature", ["shape", "dtype", "allow_missing", "default_value"])
FixedLenSequenceFeature.__new__.__defaults__ = (False, None)
VarLenFeature = collections.namedtuple("VarLenFeature", ["dtype"])


def _split_features(features):
    sparse, dense = [], []
    for key in sorted(features):
        feature = features[key]
        if isinstance(feature, VarLenFeature):
            sparse.append((key, dtypes.as_dtype(feature.dtype)))
        elif isinstance(feature, (FixedLenFeature, FixedLenSequenceFeature)):
            dense.append((key, feature))
        else:
            raise ValueError("Unsupported feature type for key %s: %r" % (key, feature))
    return sparse, dense


def _dense_default(key, feature):
    """The default tensor of a dense feature (an empty one when the feature is required)."""
    from tensorkeep.ops import array_ops

    dtype = dtypes.as_dtype(feature.dtype)
    sequence = isinstance(feature, FixedLenSequenceFeature)
    if feature.default_value is None:
        if sequence:
            return ops.convert_to_tensor(b"" if dtype == dtypes.string else 0, dtype=dtype,
                                         name="padding_" + key)
        return ops.convert_to_tensor(np.zeros([0], dtype=object if dtype == dtypes.string
                                              else dtype.as_numpy), dtype=dtype)
    default = ops.convert_to_tensor(feature.default_value, dtype=dtype, name="key_" + key)
    if sequence:
        return default
    return array_ops.reshape(default, tensor_shape.as_shape(feature.shape))


def parse_example(serialized, features, name=None, example_names=None):
    """tf.parse_example: {key: Tensor or SparseTensor} parsed from a batch of serialized
    Examples (one ParseExampleV2 op, as TensorFlow builds it)."""
    if not features:
        raise ValueError("Missing: features was %s." % features)
    sparse, dense = _split_features(features)
    with ops.name_scope(name, "ParseExample", [serialized, example_names]):
        defaults = [_dense_default(key, feature) for key, feature in dense]
        shapes = [tensor_shape.as_shape([None] + list(feature.shape))
                  if isinstance(feature, FixedLenSequenceFeature)
                  else tensor_shape.as_shape(feature.shape) for _, feature in dense]
        # The key lists become Consts inside the op's scope (ParseExampleV2/names, ...).
        outputs = apply_op("ParseExampleV2", serialized=serialized,
                           names=_string_list(example_names or []),
                           sparse_keys=_string_list([k for k, _ in sparse]),
                           dense_keys=_string_list([k for k, _ in dense]),
                           ragged_keys=_string_list([]), dense_defaults=defaults,
                           num_sparse=len(sparse), sparse_types=[t for _, t in sparse],
                           ragged_value_types=[], ragged_split_types=[], dense_shapes=shapes,
                           name="ParseExampleV2")
    return _assemble(sparse, dense, outputs)


def _string_list(values):
    return np.array([v.encode() if isinstance(v, str) else v for v in values], dtype=object)


def _assemble(sparse, dense, outputs):
    indices, values, shapes, dense_values = outputs[:4]
    result = {}
    for (key, _), i, v, s in zip(sparse, indices, values, shapes):
        result[key] = SparseTensor(i, v, s)
    for (key, _), value in zip(dense, dense_values):
        result[key] = value
    return result


def parse_single_example(serialized, features, name=None, example_names=None):
    """tf.parse_single_example: parse_example of one serialized Example, without the batch
    dimension."""
    if not features:
        raise ValueError("Missing: features was %s." % features)
    sparse, dense = _split_features(features)
    with ops.name_scope(name, "ParseSingleExample", [serialized]):
        defaults = [_dense_default(key, feature) for key, feature in dense]
        shapes = [tensor_shape.as_shape([None] + list(feature.shape))
                  if isinstance(feature, FixedLenSequenceFeature)
                  else tensor_shape.as_shape(feature.shape) for _, feature in dense]
        outputs = apply_op("ParseSingleExample", serialized=serialized,
                           dense_defaults=defaults, num_sparse=len(sparse),
                           sparse_keys=[k for k, _ in sparse], dense_keys=[k for k, _ in dense],
                           sparse_types=[t for _, t in sparse], dense_shapes=shapes,
                           name="ParseSingleExample")
    return _assemble(sparse, dense, outputs)
