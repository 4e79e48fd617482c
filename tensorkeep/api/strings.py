"""tf.strings: TensorFlow 1.x's string operations."""

from tensorkeep.ops.io_ops import regex_full_match, string_join as join  # noqa: F401
from tensorkeep.ops.string_ops import (  # noqa: F401
    as_string, reduce_join, regex_replace, split, string_format as format,
    string_length as length, string_lower as lower, string_strip as strip,
    string_to_hash_bucket as to_hash_bucket, string_to_hash_bucket_fast as to_hash_bucket_fast,
    string_to_hash_bucket_strong as to_hash_bucket_strong, string_to_number as to_number,
    string_upper as upper, substr)
