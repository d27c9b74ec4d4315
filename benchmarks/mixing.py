"""MixUp and CutMix against the same `zoo train` run without them, per data set and seed.

Each (set, seed) is trained three times with identical flags: without mixing,
with `--mix mixup` and with `--mix cutmix`; the validation split is the same
for a seed. The table shows each head's main figure (multilabel and binary heads:
mAP and micro-F1; multiclass heads: accuracy and macro-F1) as mean +- sd over the
seeds, the wall minutes and the processor seconds of the whole command.

The full comparison (MIML, movie posters, fashion products; 3 seeds; the
planned epochs) takes hours on a CPU:

    python benchmarks/mixing.py --seeds 0 1 2

A tiny configuration that only shows the script works:

    python benchmarks/mixing.py --sets miml --seeds 0 --epochs 1 --size 32
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from common import data_dir_argument, print_table
from defaults import label_sources

REPOSITORY = Path(__file__).resolve().parents[1]
SETS = ("miml", "movie_posters", "fashion_products")
MODES = ("none", "mixup", "cutmix")


def figures(report_csv: Path) -> dict:
    """{"head figure": value} from a `zoo train` report.csv."""
    report = pd.read_csv(report_csv)
    values = {}
    for _, row in report[report["class"] == "(all)"].iterrows():
        if pd.notna(row.get("mAP")):
            values[f"{row['head']} mAP"] = float(row["mAP"])
            values[f"{row['head']} micro-F1"] = float(row["micro_f1"])
        else:
            values[f"{row['head']} accuracy"] = float(row["accuracy"])
            values[f"{row['head']} macro-F1"] = float(row["macro_f1"])
    return values


def train(source: list, flags: list, output: Path) -> dict:
    """One `zoo train` in a subprocess; its figures, wall minutes and processor seconds."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))}
    start = time.perf_counter()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run([sys.executable, "-m", "zoo.cli", "train", *map(str, source), *flags,
                             "--output", str(output)], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"zoo train failed: {result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = used.ru_utime + used.ru_stime - children.ru_utime - children.ru_stime
    return {**figures(output / "report.csv"), "minutes": (time.perf_counter() - start) / 60, "CPU s": cpu}


def table(runs: list[dict]) -> pd.DataFrame:
    """Mean +- sd over seeds, one row per set, mode and figure."""
    frame = pd.DataFrame(runs).melt(id_vars=["set", "mode", "seed"], var_name="figure").dropna()
    grouped = frame.groupby(["set", "figure", "mode"], sort=False)["value"]
    summary = grouped.agg(["mean", "std", "count"]).reset_index()
    summary["value"] = [f"{m:.4f} +- {0 if np.isnan(s) else s:.4f} (n={c})"
                        for m, s, c in zip(summary["mean"], summary["std"], summary["count"])]
    wide = summary.pivot(index=["set", "figure"], columns="mode", values="value")
    return wide[[m for m in MODES if m in wide.columns]].reset_index()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir_argument(parser)
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--epochs", type=int, help="total epochs of every run (default: planned by zoo train)")
    parser.add_argument("--size", type=int, help="square input size (default: planned by zoo train)")
    parser.add_argument("--budget", type=float, default=10.0, help="zoo train --budget in minutes")
    args = parser.parse_args(argv)

    common = ["--weights", "none", "--budget", str(args.budget)]
    if args.epochs:
        common += ["--epochs", str(args.epochs)]
    if args.size:
        common += ["--image-size", str(args.size), str(args.size)]
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.sets:
            source = label_sources(args.data)[name]
            for seed in args.seeds:
                for mode in args.modes:
                    flags = [*common, "--seed", str(seed), *([] if mode == "none" else ["--mix", mode])]
                    result = train(source, flags, Path(folder) / f"{name}_{mode}_{seed}")
                    runs.append({"set": name, "mode": mode, "seed": seed, **result})
                    print(f"{name} seed {seed} {mode}: " + ", ".join(f"{k} {v:.4f}" for k, v in result.items()),
                          flush=True)
    print()
    summary = table(runs)
    print_table(summary.to_dict("records"), list(summary.columns))


if __name__ == "__main__":
    main()
