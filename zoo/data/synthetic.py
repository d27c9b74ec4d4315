"""A built-in synthetic color/type data set: garment-like shapes, no download.

Shirts (a T shape), dresses (a flared trapezoid) and jeans (two legs under a
waistband) in black, blue and red, on noisy light backgrounds, with random size,
position, tilt, shade and lighting. Some color/type pairs are left out of the
training folder on purpose, to check that a color head generalizes to pairs it
never saw.

Example:
    >>> from zoo.data.synthetic import make_garments
    >>> train, held_out = make_garments("/tmp/garments", images_per_pair=2)  # doctest: +SKIP
    >>> sorted(set(held_out["color"].str[0] + "_" + held_out["type"].str[0]))  # doctest: +SKIP
    ['black_dress', 'red_jeans']
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from zoo.data.sources import from_folders

COLORS = {"black": (25, 25, 30), "blue": (35, 70, 190), "red": (195, 35, 40)}
TYPES = ("dress", "jeans", "shirt")
HELD_OUT_PAIRS = (("black", "dress"), ("red", "jeans"))


def _outline(kind: str, box) -> list[list[tuple]]:
    """Polygons of one garment inside box = (left, top, right, bottom)."""
    left, top, right, bottom = box
    w, h = right - left, bottom - top
    cx = left + w / 2
    if kind == "shirt":
        body = [(cx - 0.28 * w, top + 0.12 * h), (cx + 0.28 * w, top + 0.12 * h),
                (cx + 0.28 * w, bottom), (cx - 0.28 * w, bottom)]
        sleeves = [(cx - 0.28 * w, top + 0.12 * h), (left, top + 0.35 * h), (left + 0.1 * w, top + 0.5 * h),
                   (cx - 0.28 * w, top + 0.35 * h), (cx + 0.28 * w, top + 0.35 * h),
                   (right - 0.1 * w, top + 0.5 * h), (right, top + 0.35 * h), (cx + 0.28 * w, top + 0.12 * h)]
        return [body, sleeves]
    if kind == "dress":
        return [[(cx - 0.14 * w, top), (cx + 0.14 * w, top), (cx + 0.18 * w, top + 0.35 * h),
                 (right, bottom), (left, bottom), (cx - 0.18 * w, top + 0.35 * h)]]
    waist = [(cx - 0.3 * w, top), (cx + 0.3 * w, top), (cx + 0.3 * w, top + 0.15 * h), (cx - 0.3 * w, top + 0.15 * h)]
    leg_left = [(cx - 0.3 * w, top + 0.1 * h), (cx - 0.02 * w, top + 0.1 * h), (cx - 0.05 * w, bottom),
                (cx - 0.3 * w, bottom)]
    leg_right = [(cx + 0.02 * w, top + 0.1 * h), (cx + 0.3 * w, top + 0.1 * h), (cx + 0.3 * w, bottom),
                 (cx + 0.05 * w, bottom)]
    return [waist, leg_left, leg_right]


def garment_image(color: str, kind: str, size=(64, 64), rng=None) -> np.ndarray:
    """One synthetic garment as a uint8 (height, width, 3) array.

    Args:
        color: One of `COLORS`.
        kind: One of `TYPES`.
        size: (height, width).
        rng: numpy Generator (default: a fresh one).
    """
    if color not in COLORS or kind not in TYPES:
        raise ValueError(
            f"Unknown garment {color!r} {kind!r}; colors: {list(COLORS)}, types: {list(TYPES)}."
        )
    rng = rng or np.random.default_rng()
    height, width = size
    scale = 4  # draw large, then shrink: smooth edges
    H, W = height * scale, width * scale
    background = rng.uniform(170, 250, 3)
    noise = rng.normal(0, 12, (H, W, 1))
    canvas = np.clip(background + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(canvas)
    mask = Image.new("L", (W, H), 0)
    draw = ImageDraw.Draw(mask)
    box_w, box_h = W * rng.uniform(0.55, 0.85), H * rng.uniform(0.6, 0.9)
    left, top = rng.uniform(0, W - box_w), rng.uniform(0, H - box_h)
    for polygon in _outline(kind, (left, top, left + box_w, top + box_h)):
        draw.polygon(polygon, fill=255)
    mask = mask.rotate(rng.uniform(-12, 12), resample=Image.BILINEAR, center=(W / 2, H / 2))
    base = np.asarray(COLORS[color], dtype=float) + rng.normal(0, 14, 3)
    shade = np.linspace(rng.uniform(0.8, 1.0), rng.uniform(1.0, 1.25), H)[:, None, None]
    fabric = np.clip(base * shade + rng.normal(0, 6, (H, W, 3)), 0, 255).astype(np.uint8)
    image.paste(Image.fromarray(fabric), (0, 0), mask.filter(ImageFilter.GaussianBlur(scale / 2)))
    light = rng.uniform(0.85, 1.1)
    image = image.resize((width, height), Image.LANCZOS)
    return np.clip(np.asarray(image, dtype=float) * light, 0, 255).astype(np.uint8)


def make_garments(
    directory,
    images_per_pair: int = 40,
    image_size=(64, 64),
    held_out_pairs=HELD_OUT_PAIRS,
    held_out_images: int = 10,
    seed: int = 0,
):
    """Writes the synthetic set as JPEG files and returns its two label tables.

    Layout: `directory/train/<color>_<type>/*.jpg` for every pair except
    `held_out_pairs`, and `directory/held_out/<color>_<type>/*.jpg` for those.

    Args:
        directory: Output folder (created).
        images_per_pair: Training images per color/type pair.
        image_size: (height, width) of the images.
        held_out_pairs: (color, type) pairs kept out of training.
        held_out_images: Images per held-out pair.
        seed: Random seed: the same seed writes the same pixels.

    Returns:
        (train DataFrame, held-out DataFrame) with `filename`, `color`, `type`.
    """
    directory = Path(directory)
    rng = np.random.default_rng(seed)
    held_out_pairs = {tuple(p) for p in held_out_pairs}
    for color in COLORS:
        for kind in TYPES:
            held = (color, kind) in held_out_pairs
            folder = directory / ("held_out" if held else "train") / f"{color}_{kind}"
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(held_out_images if held else images_per_pair):
                pixels = garment_image(color, kind, image_size, rng)
                Image.fromarray(pixels).save(folder / f"{color}_{kind}_{i:04d}.jpg", quality=92)
    tables = [
        from_folders(directory / part, heads=("color", "type"), separator="_")
        for part in ("train", "held_out")
    ]
    return tables[0], tables[1]
