"""Reads a state dict saved by PyTorch's legacy `torch.save` format, without torch and without
running anything the file asks for.

The legacy (pre-zip) format is five pickles in a row, then raw bytes: a magic number, the
protocol version, system information (byte order, type sizes), the object itself, and the
list of storage keys; then, for each key in that order, the storage's element count as a
little-endian int64 followed by its elements. Tensors in the object pickle are
`torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` calls whose storage is
a persistent id `("storage", storage_type, key, location, size, view_metadata)`.

Every pickle is read by an unpickler that knows only the handful of globals a state dict
needs (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2` and the float and
integer storage types), each mapped to a stand-in defined here whose state a pickle cannot set
(so one file cannot change how later files are read); any other global is refused
by name before anything runs.

Example:
    >>> import io, pickle
    >>> read_legacy_state_dict(io.BytesIO(pickle.dumps(7)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    zoo.io.torch_pickle.UnsafePickleError: <stream> is not a legacy torch.save file: its magic number is 7, ...
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

# Storage type name -> little-endian element type of its raw bytes.
STORAGE_DTYPES = {"FloatStorage": "<f4", "LongStorage": "<i8"}


class UnsafePickleError(pickle.UnpicklingError):
    """The file is not a plain legacy state dict: a refused global, or a broken layout."""


class _Sealed:
    """A stand-in a pickle may call or read but never change: its state cannot be set (BUILD).

    Without this a file could change the module-level stand-ins, and with them every later read.
    """

    __slots__ = ()

    def __setstate__(self, state):
        raise UnsafePickleError(f"refused to change {self!r}: a state dict never sets an object's state")


class _StorageType(_Sealed):
    """Stands in for `torch.FloatStorage` and friends: just the element type."""

    __slots__ = ("name", "dtype")

    def __init__(self, name: str):
        self.name = name
        self.dtype = np.dtype(STORAGE_DTYPES[name])

    def __repr__(self):
        return f"torch.{self.name}"


class _Storage(_Sealed):
    """One storage: filled from the raw bytes after the pickles."""

    __slots__ = ("key", "dtype", "size", "data")

    def __init__(self, key: str, storage_type: _StorageType, size: int):
        self.key, self.dtype, self.size = key, storage_type.dtype, size
        self.data: np.ndarray | None = None

    def __repr__(self):
        return f"the storage {self.key!r}"


class _Tensor(_Sealed):
    """A tensor waiting for its storage's bytes."""

    __slots__ = ("storage", "offset", "size", "stride")

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def __repr__(self):
        return f"a tensor of {self.storage!r}"

    def _layout_error(self, data: np.ndarray) -> str | None:
        """Why the tensor cannot lie in its storage, or None: it must take no more elements than the
        storage holds from its offset, so that reading it never allocates more than the file holds."""
        size, stride, offset = self.size, self.stride, self.offset
        if not all(type(n) is int for n in (*size, *stride, offset)):  # bool, float, str ... refused
            return "its sizes, strides or offset are not integers"
        if len(size) != len(stride):
            return "it has sizes and strides of different lengths"
        if offset < 0 or any(n < 0 for n in size) or any(s < 0 for s in stride):
            return "its sizes, strides or offset are negative"
        elements = int(np.prod(size, dtype=object)) if size else 1
        available = max(len(data) - offset, 0)
        if elements > available:
            return f"it has {elements} elements, its storage {available} from offset {offset}"
        for n, s in zip(size, stride):
            if s == 0 and n > 1:
                return f"it has stride 0 on a dimension of size {n}"
        if elements and offset + sum((n - 1) * s for n, s in zip(size, stride)) >= len(data):
            return "its last element lies past the end of its storage"
        return None

    def to_numpy(self) -> np.ndarray:
        data = self.storage.data
        error = self._layout_error(data)
        if error is not None:
            raise UnsafePickleError(
                f"a tensor of size {self.size}, stride {self.stride} at offset {self.offset} does not fit "
                f"its storage {self.storage.key!r} of {len(data)} elements: {error}"
            )
        if not self.size:
            return np.array(data[self.offset])
        view = np.lib.stride_tricks.as_strided(
            data[self.offset:], shape=self.size, strides=[s * data.itemsize for s in self.stride]
        )
        return np.array(view)


class _RebuildTensor(_Sealed):
    """Stands in for `torch._utils._rebuild_tensor_v2`: records where the tensor lies."""

    __slots__ = ()

    def __call__(self, storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                 metadata=None):
        if not isinstance(storage, _Storage):
            raise UnsafePickleError(
                f"a tensor's storage must be a persistent storage. Received: {type(storage).__name__}")
        return _Tensor(storage, storage_offset, size, stride)

    def __repr__(self):
        return "torch._utils._rebuild_tensor_v2"


