"""Shared helpers of the benchmark scripts: data location and timing."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def data_dir_argument(parser: argparse.ArgumentParser) -> None:
    """Adds `--data`, defaulting to $ZOO_DATA_DIR or ../shared/data beside the repository."""
    default = os.environ.get("ZOO_DATA_DIR", str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=Path(default), help="real data folder (default: %(default)s)")


def miml_scenes(data: Path, images: int | None = None):
    """MIML's scene labels, the first `images` rows (default all), with their multilabel head.

    Returns:
        (rows, heads): the normalized table (`filename`, `scene`) and `[Head("scene", ...)]`.
    """
    import zoo

    rows = zoo.data.from_onehot_csv(data / "miml" / "miml_labels_1.csv", file_column="Filenames", head="scene")
    rows = rows.head(images) if images else rows
    return rows, zoo.data.heads_from_dataframe(rows, {"scene": "multilabel"})


def images_per_second(batches, count_images) -> tuple[float, int]:
    """Iterates `batches` once; returns (images per second, images seen)."""
    start = time.perf_counter()
    seen = 0
    for batch in batches:
        seen += count_images(batch)
    return seen / (time.perf_counter() - start), seen


def print_table(rows, columns) -> None:
    """Prints rows of dicts as an aligned text table."""
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in rows:
        print("  ".join(str(row[c]).ljust(w) for c, w in zip(columns, widths)))
