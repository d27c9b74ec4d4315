"""Argument helpers shared by the example scripts."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def example_parser(description: str) -> argparse.ArgumentParser:
    """A parser with `--data`, `--output`, `--quick`, `--weights` and `--seed`."""
    parser = argparse.ArgumentParser(description=description)
    default = os.environ.get("ZOO_DATA_DIR", str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=Path(default), help="data folder (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=Path("example_output"), help="output folder")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and one epoch (used by the tests)")
    parser.add_argument("--weights", default="auto",
                        help="backbone weights: auto (ImageNet where the file is on disk or downloads, else random), "
                             "imagenet (needs the file or internet) or none; only pretrained backbones are frozen")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def weights_argument(value: str):
    """'none' -> None, anything else unchanged."""
    return None if value == "none" else value
