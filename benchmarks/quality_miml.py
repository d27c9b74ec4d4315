"""MIML scene quality from scratch with `zoo train`, over several seeds, against published figures.

Each seed makes its own 80/20 multi-label stratified split and trains
`multilabel_small` (compact residual CNN, no pretrained weights) with the command's
default schedule (AdamW, warm-up then cosine decay), augmentation and tuned
per-class thresholds. Reported on the held-out 20%: hamming loss, exact match,
micro-F1 and mAP, at threshold 0.5 and with tuned thresholds.

    python benchmarks/quality_miml.py --seeds 0 1 2 --epochs 30
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from common import data_dir_argument, print_table

PUBLISHED = [
    {"model": "small Keras CNN from scratch, 100x100 (published)", "hamming_loss": 0.1395, "exact_match": 0.54},
    {"model": "frozen ImageNet VGG16, 64x64 (published)", "hamming_loss": 0.129, "exact_match": float("nan")},
]
FIGURES = ["hamming_loss", "exact_match", "micro_f1", "mAP"]


def summary(report_csv: Path) -> dict:
    frame = pd.read_csv(report_csv)
    row = frame[frame["class"] == "(all)"].iloc[0]
    return {name: float(row[name]) for name in FIGURES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir_argument(parser)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="more `zoo train` options")
    args = parser.parse_args()

    from zoo.cli import main as zoo_main

    miml = args.data / "miml"
    results = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            status = zoo_main([
                "train", "--onehot-csv", str(miml / "miml_labels_1.csv"), "--file-column", "Filenames",
                "--images", str(miml / "images"), "--heads", "scene", "--model", "multilabel_small",
                "--image-size", str(args.size), str(args.size), "--epochs", str(args.epochs), "--weights", "none",
                "--augment", "--tune-thresholds", "f1", "--seed", str(seed), "--output", folder, *args.extra,
            ])
            if status != 0:
                raise SystemExit(f"zoo train failed for seed {seed}")
            minutes = (time.perf_counter() - start) / 60
            results.append({"seed": seed, "minutes": minutes,
                            **{f"{k}@0.5": v for k, v in summary(Path(folder) / "report_threshold_0.5.csv").items()},
                            **summary(Path(folder) / "report.csv")})
    frame = pd.DataFrame(results)
    print(f"\nMIML, multilabel_small from scratch at {args.size}x{args.size}, {args.epochs} epochs, "
          f"held-out 20% per seed")
    print(frame.to_string(index=False, float_format="%.4f"))
    rows = [{"model": p["model"], **{k: f"{p.get(k, float('nan')):.4f}" for k in FIGURES}} for p in PUBLISHED]
    for suffix, label in (("@0.5", "threshold 0.5"), ("", "tuned thresholds")):
        means = frame[[f"{k}{suffix}" for k in FIGURES]].mean()
        spreads = frame[[f"{k}{suffix}" for k in FIGURES]].std(ddof=0)
        rows.append({"model": f"zoo multilabel_small, {label} (mean +- sd of {len(frame)})",
                     **{k: f"{means[f'{k}{suffix}']:.4f} +- {spreads[f'{k}{suffix}']:.4f}" for k in FIGURES}})
    print()
    print_table(rows, ["model", *FIGURES])
    print(f"\ntraining + evaluation minutes per seed: {', '.join(f'{m:.1f}' for m in frame['minutes'])}")
    print("goal: hamming loss <= 0.085, exact match >= 0.68, mAP >= 0.90 on every seed")


if __name__ == "__main__":
    main()
