"""Hash tables (tf.lookup): HashTableV2 / MutableHashTableV2 and the ops that initialize, look
up, insert into and export them (and the TF1 ref-handle forms of old graphs), as Estimator
feature columns and vocabulary lookups use them.

A table lives in the session (`ctx.resources`), shared by name like TensorFlow's resource
manager: (container, shared_name), or the node name when shared_name is empty.
"""

import uuid

import numpy as np

from tensorkeep.framework import dtypes
from tensorkeep.framework import errors
from tensorkeep.framework import ops
from tensorkeep.framework import tensor_shape
from tensorkeep.framework.op_builder import apply_op
from tensorkeep.framework.op_def import register_op, register_gradient
from tensorkeep.io import gfile

_SCALAR = tensor_shape.TensorShape([])


class TableStorage:
    """One table: key -> value (ndarray for vector values); `initialized` for static tables."""

    def __init__(self, name, key_dtype, value_dtype, mutable):
        self.name = name
        self.key_dtype = key_dtype
        self.value_dtype = value_dtype
        self.mutable = mutable
        self.initialized = mutable
        self.entries = {}
        self.value_shape = ()

    def check_types(self, op, key_dtype, value_dtype):
        if key_dtype is not None and key_dtype != self.key_dtype or \
                value_dtype is not None and value_dtype != self.value_dtype:
            raise errors.InvalidArgumentError(
                None, op, "Conflicting key/value dtypes %s->%s with %s-%s for table %s"
                % (key_dtype.name if key_dtype else "?", value_dtype.name if value_dtype else "?",
                   self.key_dtype.name, self.value_dtype.name, self.name))

    def check_ready(self, op):
        if not self.initialized:
            raise errors.FailedPreconditionError(None, op, "Table not initialized.\n\t "
                                                 "[[{{node %s}}]]\nRun "
                                                 "tf.tables_initializer() first." % op.name)


def _key(value):
    return bytes(value) if isinstance(value, (bytes, np.bytes_)) else value.item() \
        if hasattr(value, "item") else value


def _text(value):
    return value.decode() if isinstance(value, bytes) else (value or "")


def _table_kernel(mutable):
    def factory(op, ctx):
        attrs = op._attrs
        container = _text(attrs.get("container", b""))
        shared_name = _text(attrs.get("shared_name", b"")) or op.name
        key = ("table", container, shared_name)

        def run():
            with ctx.lock:
                table = ctx.resources.get(key)
                if table is None:
                    table = TableStorage(shared_name, attrs["key_dtype"], attrs["value_dtype"],
                                         mutable)
                    ctx.resources[key] = table
            return table
        return run
    return factory


_TABLE_ATTRS = ["container: string = ''", "shared_name: string = ''",
                "use_node_name_sharing: bool = false", "key_dtype: type", "value_dtype: type"]
register_op("HashTableV2", outputs=["table_handle: resource"], attrs=_TABLE_ATTRS,
            stateful=True, kernel=_table_kernel(False), shape=lambda op: [_SCALAR])
register_op("MutableHashTableV2", outputs=["table_handle: resource"], attrs=_TABLE_ATTRS,
            stateful=True, kernel=_table_kernel(True), shape=lambda op: [_SCALAR])
# The TF1 forms hand the table around as a string ref.
register_op("HashTable", outputs=["table_handle: Ref(string)"], attrs=_TABLE_ATTRS,
            stateful=True, kernel=_table_kernel(False),
            shape=lambda op: [tensor_shape.TensorShape([2])])
register_op("MutableHashTable", outputs=["table_handle: Ref(string)"], attrs=_TABLE_ATTRS,
            stateful=True, kernel=_table_kernel(True),
            shape=lambda op: [tensor_shape.TensorShape([2])])


def _fill(op, table, keys, values, replace_existing):
    keys = np.asarray(keys)
    values = np.asarray(values)
    if values.shape[:keys.ndim] != keys.shape:
        raise errors.InvalidArgumentError(
            None, op, "Expected shape %s for value, got %s" % (list(keys.shape),
                                                              list(values.shape)))
    value_shape = values.shape[keys.ndim:]
    flat_values = values.reshape((-1,) + value_shape)
    for k, v in zip(keys.reshape(-1), flat_values):
        k = _key(k)
        if not replace_existing and k in table.entries and not np.array_equal(
                table.entries[k], v):
            raise errors.FailedPreconditionError(
                None, op, "HashTable has different value for same key. Key %s has %s and trying "
                "to add value %s" % (k, table.entries[k], v))
        table.entries[k] = np.array(v)
    table.value_shape = value_shape


