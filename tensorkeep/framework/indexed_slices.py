"""IndexedSlices: a sparse representation of a dense tensor's gradient, as TensorFlow's gather
gradients produce it: the rows `values[i]` belong at `dense[indices[i]]` (rows may repeat and
then add up); `dense_shape` is the shape of the dense tensor.

Conversion to a dense Tensor (UnsortedSegmentSum) is registered by tensorkeep.ops.array_ops, since
building ops belongs to the ops layer.
"""

import collections

from tensorkeep.framework import tensor_shape
from tensorkeep.framework import tensor_util

# What Session.run returns for a fetched IndexedSlices (dense_shape None when it has none).
IndexedSlicesValue = collections.namedtuple("IndexedSlicesValue",
                                            ["values", "indices", "dense_shape"])


class IndexedSlices:
    """values: Tensor [n, ...]; indices: int Tensor [n]; dense_shape: int Tensor [rank] or None."""

    def __init__(self, values, indices, dense_shape=None):
        self._values = values
        self._indices = indices
        self._dense_shape = dense_shape

    @property
    def values(self):
        return self._values

    @property
    def indices(self):
        return self._indices

    @property
    def dense_shape(self):
        return self._dense_shape

    @property
    def dtype(self):
        return self._values.dtype

    @property
    def name(self):
        return self._values.name

    @property
    def op(self):
        return self._values.op

    @property
    def graph(self):
        return self._values.graph

    @property
    def device(self):
        return self._values.device

    @property
    def shape(self):
        """The static shape of the dense tensor these slices stand for."""
        if self._dense_shape is None:
            return tensor_shape.unknown_shape()
        shape = tensor_util.constant_value_as_shape(self._dense_shape)
        values_shape = self._values.shape
        if values_shape.ndims is not None and shape.ndims == values_shape.ndims:
            # Every dimension but the first is the values' own.
            shape = tensor_shape.TensorShape(shape.as_list()[:1]).concatenate(
                values_shape[1:]).merge_with(shape)
        return shape

    def get_shape(self):
        return self.shape

    def __neg__(self):
        return IndexedSlices(-self._values, self._indices, self._dense_shape)

    # Session.run fetches and feeds an IndexedSlices through its component tensors.
    def _fetch_components(self):
        parts = [self._values, self._indices]
        if self._dense_shape is not None:
            parts.append(self._dense_shape)
        return parts, lambda values: IndexedSlicesValue(
            values[0], values[1], values[2] if len(values) > 2 else None)

    def _feed_components(self, value):
        values, indices, dense_shape = value
        pairs = [(self._values, values), (self._indices, indices)]
        if self._dense_shape is not None and dense_shape is not None:
            pairs.append((self._dense_shape, dense_shape))
        return pairs

    def __repr__(self):
        return "IndexedSlices(indices=%s, values=%s%s)" % (
            self._indices, self._values,
            "" if self._dense_shape is None else ", dense_shape=%s" % self._dense_shape)

