"""`zoo train --folders` and `zoo predict` agree on which files are images; empty files say so."""

import contextlib
import io
import warnings

import pandas as pd
import pytest
from PIL import Image

import zoo
from zoo.data import DataError, DataWarning, check_images, from_folders, validate
from zoo.data.image_files import find_image_files


def _class_folders(root):
    for folder in ("red_shirt", "blue_shirt"):
        (root / folder).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (8, 8), (200 if folder.startswith("red") else 0, 0, 90)).save(root / folder / f"{i}.png")
    (root / "red_shirt" / "notes.txt").write_text("photographed in May")
    (root / "blue_shirt" / ".DS_Store").write_bytes(b"\0\0")
    return root


def test_folders_and_predict_take_the_same_files_and_count_the_same_others(tmp_path):
    root = _class_folders(tmp_path / "clothing")
    with pytest.warns(DataWarning) as caught:
        df = from_folders(root, heads=["color", "type"], separator="_")
    assert [str(w.message) for w in caught] == [
        f"Left out 1 file(s) that are not images (by name): {root / 'red_shirt' / 'notes.txt'}; "
        "their list is in attrs['not_images']."]
    images, others = find_image_files(root)
    assert sorted(df["filename"]) == images and len(images) == 4
    assert df.attrs["not_images"] == others == [str(root / "red_shirt" / "notes.txt")]


def test_predict_counts_a_text_file_in_a_folder_as_skipped(tmp_path):
    root = _class_folders(tmp_path / "clothing")
    model = zoo.build("multilabel_small", heads={"tags": ["x", "y"]}, input_shape=(16, 16, 3))
    predictor = zoo.Predictor(model)
    frame = predictor.predict(root)
    assert len(frame) == 4
    assert predictor.skipped == [f"{root / 'red_shirt' / 'notes.txt'}: not an image file (its name ends in none "
                                 f"of .jpg, .jpeg, .png, .gif, .bmp, .tif, .tiff, .webp)"]


def test_train_folders_says_it_skipped_the_text_file(tmp_path):
    from zoo.cli.app import build_parser
    from zoo.cli.sources import load_source

    root = _class_folders(tmp_path / "clothing")
    args = build_parser().parse_args(["train", "--folders", str(root), "--separator", "_", "--heads", "color", "type"])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), warnings.catch_warnings():
        warnings.simplefilter("error")  # said once, on the output
        df, kinds = load_source(args)
    assert len(df) == 4 and kinds == {"color": "multiclass", "type": "multiclass"}
    assert f"Skipped 1 file(s) that are not images:\n  {root / 'red_shirt' / 'notes.txt'}: not an image file" \
        in printed.getvalue()


def test_a_zero_byte_file_is_an_empty_file(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert check_images([tmp_path / "empty.jpg"]).problems == {str(tmp_path / "empty.jpg"): "empty file (0 bytes)"}


def test_the_error_listing_unreadable_files_names_the_skip_flag(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    df = pd.DataFrame({"filename": ["empty.jpg"], "tags": [("sea",)]})
    with pytest.raises(DataError, match=r"(?s)empty.jpg: empty file \(0 bytes\)\n"
                                        r"Fix them, or pass on_error='skip' \(--on-error skip\)"):
        validate(df, [zoo.Head("tags", ["sea"])], directory=tmp_path)