def _initialize_kernel(op, ctx):
    def run(table, keys, values):
        table.check_types(op, op._attrs.get("Tkey"), op._attrs.get("Tval"))
        if table.initialized and not table.mutable:
            if _same_entries(table, keys, values):
                return
            raise errors.FailedPreconditionError(
                None, op, "Table was already initialized with different data.")
        _fill(op, table, keys, values, replace_existing=False)
        table.initialized = True
    return run


def _same_entries(table, keys, values):
    keys = np.asarray(keys).reshape(-1)
    values = np.asarray(values).reshape((len(keys),) + table.value_shape) if len(keys) else []
    return len(keys) == len(table.entries) and all(
        _key(k) in table.entries and np.array_equal(table.entries[_key(k)], v)
        for k, v in zip(keys, values))


register_op("InitializeTableV2", inputs=["table_handle: resource", "keys: Tkey", "values: Tval"],
            attrs=["Tkey: type", "Tval: type"], stateful=True, kernel=_initialize_kernel)
register_op("InitializeTable", inputs=["table_handle: Ref(string)", "keys: Tkey",
                                       "values: Tval"],
            attrs=["Tkey: type", "Tval: type"], kernel=_initialize_kernel)

# Column selectors of InitializeTableFromTextFile.
WHOLE_LINE = -1
LINE_NUMBER = -2


def _text_file_kernel(op, ctx):
    attrs = op._attrs
    key_index, value_index = attrs["key_index"], attrs["value_index"]
    vocab_size = attrs.get("vocab_size", -1)
    delimiter = _text(attrs.get("delimiter", b"\t"))
    offset = attrs.get("offset", 0)

    def column(op_, fields, line, number, index, dtype, filename):
        if index == LINE_NUMBER:
            raw = number + offset
        elif index == WHOLE_LINE:
            raw = line
        else:
            if index >= len(fields):
                raise errors.InvalidArgumentError(
                    None, op_, "Invalid number of columns in %s line %d (%s) : expected %d got "
                    "%d" % (filename, number, line, index + 1, len(fields)))
            raw = fields[index]
        if dtype == dtypes.string:
            return raw.encode() if isinstance(raw, str) else raw
        try:
            return dtype.as_numpy.type(raw)
        except ValueError:
            raise errors.InvalidArgumentError(
                None, op_, "Field %s in line %d is not a valid %s." % (raw, number, dtype.name))

    def run(table, filename):
        name = _text(bytes(np.asarray(filename)[()]))
        if table.initialized and not table.mutable:
            return
        text = gfile.read_file(name).decode("utf-8")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if vocab_size != -1:
            if len(lines) < vocab_size:
                raise errors.InvalidArgumentError(
                    None, op, "Invalid vocab_size in %s: expected %d got %d"
                    % (name, vocab_size, len(lines)))
            lines = lines[:vocab_size]
        keys, values = [], []
        for number, line in enumerate(lines):
            fields = line.split(delimiter) if delimiter else line.split()
            keys.append(column(op, fields, line, number, key_index, table.key_dtype, name))
            values.append(column(op, fields, line, number, value_index, table.value_dtype,
                                 name))
        key_array = np.array(keys, dtype=object if table.key_dtype == dtypes.string
                             else table.key_dtype.as_numpy)
        value_array = np.array(values, dtype=object if table.value_dtype == dtypes.string
                               else table.value_dtype.as_numpy)
        _fill(op, table, key_array, value_array, replace_existing=False)
        table.initialized = True
    return run


_TEXT_FILE_ATTRS = ["key_index: int >= -2", "value_index: int >= -2",
                    "vocab_size: int >= -1 = -1", "delimiter: string = '\t'", "offset: int = 0"]
register_op("InitializeTableFromTextFileV2", inputs=["table_handle: resource",
                                                     "filename: string"],
            attrs=_TEXT_FILE_ATTRS, stateful=True, kernel=_text_file_kernel)
register_op("InitializeTableFromTextFile", inputs=["table_handle: Ref(string)",
                                                   "filename: string"],
            attrs=_TEXT_FILE_ATTRS, kernel=_text_file_kernel)


