"""Model files on disk: temporaries of killed saves, permissions, cut-short and oversized files."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import keras
import pytest

import zoo
from zoo.io.file_checks import default_h5_limit
from zoo.io.partials import PARTIAL_MARKER, remove_abandoned_partials

REPOSITORY = Path(zoo.__file__).resolve().parents[1]

SLOW_SAVE = textwrap.dedent(
    """
    import sys, time
    import keras
    import zoo

    from zoo.io import saving

    def slowly(write):
        def write_then_wait(*args, **kwargs):
            write(*args, **kwargs)
            print("written", flush=True)
            time.sleep(600)
        return write_then_wait

    keras.Model.save = slowly(keras.Model.save)  # .keras
    saving.keras2_compat.save_h5 = slowly(saving.keras2_compat.save_h5)  # .h5
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    zoo.save_model(model, sys.argv[1])
    """
)


@pytest.fixture
def model():
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])


def _partials(folder):
    return sorted(p.name for p in folder.iterdir() if PARTIAL_MARKER in p.name)


def _save_then_kill(path):
    """Starts a save of `path` in another process and kills it with SIGKILL once its temporary is written."""
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen([sys.executable, "-c", SLOW_SAVE, str(path)], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=environment, text=True)
    try:
        assert process.stdout.readline().strip() == "written"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_next_save_removes_temporaries_of_a_killed_save(suffix, model, tmp_path):
    path = tmp_path / f"m{suffix}"
    zoo.save_model(model, path)
    before = path.read_bytes()
    _save_then_kill(path)
    assert path.read_bytes() == before
    assert _partials(tmp_path)  # what SIGKILL leaves behind
    zoo.save_model(model, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    zoo.load_model(path)


def test_temporaries_of_a_running_save_or_another_file_are_kept(tmp_path):
    destination = tmp_path / "m.keras"
    running = tmp_path / f".m.keras{PARTIAL_MARKER}{os.getpid()}-{zoo.io.partials.host()}-0000.keras"
    other_file = tmp_path / f".n.keras{PARTIAL_MARKER}999999999-{zoo.io.partials.host()}-0000.keras"
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    abandoned = tmp_path / f".m.keras{PARTIAL_MARKER}{finished.stdout.strip()}-{zoo.io.partials.host()}-0000.keras"
    for partial in (running, other_file, abandoned):
        partial.write_bytes(b"partial")
    assert remove_abandoned_partials(destination) == [abandoned]
    assert _partials(tmp_path) == sorted([running.name, other_file.name])


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_saved_file_mode_follows_the_umask(suffix, umask, model, tmp_path):
    previous = os.umask(umask)
    try:
        zoo.save_model(model, tmp_path / f"m{suffix}")
    finally:
        os.umask(previous)
    assert (tmp_path / f"m{suffix}").stat().st_mode & 0o777 == 0o666 & ~umask


def test_cut_short_keras_file_is_named(model, tmp_path):
    path = tmp_path / "m.keras"
    zoo.save_model(model, path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match=f"not a complete .keras file: {path}"):
        zoo.load_model(path)


def _declare_huge_datasets(path, count=4, each=4 * 2**30 - 4096):
    """A tiny HDF5 file whose chunked datasets declare `count * each` bytes, none written."""
    with h5py.File(path, "w") as f:
        for i in range(count):
            f.create_dataset(f"w{i}", shape=(each,), dtype="uint8", chunks=(2**16,), compression="gzip",
                             fillvalue=1)


def test_h5_declaring_more_than_the_limit_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "crafted.h5"
    _declare_huge_datasets(path)
    assert path.stat().st_size < 100_000
    limit = 16 * path.stat().st_size  # the file alone sets it, however much memory is free
    assert default_h5_limit(path) == limit

    def never(*args, **kwargs):
        raise AssertionError("Keras read the file")

    monkeypatch.setattr(keras.models, "load_model", never)
    declared = 4 * (4 * 2**30 - 4096)
    with pytest.raises(ValueError) as caught:
        zoo.load_model(path)
    assert str(caught.value) == (
        f"Refusing to load {path}: its datasets declare {declared:,} bytes, more than {limit:,} bytes "
        f"(the default limit, 16x the file size ({path.stat().st_size:,} bytes)). If you trust the file, raise "
        f"the limit with "
        f"`zoo.load_model(path, max_bytes={declared})`. Received: max_bytes=None"
    )


def test_h5_limit_is_a_parameter(model, tmp_path):
    path = tmp_path / "m.h5"
    zoo.save_model(model, path)
    with pytest.raises(ValueError, match=r"declare 32 bytes, more than 16 bytes \(the given limit\).*"
                                         r"Received: max_bytes=16"):
        zoo.load_model(path, max_bytes=16)
    assert zoo.load_model(path, max_bytes=32).count_params() == 8
    with pytest.raises(ValueError, match=r"Received: max_bytes='1GB'"):
        zoo.load_model(path, max_bytes="1GB")
