"""MIML scene quality from scratch with `zoo train`, over several seeds, against published figures.

Each seed makes its own 80/20 multi-label stratified split and runs the recipe:
`multilabel_small` (compact residual CNN, no pretrained weights) at 64x64 for 60
epochs with the command's default schedule (AdamW, warm-up then cosine decay) and
augmentation. Reported on the held-out 20%: hamming loss, exact match, micro-F1
and mAP at threshold 0.5, and with per-class F1 thresholds estimated honestly by
2-fold cross-fitting (each half scored with thresholds tuned on the other half).

`--variants` runs changed recipes on one seed, to show what each part contributes.

    python benchmarks/quality_miml.py --seeds 0 1 2
    python benchmarks/quality_miml.py --seeds --variants all
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from common import data_dir_argument, print_table

PUBLISHED = [
    {"run": "small Keras CNN from scratch, 100x100 (published)", "hamming_loss": 0.1395, "exact_match": 0.54},
    {"run": "frozen ImageNet VGG16, 64x64 (published)", "hamming_loss": 0.129},
]
FIGURES = ["hamming_loss", "exact_match", "micro_f1", "mAP"]


def variants(size: int, epochs: int) -> dict:
    """`zoo train` options of the recipe and of each changed recipe."""
    recipe = ["--image-size", str(size), str(size), "--epochs", str(epochs)]  # augmentation is on by default
    return {
        "recipe": recipe,
        "no augmentation": [*recipe, "--no-augment"],
        "96x96, 30 epochs (same time)": ["--image-size", "96", "96", "--epochs", "30"],
        "Adam, constant learning rate 1e-3": [*recipe, "--stage", f"epochs={epochs},optimizer=adam,lr=1e-3"],
        "asymmetric loss": [*recipe, "--loss", "asymmetric"],
        "mixed bfloat16, batch 64": [*recipe, "--precision", "mixed_bfloat16", "--batch-size", "64"],
    }


def summary(report_csv: Path) -> dict:
    frame = pd.read_csv(report_csv)
    row = frame[frame["class"] == "(all)"].iloc[0]
    return {name: float(row[name]) for name in FIGURES}


def run(miml: Path, options: list, seed: int) -> dict:
    """One `zoo train` run; figures at 0.5 and with cross-fitted thresholds, and minutes."""
    from zoo.cli import main as zoo_main

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        status = zoo_main([
            "train", "--onehot-csv", str(miml / "miml_labels_1.csv"), "--file-column", "Filenames",
            "--images", str(miml / "images"), "--heads", "scene", "--model", "multilabel_small",
            "--weights", "none", "--tune-thresholds", "f1", "--seed", str(seed), "--output", folder, *options,
        ])
        if status != 0:
            raise SystemExit(f"zoo train failed: seed {seed}, options {options}")
        minutes = (time.perf_counter() - start) / 60
        return {"seed": seed, "minutes": minutes,
                **{f"{k}@0.5": v for k, v in summary(Path(folder) / "report_threshold_0.5.csv").items()},
                **{f"{k} tuned": v for k, v in summary(Path(folder) / "report_tuned_cross_fitted.csv").items()
                   if k != "mAP"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir_argument(parser)
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2], help="seeds of the recipe runs")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--variants", nargs="*", default=[], help="changed recipes to run, or `all`")
    parser.add_argument("--variant-seed", type=int, default=0)
    args = parser.parse_args()

    miml = args.data / "miml"
    recipes = variants(args.size, args.epochs)
    chosen = [name for name in recipes if name != "recipe"] if args.variants == ["all"] else args.variants
    unknown = set(chosen) - set(recipes)
    if unknown:
        raise SystemExit(f"unknown variants {sorted(unknown)}; choose from {list(recipes)}")
    if not args.seeds and not chosen:
        raise SystemExit("nothing to run: `--seeds` is empty and no `--variants` were given")

    if args.seeds:
        frame = pd.DataFrame([run(miml, recipes["recipe"], seed) for seed in args.seeds])
        print(f"\nMIML, recipe: multilabel_small from scratch at {args.size}x{args.size}, {args.epochs} epochs, "
              "held-out 20% per seed")
        print(frame.to_string(index=False, float_format="%.4f"))
        rows = [{"run": p["run"], **{k: f"{p[k]:.4f}" if k in p else "" for k in FIGURES}} for p in PUBLISHED]
        for suffix, label in (("@0.5", "threshold 0.5"), (" tuned", "tuned thresholds, cross-fitted")):
            columns = [f"{k}{suffix}" if f"{k}{suffix}" in frame else f"{k}@0.5" for k in FIGURES]
            means, spreads = frame[columns].mean(), frame[columns].std(ddof=0)
            rows.append({"run": f"zoo recipe, {label} (mean +- sd of {len(frame)})",
                         **{k: f"{means[c]:.4f} +- {spreads[c]:.4f}" for k, c in zip(FIGURES, columns)}})
        print()
        print_table(rows, ["run", *FIGURES])
        print(f"\nminutes per seed, loading to saved model: {', '.join(f'{m:.1f}' for m in frame['minutes'])}")
        print("goal: hamming loss <= 0.085, exact match >= 0.68, mAP >= 0.90 on every seed")

    if chosen:
        ablation = [{"run": name, **run(miml, recipes[name], args.variant_seed)} for name in chosen]
        print(f"\nChanged recipes, seed {args.variant_seed} (tuned columns: cross-fitted thresholds); compare with "
              f"the recipe's row for that seed")
        print(pd.DataFrame(ablation).drop(columns="seed").to_string(index=False, float_format="%.4f"))


if __name__ == "__main__":
    main()
