import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.data import DataError


@pytest.fixture
def model():
    heads = [zoo.Head("color", ["black", "red"], kind="multiclass"), zoo.Head("tags", ["a", "b", "c"]),
             zoo.Head("person", ["person"], kind="binary")]
    return zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3))


@pytest.fixture
def photos(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "nested").mkdir()
    paths = [tmp_path / "a.jpg", tmp_path / "nested" / "b.png", tmp_path / "c.jpg"]
    for path in paths:
        Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)).save(path)
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path, paths


def test_predict_files_and_folders_to_a_frame(model, photos, tmp_path):
    folder, paths = photos
    model.get_layer("tags_logits").bias.assign([5.0, -5.0, 5.0])  # a and c, not b
    zoo.models.card.update_head(model, "tags", threshold=[0.5, 0.5, 0.9999])  # ... but c needs > 0.9999
    zoo.save_model(model, tmp_path / "m.h5")
    predictor = zoo.Predictor(tmp_path / "m.h5")
    frame = predictor.predict(folder)
    assert frame["file"].tolist() == sorted(str(p) for p in paths)  # the .txt file is not an image
    assert set(frame["color"]) <= {"black", "red"}
    assert set(frame["person"]) <= {"person", "(none)"}
    assert {"color:black", "color:red", "tags:a", "tags:b", "tags:c", "person:person"} <= set(frame.columns)
    probabilities = frame[["tags:a", "tags:b", "tags:c"]].to_numpy()
    expected = [" ".join(np.array(["a", "b", "c"])[row > np.array([0.5, 0.5, 0.9999])]) or "(none)"
                for row in probabilities]
    assert frame["tags"].tolist() == expected
    np.testing.assert_allclose(frame["color:black"] + frame["color:red"], 1.0, atol=1e-5)


def test_predict_matches_a_hand_written_load_and_predict(model, photos):
    _, paths = photos
    frame = zoo.Predictor(model).predict([str(p) for p in paths])
    import tensorflow as tf

    by_hand = np.stack([tf.image.resize(np.asarray(Image.open(p).convert("RGB"), "float32"), (32, 32),
                                        antialias=True).numpy() for p in paths])
    expected = model.predict(by_hand, verbose=0)
    np.testing.assert_allclose(frame[["tags:a", "tags:b", "tags:c"]].to_numpy(), expected["tags"], atol=1e-3)


def test_predict_arrays_of_any_size_and_a_dataset(model):
    rng = np.random.default_rng(1)
    frame = zoo.Predictor(model).predict(rng.uniform(0, 255, (3, 64, 48, 3)))
    assert frame["file"].tolist() == [0, 1, 2]
    single = zoo.Predictor(model).predict(rng.uniform(0, 255, (32, 32, 3)))
    assert len(single) == 1
    import tensorflow as tf

    images = rng.uniform(0, 255, (5, 32, 32, 3)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices((images, np.zeros(5))).batch(2)
    from_dataset = zoo.Predictor(model).predict(dataset)
    direct = zoo.Predictor(model).predict(images)
    np.testing.assert_allclose(from_dataset["tags:a"], direct["tags:a"], atol=1e-5)
    with pytest.raises(ValueError, match=r"Received: shape \(2, 32, 32\)"):
        zoo.Predictor(model).predict(np.zeros((2, 32, 32)))


def test_unreadable_files_raise_or_are_skipped(model, photos):
    folder, paths = photos
    bad = folder / "broken.jpg"
    bad.write_text("no")
    with pytest.raises(DataError, match="broken.jpg: unreadable image"):
        zoo.Predictor(model).predict(folder)
    predictor = zoo.Predictor(model, on_error="skip")
    assert len(predictor.predict(folder)) == 3
    assert sorted(line.split(": ", 1)[1].split(" (")[0] for line in predictor.skipped) == [
        "not an image file", "unreadable image"]  # notes.txt is counted too, as zoo train --folders counts it
    (folder / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty holds no image files"):
        zoo.Predictor(model).predict(folder / "empty")


def test_empty_marker_top_class_and_top_k(model, photos):
    folder, _ = photos
    model.get_layer("tags_logits").bias.assign([-9.0, -5.0, -7.0])  # nothing above 0.5: b is the likeliest
    model.get_layer("person_logits").bias.assign([4.0])
    frame = zoo.Predictor(model).predict(folder, top_k=2)
    assert frame["tags"].tolist() == ["(none)"] * 3
    assert frame["tags:top"].tolist() == ["b"] * 3
    np.testing.assert_allclose(frame["tags:top_probability"], frame["tags:b"])
    first = frame.iloc[0]
    assert first["tags:top_k"] == f"b {first['tags:b']:.2f}; c {first['tags:c']:.2f}"
    assert first["person"] == "person" and first["person:top"] == "person"
    assert first["person:top_k"] == f"person {first['person:person']:.2f}; not person {1 - first['person:person']:.2f}"
    colors = frame[["color:black", "color:red"]].to_numpy()
    assert frame["color:top"].tolist() == [["black", "red"][i] for i in colors.argmax(axis=1)]
    np.testing.assert_allclose(frame["color:top_probability"], colors.max(axis=1))
    assert list(frame.columns[:5]) == ["file", "color", "color:top", "color:top_probability", "color:top_k"]
    assert "tags:top_k" not in zoo.Predictor(model).predict(folder).columns
    lines = zoo.evaluation.predict.preview(frame, zoo.Predictor(model).heads, limit=2)
    assert lines[0].startswith("a.jpg  color: ") and f"tags: (none) ({first['tags:b']:.2f} for b)" in lines[0]
    assert lines[-1] == "... and 1 more"
    with pytest.raises(ValueError, match="Received: top_k=0"):
        zoo.Predictor(model).predict(folder, top_k=0)


def test_progress_lines_without_escape_codes_off_a_terminal(model, capsys):
    zoo.Predictor(model, batch_size=1).predict(np.zeros((12, 32, 32, 3)))
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out
    lines = out.splitlines()
    assert lines[0].startswith("predict 1/12 batches  elapsed 0:0") and ", left ~" in lines[0]
    assert lines[-1].startswith("predict 12/12 batches  elapsed")


def test_redirected_zoo_predict_writes_plain_progress_lines(model, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    import pandas as pd

    rng = np.random.default_rng(2)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(tmp_path / f"{i:02d}.png")
    zoo.save_model(model, tmp_path / "m.keras")
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-m", "zoo", "predict", str(tmp_path / "m.keras"), str(tmp_path),
                             "--batch-size", "1", "--top-k", "2", "--output", str(tmp_path / "p.csv")],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(root)})
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\r" not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].startswith("predict 1/12 batches  elapsed") and lines[-1] == f"12 predictions written to {tmp_path / 'p.csv'}"
    frame = pd.read_csv(tmp_path / "p.csv", keep_default_na=False)
    assert frame["tags:top_k"].str.count(";").eq(1).all() and frame["person:top"].isin(["person", "not person"]).all()
