"""Every kind of image file decodes through the real pipeline to Pillow's pixels.

The reference is Pillow's `convert("RGB")` after `ImageOps.exif_transpose`, at full
size and, at a reduced size, Pillow's bilinear resize of that image (for a JPEG that
TensorFlow decodes, of Pillow's own DCT-scaled decode, the shortcut zoo takes too).
"""

import struct
import zlib

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from PIL import Image, ImageOps

from zoo.data import check_images, make_dataset

HEIGHT, WIDTH = 23, 37  # odd, and not square: a transposed or swapped image cannot pass
REDUCED = (11, 17)  # about half: JPEGs TensorFlow decodes are read at DCT scale 1/2
# TensorFlow and Pillow each bundle a libjpeg-turbo; with the same accurate integer
# IDCT and fancy upsampling they agree, 1 level allows for a build's own SIMD rounding.
JPEG_TOLERANCE = 1
# Reduced size: zoo's antialiased bilinear resize keeps fractions, Pillow's rounds to
# uint8 (0.5) and weighs in fixed point; measured at most 0.94 apart here.
REDUCED_TOLERANCE = 1.0
EXIF_ORIENTATION = 0x0112


def _pixels():
    """Gradients in all three channels plus a red and a blue block."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    rgb = np.dstack([x * 7 % 256, y * 11 % 256, (x * 3 + y * 5) % 256]).astype(np.uint8)
    rgb[2:8, 3:12] = (255, 0, 0)
    rgb[12:20, 20:30] = (0, 0, 255)
    return rgb


def _strip_adobe(data: bytes) -> bytes:
    """The JPEG without its APP14 "Adobe" segment (as many real CMYK files are)."""
    out, i = bytearray(data[:2]), 2
    while data[i + 1] != 0xDA:  # segments up to the start of scan
        length = int.from_bytes(data[i + 2:i + 4], "big")
        segment = data[i:i + 2 + length]
        if not (data[i + 1] == 0xEE and segment[4:9] == b"Adobe"):
            out += segment
        i += 2 + length
    assert b"Adobe" in data[:i] and b"Adobe" not in out
    return bytes(out + data[i:])


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _write_interlaced_png(rgb, path):
    """An Adam7-interlaced 8-bit RGB PNG (Pillow writes only non-interlaced ones)."""
    passes = [(0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1)]
    raw = bytearray()
    for top, left, dy, dx in passes:
        sub = rgb[top::dy, left::dx]
        if sub.size:
            raw += b"".join(b"\x00" + row.tobytes() for row in sub)
    header = struct.pack(">IIBBBBB", rgb.shape[1], rgb.shape[0], 8, 2, 0, 0, 1)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(raw)))
                     + _chunk(b"IEND", b""))


def _jpeg_with_orientation(orientation):
    def write(rgb, path):
        exif = Image.Exif()
        exif[EXIF_ORIENTATION] = orientation
        Image.fromarray(rgb).save(path, "JPEG", quality=95, exif=exif.tobytes())

    return write


def _cmyk_without_adobe(rgb, path):
    _write_cmyk(rgb, path)
    path.write_bytes(_strip_adobe(path.read_bytes()))


def _write_cmyk(rgb, path):
    Image.fromarray(rgb).convert("CMYK").save(path, "JPEG", quality=95)


def _write_mpo(rgb, path):
    """A multi-picture JPEG (as stereo and some phone cameras write): the first picture counts."""
    second = Image.fromarray(255 - rgb)
    Image.fromarray(rgb).save(path, "MPO", save_all=True, append_images=[second], quality=95)


def _palette(rgb, colors=16):
    return Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=colors)


def _gray16(rgb):
    """16-bit values below and above 255: Pillow keeps the first, clips the others to 255."""
    return Image.fromarray(rgb[..., 0].astype(np.uint16) * 3)


# kind: (writer, Pillow's format and mode, EXIF orientation, decoded by Pillow)
KINDS = {
    "jpeg_rgb": (lambda rgb, p: Image.fromarray(rgb).save(p, "JPEG", quality=95), "JPEG RGB", 1, False),
    "jpeg_gray": (lambda rgb, p: Image.fromarray(rgb[..., 1]).save(p, "JPEG", quality=95), "JPEG L", 1, False),
    "jpeg_progressive": (
        lambda rgb, p: Image.fromarray(rgb).save(p, "JPEG", quality=95, progressive=True), "JPEG RGB", 1, False),
    # Pillow writes CMYK JPEGs inverted, with an Adobe segment, and reads every CMYK JPEG as inverted.
    "jpeg_cmyk_adobe": (_write_cmyk, "JPEG CMYK", 1, True),
    "jpeg_cmyk_no_adobe": (_cmyk_without_adobe, "JPEG CMYK", 1, True),
    "jpeg_exif_3": (_jpeg_with_orientation(3), "JPEG RGB", 3, True),
    "jpeg_exif_6": (_jpeg_with_orientation(6), "JPEG RGB", 6, True),
    "jpeg_exif_8": (_jpeg_with_orientation(8), "JPEG RGB", 8, True),
    "jpeg_mpo": (_write_mpo, "MPO RGB", 1, False),
    "png_rgb": (lambda rgb, p: Image.fromarray(rgb).save(p, "PNG"), "PNG RGB", 1, False),
    "png_interlaced": (_write_interlaced_png, "PNG RGB", 1, False),
    "png_rgba": (lambda rgb, p: Image.fromarray(np.dstack([rgb, rgb[..., 2]])).save(p, "PNG"), "PNG RGBA", 1, False),
    "png_la": (lambda rgb, p: Image.fromarray(rgb[..., :2].copy(), "LA").save(p, "PNG"), "PNG LA", 1, False),
    "png_palette_transparent": (lambda rgb, p: _palette(rgb).save(p, "PNG", transparency=0), "PNG P", 1, False),
    "png_gray16": (lambda rgb, p: _gray16(rgb).save(p, "PNG"), "PNG I;16", 1, True),
    "bmp_rgb": (lambda rgb, p: Image.fromarray(rgb).save(p, "BMP"), "BMP RGB", 1, True),
    "bmp_palette": (lambda rgb, p: _palette(rgb).save(p, "BMP"), "BMP P", 1, True),
    "bmp_1bit": (lambda rgb, p: Image.fromarray(rgb[..., 0] > 100).save(p, "BMP"), "BMP 1", 1, True),
    "gif": (lambda rgb, p: _palette(rgb, 64).save(p, "GIF"), "GIF P", 1, True),
    "webp": (lambda rgb, p: Image.fromarray(rgb).save(p, "WEBP", lossless=True), "WEBP RGB", 1, True),
    "tiff": (lambda rgb, p: Image.fromarray(rgb).save(p, "TIFF"), "TIFF RGB", 1, True),
}


def _pillow_reference(path):
    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def _decode(path, image_size, **options):
    """The image as `make_dataset` yields it (float32, unbatched)."""
    df = pd.DataFrame({"filename": [path.name]})
    dataset = make_dataset(df, None, directory=path.parent, image_size=image_size, shuffle=False, **options)
    return next(iter(dataset)).numpy()[0]


@pytest.fixture(params=sorted(KINDS))
def written(request, tmp_path):
    """(kind, path) of one file written by Pillow; the name hides the format."""
    path = tmp_path / "image.dat"
    KINDS[request.param][0](_pixels(), path)
    return request.param, path


def test_check_records_format_mode_orientation_and_route(written):
    kind, path = written
    _, format_and_mode, orientation, by_pillow = KINDS[kind]
    report = check_images([path])
    assert not report.problems
    assert f"{report.formats[0]} {report.modes[0]}" == format_and_mode
    assert report.orientations.tolist() == [orientation]
    assert report.needs_pillow.tolist() == [by_pillow]


def test_full_size_matches_pillow(written):
    kind, path = written
    expected = np.asarray(_pillow_reference(path), dtype=np.float32)
    assert expected.shape[:2] == ((WIDTH, HEIGHT) if kind in ("jpeg_exif_6", "jpeg_exif_8") else (HEIGHT, WIDTH))
    decoded = _decode(path, expected.shape[:2])
    assert decoded.shape == expected.shape
    tolerance = JPEG_TOLERANCE if kind.startswith("jpeg") else 0
    assert np.abs(decoded - expected).max() <= tolerance


def test_without_a_check_the_bytes_pick_the_decoder(written):
    """check="none": nothing is opened before training, so EXIF orientations are not
    read; every other kind still decodes to Pillow's pixels."""
    kind, path = written
    with Image.open(path) as image:
        expected = np.asarray(image.convert("RGB"), dtype=np.float32)
    decoded = _decode(path, expected.shape[:2], check="none")
    tolerance = JPEG_TOLERANCE if kind.startswith("jpeg") else 0
    assert decoded.shape == expected.shape and np.abs(decoded - expected).max() <= tolerance


