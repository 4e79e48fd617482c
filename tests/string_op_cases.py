"""String-op cases run by both tensorkeep and real TensorFlow (tf.compat.v1): each case is an
expression over `tf`; run_cases builds all of them in one graph and reports values or the error
class and message, plus the graph's node names and its ops' NodeDefs."""

CASES = {
    "as_string_float": "tf.as_string([1.5, -2.25, 1e20, float('nan'), float('inf'), 0.0, -0.0])",
    "as_string_precision_width": "tf.as_string([1.5, -2.25], precision=2, width=8, fill='0')",
    "as_string_scientific": "tf.as_string([1.5e-30, 3.4e38], scientific=True, precision=3)",
    "as_string_shortest":
        "tf.as_string(tf.constant([0.1, 1e-7, 123456789.0], tf.float64), shortest=True)",
    "as_string_fill_minus": "tf.as_string([7, -7], width=5, fill='-')",
    "as_string_int_edges": "tf.as_string(tf.constant([-2**63, 2**63 - 1], tf.int64), width=3)",
    "as_string_int32_edges": "tf.as_string(tf.constant([-2**31, 2**31 - 1], tf.int32))",
    "as_string_uint8": "tf.as_string(tf.constant([0, 255], tf.uint8))",
    "as_string_bool": "tf.as_string([True, False])",
    "as_string_complex": "tf.as_string([1.5 + 2j], shortest=True)",
    "as_string_fill_x": "tf.as_string([1.5], fill='x', width=5)",
    "as_string_fill_long": "tf.as_string([1.5], fill='xy')",
    "as_string_int_precision": "tf.as_string([1], precision=2)",
    "as_string_both": "tf.as_string([1.5], scientific=True, shortest=True)",
    "as_string_half": "tf.as_string(tf.constant([1.5, 65504], tf.float16), precision=1)",
    "as_string_bfloat16": "tf.as_string(tf.constant([1.5], tf.bfloat16))",
    "as_string_string": "tf.as_string(tf.constant(['ab', '']), width=4)",
    "as_string_complex128": "tf.as_string(tf.constant([1.5 + 2j], tf.complex128), width=6)",
    "as_string_uint64_edges": "tf.as_string(tf.constant([0, 2**64 - 1], tf.uint64), width=2)",
    "as_string_uint_scientific": "tf.as_string(tf.constant([1], tf.uint64), scientific=True)",
    "as_string_float32_edges":
        "tf.as_string([3.4028235e38, 1.4e-45, -1.17549435e-38], scientific=True, precision=8)",
    "as_string_plus_fill": "tf.as_string([[1.25, -3.0]], fill='+', width=9, precision=1)",
    "as_string_space_fill": "tf.as_string([7], fill=' ', width=4)",
    "to_number_float":
        "tf.string_to_number(['1.5', ' 2', 'inf', '-nan', '1e40', '0x10', '1e-50', '-0'])",
    "to_number_double":
        "tf.string_to_number(['1.7976931348623157e308', '4.9e-324', '.5'], out_type=tf.float64)",
    "to_number_int32":
        "tf.string_to_number(['12', ' 3 ', '+4', '-2147483648', '2147483647'], out_type=tf.int32)",
    "to_number_int32_overflow": "tf.string_to_number(['2147483648'], out_type=tf.int32)",
    "to_number_int_from_float": "tf.string_to_number(['1.0'], out_type=tf.int32)",
    "to_number_bad": "tf.string_to_number(['abc'])",
    "to_number_uint64": "tf.string_to_number(['18446744073709551615', '0'], out_type=tf.uint64)",
    "to_number_uint64_negative": "tf.string_to_number(['-1'], out_type=tf.uint64)",
    "to_number_int64": "tf.string_to_number(['-9223372036854775808'], out_type=tf.int64)",
    "to_number_float_edges":
        "tf.string_to_number(['3.4028235e38', '3.5e38', '-1e39', '1.4e-45', 'NaN', '-Infinity', '1.', '+.5e1'])",
    "to_number_empty": "tf.string_to_number([''])",
    "to_number_space": "tf.string_to_number([' '], out_type=tf.int64)",
    "to_number_underscore": "tf.string_to_number(['1_000'], out_type=tf.int64)",
    "to_number_hex_int": "tf.string_to_number(['0x10'], out_type=tf.int32)",
    "to_number_uint32": "tf.string_to_number(['4294967295', '+7'], out_type=tf.uint32)",
    "to_number_strings_ns": "tf.strings.to_number([['1', '2']], out_type=tf.int64, name='num')",
    "substr_pos_len_shape": "tf.substr('hello', [1, 2], 2)",
    "substr_broadcast_bad": "tf.substr([['ab', 'cd']], [1, 2, 3], [1, 1, 1])",
    "substr_strings_ns": "tf.strings.substr(['abc', 'de'], [0, 1], [2, 5], name='sub')",
    "substr_len_beyond": "tf.substr(['hello'], 4, 10)",
    "substr_utf8_negative": "tf.substr(['h\u00e9llo'], -4, 2, unit='UTF8_CHAR')",
    "reduce_join_bad_axis": "tf.reduce_join([['a', 'b'], ['c', 'd']], 2)",
    "reduce_join_3d":
        "tf.reduce_join(tf.reshape(tf.as_string(tf.range(24)), [2, 3, 4]), [0, 2], separator=',')",
    "reduce_join_keep_none": "tf.reduce_join([['a', 'b']], 0, keep_dims=None)",
    "reduce_join_strings_ns": "tf.strings.reduce_join([['a', 'b']], axis=1, keepdims=True)",
    "reduce_join_order":
        "tf.reduce_join(tf.reshape(tf.as_string(tf.range(24)), [2, 3, 4]), [2, 0], separator=',')",
    "reduce_join_duplicate": "tf.reduce_join([['a', 'b']], [1, -1])",
    "reduce_join_no_axes": "tf.reduce_join([['a', 'b']], tf.constant([], tf.int32))",
    "reduce_join_empty": "tf.reduce_join(tf.constant([], tf.string), 0, separator=',')",
    "as_string_denormal": "tf.as_string([-1.4e-45, 1e-40], scientific=True)",
    "strip_2d": "tf.strings.strip([[' a ', 'b\\r\\n']])",
    "hash_2d": "tf.strings.to_hash_bucket_fast([['x', 'y']], 3)",
    "substr_bytes": "tf.substr(['hello', 'hi'], -2, 2)",
    "substr_vectors": "tf.substr([['ab', 'cd']], [1, 2], [1, 1])",
    "substr_at_end": "tf.substr(['hi'], 2, 1)",
    "substr_negative_len": "tf.substr('hello', 1, -2)",
    "substr_out_of_range": "tf.substr(['hello', 'hi'], 3, 2)",
    "substr_negative_out": "tf.substr(['hello'], -6, 2)",
    "substr_utf8": "tf.substr(['h\u00e9llo', '\u65e5\u672c\u8a9e'], 1, 2, unit='UTF8_CHAR')",
    "substr_utf8_out": "tf.substr('h\u00e9llo', 9, 2, unit='UTF8_CHAR')",
    "regex_replace_first": "tf.regex_replace(['aaa', 'ab', ''], 'a', 'x', replace_global=False)",
    "regex_replace_groups": "tf.regex_replace(['abc', 'xbx'], '(b)', r'[\\1\\0\\\\]')",
    "regex_replace_dynamic": "tf.regex_replace(['abc'], tf.constant('[ac]'), tf.constant('_'))",
    "regex_replace_bad": "tf.regex_replace(['abc'], '(', 'x')",
    "regex_full_match": "tf.strings.regex_full_match(['abc', 'ab', '\u00e9'], 'a.c|.')",
    "regex_full_match_dynamic":
        "tf.strings.regex_full_match(['a1', '\u00e9'], tf.constant(r'\\w\\d|\\w'))",
    "regex_replace_utf8": "tf.regex_replace(['h\u00e9llo \u65e5\u672c'], r'[^\\s]', '.')",
    "regex_replace_empty_matches": "tf.regex_replace(['abc', 'abbc', ''], 'b*', '-')",
    "regex_replace_empty_first": "tf.regex_replace(['abc'], 'x*', '-', replace_global=False)",
    "regex_replace_dollar": "tf.regex_replace(['a\\n', 'ba'], 'a$', 'X')",
    "regex_replace_case": "tf.regex_replace(['ABC abc'], '(?i)b', '_')",
    "regex_replace_dollar_class": "tf.regex_replace(['a$b', 'a]$'], '[]$]', '#')",
    "regex_replace_multiline": "tf.regex_replace(['a\\nb a'], '(?m)a$', 'X')",
    "regex_full_match_newline": "tf.strings.regex_full_match(['a\\n', 'a'], 'a$')",
    "substr_int64": "tf.substr(['hello'], tf.constant(1, tf.int64), tf.constant(2, tf.int64))",
    "regex_full_match_bad": "tf.strings.regex_full_match(['abc'], '(')",
    "base64_encode": "tf.encode_base64(['hi', '', '\\xff\\xfe\\xfd', 'hello world'])",
    "base64_encode_pad": "tf.encode_base64(['hi', '', '\\xff\\xfe\\xfd'], pad=True)",
    "base64_decode": "tf.decode_base64(['aGk', 'aGk=', '_-8', ''])",
    "base64_decode_mod1": "tf.decode_base64(['a'])",
    "base64_decode_bad": "tf.decode_base64(['a+b'])",
    "strip": "tf.string_strip([' \\t a b\\n ', '', 'x'])",
    "length": "tf.strings.length(['h\u00e9llo', ''])",
    "length_utf8": "tf.strings.length(['h\u00e9llo', '', '\u65e5\u672c'], unit='UTF8_CHAR')",
    "upper": "tf.strings.upper(['h\u00e9llo Ab'])",
    "upper_utf8": "tf.strings.upper(['h\u00e9llo'], encoding='utf-8')",
    "lower_utf8": "tf.strings.lower(['\u00c9A'], encoding='utf-8')",
    "lower_latin1": "tf.strings.lower(['\u00c9A'], encoding='latin1')",
    "split": "tf.string_split(['a b  c', '', 'd'])",
    "split_keep_empty": "tf.string_split(['a,b,,c'], delimiter=',', skip_empty=False)",
    "split_delimiter_set": "tf.string_split(['a,b;c'], delimiter=',;')",
    "split_matrix": "tf.string_split([['a b']])",
    "split_scalar": "tf.string_split('a b')",
    "split_sep_vector": "tf.string_split(['a b'], delimiter=[' ', ','])",
    "split_sep_alias": "tf.string_split(['a,b c'], sep=',', name='ss')",
    "split_chars": "tf.string_split(['abc', 'de'], delimiter='')",
    "split_v2_whitespace": "tf.strings.split(['a  b c ', ' '], maxsplit=1)",
    "split_v2_sep": "tf.strings.split(['a,,b', ''], sep=',')",
    "split_v2_scalar": "tf.strings.split('a b', name='sp')",
    "hash_fast": "tf.string_to_hash_bucket_fast(['', 'a', 'hello', '\u00e9'], 1000)",
    "hash_legacy": "tf.string_to_hash_bucket(['', 'a', 'hello', '\u00e9'], 1000)",
    "hash_strong": "tf.string_to_hash_bucket_strong(['', 'a', 'hello'], 1000, [1, 2])",
    "hash_strong_key": "tf.string_to_hash_bucket_strong(['a'], 1000, [1])",
    "reduce_join_axis0": "tf.reduce_join([['a', 'b'], ['c', 'd']], 0, separator='-')",
    "reduce_join_keep": "tf.reduce_join([['a', 'b'], ['c', 'd']], -1, keep_dims=True)",
    "reduce_join_all": "tf.reduce_join([['a', 'b'], ['c', 'd']])",
    "reduce_join_all_3d": "tf.reduce_join(tf.reshape(tf.as_string(tf.range(8)), [2, 2, 2]))",
    "reduce_join_list": "tf.reduce_join([['a', 'b'], ['c', 'd']], [1, 0], name='rj')",
    "strings_join": "tf.strings.join([['a', 'b'], 'c'], separator='+')",
    "strings_format": "tf.strings.format('x={} y={}', [tf.constant([1, 2]), tf.constant('s')])",
    "strings_format_strings":
        "tf.strings.format('<{}>', tf.constant([['a', 'b\"'], ['c', 'd']]), summarize=1)",
    "strings_format_long":
        "tf.strings.format('{} and {}', [tf.range(10), tf.reshape(tf.range(60.0), [3, 4, 5])], summarize=2)",
    "strings_format_all": "tf.strings.format('{}', tf.reshape(tf.range(6), [2, 3]), summarize=-1)",
    "strings_format_empty":
        "tf.strings.format('{}{}', [tf.reshape(tf.constant([], tf.float32), [0, 2]), tf.constant(True)])",
    "strings_format_count": "tf.strings.format('x={} y={}', tf.constant(1))",
}


