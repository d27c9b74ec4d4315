"""`zoo.data.image_files`: folders at any depth, links that loop or lead nowhere."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import zoo
from zoo.data import DataError, make_dataset
from zoo.data.image_files import image_files, walk_folder


def _image(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((6, 5, 3), 90, np.uint8)).save(path)
    return path


def _skipped(files, **options):
    """The dataset's skip list for these files, read with on_error="skip"."""
    dataset = make_dataset(pd.DataFrame({"filename": files}), None, image_size=(4, 4), on_error="skip", **options)
    return list(dataset.skipped), list(dataset.files)


@pytest.fixture
def deep_tree(tmp_path):
    """tmp_path/d/d/.../d, 1500 folders deep, made and removed one level at a time
    (os.makedirs and pytest's own clean-up recurse once per level)."""
    folders = [str(tmp_path)]
    for _ in range(1500):
        folders.append(folders[-1] + "/d")
        os.mkdir(folders[-1])
    yield Path(folders[-1])
    for folder in reversed(folders[1:]):
        for name in os.listdir(folder):
            if name != "d":
                os.remove(os.path.join(folder, name))
        os.rmdir(folder)


def test_a_tree_1500_folders_deep(tmp_path, deep_tree):
    bottom, top = _image(deep_tree / "bottom.png"), _image(tmp_path / "top.jpg")
    (deep_tree / "notes.txt").write_text("not an image")
    assert image_files(tmp_path) == [str(bottom), str(top)]


def test_link_back_to_a_folder_above_is_named_not_followed(tmp_path):
    first, second = _image(tmp_path / "a.jpg"), _image(tmp_path / "sub" / "b.png")
    (tmp_path / "sub" / "up").symlink_to(tmp_path, target_is_directory=True)
    loop = tmp_path / "sub" / "up"
    assert image_files(tmp_path) == [str(first), str(second), str(loop)]
    skipped, kept = _skipped(image_files(tmp_path))
    assert skipped == [f"{loop}: symbolic link loop (back to the folder {tmp_path.resolve()} above it)"]
    assert kept == [str(first), str(second)]


def test_links_to_a_missing_target_or_to_themselves_are_named(tmp_path):
    kept = _image(tmp_path / "a.jpg")
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "missing.jpg")
    (tmp_path / "self.png").symlink_to(tmp_path / "self.png")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")  # not an image name: not listed
    files = image_files(tmp_path)
    assert files == [str(kept), str(tmp_path / "gone.jpg"), str(tmp_path / "self.png")]
    skipped, _ = _skipped(files)
    assert skipped == [
        f"{tmp_path / 'gone.jpg'}: dangling symbolic link (to {tmp_path / 'missing.jpg'}, which does not exist)",
        f"{tmp_path / 'self.png'}: symbolic link loop",
    ]
    with pytest.raises(DataError, match="gone.jpg: dangling symbolic link"):
        make_dataset(pd.DataFrame({"filename": files}), None, image_size=(4, 4))


def test_linked_folders_are_walked_once(tmp_path):
    photo = _image(tmp_path / "photos" / "p.jpg")
    os.symlink(tmp_path / "photos", tmp_path / "alias")
    files, broken = walk_folder(tmp_path)
    assert len(files) == 1 and files[0].resolve() == photo.resolve() and broken == []


def test_folder_without_images_is_an_error(tmp_path):
    (tmp_path / "notes.txt").write_text("text")
    with pytest.raises(FileNotFoundError, match=f"Folder {tmp_path} holds no image files"):
        image_files(tmp_path)


def test_predictor_counts_broken_links_as_skipped(tmp_path):
    _image(tmp_path / "a.jpg")
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "missing.jpg")
    model = zoo.build("multilabel_small", heads={"tags": ["x", "y"]}, input_shape=(16, 16, 3))
    predictor = zoo.Predictor(model, on_error="skip")
    frame = predictor.predict(tmp_path)
    assert frame["file"].tolist() == [str(tmp_path / "a.jpg")]
    assert predictor.skipped == [
        f"{tmp_path / 'gone.jpg'}: dangling symbolic link (to {tmp_path / 'missing.jpg'}, which does not exist)"
    ]
