"""Every list in a message fits on a screen: the first few, then "... and N more"."""

import argparse
import time
import warnings

import pandas as pd
import pytest
from PIL import Image

import zoo
from zoo.data import DataError, DataWarning, encode, from_dataframe
from zoo.data.errors import capped


def test_capped_shows_the_first_few_then_the_count():
    assert capped(["a", "b"], limit=2) == "a, b"
    assert capped(range(12), limit=3, separator=" | ") == "0 | 1 | 2 ... and 9 more"


def test_a_large_table_of_four_files_gives_a_short_duplicate_warning():
    rows = 200_000
    df = pd.DataFrame({"filename": [f"/data/{i % 4}.jpg" for i in range(rows)],
                       "tags": [("sea",) if i % 8 < 4 else ("sky",) for i in range(rows)]})
    began = time.perf_counter()
    with pytest.warns(DataWarning) as caught:
        merged = zoo.data.merge_duplicates(df, {"tags": "multilabel"})
    message = str(caught[0].message)
    assert len(merged) == 4 and sorted(merged["tags"].map(sorted).map(tuple)) == [("sea", "sky")] * 4
    assert len(message) < 1000, len(message)
    assert "/data/0.jpg (rows 0, 4, 8, 12, 16 ... and 49995 more): labels merged" in message
    assert time.perf_counter() - began < 30


def test_disagreeing_rows_of_a_multiclass_head_are_capped_too():
    df = pd.DataFrame({"filename": ["a.jpg"] * 30, "kind": [(f"c{i}",) for i in range(30)]})
    with pytest.raises(DataError) as caught:
        zoo.data.merge_duplicates(df, {"kind": "multiclass"})
    assert "['c0'] vs ['c1'] vs ['c2'] vs ['c3'] vs ['c4'] ... and 25 more" in str(caught.value)
    assert len(str(caught.value)) < 500


def test_a_label_outside_hundreds_of_classes_names_a_few_of_them():
    head = zoo.Head("kind", [f"class{i}" for i in range(500)], kind="multiclass")
    df = pd.DataFrame({"filename": ["a.jpg"], "kind": [("other",)]})
    with pytest.raises(DataError, match=r"label\(s\) \['other'\] not in the classes of head 'kind' \['class0', .*"
                                        r"'class9' \.\.\. and 490 more\]"):
        encode(df, [head])


def test_a_table_missing_a_column_names_a_few_of_its_many_columns():
    df = pd.DataFrame({f"column{i}": [1] for i in range(300)} | {"filename": ["a.jpg"]})
    with pytest.raises(ValueError,
                       match=r"has no column\(s\) \['tags'\]. Columns present: 'column0', .* and 291 more$"):
        from_dataframe(df, ["tags"])


def test_rare_classes_of_a_head_with_many_are_capped():
    df = pd.DataFrame({"filename": [f"{i}.jpg" for i in range(400)],
                       "kind": [(f"c{i % 200}",) if i < 200 else ("common",) for i in range(400)]})
    with pytest.warns(DataWarning) as caught:
        zoo.data.train_validation_split(df, [zoo.Head("kind", sorted(set(df["kind"].str[0])), "multiclass")],
                                        0.2, seed=0)
    message = next(str(w.message) for w in caught if "too few examples" in str(w.message))
    assert "... and 190 more" in message and len(message) < 600


def _image(path):
    Image.new("RGB", (8, 8), (10, 20, 30)).save(path)
    return path


def test_train_writes_every_skipped_and_merged_row_to_the_output_folder(tmp_path):
    from zoo.cli.sources import checked_rows

    images = tmp_path / "images"
    images.mkdir()
    good = [_image(images / f"{i}.png").name for i in range(3)]
    missing = [f"missing{i}.png" for i in range(30)]
    df = pd.DataFrame({"filename": good + [good[0]] + missing, "tags": [("sea",)] * (4 + len(missing))})
    args = argparse.Namespace(images=images, allow_empty=False, on_error="skip", min_count=None)
    output = tmp_path / "run"
    output.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        rows, _ = checked_rows(args, df, [zoo.Head("tags", ["sea"])], output)
    assert len(rows) == 3
    skipped = (output / "skipped.txt").read_text().splitlines()
    assert len(skipped) == 30 and all(line.endswith(": file not found") for line in skipped)
    assert sorted(line.split(":")[0].rsplit("/", 1)[-1] for line in skipped) == sorted(missing)
    assert (output / "duplicates.txt").read_text().count("exact duplicate rows merged") == 1