def run_cases(tf, cases):
    import numpy as np

    out = {}
    for name, code in cases.items():
        graph = tf.Graph()
        with graph.as_default():
            try:
                built = eval(code, {"tf": tf})  # noqa: S307 (the case's expression)
            except ValueError as failure:
                out[name] = {"build_error": str(failure).split(" for '")[0]}
                continue
            nodes = sorted(op.name for op in graph.get_operations())
            # The ops themselves (constants aside): type, inputs and every attr, as text.
            defs = sorted([node.name, node.op, list(node.input),
                           {key: str(node.attr[key]) for key in node.attr}]
                          for node in graph.as_graph_def().node if node.op != "Const")
            fetch = [built.indices, built.values, built.dense_shape] if hasattr(
                built, "dense_shape") else [built]
            try:
                with tf.Session() as session:
                    values = session.run(fetch)
            except tf.errors.OpError as failure:
                message = failure.message
                if "\nNode: '" in message:  # TensorFlow prefixes where the node was built
                    message = message.split("\nNode: '", 1)[1].split("\n", 1)[1]
                out[name] = {"nodes": nodes, "defs": defs, "error": type(failure).__name__,
                             "message": message.split("\n\t [[")[0]}
                continue
        out[name] = {"nodes": nodes, "defs": defs, "values": encode_values(values),
                     "graph_def": graph.as_graph_def().SerializeToString().hex(),
                     "fetches": [tensor.name for tensor in fetch]}
    return out


def encode_values(values):
    import numpy as np

    return [{"dtype": str(np.asarray(v).dtype), "shape": list(np.shape(v)),
             "data": [x.hex() if isinstance(x, bytes) else repr(x)
                      for x in np.asarray(v).reshape(-1).tolist()]} for v in values]


def run_graph_defs(tf, results):
    """Runs each case's serialized GraphDef (from the other system) here: the values."""
    out = {}
    for name, result in results.items():
        if "graph_def" not in result:
            continue
        graph_def = tf.GraphDef.FromString(bytes.fromhex(result["graph_def"]))
        with tf.Graph().as_default() as graph:
            tf.import_graph_def(graph_def, name="")
            with tf.Session(graph=graph) as session:
                out[name] = encode_values(session.run(result["fetches"]))
    return out
