"""SparseTensor: (indices, values, dense_shape) as TensorFlow represents sparse data, and
SparseTensorValue, what fetching one returns."""

import collections

from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework import tensor_util

SparseTensorValue = collections.namedtuple("SparseTensorValue",
                                           ["indices", "values", "dense_shape"])


class SparseTensor:
    """indices: int64 [N, rank]; values: [N]; dense_shape: int64 [rank]."""

    def __init__(self, indices, values, dense_shape):
        with ops.name_scope(None, "SparseTensor", [indices, values, dense_shape]):
            self._indices = ops.convert_to_tensor(indices, name="indices", dtype="int64")
            self._values = ops.convert_to_tensor(values, name="values")
            self._dense_shape = ops.convert_to_tensor(dense_shape, name="dense_shape",
                                                      dtype="int64")
        # What is statically known of the dense shape (set_shape can refine it).
        self._dense_shape_default = tensor_util.constant_value_as_shape(self._dense_shape)

    indices = property(lambda self: self._indices)
    values = property(lambda self: self._values)
    dense_shape = property(lambda self: self._dense_shape)
    dtype = property(lambda self: self._values.dtype)
    op = property(lambda self: self._values.op)
    graph = property(lambda self: self._values.graph)

    @property
    def shape(self):
        return self._dense_shape_default

    def get_shape(self):
        return self.shape

    def set_shape(self, shape):
        """Refines the static dense shape; raises ValueError when incompatible."""
        self._dense_shape_default = self._dense_shape_default.merge_with(
            tensor_shape.as_shape(shape))

    # Session.run fetches and feeds a SparseTensor through its three component tensors.
    def _fetch_components(self):
        return [self._indices, self._values, self._dense_shape], \
            lambda parts: SparseTensorValue(*parts)

    def _feed_components(self, value):
        indices, values, dense_shape = value
        return [(self._indices, indices), (self._values, values),
                (self._dense_shape, dense_shape)]

    def __repr__(self):
        return "SparseTensor(indices=%s, values=%s, dense_shape=%s)" % (
            self._indices, self._values, self._dense_shape)
