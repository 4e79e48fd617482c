"""TensorShape and Dimension with TF1 semantics (dims are Dimension objects, None = unknown)."""


class Dimension:
    """One dimension of a shape; `value` is an int or None when unknown."""

    __slots__ = ("_value",)

    def __init__(self, value):
        if isinstance(value, Dimension):
            value = value._value
        if value is None:
            self._value = None
        else:
            if isinstance(value, bool) or not hasattr(value, "__index__"):
                raise TypeError("Dimension value must be integer or None, got %r" % (value,))
            value = value.__index__()
            if value < 0:
                raise ValueError("Dimension %d must be >= 0" % value)
            self._value = value

    @property
    def value(self):
        return self._value

    def __repr__(self):
        return "Dimension(%r)" % (self._value,)

    def __str__(self):
        return "?" if self._value is None else str(self._value)

    def __int__(self):
        return self._value

    def __index__(self):
        return self._value

    def __hash__(self):
        return hash(self._value)

    def __eq__(self, other):
        try:
            other = as_dimension(other)
        except (TypeError, ValueError):
            return NotImplemented
        if self._value is None or other._value is None:
            return None
        return self._value == other._value

    def __ne__(self, other):
        eq = self.__eq__(other)
        if eq is NotImplemented or eq is None:
            return eq
        return not eq

    def __lt__(self, other):
        other = as_dimension(other)
        if self._value is None or other._value is None:
            return None
        return self._value < other._value

    def __le__(self, other):
        other = as_dimension(other)
        if self._value is None or other._value is None:
            return None
        return self._value <= other._value

    def __gt__(self, other):
        other = as_dimension(other)
        if self._value is None or other._value is None:
            return None
        return self._value > other._value

    def __ge__(self, other):
        other = as_dimension(other)
        if self._value is None or other._value is None:
            return None
        return self._value >= other._value

    def _arith(self, other, fn):
        other = as_dimension(other)
        if self._value is None or other._value is None:
            return Dimension(None)
        return Dimension(fn(self._value, other._value))

    def __add__(self, other):
        return self._arith(other, lambda a, b: a + b)

    __radd__ = __add__

    def __sub__(self, other):
        return self._arith(other, lambda a, b: a - b)

    def __rsub__(self, other):
        return as_dimension(other)._arith(self, lambda a, b: a - b)

    def __mul__(self, other):
        return self._arith(other, lambda a, b: a * b)

    __rmul__ = __mul__

    def __floordiv__(self, other):
        return self._arith(other, lambda a, b: a // b)

    def __mod__(self, other):
        return self._arith(other, lambda a, b: a % b)

    def is_compatible_with(self, other):
        other = as_dimension(other)
        return self._value is None or other._value is None or self._value == other._value

    def assert_is_compatible_with(self, other):
        if not self.is_compatible_with(other):
            raise ValueError("Dimensions %s and %s are not compatible" % (self, other))

    def merge_with(self, other):
        other = as_dimension(other)
        self.assert_is_compatible_with(other)
        return self if self._value is not None else other

    def __reduce__(self):
        return Dimension, (self._value,)


# Dimensions and shapes are immutable, so the common ones are shared instead of built per op:
# a graph of 100,000 ops otherwise holds hundreds of thousands of identical small objects, all
# of which the garbage collector scans.
_SMALL_DIMENSIONS = tuple(Dimension(value) for value in range(1025))


def as_dimension(value):
    if type(value) is int and 0 <= value <= 1024:
        return _SMALL_DIMENSIONS[value]
    return value if isinstance(value, Dimension) else Dimension(value)


def dimension_value(dimension):
    return dimension.value if isinstance(dimension, Dimension) else dimension


class TensorShape:
    """A possibly partially known shape; `dims` is None when the rank is unknown."""

    __slots__ = ("_dims",)

    def __new__(cls, dims):
        if dims is None and cls is TensorShape and _UNKNOWN is not None:
            return _UNKNOWN
        # Fully known shapes given as ints are interned (see _SMALL_DIMENSIONS).
        interning = cls is TensorShape and (type(dims) is list or type(dims) is tuple)
        if interning:
            key = tuple(dims)
            # Only plain ints: True or 100.0 would find (1,) or (100,), but must raise.
            interning = all(type(d) is int for d in key)
            if interning:
                shape = _INTERNED_SHAPES.get(key)
                if shape is not None:
                    return shape
        shape = object.__new__(cls)
        if dims is None:
            shape._dims = None
        elif isinstance(dims, TensorShape):
            shape._dims = dims._dims
        elif _is_shape_proto(dims):
            if dims.unknown_rank:
                shape._dims = None
            else:
                shape._dims = tuple(as_dimension(d.size if d.size >= 0 else None)
                                    for d in dims.dim)
        else:
            try:
                iterator = iter(dims)
            except TypeError:
                shape._dims = (as_dimension(dims),)
            else:
                shape._dims = tuple(as_dimension(d) for d in iterator)
        if interning:
            if len(_INTERNED_SHAPES) >= _MAX_INTERNED_SHAPES:
                _INTERNED_SHAPES.clear()
            _INTERNED_SHAPES[key] = shape
        return shape

    # --- inspection ---------------------------------------------------------------------
    @property
    def dims(self):
        return None if self._dims is None else list(self._dims)

    @property
    def ndims(self):
        return None if self._dims is None else len(self._dims)

    @property
    def rank(self):
        return self.ndims

    def as_list(self):
        if self._dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return [d._value for d in self._dims]

    def _as_tuple_or_none(self):
        """Plain tuple of ints/None, or None for unknown rank (fast path for internals)."""
        return None if self._dims is None else tuple(d._value for d in self._dims)

    def is_fully_defined(self):
        return self._dims is not None and all(d._value is not None for d in self._dims)

    def num_elements(self):
        if not self.is_fully_defined():
            return None
        n = 1
        for d in self._dims:
            n *= d._value
        return n

    def __len__(self):
        if self._dims is None:
            raise ValueError("Cannot take the length of shape with unknown rank.")
        return len(self._dims)

    def __bool__(self):
        return self._dims is not None

    def __iter__(self):
        if self._dims is None:
            raise ValueError("Cannot iterate over a shape with unknown rank.")
        return iter(self._dims)

    def __getitem__(self, key):
        if self._dims is not None:
            if isinstance(key, slice):
                return TensorShape(self._dims[key])
            return self._dims[key]
        if isinstance(key, slice):
            return unknown_shape()
        return Dimension(None)

    # --- compatibility --------------------------------------------------------------------
    def is_compatible_with(self, other):
        other = as_shape(other)
        if self._dims is None or other._dims is None:
            return True
        if len(self._dims) != len(other._dims):
            return False
        return all(a.is_compatible_with(b) for a, b in zip(self._dims, other._dims))

    def assert_is_compatible_with(self, other):
        if not self.is_compatible_with(other):
            raise ValueError("Shapes %s and %s are incompatible" % (self, other))

    def merge_with(self, other):
        other = as_shape(other)
        if self._dims is None:
            return other
        if other._dims is None or other is self:
            return self
        self.assert_same_rank(other)
        try:
            # As values, so that a fully known result is the interned shape.
            return TensorShape([a.merge_with(b)._value for a, b in zip(self._dims, other._dims)])
        except ValueError:
            raise ValueError("Shapes %s and %s are not compatible" % (self, other))

    def assert_same_rank(self, other):
        other = as_shape(other)
        if self.ndims is not None and other.ndims is not None and self.ndims != other.ndims:
            raise ValueError("Shapes %s and %s must have the same rank" % (self, other))

    def assert_has_rank(self, rank):
        if self.ndims not in (None, rank):
            raise ValueError("Shape %s must have rank %d" % (self, rank))

    def with_rank(self, rank):
        return self.merge_with(unknown_shape(rank=rank))

    def with_rank_at_least(self, rank):
        if self.ndims is not None and self.ndims < rank:
            raise ValueError("Shape %s must have rank at least %d" % (self, rank))
        return self

    def concatenate(self, other):
        other = as_shape(other)
        if self._dims is None or other._dims is None:
            return unknown_shape()
        return TensorShape(self._dims + other._dims)

    def assert_is_fully_defined(self):
        if not self.is_fully_defined():
            raise ValueError("Shape %s is not fully defined" % self)

    def as_proto(self):
        from tensorkeep.io import protos

        proto = protos.TensorShapeProto()
        if self._dims is None:
            proto.unknown_rank = True
        else:
            for d in self._dims:
                proto.dim.add(size=-1 if d._value is None else d._value)
        return proto

    # --- python protocol -----------------------------------------------------------------
    def __eq__(self, other):
        try:
            other = as_shape(other)
        except (TypeError, ValueError):
            return NotImplemented
        return self._as_tuple_or_none() == other._as_tuple_or_none()

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self):
        return hash(self._as_tuple_or_none())

    def __repr__(self):
        if self._dims is None:
            return "TensorShape(None)"
        return "TensorShape(%r)" % [d._value for d in self._dims]

    def __str__(self):
        if self._dims is None:
            return "<unknown>"
        if len(self._dims) == 1:
            return "(%s,)" % _dim_str(self._dims[0])
        return "(%s)" % ", ".join(_dim_str(d) for d in self._dims)

    def __add__(self, other):
        return self.concatenate(other)

    def __radd__(self, other):
        return as_shape(other).concatenate(self)

    def __reduce__(self):
        return TensorShape, (self.dims,)


_INTERNED_SHAPES = {}
_MAX_INTERNED_SHAPES = 4096
# The shape of unknown rank, shared as the interned shapes are: TensorShape(None) returns it
# once it exists (None while it is being made).
_UNKNOWN = None
_UNKNOWN = TensorShape(None)


def _dim_str(d):
    return "None" if d._value is None else str(d._value)


def _is_shape_proto(value):
    return type(value).__name__ == "TensorShapeProto"


def as_shape(shape):
    return shape if isinstance(shape, TensorShape) else TensorShape(shape)


def unknown_shape(rank=None, **kwargs):
    if rank is None and "ndims" in kwargs:
        rank = kwargs["ndims"]
    if rank is None:
        return TensorShape(None)
    return TensorShape([None] * rank)


def scalar():
    return TensorShape([])


def vector(length):
    return TensorShape([length])


def matrix(rows, cols):
    return TensorShape([rows, cols])
