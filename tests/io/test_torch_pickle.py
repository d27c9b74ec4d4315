"""The legacy torch.save reader: reads what a writer of that layout wrote, refuses anything that runs code."""

import builtins
import collections
import os
import pickle
import re
import struct
import sys
import types

import numpy as np
import pytest

from zoo.io.torch_pickle import MAGIC_NUMBER, PROTOCOL_VERSION, UnsafePickleError, read_legacy_state_dict


class _Storage:
    def __init__(self, key, array):
        self.key, self.array = key, np.ascontiguousarray(array).ravel()


class _Tensor:
    """Pickles as torch does: `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)`."""

    rebuild = None  # set by the writer to its stand-in of torch._utils._rebuild_tensor_v2

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce__(self):
        return (type(self).rebuild, (self.storage, self.offset, self.size, self.stride, False,
                                     collections.OrderedDict()))


def _fake_torch(monkeypatch):
    """Modules `torch` and `torch._utils` holding stand-ins, so that pickle writes torch's global names."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):
        raise AssertionError("only pickled, never called")

    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    for name in ("FloatStorage", "LongStorage", "HalfStorage"):
        setattr(torch, name, type(name, (), {"__module__": "torch"}))
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    monkeypatch.setattr(_Tensor, "rebuild", _rebuild_tensor_v2)
    return torch


def write_legacy(path, obj, storages, monkeypatch, storage_types=None, magic=MAGIC_NUMBER):
    """Writes `obj` (whose tensors are `_Tensor`s over `storages`) in the legacy torch.save layout."""
    torch = _fake_torch(monkeypatch)
    storage_types = storage_types or {}

    class Pickler(pickle.Pickler):
        def persistent_id(self, value):
            if isinstance(value, _Storage):
                kind = storage_types.get(value.key) or ("LongStorage" if value.array.dtype == np.int64
                                                        else "FloatStorage")
                return ("storage", getattr(torch, kind), value.key, "cpu", value.array.size, None)
            return None

    with open(path, "wb") as f:
        for header in (magic, PROTOCOL_VERSION,
                       {"protocol_version": PROTOCOL_VERSION, "little_endian": True,
                        "type_sizes": {"short": 2, "int": 4, "long": 4}}):
            pickle.dump(header, f, protocol=2)
        Pickler(f, protocol=2).dump(obj)
        pickle.dump([s.key for s in storages], f, protocol=2)
        for storage in storages:
            f.write(struct.pack("<q", storage.array.size))
            f.write(storage.array.astype(storage.array.dtype.newbyteorder("<")).tobytes())


@pytest.fixture
def tiny_state_dict(tmp_path, monkeypatch):
    """A state dict with a conv kernel, a transposed (strided) view, two tensors sharing a storage,
    and an int64 counter: its file and the arrays it must read back as."""
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(4, 3, 3, 3)).astype("float32")
    matrix = rng.normal(size=(5, 2)).astype("float32")
    shared = rng.normal(size=7).astype("float32")
    weights, biases, counter = _Storage("0", kernel), _Storage("1", matrix), _Storage("2", np.array([12], "int64"))
    pair = _Storage("3", shared)
    state = collections.OrderedDict([
        ("conv.weight", _Tensor(weights, 0, (4, 3, 3, 3), (27, 9, 3, 1))),
        ("fc.weight", _Tensor(biases, 0, (2, 5), (1, 2))),  # matrix.T, as torch stores a transposed view
        ("bn.num_batches_tracked", _Tensor(counter, 0, (), ())),
        ("a.bias", _Tensor(pair, 0, (3,), (1,))),
        ("b.bias", _Tensor(pair, 3, (4,), (1,))),
    ])
    path = tmp_path / "tiny.pth"
    write_legacy(path, state, [weights, biases, counter, pair], monkeypatch)
    expected = {"conv.weight": kernel, "fc.weight": matrix.T, "bn.num_batches_tracked": np.array(12),
                "a.bias": shared[:3], "b.bias": shared[3:]}
    return path, expected


def test_a_tiny_state_dict_reads_back_exactly(tiny_state_dict):
    path, expected = tiny_state_dict
    state = read_legacy_state_dict(path)
    assert list(state) == list(expected)
    for name, array in expected.items():
        assert state[name].dtype == array.dtype and state[name].shape == array.shape, name
        np.testing.assert_array_equal(state[name], array, err_msg=name)
    with open(path, "rb") as stream:  # a stream reads the same
        np.testing.assert_array_equal(read_legacy_state_dict(stream)["fc.weight"], expected["fc.weight"])


class _RunsCode:
    """A pickle payload that creates a marker file when unpickled."""

    def __init__(self, how, marker):
        self.how, self.marker = how, str(marker)

    def __reduce__(self):
        if self.how == "exec":
            return (builtins.exec, (f"open({self.marker!r}, 'w').close()",))
        return (os.system, (f"touch {self.marker}",))


# Protocol 2 names the builtins module `__builtin__`, as Python 2 did; the error gives the name in the file.
@pytest.mark.parametrize("how, refused", [("exec", "__builtin__.exec"), ("system", f"{os.system.__module__}.system")])
def test_a_pickle_that_runs_code_is_refused_by_name_and_nothing_runs(how, refused, tmp_path, monkeypatch):
    # The payload works: an ordinary unpickler runs it.
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_RunsCode(how, control), protocol=2))
    assert control.exists()

    marker = tmp_path / "marker"
    storage = _Storage("0", np.zeros(2, "float32"))
    state = collections.OrderedDict([("w", _Tensor(storage, 0, (2,), (1,))), ("evil", _RunsCode(how, marker))])
    path = tmp_path / "evil.pth"
    write_legacy(path, state, [storage], monkeypatch)
    with pytest.raises(UnsafePickleError, match=f"{path}: refused to load the global {refused}"):
        read_legacy_state_dict(path)
    assert not marker.exists()


def test_a_payload_in_the_header_is_refused_before_the_state_dict(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps(_RunsCode("exec", marker), protocol=2))
    with pytest.raises(UnsafePickleError, match="refused to load the global __builtin__.exec"):
        read_legacy_state_dict(path)
    assert not marker.exists()


def test_a_storage_type_outside_the_list_is_refused_by_name(tmp_path, monkeypatch):
    storage = _Storage("0", np.zeros(2, "float32"))
    path = tmp_path / "half.pth"
    write_legacy(path, {"w": _Tensor(storage, 0, (2,), (1,))}, [storage], monkeypatch,
                 storage_types={"0": "HalfStorage"})
    with pytest.raises(UnsafePickleError, match="refused to load the global torch.HalfStorage"):
        read_legacy_state_dict(path)


def test_broken_files_are_named(tiny_state_dict, tmp_path, monkeypatch):
    path, _ = tiny_state_dict
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(UnsafePickleError, match=f"{truncated}: the file ends inside storage '3'"):
        read_legacy_state_dict(truncated)

    zipped = tmp_path / "new.pth"
    zipped.write_bytes(b"PK\x03\x04" + bytes(40))
    with pytest.raises(UnsafePickleError, match="zip-format torch.save file"):
        read_legacy_state_dict(zipped)

    storage = _Storage("0", np.zeros(2, "float32"))
    magic = tmp_path / "magic.pth"
    write_legacy(magic, {"w": _Tensor(storage, 0, (2,), (1,))}, [storage], monkeypatch, magic=42)
    with pytest.raises(UnsafePickleError, match="its magic number is 42"):
        read_legacy_state_dict(magic)

    outside = tmp_path / "outside.pth"
    write_legacy(outside, {"w": _Tensor(storage, 1, (4,), (1,))}, [storage], monkeypatch)
    with pytest.raises(UnsafePickleError, match="does not fit its storage '0' of 2 elements"):
        read_legacy_state_dict(outside)


def _global_then_build(module, name, state):
    """A protocol-2 pickle that loads the global `module.name`, then BUILDs `state` onto it."""
    return (b"\x80\x02c" + f"{module}\n{name}\n".encode() + pickle.dumps(state, protocol=2)[2:-1] + b"b.")


# Each would change the reader for every later file: a storage type's element type, the defaults of the
# tensor rebuilder (a legitimate call then lacks `metadata`), the attributes of the dict type.
@pytest.mark.parametrize("module, name, state", [
    ("torch", "FloatStorage", {"dtype": "x"}),
    ("torch", "LongStorage", (None, {"dtype": "x"})),
    ("torch._utils", "_rebuild_tensor_v2", (None, {"__defaults__": ()})),
    ("collections", "OrderedDict", (None, {"fromkeys": None})),
])
def test_a_file_cannot_change_the_reader_for_later_files(module, name, state, tiny_state_dict, tmp_path):
    path, expected = tiny_state_dict
    crafted = tmp_path / "crafted.pth"
    crafted.write_bytes(_global_then_build(module, name, state))
    with pytest.raises(UnsafePickleError, match=f"{crafted}.*{module}.{name}"):
        read_legacy_state_dict(crafted)
    state_dict = read_legacy_state_dict(path)
    for key, array in expected.items():
        np.testing.assert_array_equal(state_dict[key], array, err_msg=key)


def test_a_tensor_that_fails_to_convert_is_named_with_its_file(tmp_path, monkeypatch):
    storage = _Storage("0", np.zeros(2, "float32"))
    path = tmp_path / "scalar.pth"
    write_legacy(path, {"w": _Tensor(storage, 5, (), ())}, [storage], monkeypatch)  # a scalar past its storage
    with pytest.raises(UnsafePickleError, match=f"{path}: .*'w'"):
        read_legacy_state_dict(path)


# Over a storage of 4 elements; each would pass a check of the last element's position alone, or
# ask numpy for far more memory than the file holds ((10**6, 10**6) float32 is 4 TB).
@pytest.mark.parametrize("offset, size, stride, reason", [
    (0, (10**6, 10**6), (0, 0), "has 1000000000000 elements, its storage 4 from offset 0"),
    (0, (8,), (0,), "has 8 elements, its storage 4 from offset 0"),
    (0, (2, 2), (0, 1), "stride 0 on a dimension of size 2"),
    (3, (2,), (1,), "has 2 elements, its storage 1 from offset 3"),
    (0, (2, -2), (1, 1), "negative"),
    (0, (2, 2), (2, -1), "negative"),
    (0, (2, 2), (2,), "sizes and strides of different lengths"),
    (0, (2.0, 2), (2, 1), "not integers"),
    (0, (True, 2), (2, 1), "not integers"),
])
def test_a_tensor_larger_than_its_storage_is_refused_by_key(offset, size, stride, reason, tmp_path, monkeypatch):
    storage = _Storage("0", np.arange(4, dtype="float32"))
    path = tmp_path / "large.pth"
    write_legacy(path, {"ok": _Tensor(storage, 0, (2, 2), (2, 1)), "big": _Tensor(storage, offset, size, stride)},
                 [storage], monkeypatch)
    with pytest.raises(UnsafePickleError, match=f"{path}: tensor 'big'.*" + re.escape(reason)):
        read_legacy_state_dict(path)
