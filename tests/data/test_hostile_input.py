"""Bounded work on hostile input: extreme aspect ratios, huge images, other text encodings."""

import time

import numpy as np
import pytest
from PIL import Image

from zoo.data import DataError, decode_rgb, from_csv, from_onehot_csv, resize_image
from zoo.data.images import REDUCE_PIXELS, pillow_rgb, reduction


def test_pad_resizes_a_long_strip_before_padding_it():
    strip = np.full((20000, 10, 3), 200, np.uint8)
    began = time.perf_counter()
    padded = resize_image(strip, (16, 16), "pad").numpy()
    assert time.perf_counter() - began < 5  # a 20000x20000 float square would take seconds and 4.8 GB
    assert padded.shape == (16, 16, 3)
    assert np.allclose(padded[:, 7], 200, atol=0.01) and np.all(padded[:, :7] == 0) and np.all(padded[:, 8:] == 0)


def test_pad_keeps_the_aspect_ratio_and_centres_the_image():
    image = np.full((20, 40, 3), 255, np.uint8)
    padded = resize_image(image, (16, 16), "pad").numpy()
    rows = np.flatnonzero(padded[:, 8, 0] > 128)
    assert rows.tolist() == list(range(4, 12))  # 20x40 -> 8x16, 4 black rows above and below


def test_a_huge_png_is_shrunk_as_it_is_decoded(tmp_path):
    path = tmp_path / "huge.png"
    pixels = np.zeros((4000, 5000), np.uint8)
    pixels[:, :2500] = 255  # left half white
    Image.fromarray(pixels).save(path)
    assert 4000 * 5000 > REDUCE_PIXELS and reduction(5000, 4000, (100, 100)) == 40
    shrunk = pillow_rgb(str(path), target_size=(100, 100))
    assert shrunk.shape == (100, 125, 3)
    np.testing.assert_array_equal(shrunk[:, :62], 255)
    np.testing.assert_array_equal(shrunk[:, 63:], 0)
    decoded = decode_rgb(str(path), target_size=(100, 100)).numpy()
    np.testing.assert_array_equal(decoded, shrunk)
    assert decode_rgb(str(path)).shape == (4000, 5000, 3)  # no target size: every pixel


def test_small_images_are_decoded_whole_whatever_the_target(tmp_path):
    path = tmp_path / "small.png"
    Image.new("RGB", (640, 480), (1, 2, 3)).save(path)
    assert decode_rgb(str(path), target_size=(8, 8)).shape == (480, 640, 3)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig", "utf-32"])
def test_a_labels_csv_with_a_byte_order_mark_is_read(tmp_path, encoding):
    path = tmp_path / "labels.csv"
    text = "filename,labels\na.jpg,café\nb.jpg,\"sea,café\"\nc.jpg,sea\n"
    if encoding == "utf-16-be":
        path.write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))
    else:
        path.write_text(text, encoding=encoding)
    assert from_csv(path)["labels"].tolist() == [("café",), ("sea", "café"), ("sea",)]


def test_a_one_hot_csv_in_utf16_is_read(tmp_path):
    path = tmp_path / "onehot.csv"
    path.write_text("file,sea,sky\n1.jpg,1,0\n2.jpg,1,1\n", encoding="utf-16")
    assert from_onehot_csv(path, file_column="file")["labels"].tolist() == [("sea",), ("sea", "sky")]


def test_a_csv_in_another_encoding_names_the_file_and_the_encoding(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("filename,labels\na.jpg,caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"CSV .*latin.csv is not text in UTF-8: byte 0xe9 at position 25 .*"
                                        r"Save it as UTF-8 .*Received: encoding='utf-8-sig'"):
        from_csv(path)



@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_told_by_its_zero_bytes(tmp_path, encoding):
    path = tmp_path / "labels.csv"
    path.write_bytes("filename,labels\na.jpg,sea\n".encode(encoding))
    assert from_csv(path)["labels"].tolist() == [("sea",)]


def test_a_huge_rotated_jpeg_is_shrunk_and_still_turned_by_its_exif_orientation(tmp_path):
    pixels = np.zeros((4200, 4300, 3), np.uint8)
    pixels[:2100] = (250, 10, 10)  # top half red; orientation 6 turns it to the right half
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6
    image.save(tmp_path / "turned.jpg", exif=exif, quality=80)
    shrunk = pillow_rgb(str(tmp_path / "turned.jpg"), target_size=(100, 100))
    assert shrunk.shape == (538, 525, 3)  # decoded at 1/8 scale, then turned: still at least 100x100
    assert shrunk[:, -100:, 0].mean() > 200 and shrunk[:, :100, 0].mean() < 50