def _find_kernel(op, ctx):
    def run(table, keys, default_value):
        table.check_ready(op)
        keys = np.asarray(keys)
        default = np.asarray(default_value)
        value_shape = table.value_shape
        out_dtype = object if table.value_dtype == dtypes.string else \
            table.value_dtype.as_numpy
        out = np.empty(keys.shape + tuple(value_shape), dtype=out_dtype)
        flat = out.reshape((-1,) + tuple(value_shape))
        for i, k in enumerate(keys.reshape(-1)):
            flat[i] = table.entries.get(_key(k), default)
        return out
    return run


def _find_shape(op):
    keys = op._inputs[1]._shape_val
    default = op._inputs[2]._shape_val
    if keys.ndims is None or default.ndims is None:
        return [tensor_shape.unknown_shape()]
    return [keys.concatenate(default)]


register_op("LookupTableFindV2", inputs=["table_handle: resource", "keys: Tin",
                                         "default_value: Tout"],
            outputs=["values: Tout"], attrs=["Tin: type", "Tout: type"], stateful=True,
            kernel=_find_kernel, shape=_find_shape)
register_op("LookupTableFind", inputs=["table_handle: Ref(string)", "keys: Tin",
                                       "default_value: Tout"],
            outputs=["values: Tout"], attrs=["Tin: type", "Tout: type"], kernel=_find_kernel,
            shape=_find_shape)


def _insert_kernel(op, ctx):
    def run(table, keys, values):
        if not table.mutable:
            raise errors.UnimplementedError(None, op, "Insert is not supported by the static "
                                            "table %s." % table.name)
        _fill(op, table, keys, values, replace_existing=True)
    return run


def _import_kernel(op, ctx):
    def run(table, keys, values):
        if table.mutable:
            table.entries = {}
            _fill(op, table, keys, values, replace_existing=True)
            return
        if table.initialized:
            if _same_entries(table, keys, values):
                return
            raise errors.FailedPreconditionError(
                None, op, "Table was already initialized with different data.")
        _fill(op, table, keys, values, replace_existing=False)
        table.initialized = True
    return run


def _remove_kernel(op, ctx):
    def run(table, keys):
        if not table.mutable:
            raise errors.UnimplementedError(None, op, "Remove is not supported by the static "
                                            "table %s." % table.name)
        for k in np.asarray(keys).reshape(-1):
            table.entries.pop(_key(k), None)
    return run


def _export_kernel(op, ctx):
    def run(table):
        key_dtype = object if table.key_dtype == dtypes.string else table.key_dtype.as_numpy
        value_dtype = object if table.value_dtype == dtypes.string else \
            table.value_dtype.as_numpy
        items = list(table.entries.items())
        keys = np.array([k for k, _ in items], dtype=key_dtype)
        values = np.array([v for _, v in items], dtype=value_dtype).reshape(
            (len(items),) + tuple(table.value_shape))
        return keys, values
    return run


register_op("LookupTableInsertV2", inputs=["table_handle: resource", "keys: Tin",
                                           "values: Tout"],
            attrs=["Tin: type", "Tout: type"], stateful=True, kernel=_insert_kernel)
register_op("LookupTableImportV2", inputs=["table_handle: resource", "keys: Tin",
                                           "values: Tout"],
            attrs=["Tin: type", "Tout: type"], stateful=True, kernel=_import_kernel)
register_op("LookupTableRemoveV2", inputs=["table_handle: resource", "keys: Tin"],
            attrs=["Tin: type"], stateful=True, kernel=_remove_kernel)
register_op("LookupTableSizeV2", inputs=["table_handle: resource"], outputs=["size: int64"],
            stateful=True, compute=lambda table: np.asarray(len(table.entries), np.int64),
            shape=lambda op: [_SCALAR])
register_op("LookupTableSize", inputs=["table_handle: Ref(string)"], outputs=["size: int64"],
            compute=lambda table: np.asarray(len(table.entries), np.int64),
            shape=lambda op: [_SCALAR])
register_op("LookupTableExportV2", inputs=["table_handle: resource"],
            outputs=["keys: Tkeys", "values: Tvalues"], attrs=["Tkeys: type", "Tvalues: type"],
            stateful=True, kernel=_export_kernel,
            shape=lambda op: [tensor_shape.TensorShape([None]), tensor_shape.unknown_shape()])
