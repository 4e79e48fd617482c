"""Tensor file formats that `tensorkeep convert` reads and writes, one tensor at a time.

A *source* lists its tensors (`tensors`: TensorInfo in the order they are stored, which
keeps round trips byte-exact) and reads one by value (`read(name)`: a numpy array in the
storage dtype of its DataType, strings as an object array of bytes). A *writer* is
`write(path, infos, fetch)`: it writes the tensors described by `infos` (TensorInfo in
output order) getting each value from `fetch(index)` only when it needs it.
"""

from typing import NamedTuple

from tensorkeep.tools.common import CommandError

FORMATS = ("checkpoint", "safetensors", "npz", "torch")
_EXTENSIONS = {".safetensors": "safetensors", ".npz": "npz", ".pt": "torch", ".pth": "torch"}


class TensorInfo(NamedTuple):
    name: str
    datatype: int  # TensorFlow DataType enum
    shape: tuple


def format_of(path, explicit=None):
    """The format named by `explicit`, else by `path`'s extension; no extension means checkpoint."""
    if explicit:
        return explicit
    lowered = path.lower().rstrip("/")
    for extension, name in _EXTENSIONS.items():
        if lowered.endswith(extension):
            return name
    return "checkpoint"


def open_source(path, fmt):
    if fmt == "checkpoint":
        from .checkpoint_format import CheckpointSource

        return CheckpointSource(path)
    if fmt == "safetensors":
        from .safetensors_format import SafetensorsSource

        return SafetensorsSource(path)
    if fmt == "npz":
        from .npz_format import NpzSource

        return NpzSource(path)
    if fmt == "torch":
        from .torch_format import TorchSource

        return TorchSource(path)
    raise CommandError(f"unknown input format {fmt!r} (one of {', '.join(FORMATS)})")


def writer(fmt):
    if fmt == "checkpoint":
        from .checkpoint_format import write
    elif fmt == "safetensors":
        from .safetensors_format import write
    elif fmt == "npz":
        from .npz_format import write
    elif fmt == "torch":
        from .torch_format import write
    else:
        raise CommandError(f"unknown output format {fmt!r} (one of {', '.join(FORMATS)})")
    return write
