"""`zoo inspect`, run as a user runs it: a new process on a tiny generated set."""

import json
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import zoo

TAGS = ["clear", "haze", "primary", "water", "road"]


def _tiny_set(folder):
    """12 noise images tagged like a satellite table (no tag alone), one exact copy under another name,
    one empty file, one row listed twice; the CSV in UTF-16."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    lines = ["image_name,tags"]
    for i in range(12):
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(folder / f"img{i}.png")
        weather = TAGS[i % 2]
        land = [TAGS[2]] + ([TAGS[3]] if i % 3 else []) + ([TAGS[4]] if i % 4 == 1 else [])
        lines.append(f"img{i},{' '.join([weather, *land])}")
    shutil.copy(folder / "img0.png", folder / "copy0.png")
    lines.append("copy0,clear primary water")
    (folder / "empty.png").write_bytes(b"")
    lines.append("empty,clear primary")
    lines.append("img1,haze primary water")  # listed twice, same labels
    (folder / "labels.csv").write_text("\n".join(lines) + "\n", encoding="utf-16")
    return folder


def _zoo(*arguments, cwd):
    return subprocess.run([sys.executable, "-m", "zoo", *map(str, arguments)], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "PYTHONWARNINGS": "ignore"}, timeout=300)


@pytest.mark.slow
def test_inspect_shows_heads_split_images_and_problems_and_writes_its_files(tmp_path):
    folder = _tiny_set(tmp_path / "set")
    output = tmp_path / "inspected"
    result = _zoo("inspect", "--csv", folder / "labels.csv", "--file-column", "image_name", "--label-column", "tags",
                  "--images", folder, "--extension", ".png", "--heads", "tags", "--seed", "3", "--output", output,
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert len(text.splitlines()) <= 30
    assert "Head 'tags': multilabel, 5 classes, labels joined by ' ', 2 to 4 labels per image" in text
    assert "15 rows, 13 usable images (2 rows left out)" in text
    assert "empty.png: empty file (0 bytes)" in text
    assert "Files listed more than once: 1" in text
    assert "Exact or near-duplicate image pairs: 1, " in text

    summary = json.loads((output / "data_summary.json").read_text())
    tags = summary["heads"]["tags"]
    assert (tags["kind"], tags["delimiter"]) == ("multilabel", " ")
    # The split is the one zoo train makes with the same seed and fraction.
    df = zoo.data.from_csv(folder / "labels.csv", file_column="image_name", label_column="tags", extension=".png")
    heads = zoo.data.heads_from_dataframe(df, {"tags": "multilabel"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = zoo.data.validate(df, heads, directory=folder, on_error="skip").rows
        train, validation = zoo.data.train_validation_split(rows, heads, 0.2, seed=3)
    expected = {c: {"train": sum(c in t for t in train["tags"]), "validation": sum(c in t for t in validation["tags"])}
                for c in TAGS}
    assert tags["classes"] == expected
    assert summary["images"]["train"] == len(train) and summary["images"]["validation"] == len(validation)
    assert summary["images"]["modes"] == {"RGB": 13} and summary["images"]["width"]["max"] == 32
    both = pd.concat([train, validation])["tags"]
    assert tags["labels_per_image"] == {str(n): int((both.map(len) == n).sum()) for n in (2, 3, 4)}
    assert tags["pairs"][0][:2] in (["clear", "primary"], ["haze", "primary"], ["primary", "water"])
    exact = [d for d in summary["problems"]["duplicate_images"] if d["exact"]]
    assert [(d["file_a"], d["file_b"]) for d in exact] == [("img0.png", "copy0.png")] or \
        [(d["file_b"], d["file_a"]) for d in exact] == [("img0.png", "copy0.png")]
    side = {name: "train" for name in train["filename"]} | {name: "validation" for name in validation["filename"]}
    assert [(side[d["file_a"]], side[d["file_b"]]) for d in exact] == [(d["split_a"], d["split_b"]) for d in exact]
    assert len(summary["problems"]["unusable_files"]) == 1
    for name in ("label_counts.csv", "label_counts.png", "images.csv", "duplicate_images.csv", "problems.txt"):
        assert (output / name).stat().st_size > 0, name
    images = pd.read_csv(output / "images.csv")
    assert len(images) == 14 and images.loc[images["file"] == "empty.png", "split"].item() == "left out"


@pytest.mark.slow
def test_inspect_folders_counts_what_is_not_an_image(tmp_path):
    root = tmp_path / "clothing"
    rng = np.random.default_rng(1)
    for folder in ("red_shirt", "blue_shirt", "red_dress", "blue_dress"):
        (root / folder).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(root / folder / f"{i}.jpg")
    (root / "red_shirt" / "notes.txt").write_text("bought in May")
    result = _zoo("inspect", "--folders", root, "--separator", "_", "--heads", "color", "type", "--output",
                  tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Skipped 1 file(s) that are not images:" in result.stdout
    assert "Not images (skipped by zoo train --folders and zoo predict): 1" in result.stdout
    assert "Head 'color': multiclass, 2 classes" in result.stdout and "12 usable images" in result.stdout


@pytest.mark.slow
def test_inspect_refuses_word_combinations_read_as_classes(tmp_path):
    shades, hues = ["Light", "Dark", "Pale", "Deep"], ["Blue", "Green", "Red", "Grey"]
    cells = [f"{s} {h}" for s in shades for h in hues] + ["Navy Blue"]
    (tmp_path / "labels.csv").write_text("filename,colour\n" + "".join(f"{i}.jpg,{c}\n" for i, c in enumerate(cells)))
    for i in range(len(cells)):
        Image.new("RGB", (8, 8)).save(tmp_path / f"{i}.jpg")
    result = _zoo("inspect", "--csv", "labels.csv", "--heads", "colour", cwd=tmp_path)
    assert result.returncode == 1
    assert "16 of its 17 distinct values are combinations of 8 recurring words" in result.stderr
    assert "--delimiter ' '" in result.stderr


@pytest.mark.slow
def test_inspect_min_count_drops_rare_classes_before_the_split_as_train_does(tmp_path):
    root = tmp_path / "animals"
    rng = np.random.default_rng(2)
    for folder, count in (("cat", 5), ("dog", 6), ("owl", 1)):
        (root / folder).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(root / folder / f"{i}.png")
    result = _zoo("inspect", "--folders", root, "--min-count", "2", "--seed", "1", "--output", tmp_path / "out",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "--min-count 2: " in result.stdout and "owl" in result.stdout
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df, _ = zoo.data.drop_rare_classes(zoo.data.from_folders(root), {"label": "multiclass"}, 2)
        heads = zoo.data.heads_from_dataframe(df, {"label": "multiclass"})
        train, validation = zoo.data.train_validation_split(zoo.data.validate(df, heads).rows, heads, 0.2, seed=1)
    summary = json.loads((tmp_path / "out" / "data_summary.json").read_text())
    assert summary["heads"]["label"]["classes"] == {
        c: {"train": sum(train["label"] == (c,)), "validation": sum(validation["label"] == (c,))} for c in ("cat", "dog")}
    usage = _zoo("inspect", "--help", cwd=tmp_path).stdout
    assert "--min-count N" in usage and "drop classes with fewer than N images" in " ".join(usage.split())
    refused = _zoo("inspect", "--folders", root, "--min-count", "0", cwd=tmp_path)
    assert refused.returncode != 0 and "--min-count" in refused.stderr
