"""tf.lookup (TensorFlow 1.x): hash tables and their initializers."""

from types import SimpleNamespace

from tensorkeep.ops.lookup_ops import (  # noqa: F401
    StaticHashTable, KeyValueTensorInitializer, TextFileInitializer, TextFileIndex,
    MutableHashTable, index_table_from_tensor, index_to_string_table_from_tensor)

experimental = SimpleNamespace(MutableHashTable=MutableHashTable)