for _op_type in ("HashTableV2", "MutableHashTableV2", "HashTable", "MutableHashTable",
                 "InitializeTableV2", "InitializeTable", "InitializeTableFromTextFileV2",
                 "InitializeTableFromTextFile", "LookupTableFindV2", "LookupTableFind",
                 "LookupTableInsertV2", "LookupTableImportV2", "LookupTableRemoveV2",
                 "LookupTableSizeV2", "LookupTableSize", "LookupTableExportV2"):
    register_gradient(_op_type, None)


# --- tf.lookup -------------------------------------------------------------------------------------

class KeyValueTensorInitializer:
    """Initializes a table from `keys` and `values` tensors."""

    def __init__(self, keys, values, key_dtype=None, value_dtype=None, name=None):
        with ops.name_scope(name, "key_value_init", [keys, values]) as scope:
            self._keys = ops.convert_to_tensor(keys, dtype=key_dtype, name="keys")
            self._values = ops.convert_to_tensor(values, dtype=value_dtype, name="values")
            self._scope = scope  # the initializer op goes into this same scope
        self.key_dtype = self._keys.dtype.base_dtype
        self.value_dtype = self._values.dtype.base_dtype

    def initialize(self, table):
        with ops.name_scope(self._scope, values=[table.resource_handle, self._keys,
                                                 self._values]):
            init_op = apply_op("LookupTableImportV2", table_handle=table.resource_handle,
                               keys=self._keys, values=self._values)
        ops.add_to_collection(ops.GraphKeys.TABLE_INITIALIZERS, init_op)
        return init_op


class TextFileIndex:
    WHOLE_LINE = WHOLE_LINE
    LINE_NUMBER = LINE_NUMBER


class TextFileInitializer:
    """Initializes a table from a text file: one entry per line, key and value taken from
    columns (or the whole line, or the line number)."""

    def __init__(self, filename, key_dtype, key_index, value_dtype, value_index,
                 vocab_size=None, delimiter="\t", name=None, value_index_offset=0):
        self._filename = filename
        self.key_dtype = dtypes.as_dtype(key_dtype)
        self.value_dtype = dtypes.as_dtype(value_dtype)
        self._key_index = key_index
        self._value_index = value_index
        self._vocab_size = vocab_size
        self._delimiter = delimiter
        self._name = name
        self._offset = value_index_offset

    def initialize(self, table):
        with ops.name_scope(self._name, "text_file_init", (table.resource_handle,)):
            filename = ops.convert_to_tensor(self._filename, dtypes.string, name="asset_filepath")
            init_op = apply_op("InitializeTableFromTextFileV2",
                               table_handle=table.resource_handle, filename=filename,
                               key_index=self._key_index, value_index=self._value_index,
                               vocab_size=-1 if self._vocab_size is None else self._vocab_size,
                               delimiter=self._delimiter, offset=self._offset)
        ops.add_to_collection(ops.GraphKeys.TABLE_INITIALIZERS, init_op)
        if filename.op.type == "Const":
            ops.add_to_collection(ops.GraphKeys.ASSET_FILEPATHS, filename)
        return init_op


class _TableReads:
    """resource_handle, size() and lookup() of a table held in `_resource_handle`; subclasses name lookup's
    default scope suffix (`_LOOKUP_SCOPE`) as TensorFlow does for each table kind."""

    _LOOKUP_SCOPE = "Lookup"

    @property
    def resource_handle(self):
        return self._resource_handle

    def size(self, name=None):
        with ops.name_scope(name, "%s_Size" % self._name, [self._resource_handle]):
            return apply_op("LookupTableSizeV2", table_handle=self._resource_handle)

    def lookup(self, keys, name=None):
        with ops.name_scope(name, "%s_%s" % (self._name, self._LOOKUP_SCOPE),
                            (self._resource_handle, keys, self._default_value)):
            keys = ops.convert_to_tensor(keys, dtype=self.key_dtype, name="keys")
            return apply_op("LookupTableFindV2", table_handle=self._resource_handle, keys=keys,
                            default_value=self._default_value)


