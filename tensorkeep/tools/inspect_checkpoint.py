"""TensorFlow's `tensorflow.python.tools.inspect_checkpoint`, printing what TensorFlow prints.

    from tensorflow.python.tools import inspect_checkpoint as chkp   # under `tensorkeep exec`
    chkp.print_tensors_in_checkpoint_file("model.ckpt", tensor_name="", all_tensors=True)

Also runnable: `python -m tensorkeep.tools.inspect_checkpoint --file_name=model.ckpt
[--tensor_name=v] [--all_tensors] [--all_tensor_names] [--printoptions threshold=10000]`.
For a friendlier view use `tensorkeep inspect`.
"""

import argparse
import re
import sys

import numpy as np

_V2_HINT = """
It's likely that this is a V2 checkpoint and you need to provide the filename
*prefix*.  Try removing the '.' and extension.  Try:
inspect checkpoint --file_name = {}"""


def _parameter_count(reader, count_exclude_pattern=""):
    """Total elements of the checkpoint's tensors, less those whose names match the pattern."""
    shapes = reader.get_variable_to_shape_map()
    if count_exclude_pattern:
        pattern = re.compile(count_exclude_pattern)
        excluded = {name: shape for name, shape in shapes.items() if pattern.search(name)}
        print("# Excluding %d tensors (%d params) that match %s when counting." % (
            len(excluded), sum(int(np.prod(shape)) for shape in excluded.values()), count_exclude_pattern))
        shapes = {name: shape for name, shape in shapes.items() if name not in excluded}
    return sum(int(np.prod(shape)) for shape in shapes.values())


def _print_header(name, dtypes_by_name, shapes_by_name):
    print("tensor: %s (%s) %s" % (name, dtypes_by_name[name].name, shapes_by_name[name]))


def print_tensors_in_checkpoint_file(file_name, tensor_name, all_tensors, all_tensor_names=False,
                                     count_exclude_pattern=""):
    """Print the tensors of a checkpoint as TensorFlow's tool does.

    Without `tensor_name`, one "name (DT_TYPE) [dims]" line per tensor; with it, that
    tensor's dtype, shape and value; with `all_tensors` (or `all_tensor_names`) every
    tensor's header (and value). Then the total parameter count. Errors are printed, not
    raised, with a hint when a V2 checkpoint was named by one of its files.
    """
    from tensorkeep.training.checkpoint_utils import NewCheckpointReader

    try:
        reader = NewCheckpointReader(file_name)
        if all_tensors or all_tensor_names:
            shapes = reader.get_variable_to_shape_map()
            dtypes = reader.get_variable_to_dtype_map()
            for name in sorted(shapes):
                _print_header(name, dtypes, shapes)
                if all_tensors:
                    print(reader.get_tensor(name))
        elif not tensor_name:
            print(reader.debug_string().decode("utf-8", errors="ignore"))
        else:
            if not reader.has_tensor(tensor_name):
                print("Tensor %s not found in checkpoint" % tensor_name)
                return
            _print_header(tensor_name, reader.get_variable_to_dtype_map(), reader.get_variable_to_shape_map())
            print(reader.get_tensor(tensor_name))
        print("# Total number of params: %d" % _parameter_count(reader, count_exclude_pattern))
    except Exception as error:  # Like TensorFlow's tool: report any failure, never raise.
        print(str(error))
        if "corrupted compressed block contents" in str(error):
            print("It's likely that your checkpoint file has been compressed with SNAPPY.")
        if "Data loss" in str(error) and any(part in file_name for part in (".index", ".meta", ".data")):
            print(_V2_HINT.format(".".join(file_name.split(".")[:-1])))


def parse_numpy_printoption(kv_str):
    """Apply one numpy print option given as 'name=value' (argparse type for --printoptions)."""
    name, separator, text = kv_str.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError("'%s' is not in the form k=v." % kv_str)
    options = np.get_printoptions()
    if name not in options:
        raise argparse.ArgumentTypeError("'%s' is not a valid printoption." % name)
    current = options[name]
    if current is None:
        raise argparse.ArgumentTypeError("Setting '%s' from the command line is not supported." % name)
    try:
        if isinstance(current, bool):
            lowered = text.lower()
            if lowered not in ("true", "false", "1", "0", "t", "f"):
                raise ValueError("Non-boolean argument to boolean flag: %s" % text)
            value = lowered in ("true", "1", "t")
        else:
            value = type(current)(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    np.set_printoptions(**{name: value})


def _flag_bool(text):
    return text.lower() == "true"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="inspect_checkpoint")
    parser.add_argument("--file_name", default="",
                        help="Checkpoint filename (for a V2 checkpoint, the prefix shared by its files).")
    parser.add_argument("--tensor_name", default="", help="Name of the tensor to inspect")
    parser.add_argument("--count_exclude_pattern", default="", help="Pattern to exclude tensors when counting.")
    parser.add_argument("--all_tensors", nargs="?", const=True, type=_flag_bool, default=False,
                        help="If True, print the names and values of all the tensors.")
    parser.add_argument("--all_tensor_names", nargs="?", const=True, type=_flag_bool, default=False,
                        help="If True, print the names of all the tensors.")
    parser.add_argument("--printoptions", nargs="*", type=parse_numpy_printoption,
                        help="Argument for numpy.set_printoptions(), in the form 'k=v'.")
    flags, _ = parser.parse_known_args(argv)
    if not flags.file_name:
        print("Usage: inspect_checkpoint --file_name=checkpoint_file_name [--tensor_name=tensor_to_print] "
              "[--all_tensors] [--all_tensor_names] [--printoptions]")
        return 1
    print_tensors_in_checkpoint_file(flags.file_name, flags.tensor_name, flags.all_tensors,
                                     flags.all_tensor_names, count_exclude_pattern=flags.count_exclude_pattern)
    return 0


if __name__ == "__main__":
    sys.exit(main())