_rebuild_tensor_v2 = _RebuildTensor()


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    **{("torch", name): _StorageType(name) for name in STORAGE_DTYPES},
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the globals of `_ALLOWED`, to stand-ins; storages by persistent id."""

    def __init__(self, file, storages: dict):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except (KeyError, TypeError):
            allowed = ", ".join(f"{m}.{n}" for m, n in _ALLOWED)
            raise UnsafePickleError(
                f"refused to load the global {module}.{name}: a state dict only needs {allowed}"
            ) from None

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str) and isinstance(pid[4], int)):
            raise UnsafePickleError(f"unsupported persistent id {pid!r}: only tensor storages are read")
        _, storage_type, key, _location, size = pid[:5]
        if len(pid) > 5 and pid[5] is not None:
            raise UnsafePickleError(f"storage {key!r} is a view of another storage, which this reader does not read")
        if key not in self.storages:
            self.storages[key] = _Storage(key, storage_type, size)
        return self.storages[key]


def _load(stream, storages, name):
    try:
        return _RestrictedUnpickler(stream, storages).load()
    except UnsafePickleError as error:
        raise UnsafePickleError(f"{name}: {error}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as error:
        raise UnsafePickleError(f"{name} is not a readable legacy torch.save file: {error}") from None


def _convert(value, where: str = ""):
    """Replaces each waiting tensor by its numpy array, through dicts, lists and tuples.

    Args:
        value: What the state dict pickle held.
        where: The key (path of keys) of `value`, for error messages.

    Raises:
        UnsafePickleError: A tensor cannot be read from its storage; the message names its key.
    """
    if isinstance(value, _Tensor):
        try:
            return value.to_numpy()
        except UnsafePickleError as error:
            raise UnsafePickleError(f"tensor {where!r}: {error}") from None
        except (ValueError, TypeError, IndexError, AttributeError, OverflowError, MemoryError) as error:
            raise UnsafePickleError(f"tensor {where!r} cannot be read from its storage: {error}") from None
    if isinstance(value, dict):
        return collections.OrderedDict(
            (key, _convert(item, f"{where}.{key}" if where else str(key))) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(_convert(item, f"{where}[{index}]") for index, item in enumerate(value))
    return value


def read_legacy_state_dict(file) -> collections.OrderedDict:
    """Reads a legacy `torch.save` file of a state dict into numpy arrays.

    Args:
        file: A path or a binary stream positioned at the start of the file.

    Returns:
        The state dict: parameter name -> numpy array (float32 or int64), in file order.

    Raises:
        UnsafePickleError: The file references a global other than the few a
            state dict needs (the message names it; nothing was run), or its
            layout is not the legacy torch.save one (a zip-format file included).
    """
    if isinstance(file, (str, os.PathLike)):
        name = os.fspath(file)
        with open(file, "rb") as handle:
            stream = io.BytesIO(handle.read())
    else:
        name = getattr(file, "name", "<stream>")
        stream = io.BytesIO(file.read())
    if stream.getvalue()[:2] == b"PK":
        raise UnsafePickleError(f"{name} is a zip-format torch.save file (PyTorch 1.6 or later); "
                                "only the legacy format is read")
    storages: dict = {}
    magic = _load(stream, storages, name)
    if magic != MAGIC_NUMBER:
        raise UnsafePickleError(f"{name} is not a legacy torch.save file: its magic number is {magic!r}, "
                                f"expected {MAGIC_NUMBER}")
    protocol = _load(stream, storages, name)
    if protocol != PROTOCOL_VERSION:
        raise UnsafePickleError(f"{name}: unsupported torch.save protocol {protocol!r}, expected {PROTOCOL_VERSION}")
    info = _load(stream, storages, name)
    if not isinstance(info, dict) or not info.get("little_endian", False):
        raise UnsafePickleError(f"{name}: only little-endian files are read. Received system info: {info!r}")
    result = _load(stream, storages, name)
    keys = _load(stream, storages, name)
    if not isinstance(keys, list) or set(keys) != set(storages):
        raise UnsafePickleError(f"{name}: the storage keys {keys!r} do not match the storages the tensors use")
    for key in keys:
        storage = storages[key]
        header = stream.read(8)
        if len(header) != 8:
            raise UnsafePickleError(f"{name}: the file ends before storage {key!r}")
        (count,) = struct.unpack("<q", header)
        if count != storage.size:
            raise UnsafePickleError(
                f"{name}: storage {key!r} holds {count} elements, its tensors expect {storage.size}")
        raw = stream.read(count * storage.dtype.itemsize)
        if len(raw) != count * storage.dtype.itemsize:
            raise UnsafePickleError(f"{name}: the file ends inside storage {key!r}")
        storage.data = np.frombuffer(raw, dtype=storage.dtype)
    if not isinstance(result, dict):
        raise UnsafePickleError(f"{name} holds a {type(result).__name__}, not a state dict")
    try:
        return _convert(result)
    except UnsafePickleError as error:
        raise UnsafePickleError(f"{name}: {error}") from None