class StaticHashTable(_TableReads):
    """An immutable table filled by its initializer (tf.lookup.StaticHashTable /
    tf.contrib.lookup.HashTable); `lookup` returns `default_value` for missing keys."""

    def __init__(self, initializer, default_value, name=None):
        self._initializer = initializer
        self._default_value = default_value
        self._name = name or "hash_table"
        self.key_dtype = initializer.key_dtype
        self.value_dtype = initializer.value_dtype
        self._resource_handle = apply_op(
            "HashTableV2", shared_name="%s_%s" % (self._name, uuid.uuid4()),
            key_dtype=self.key_dtype, value_dtype=self.value_dtype, name=self._name)
        self._init_op = initializer.initialize(self)
        self._default_value = ops.convert_to_tensor(default_value, dtype=self.value_dtype)

    @property
    def initializer(self):
        return self._init_op

    @property
    def default_value(self):
        return self._default_value

    @property
    def name(self):
        return self._name


HashTable = StaticHashTable


class MutableHashTable(_TableReads):
    """A table that grows by `insert` (tf.lookup.experimental.MutableHashTable)."""

    _LOOKUP_SCOPE = "lookup_table_find"

    def __init__(self, key_dtype, value_dtype, default_value, name="MutableHashTable"):
        self.key_dtype = dtypes.as_dtype(key_dtype)
        self.value_dtype = dtypes.as_dtype(value_dtype)
        self._name = name
        self._default_value = ops.convert_to_tensor(default_value, dtype=self.value_dtype)
        self._resource_handle = apply_op(
            "MutableHashTableV2", shared_name="%s_%s" % (name, uuid.uuid4()),
            key_dtype=self.key_dtype, value_dtype=self.value_dtype, name=name)

    def insert(self, keys, values, name=None):
        with ops.name_scope(name, "%s_lookup_table_insert" % self._name,
                            [self._resource_handle, keys, values]):
            keys = ops.convert_to_tensor(keys, self.key_dtype, name="keys")
            values = ops.convert_to_tensor(values, self.value_dtype, name="values")
            return apply_op("LookupTableInsertV2", table_handle=self._resource_handle,
                            keys=keys, values=values)

    def remove(self, keys, name=None):
        with ops.name_scope(name, "%s_lookup_table_remove" % self._name,
                            (self._resource_handle, keys)):
            keys = ops.convert_to_tensor(keys, self.key_dtype, name="keys")
            return apply_op("LookupTableRemoveV2", table_handle=self._resource_handle,
                            keys=keys)

    def export(self, name=None):
        with ops.name_scope(name, "%s_lookup_table_export_values" % self._name,
                            [self._resource_handle]):
            return apply_op("LookupTableExportV2", table_handle=self._resource_handle,
                            Tkeys=self.key_dtype, Tvalues=self.value_dtype)


def tables_initializer(name="init_all_tables"):
    """An op running every table initializer of the graph (a NoOp when there are none)."""
    from tensorkeep.ops import control_flow_ops

    initializers = ops.get_collection(ops.GraphKeys.TABLE_INITIALIZERS)
    if initializers:
        return control_flow_ops.group(*initializers, name=name)
    return control_flow_ops.no_op(name=name)


def index_table_from_tensor(vocabulary_list, default_value=-1, dtype=dtypes.string,
                            name=None):
    """A table mapping each vocabulary entry to its position (`default_value` otherwise)."""
    from tensorkeep.ops import math_ops

    with ops.name_scope(name, "string_to_index"):
        keys = ops.convert_to_tensor(vocabulary_list, dtype=dtype, name="vocabulary_list")
        with ops.name_scope(None, "hash_table"):
            values = math_ops.range(_size_of(keys), dtype=dtypes.int64)
            initializer = KeyValueTensorInitializer(keys, values, dtype, dtypes.int64,
                                                    name="table_init")
            return StaticHashTable(initializer, default_value)


def index_to_string_table_from_tensor(vocabulary_list, default_value="UNK", name=None):
    """A table mapping positions to vocabulary entries (`default_value` otherwise)."""
    from tensorkeep.ops import math_ops

    with ops.name_scope(name, "index_to_string"):
        values = ops.convert_to_tensor(vocabulary_list, dtypes.string, name="vocabulary_list")
        with ops.name_scope(None, "hash_table"):
            keys = math_ops.range(_size_of(values), dtype=dtypes.int64)
            initializer = KeyValueTensorInitializer(keys, values, dtypes.int64, dtypes.string,
                                                    name="table_init")
            return StaticHashTable(initializer, default_value)


def _size_of(tensor):
    from tensorkeep.ops import array_ops

    return array_ops.size(tensor, out_type=dtypes.int64)
