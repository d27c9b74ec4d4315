import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import zoo
from zoo.data import DataError, check_images, decode_rgb, make_dataset


def _rgb(seed=0, size=(40, 50)):
    return np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)


def _smooth_rgb(size=(40, 50)):
    y, x = np.mgrid[0:size[0], 0:size[1]]
    return np.dstack([x * 5 % 256, y * 6 % 256, (x + y) * 2 % 256]).astype(np.uint8)


def _write(kind, path):
    """Writes one image of each kind the decoder must handle; returns Pillow's RGB pixels."""
    rgb = _smooth_rgb()
    if kind == "jpeg_rgb":
        Image.fromarray(rgb).save(path, "JPEG", quality=95)
    elif kind == "jpeg_gray":
        Image.fromarray(rgb[..., 0]).save(path, "JPEG", quality=95)
    elif kind == "jpeg_cmyk":
        Image.fromarray(rgb).convert("CMYK").save(path, "JPEG", quality=95)
    elif kind == "png_rgba":
        Image.fromarray(np.dstack([_rgb(1), _rgb(2)[..., 0]])).save(path, "PNG")
    elif kind == "png_palette":
        Image.fromarray(_rgb(3)).convert("P", palette=Image.ADAPTIVE).save(path, "PNG")
    elif kind == "png_gray":
        Image.fromarray(_rgb(4)[..., 0]).save(path, "PNG")
    elif kind == "png_gray16":
        Image.fromarray(np.random.default_rng(5).integers(0, 65536, (40, 50)).astype(np.uint16)).save(path, "PNG")
    elif kind == "gif":
        frames = [Image.fromarray(_rgb(6)).convert("P"), Image.fromarray(_rgb(7)).convert("P")]
        frames[0].save(path, "GIF", save_all=True, append_images=frames[1:])
    elif kind == "bmp":
        Image.fromarray(_rgb(8)).save(path, "BMP")
    elif kind == "tiff":
        Image.fromarray(_rgb(9)).save(path, "TIFF")
    elif kind == "webp":
        Image.fromarray(_rgb(10)).save(path, "WEBP", lossless=True)
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


KINDS = ["jpeg_rgb", "jpeg_gray", "jpeg_cmyk", "png_rgba", "png_palette", "png_gray", "png_gray16",
         "gif", "bmp", "tiff", "webp"]


@pytest.mark.parametrize("kind", KINDS)
def test_decoding_matches_pillow(kind, tmp_path):
    path = tmp_path / "image.dat"  # decoding goes by content, never by extension
    expected = _write(kind, path)
    report = check_images([path])
    assert not report.problems
    decoded = decode_rgb(str(path), bool(report.needs_pillow[0])).numpy()
    assert decoded.shape == expected.shape and decoded.dtype == np.uint8
    tolerance = 6 if kind.startswith("jpeg") else 0  # JPEG decoders round differently
    assert np.abs(decoded.astype(int) - expected.astype(int)).max() <= tolerance


def test_very_large_image_is_decoded_and_resized(tmp_path):
    big = np.zeros((3000, 2000, 3), np.uint8)
    big[:, 1000:] = (200, 30, 40)
    Image.fromarray(big).save(tmp_path / "big.jpg", quality=90)
    df = pd.DataFrame({"filename": ["big.jpg"], "tags": [("red",)]})
    images, _ = next(iter(make_dataset(df, {"tags": ["red"]}, directory=tmp_path, image_size=(30, 20))))
    right = images.numpy()[0, :, 12:]
    np.testing.assert_allclose(right.mean(axis=(0, 1)), (200, 30, 40), atol=4)


@pytest.fixture
def folder(tmp_path):
    """Six small JPEGs (a.jpg ... f.jpg) with multi-label tags."""
    names = list("abcdef")
    for i, name in enumerate(names):
        Image.fromarray(np.full((20, 30, 3), 40 * i, np.uint8)).save(tmp_path / f"{name}.jpg", quality=95)
    tags = [("x",), ("y",), ("x", "y"), ("z",), ("x", "z"), ("y",)]
    df = pd.DataFrame({"filename": [f"{n}.jpg" for n in names], "tags": tags})
    return tmp_path, df


HEADS = [zoo.Head("tags", ["x", "y", "z"])]


def test_batches_have_images_and_per_head_targets(folder):
    directory, df = folder
    dataset = make_dataset(df, HEADS, directory=directory, image_size=(16, 24), batch_size=4, shuffle=False)
    batches = list(dataset)
    assert [b[0].shape[0] for b in batches] == [4, 2]
    images, targets = batches[0]
    assert images.shape == (4, 16, 24, 3) and images.dtype.name == "float32"
    np.testing.assert_allclose(images.numpy()[:, 0, 0, 0], [0, 40, 80, 120], atol=2)
    np.testing.assert_array_equal(targets["tags"].numpy(), [[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1]])


