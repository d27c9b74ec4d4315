"""Test-time augmentation on MIML: the same trained models scored without TTA, with `flip` and `flip+crops`.

Each run folder is a `zoo train` output on MIML (e.g. kept by
`python defaults.py --sets miml --seeds 0 1 2 --keep RUNS`); its validation
images (from `split.csv`) are scored at threshold 0.5 with each mode, and the
processor and wall seconds of each prediction pass are given beside the figures.

    python benchmarks/tta.py RUNS/miml_no_flags_0 RUNS/miml_no_flags_1 RUNS/miml_no_flags_2
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from common import data_dir_argument, print_table

MODES = (None, "flip", "flip+crops")


def score(run: Path, labels: pd.DataFrame, mode) -> dict:
    """Figures of the run's model on its validation images with TTA `mode`."""
    import zoo

    model = zoo.load_model(run / "model.keras")
    split = pd.read_csv(run / "split.csv")
    validation = set(split.loc[split["split"] == "validation", "file"])
    rows = labels[labels["filename"].isin(validation)].reset_index(drop=True)
    heads = zoo.models.card.heads_of(model)
    size = tuple(zoo.model_info(model)["input_shape"][:2])
    dataset = zoo.data.make_dataset(rows, heads, image_size=size, batch_size=32, shuffle=False, cache=True)
    list(dataset)  # decode once, so that each mode times its predictions only
    wall, processor = time.perf_counter(), time.process_time()
    predictions = zoo.Predictions.of(model, dataset, tta=mode)
    wall, processor = time.perf_counter() - wall, time.process_time() - processor
    summary = zoo.evaluate(model, predictions)["scene"]["summary"]
    return {"run": run.name, "tta": mode or "none", "images": len(rows),
            "hamming": round(summary["hamming_loss"], 4), "exact match": round(summary["exact_match"], 4),
            "micro-F1": round(summary["micro_f1"], 4), "mAP": round(summary["mAP"], 4),
            "cpu_s": round(processor, 1), "wall_s": round(wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir_argument(parser)
    parser.add_argument("runs", type=Path, nargs="+", help="zoo train output folders of MIML runs")
    args = parser.parse_args()

    import zoo

    miml = args.data / "miml"
    labels = zoo.data.from_onehot_csv(miml / "miml_labels_1.csv", file_column="Filenames", head="scene")
    labels["filename"] = zoo.data.resolve_paths(labels, miml / "images")
    rows = [score(run, labels, mode) for run in args.runs for mode in MODES]  # modes side by side per run
    print_table(rows, list(rows[0]))
    means = pd.DataFrame(rows).groupby("tta", sort=False)[["hamming", "exact match", "micro-F1", "mAP", "cpu_s"]].mean()
    print()
    print(means.round(4).to_string())


if __name__ == "__main__":
    main()
