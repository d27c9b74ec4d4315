"""Files that never cost a user their work: exports replace only earlier exports, a refused run removes nothing,
card files follow the umask, a read-only destination is named."""

import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

import zoo
from zoo.io.atomic import write_text, writing
from zoo.io.export_targets import check_export_target
from zoo.training import run as training_run

ROOT = Path(__file__).resolve().parents[2]


def _zoo(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "zoo", *map(str, args)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)


def _project(tmp_path):
    project = tmp_path / "my_project"
    (project / "src").mkdir(parents=True)
    (project / "notes.txt").write_text("notes")
    (project / "src" / "train.py").write_text("print('mine')")
    return project


def _tiny_model():
    images = keras.Input((8, 8, 3), name="image")
    pooled = keras.layers.GlobalAveragePooling2D()(images)
    return keras.Model(images, {"tags": keras.layers.Dense(2, activation="sigmoid", name="tags")(pooled)})


def test_export_refuses_a_folder_that_no_export_wrote_before_any_work(tmp_path):
    project = _project(tmp_path)
    with pytest.raises(FileExistsError) as caught:
        zoo.export(_tiny_model(), project, format="saved_model")
    assert str(caught.value) == (
        f"Refusing to replace {str(project)!r}: it is a folder that no saved_model export wrote (it has no "
        f"saved_model.pb and assets.extra/zoo_metadata.json). Choose another path, or remove it first. "
        f"Received: path={str(project)!r}")
    folder = tmp_path / "x.onnx"
    folder.mkdir()
    (folder / "keep.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="it is a folder, and a onnx export is one .onnx file"):
        zoo.export(_tiny_model(), folder, format="onnx")
    assert (project / "notes.txt").read_text() == "notes" and (project / "src" / "train.py").is_file()
    assert (folder / "keep.txt").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my_project", "x.onnx"]  # no temporary left


def test_earlier_exports_and_free_places_are_accepted(tmp_path):
    earlier = tmp_path / "served"
    (earlier / "assets.extra").mkdir(parents=True)
    (earlier / "saved_model.pb").write_bytes(b"pb")
    (earlier / "assets.extra" / "zoo_metadata.json").write_text("{}")
    (tmp_path / "empty").mkdir()
    (tmp_path / "m.onnx").write_bytes(b"onnx")
    for path, format in [(earlier, "saved_model"), (tmp_path / "empty", "saved_model"), (tmp_path / "new", "litert"),
                         (tmp_path / "m.onnx", "onnx")]:
        check_export_target(path, format)


def test_zoo_export_names_output_for_a_foreign_folder_and_a_read_only_one(tmp_path):
    project = _project(tmp_path)
    model = tmp_path / "m.keras"
    model.write_bytes(b"never read: the arguments are refused first")
    result = _zoo("export", model, "--format", "saved_model", "--output", project)
    assert result.returncode == 1
    assert result.stderr.startswith(f"zoo export: error: --output: Refusing to replace {str(project)!r}: it is a "
                                    "folder that no saved_model export wrote")
    assert result.stderr.rstrip().endswith(f"Choose another --output, or remove it first. Received: --output {project}")
    assert (project / "notes.txt").is_file() and (project / "src" / "train.py").is_file()
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = _zoo("export", model, "--format", "onnx", "--output", blocker / "m.onnx")
    assert result.stderr == (f"zoo export: error: --output: cannot write there: {str(blocker)!r} is not a writable "
                             f"folder. Received: --output {blocker / 'm.onnx'}\n")
    locked = tmp_path / "read_only"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("this user writes into read-only folders (root)")
        result = _zoo("export", model, "--format", "onnx", "--output", locked / "m.onnx")
    finally:
        locked.chmod(0o755)
    assert result.returncode == 1
    assert result.stderr == (f"zoo export: error: --output: cannot write there: {str(locked)!r} is not a writable "
                             f"folder. Received: --output {locked / 'm.onnx'}\n")


def test_a_write_into_a_read_only_folder_names_the_destination(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(PermissionError) as caught:
        write_text(tmp_path / "m.onnx", "x")
    assert str(caught.value) == f"Cannot write {str(tmp_path / 'm.onnx')!r}: its folder {str(tmp_path)!r} is not writable."


def test_a_failed_write_leaves_the_destination_and_no_temporary(tmp_path):
    path = tmp_path / "report.csv"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with writing(path) as temporary:
            temporary.write_text("half")
            raise RuntimeError("interrupted")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["report.csv"]


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_model_card_files_follow_the_umask_like_models(tmp_path, umask):
    model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3), weights=None,
                      compile=False)
    previous = os.umask(umask)
    try:
        zoo.save_model(model, tmp_path / "m.keras", card=True)
    finally:
        os.umask(previous)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes == dict.fromkeys(["MODEL_CARD.json", "MODEL_CARD.md", "m.keras"], 0o666 & ~umask)


def test_a_run_refused_by_the_hold_never_removes_the_folder_of_the_run_holding_it(tmp_path, monkeypatch):
    output = tmp_path / "run"
    lock = training_run._lock
    other = {}

    def the_other_run_locks_first(handle):  # this run made the folder, the other one took it first
        other["handle"] = open(output / training_run.LOCK_FILE, "a+")
        lock(other["handle"])
        (output / "split.csv").write_text("the other run's")
        lock(handle)

    monkeypatch.setattr(training_run, "_lock", the_other_run_locks_first)
    try:
        with pytest.raises(training_run.RunError, match="another zoo train"):
            with training_run.holding(output):
                raise AssertionError("never reached")
        assert (output / "split.csv").read_text() == "the other run's"
    finally:
        other["handle"].close()


def test_a_failed_run_removes_only_a_folder_it_made(tmp_path):
    made, existing = tmp_path / "made", tmp_path / "existing"
    existing.mkdir()
    (existing / "notes.txt").write_text("mine")
    for output in (made, existing):
        with pytest.raises(RuntimeError):
            with training_run.holding(output):
                (output / "split.csv").write_text("rows")
                raise RuntimeError("no images")
    assert not made.exists()
    assert sorted(p.name for p in existing.iterdir()) == [".lock", "notes.txt", "split.csv"]