def test_reduced_size_matches_pillow_resize(written):
    """Against Pillow's bilinear resize; for a JPEG TensorFlow decodes, of Pillow's own
    DCT-scaled decode (`Image.draft`, as `Image.thumbnail` does), which zoo uses too."""
    kind, path = written
    reference = _pillow_reference(path)
    size = REDUCED if reference.height < reference.width else REDUCED[::-1]
    if kind.startswith("jpeg") and not KINDS[kind][3]:
        with Image.open(path) as image:
            image.draft("RGB", size[::-1])
            reference = image.convert("RGB")
        assert reference.size == ((WIDTH + 1) // 2, (HEIGHT + 1) // 2)
    expected = np.asarray(reference.resize(size[::-1], Image.Resampling.BILINEAR), dtype=np.float32)
    assert np.abs(_decode(path, size) - expected).max() <= REDUCED_TOLERANCE


def test_exif_transpose_off_reads_stored_pixels_with_tensorflow(tmp_path):
    path = tmp_path / "rotated.jpg"
    _jpeg_with_orientation(6)(_pixels(), path)
    assert check_images([path], exif_transpose=False).needs_pillow.tolist() == [False]
    with Image.open(path) as image:
        stored = np.asarray(image.convert("RGB"), dtype=np.float32)
    decoded = _decode(path, (HEIGHT, WIDTH), exif_transpose=False)
    assert np.abs(decoded - stored).max() <= JPEG_TOLERANCE


def test_bit_depth_one_bmp_decodes_with_skip(tmp_path):
    KINDS["bmp_1bit"][0](_pixels(), tmp_path / "mask.bmp")
    decoded = _decode(tmp_path / "mask.bmp", (HEIGHT, WIDTH), on_error="skip")
    np.testing.assert_array_equal(decoded[..., 0], np.where(_pixels()[..., 0] > 100, 255.0, 0.0))


@pytest.mark.parametrize("kind", ["jpeg_rgb", "png_rgb"])
def test_decode_failure_in_pipeline_names_the_file(kind, tmp_path):
    path = tmp_path / "cut.dat"
    KINDS[kind][0](_pixels(), path)
    path.write_bytes(path.read_bytes()[:-40])  # the header still reads: check="header" passes it
    assert not check_images([path], check="header").problems
    with pytest.raises(tf.errors.OpError, match=f"Cannot decode image file {path}"):
        _decode(path, (HEIGHT, WIDTH), check="header")
