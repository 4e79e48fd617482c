"""Reading V1 checkpoints (TensorFlow before 0.12, or `write_version=SaverDef.V1`).

A V1 checkpoint is one table file per shard (the path may be a glob pattern such as
`model.ckpt-?????-of-00002`). Under the empty key it holds a SavedTensorSlices whose `meta`
lists every tensor with its dtype, shape and stored slices; each slice is a
SavedTensorSlices whose `data` TensorProto keeps the values in its typed fields, under the
key `tensor_slices.encode_tensor_name_slice(name, extents)`. `V1CheckpointReader` offers
the same interface as `bundle.BundleReader`.
"""

import difflib
import glob as _glob_module
import math

import numpy as np
from google.protobuf.message import DecodeError

from . import gfile, numpy_codec, protos, tensor_slices
from .errors import DataLossError, InvalidArgumentError, NotFoundError
from .table import TableReader


class _SlicedTensor:
    __slots__ = ("name", "datatype", "shape", "slices")

    def __init__(self, name, datatype, shape):
        self.name = name
        self.datatype = datatype
        self.shape = shape
        self.slices = []  # (extents, table holding that slice)


class V1CheckpointReader:
    """Random access to the tensors of a V1 checkpoint file (or glob pattern of shard files)."""

    format = "V1"

    def __init__(self, pattern):
        self._pattern = gfile.path_str(pattern)
        paths = gfile.glob(self._pattern) if _glob_module.has_magic(self._pattern) else \
            [self._pattern] if gfile.exists(self._pattern) and not gfile.isdir(self._pattern) else []
        if not paths:
            raise NotFoundError(None, None, "Unsuccessful TensorSliceReader constructor: Failed to find any "
                                            f"matching files for {self._pattern}")
        self._files = []
        self._tensors = {}
        try:
            for path in paths:
                self._add_file(path)
        except BaseException:
            self.close()
            raise

    def _add_file(self, path):
        source = gfile.RandomAccessFile(path)
        self._files.append(source)
        table = TableReader(source)
        raw_meta = table.get(b"")
        try:
            meta = protos.SavedTensorSlices.FromString(raw_meta).meta if raw_meta is not None else None
        except DecodeError:
            meta = None
        if meta is None:
            raise DataLossError(None, None, f"Unable to read V1 checkpoint {path}: its table has no readable "
                                            "tensor list (SavedTensorSliceMeta)")
        for tensor in meta.tensor:
            shape = numpy_codec.tensor_shape_dims(tensor.shape)
            if shape is None or any(size < 0 for size in shape):
                raise DataLossError(None, None, f"Invalid shape for tensor {tensor.name} in {path}")
            known = self._tensors.get(tensor.name)
            if known is None:
                known = self._tensors[tensor.name] = _SlicedTensor(tensor.name, tensor.type, shape)
            elif known.shape != shape or known.datatype != tensor.type:
                raise DataLossError(None, None, f"Tensor {tensor.name} has conflicting shapes or dtypes across the "
                                                f"files of {self._pattern}")
            for slice_proto in tensor.slice:
                known.slices.append((tensor_slices.extents_from_proto(slice_proto), table))

    @property
    def prefix(self):
        return self._pattern

    def keys(self):
        return sorted(self._tensors)

    def has(self, key):
        return key in self._tensors

    __contains__ = has

    def _tensor(self, key):
        tensor = self._tensors.get(key)
        if tensor is None:
            message = f"Key {key} not found in checkpoint {self._pattern}"
            close = difflib.get_close_matches(key, list(self._tensors), n=3)
            if close:
                message += ". Closest keys in the checkpoint: " + ", ".join(close)
            raise NotFoundError(None, None, message)
        return tensor

    def entry(self, key):
        """The tensor's SavedSliceMeta (name, shape, type, slices)."""
        tensor = self._tensor(key)
        meta = protos.SavedSliceMeta(name=tensor.name, type=tensor.datatype)
        meta.shape.SetInParent()
        for size in tensor.shape:
            meta.shape.dim.add().size = size
        for extents, _ in tensor.slices:
            tensor_slices.fill_proto(meta.slice.add(), extents)
        return meta

    def dtype_and_shape(self, key):
        tensor = self._tensor(key)
        return tensor.datatype, tensor.shape

    def read(self, key, out=None):
        tensor = self._tensor(key)
        dtype = numpy_codec.numpy_dtype(tensor.datatype)
        if out is not None and (not isinstance(out, np.ndarray) or out.dtype != dtype or out.shape != tensor.shape
                                or not out.flags.writeable):
            raise InvalidArgumentError(None, None, f"Cannot read tensor {key} ({dtype}, {list(tensor.shape)}) into "
                                                   "the given buffer: its dtype or shape differs")
        all_bounds = [tensor_slices.resolve(extents, tensor.shape, f"tensor {key}") for extents, _ in tensor.slices]
        covered = sum(math.prod(stop - start for start, stop in bounds) for bounds in all_bounds)
        if covered != math.prod(tensor.shape):
            raise InvalidArgumentError(None, None, f"Does not have sufficient slices for tensor {key} in "
                                                   f"{self._pattern}")
        # Every slice is read (each holding exactly its values) before the whole is allocated:
        # the shape comes from the file and is trusted only once the data backs it.
        slices = []
        for (extents, table), bounds in zip(tensor.slices, all_bounds):
            slice_shape = tuple(stop - start for start, stop in bounds)
            slices.append((tuple(slice(start, stop) for start, stop in bounds),
                           self._read_slice(tensor, extents, table, slice_shape)))
        result = np.empty(tensor.shape, dtype) if out is None else out
        for region, value in slices:
            result[region] = value
        return result

    def _read_slice(self, tensor, extents, table, slice_shape):
        raw = table.get(tensor_slices.encode_tensor_name_slice(tensor.name, extents))
        where = f"tensor {tensor.name} in {table.path}"
        if raw is None:
            raise DataLossError(None, None, f"The data of a slice of {where} is missing")
        try:
            data = protos.SavedTensorSlices.FromString(raw).data.data
            if not data.tensor_content or tensor.datatype == numpy_codec.DT_STRING:
                # TensorFlow's V1 writer stores every value; fewer would be repeated (see
                # tensor_proto_to_ndarray), which a file must not use to claim a large tensor.
                stored = len(numpy_codec._typed_values(data, tensor.datatype))
                if stored != math.prod(slice_shape):
                    raise DataLossError(None, None, f"A slice of {where} stores {stored} values; its shape "
                                                    f"{list(slice_shape)} needs {math.prod(slice_shape)}")
            return numpy_codec.tensor_proto_to_ndarray(data, tensor.datatype, slice_shape)
        except InvalidArgumentError as error:
            raise DataLossError(None, None, f"Unable to decode {where}: {error.message}") from None
        except DecodeError:
            raise DataLossError(None, None, f"Unable to parse the stored slice of {where}") from None

    def close(self):
        for source in self._files:
            source.close()
        self._files = []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