def test_shuffle_is_deterministic_for_a_seed(folder):
    directory, df = folder

    def order(seed):
        dataset = make_dataset(df, HEADS, directory=directory, image_size=(8, 8), batch_size=6, seed=seed)
        return [np.round(b[0].numpy()[:, 0, 0, 0]).tolist() for b in dataset]

    assert order(1) == order(1)
    assert order(1) != order(2)


def test_augmentation_is_seeded_and_keeps_range(folder):
    directory, df = folder

    def first(seed):
        dataset = make_dataset(df, HEADS, directory=directory, image_size=(16, 16), batch_size=6,
                               shuffle=False, augment=True, seed=seed)
        return next(iter(dataset))[0].numpy()

    plain = next(iter(make_dataset(df, HEADS, directory=directory, image_size=(16, 16), batch_size=6,
                                   shuffle=False)))[0].numpy()
    augmented = first(3)
    assert augmented.min() >= 0 and augmented.max() <= 255
    assert not np.allclose(augmented, plain)
    np.testing.assert_allclose(first(3), augmented)


# A 20x40 image, its left quarter red and the rest blue, resized to 16x16: (red columns of the middle row,
# rows that are not black). Stretch keeps the quarter (16 / 4 = 4 columns); pad halves the height (8 rows
# between black bands) and keeps the quarter; crop keeps the central 20x20, where there is no red.
@pytest.mark.parametrize("resize, red_columns, image_rows", [("stretch", 4, 16), ("pad", 4, 8), ("crop", 0, 16)])
def test_resize_modes(tmp_path, resize, red_columns, image_rows):
    image = np.zeros((20, 40, 3), np.uint8)
    image[:, :10, 0] = 255
    image[:, 10:, 2] = 255
    Image.fromarray(image).save(tmp_path / "wide.png")
    df = pd.DataFrame({"filename": ["wide.png"], "t": [("a",)]})
    images = next(iter(make_dataset(df, {"t": ["a"]}, directory=tmp_path, image_size=(16, 16), resize=resize)))[0]
    image = images.numpy()[0]
    assert image.shape == (16, 16, 3)
    assert (image[8, :, 0] > 128).sum() == red_columns
    assert (image[:, 12].sum(axis=-1) > 128).sum() == image_rows


