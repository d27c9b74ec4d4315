"""`zoo.data.inspect`: the summary of a labelled set, its near-duplicate images and its text."""

import json

import numpy as np
import pandas as pd
from PIL import Image

import zoo
from zoo.data.inspect import NEAR_DUPLICATE_DIFFERENCE, fingerprint, near_duplicate_pairs, summarize, summarize_split


def test_a_resized_copy_is_a_near_duplicate_and_another_photo_is_not(tmp_path):
    rng = np.random.default_rng(2)
    photo = np.kron(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8), np.ones((16, 16, 1), np.uint8))
    Image.fromarray(photo).save(tmp_path / "a.png")
    Image.fromarray(photo).resize((96, 96)).save(tmp_path / "a_small.jpg", quality=85)
    Image.fromarray(np.kron(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8),
                            np.ones((16, 16, 1), np.uint8))).save(tmp_path / "b.png")
    prints = [fingerprint(tmp_path / name) for name in ("a.png", "a_small.jpg", "b.png")]
    pairs = near_duplicate_pairs([p[0] for p in prints], bits=64)
    difference = {(a, b): np.abs(prints[a][1].astype(int) - prints[b][1]).mean() for a, b, _ in pairs}
    assert difference[(0, 1)] <= NEAR_DUPLICATE_DIFFERENCE < difference[(0, 2)]
    df = pd.DataFrame({"filename": ["a.png", "a_small.jpg", "b.png", "b.png"],
                       "kind": [("x",), ("x",), ("y",), ("y",)]})
    df.loc[3, "filename"] = "a.png"  # a.png listed twice with one label: merged
    summary = summarize(df.iloc[:3], {"kind": "multilabel"}, directory=tmp_path, validation_split=0.34)
    near = summary.problems["duplicate_images"]
    assert [(d["file_a"], d["file_b"], d["exact"]) for d in near] == [("a.png", "a_small.jpg", False)]


def test_a_copy_on_both_sides_of_a_split_is_named_and_the_summary_is_written(tmp_path):
    rng = np.random.default_rng(4)
    for i in range(4):
        Image.fromarray(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    (tmp_path / "copy.png").write_bytes((tmp_path / "0.png").read_bytes())
    train = pd.DataFrame({"filename": ["0.png", "1.png", "2.png"], "tags": [("sea",), ("sea", "sky"), ("sky",)]})
    validation = pd.DataFrame({"filename": ["copy.png", "3.png"], "tags": [("sea",), ("sky",)]}, index=[3, 4])
    head = zoo.Head("tags", ["sea", "sky"])
    summary = summarize_split(train, validation, [head], directory=tmp_path, rows=6,
                              problems={"skipped_rows": ["gone.png: file not found"]},
                              split={"validation_split": 0.4, "seed": 0, "stratify": True})
    assert summary.heads["tags"]["classes"] == {"sea": {"train": 2, "validation": 1},
                                                "sky": {"train": 2, "validation": 1}}
    assert summary.heads["tags"]["pairs"] == [["sea", "sky", 1]]
    text = "\n".join(summary.lines())
    assert "0.png (train) ~ copy.png (validation), identical files" in text
    assert "Skipped rows or files: 1\n  gone.png: file not found" in text
    short = summary.short_lines()
    assert short[-1] == ("Found: 1 row(s) or file(s) skipped (--on-error skip); "
                         "1 exact or near-duplicate image pair(s) on both sides of the split")
    written = summary.write(tmp_path / "out")
    saved = json.loads((tmp_path / "out" / "data_summary.json").read_text())
    assert saved["images"]["width"] == {"min": 30, "median": 30.0, "max": 30}
    assert saved["problems"]["duplicate_images"][0]["exact"] is True
    assert "label_counts.csv" in written and (tmp_path / "out" / "problems.txt").read_text() == \
        "skipped_rows: gone.png: file not found\n"


def test_pairs_across_heads_are_counted_for_several_heads(tmp_path):
    for i in range(5):
        Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(tmp_path / f"{i}.png")
    rows = pd.DataFrame({"filename": [f"{i}.png" for i in range(5)],
                         "color": [("red",), ("red",), ("blue",), ("red",), ("blue",)],
                         "type": [("shirt",), ("shirt",), ("shirt",), ("dress",), ("dress",)]})
    heads = [zoo.Head("color", ["blue", "red"], "multiclass"), zoo.Head("type", ["dress", "shirt"], "multiclass")]
    summary = summarize_split(rows.iloc[:3], rows.iloc[3:], heads, directory=tmp_path, duplicates=False)
    assert summary.images["pairs_across_heads"][0] == ["color:red", "type:shirt", 2]
    assert sorted(n for _, _, n in summary.images["pairs_across_heads"]) == [1, 1, 1, 2]
    assert "Most frequent pairs across heads: color:red + type:shirt (2)" in "\n".join(summary.lines())
