"""PyTorch state_dict files ({name: tensor} saved by torch.save), for torch.load(weights_only=True).

torch.save writes one dict whose tensors must all exist when it is called, so the file
cannot be streamed tensor by tensor. To keep memory low anyway, tensors of a local V2
checkpoint that need no cast are memory-mapped from its data file (their checksum is
verified first) and the operating system pages them in and out while torch writes them;
other tensors are read into memory, so then the whole state dict is held at once.
"""

import os
import tempfile

from tensorkeep.io import gfile, numpy_codec
from tensorkeep.tools.common import CommandError, MissingExtraError, contiguous, dtype_name, local_path

from . import TensorInfo

# DataType -> torch dtype name, for types whose storage numpy cannot hand to torch directly.
_BIT_VIEWS = {14: ("int16", "bfloat16"), 24: ("uint8", "float8_e5m2"), 25: ("uint8", "float8_e4m3fn")}
_TORCH_NATIVE = {1, 2, 3, 4, 5, 6, 8, 9, 10, 17, 18, 19, 22, 23}


def _import_torch(action):
    try:
        import torch
    except ImportError:
        raise MissingExtraError(action, "torch") from None
    return torch


def _to_torch(torch, info, value):
    if info.datatype in _TORCH_NATIVE:
        return torch.from_numpy(contiguous(value))
    if info.datatype in _BIT_VIEWS:
        storage, torch_name = _BIT_VIEWS[info.datatype]
        bits = torch.from_numpy(contiguous(value).view(storage))
        return bits.view(getattr(torch, torch_name))
    kind = "string" if info.datatype == numpy_codec.DT_STRING else dtype_name(info.datatype)
    raise CommandError(f"tensor {info.name} is a {kind} tensor, which a PyTorch state_dict cannot hold "
                       "(leave it out with --exclude, or convert to npz or a checkpoint)")


def write(path, infos, fetch, mapped=None):
    """Write the state dict; `mapped(index)` may give a memory-mapped value instead of `fetch`."""
    torch = _import_torch("writing PyTorch files")
    state = {}
    for index, info in enumerate(infos):
        value = mapped(index) if mapped is not None else None
        if value is None:
            value = fetch(index)
        state[info.name] = _to_torch(torch, info, value)
    local = local_path(path)
    if local is not None:
        directory = os.path.dirname(os.path.abspath(local))
        os.makedirs(directory, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=os.path.basename(local) + ".tmp")
        os.close(handle)
        try:
            torch.save(state, temporary)
            os.replace(temporary, local)
        except BaseException:
            os.remove(temporary)
            raise
        return
    with tempfile.TemporaryDirectory() as directory:
        temporary = os.path.join(directory, "state_dict.pt")
        torch.save(state, temporary)
        gfile.copy(temporary, path, overwrite=True)


_DATATYPE_OF_TORCH = {
    "float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6, "complex64": 8, "int64": 9,
    "bool": 10, "bfloat16": 14, "uint16": 17, "complex128": 18, "float16": 19, "uint32": 22, "uint64": 23,
    "float8_e5m2": 24, "float8_e4m3fn": 25,
}


class TorchSource:
    """A state dict of tensors (nested dicts are flattened with '.' as PyTorch names them)."""

    def __init__(self, path):
        torch = _import_torch("reading PyTorch files")
        self.path = path
        self._torch = torch
        local = local_path(path)
        if not gfile.exists(path):
            raise CommandError(f"{path}: no such file")
        try:
            if local is not None:
                state = torch.load(local, map_location="cpu", weights_only=True, mmap=True)
            else:
                with gfile.GFile(path, "rb") as handle:
                    state = torch.load(handle, map_location="cpu", weights_only=True)
        except Exception as error:  # torch raises many kinds (pickle, zip, runtime) for foreign files
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise CommandError(f"{path} cannot be loaded as a PyTorch state dict "
                               f"(torch.load with weights_only=True: {first_line})") from None
        self._tensors = {}
        self._flatten(torch, state, "")
        self.tensors = []
        for name, tensor in self._tensors.items():
            torch_name = str(tensor.dtype).replace("torch.", "")
            datatype = _DATATYPE_OF_TORCH.get(torch_name)
            if datatype is None:
                raise CommandError(f"{path}: tensor {name} has dtype {torch_name}, which TensorFlow has no type for")
            self.tensors.append(TensorInfo(name, datatype, tuple(tensor.shape)))

    def _flatten(self, torch, value, prefix):
        if isinstance(value, torch.Tensor):
            self._tensors[prefix.rstrip(".")] = value
        elif isinstance(value, dict):
            for key, item in value.items():
                self._flatten(torch, item, f"{prefix}{key}.")
        else:
            raise CommandError(f"{self.path}: {prefix.rstrip('.') or 'the file'} holds a "
                               f"{type(value).__name__}, not tensors")

    def read(self, name):
        tensor = self._tensors[name].detach().contiguous()
        info_dtype = str(tensor.dtype).replace("torch.", "")
        storage = numpy_codec.numpy_dtype(_DATATYPE_OF_TORCH[info_dtype])
        if info_dtype in ("bfloat16", "float8_e5m2", "float8_e4m3fn"):
            bits = tensor.view(self._torch.int16 if storage.itemsize == 2 else self._torch.uint8)
            return bits.numpy().view(storage).copy()
        return tensor.numpy().copy()

    def close(self):
        self._tensors.clear()