def test_bad_files_are_reported_together(folder):
    directory, df = folder
    (directory / "text.jpg").write_text("this is not an image")
    data = (directory / "a.jpg").read_bytes()
    (directory / "truncated.jpg").write_bytes(data[: len(data) // 2])
    bad = pd.concat([df, pd.DataFrame({"filename": ["missing.jpg", "text.jpg", "truncated.jpg"],
                                        "tags": [("x",)] * 3})], ignore_index=True)
    with pytest.raises(DataError) as error:
        make_dataset(bad, HEADS, directory=directory, image_size=(8, 8))
    message = str(error.value)
    assert "3 of 9 image file(s) cannot be used" in message
    assert "missing.jpg: file not found" in message
    assert "text.jpg: unreadable image" in message and "truncated.jpg: unreadable image" in message


def test_skip_counts_and_lists_bad_rows(folder, caplog):
    directory, df = folder
    bad = pd.concat([df, pd.DataFrame({"filename": ["missing.jpg", "a.jpg"], "tags": [("x",), ("unknown",)]})],
                    ignore_index=True)
    with caplog.at_level(logging.WARNING):
        dataset = make_dataset(bad, HEADS, directory=directory, image_size=(8, 8), on_error="skip", shuffle=False)
    assert len(dataset.skipped) == 2
    assert any("unknown" in s for s in dataset.skipped) and any("missing.jpg: file not found" in s
                                                                for s in dataset.skipped)
    assert [Path(f).name for f in dataset.files] == [Path(f).name for f in df["filename"]]
    assert "Skipped 2 of 8 rows" in caplog.text
    assert sum(b[0].shape[0] for b in dataset) == 6


def test_cache_and_sample_weights(folder, tmp_path):
    directory, df = folder
    weights = {"tags": np.arange(1, 7, dtype="float32")}
    dataset = make_dataset(df, HEADS, directory=directory, image_size=(8, 8), batch_size=6, shuffle=False,
                           cache=str(tmp_path / "cache"), sample_weights=weights)
    for _ in range(2):
        images, targets, sample_weight = next(iter(dataset))
        np.testing.assert_array_equal(sample_weight["tags"].numpy(), weights["tags"])


def test_unlabeled_images(folder):
    directory, df = folder
    batch = next(iter(make_dataset(df[["filename"]], None, directory=directory, image_size=(8, 8), shuffle=False)))
    assert batch.shape == (6, 8, 8, 3)


def test_a_model_trains_on_the_dataset(folder):
    directory, df = folder
    model = zoo.build("multilabel_small", heads=HEADS, input_shape=(32, 32, 3))
    dataset = make_dataset(df, HEADS, directory=directory, image_size=(32, 32), batch_size=3)
    history = model.fit(dataset, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_real_clothing_images_including_rgba_png(data_dir):
    df = zoo.data.from_folders(data_dir / "clothing", heads=("color", "type"), separator="_")
    heads = zoo.data.heads_from_dataframe(df, {"color": "multiclass", "type": "multiclass"})
    assert any(f.endswith(".png") for f in df["filename"])
    dataset = make_dataset(df, heads, image_size=(48, 32), batch_size=32, shuffle=False)
    total = 0
    for images, targets in dataset:
        assert images.shape[1:] == (48, 32, 3)
        assert float(images.numpy().std()) > 10  # real pixels, not black frames
        total += images.shape[0]
    assert total == 93


def test_flip_only_augmentation_is_an_exact_mirror():
    import tensorflow as tf

    augment = zoo.data.Augmentation(flip="horizontal")
    images = tf.constant(np.random.default_rng(0).uniform(0, 255, (16, 9, 7, 3)).astype("float32"))
    out = augment(images, tf.constant(3, tf.int64)).numpy()
    mirrored = [np.allclose(o, np.flip(i, axis=1), atol=1e-3) for o, i in zip(out, images.numpy())]
    same = [np.allclose(o, i, atol=1e-3) for o, i in zip(out, images.numpy())]
    assert all(m or s for m, s in zip(mirrored, same))
    assert 0 < sum(mirrored) < 16


def test_zoom_in_magnifies_around_the_center():
    import tensorflow as tf

    image = np.zeros((1, 21, 21, 3), "float32")
    image[0, 8:13, 8:13] = 255.0  # a 5x5 square in the middle
    transforms = zoo.data.Augmentation(zoom=0.5).transforms(1, 21.0, 21.0, tf.constant(0, tf.int64))
    scale = float(transforms[0, 0])
    out = zoo.data.Augmentation(zoom=0.5)(tf.constant(image), tf.constant(0, tf.int64)).numpy()
    bright = (out[0, :, 10, 0] > 127).sum()
    assert bright == pytest.approx(5 / scale, abs=1.5)  # the square grows as 1/scale


@pytest.mark.parametrize("augment", [{"rotation": 0.1}, {"contrast": 0.2, "brightness": 0.2}, True],
                         ids=["geometric", "photometric", "default"])
def test_augmented_epochs_differ_but_repeat_for_a_seed(folder, augment):
    directory, df = folder
    for i, name in enumerate(df["filename"]):  # textured: a rotated flat image is unchanged
        Image.fromarray(_rgb(i, (20, 30))).save(directory / name, quality=95)

    def two_epochs(seed):
        dataset = make_dataset(df, HEADS, directory=directory, image_size=(16, 16), batch_size=2,
                               shuffle=False, augment=augment, seed=seed)
        return [np.concatenate([images.numpy() for images, _ in dataset]) for _ in range(2)]

    first, second = two_epochs(4)
    assert not np.allclose(first, second)
    again = two_epochs(4)  # every batch of both epochs, mapped in parallel, drawn the same again
    np.testing.assert_array_equal(again[0], first)
    np.testing.assert_array_equal(again[1], second)


def test_contrast_scales_each_channel_about_its_mean_and_brightness_shifts_the_whole_image():
    import tensorflow as tf

    images = np.random.default_rng(0).uniform(64, 192, (32, 8, 8, 3)).astype("float32")
    seed = tf.constant(5, tf.int64)
    means = images.mean(axis=(1, 2), keepdims=True)
    contrasted = zoo.data.Augmentation(contrast=0.2)(tf.constant(images), seed).numpy()
    # One factor per image for every channel (no clipping: 64..192 scaled by at most 1.2 stays in range).
    factors = ((contrasted - means) * (images - means)).sum(axis=(1, 2, 3)) / ((images - means) ** 2).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(contrasted - means, factors[:, None, None, None] * (images - means), atol=1e-2)
    assert 0.8 <= factors.min() and factors.max() <= 1.2 and factors.std() > 0.02
    shifted = zoo.data.Augmentation(brightness=0.2)(tf.constant(images), seed).numpy() - images
    assert np.allclose(shifted, shifted[:, :1, :1, :1], atol=1e-3)  # one shift per image
    assert np.abs(shifted).max() <= 0.2 * 255 + 1e-3 and shifted.std() > 5
