"""`zoo train` with only the label-source flags, beside from-scratch and hand-chosen flags, on every shared set.

For each set, each command runs as its own process; the table gives per head the
main figure (accuracy for multiclass heads, micro-F1 and mAP for multilabel heads)
on the validation split, the CPU and wall seconds of the whole command, the
processor time of its training beside the plan's estimate, and the plan chosen
(the model, input, epochs run of those planned, colour heads). Every command of
a set uses the same split (same seed). With the EfficientNet-Lite0 weights
installed the no-flag run starts from them; `--scratch` adds `--weights none`, the
from-scratch default.

    python benchmarks/defaults.py                      # every set, no-flag runs only
    python benchmarks/defaults.py --sets miml --scratch --tuned  # from scratch and hand-chosen flags beside it
    python benchmarks/defaults.py --sets miml --seeds 0 1 2
    python benchmarks/defaults.py --sets movie_posters --models multilabel_efficientnet_lite2  # beside Lite2
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from common import data_dir_argument, print_table


def label_sources(data: Path) -> dict:
    """The label-source flags of every labelled shared set: what a newcomer types."""
    miml, fridge = data / "miml", data / "fridge"
    return {
        "miml": ["--onehot-csv", miml / "miml_labels_1.csv", "--file-column", "Filenames", "--images",
                 miml / "images", "--heads", "scene"],
        "clothing": ["--folders", data / "clothing", "--separator", "_", "--heads", "color", "type"],
        "fridge": ["--folders", fridge / "fridgeObjects"],
        "fridge_multilabel": ["--csv", fridge / "multilabelFridgeObjects" / "labels.csv", "--images",
                              fridge / "multilabelFridgeObjects" / "images"],
        "movie_posters": ["--onehot-csv", data / "movie_posters" / "labels.csv", "--file-column", "Id",
                          "--extension", ".jpg", "--images", data / "movie_posters" / "images"],
        "fashion_products": ["--csv", data / "fashion_products" / "styles.csv", "--file-column", "id",
                             "--extension", ".jpg", "--images", data / "fashion_products" / "images",
                             "--heads", "gender", "masterCategory", "articleType", "baseColour"],
    }


# Hand-chosen flags for each set: the MIML recipe of quality_miml.py (64x64, 60 epochs, from scratch)
# where a set has hundreds of images or more; the small sets (under 150 images) get the architecture's
# own 96x96 and more epochs, since an epoch there is only a few steps.
TUNED = {
    "miml": ["--image-size", "64", "64", "--epochs", "60"],
    "clothing": ["--image-size", "96", "96", "--epochs", "100"],
    "fridge": ["--image-size", "96", "96", "--epochs", "100"],
    "fridge_multilabel": ["--image-size", "96", "96", "--epochs", "100"],
    "movie_posters": ["--image-size", "64", "64", "--epochs", "60"],
    "fashion_products": ["--image-size", "64", "64", "--epochs", "60"],
}


def run(command: list, output: Path) -> dict:
    """Runs one `zoo train`; returns its figures, time and plan."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "zoo.cli", "train", *map(str, command), "--output", str(output)],
                            capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"zoo train failed: {result.stderr[-3000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    plan = json.loads((output / "plan.json").read_text())
    report = pd.read_csv(output / "report.csv")
    summary = report[report["class"] == "(all)"].set_index("head")
    figures = []
    for head, row in summary.iterrows():
        if pd.notna(row.get("mAP")):
            figures.append(f"{head} F1 {row['micro_f1']:.3f} mAP {row['mAP']:.4f} hamming {row['hamming_loss']:.4f}")
        else:
            figures.append(f"{head} acc {row['accuracy']:.3f}")
    trained = re.search(r"^Trained in .*, processor time (\S+)", result.stdout, re.MULTILINE)
    size = "x".join(map(str, plan["image_size"]))
    stages = "+".join(str(s["epochs"]) for s in plan["stages"])
    heads = re.search(r"^stage heads: (\d+) of", result.stdout, re.MULTILINE)
    history = pd.read_csv(output / "history.csv") if (output / "history.csv").is_file() else None
    ran = (f"{heads.group(1)}+" if heads else "") + (str(len(history)) if history is not None else "?")
    colour = f", colour: {'/'.join(plan['colour_heads'])}" if plan.get("colour_heads") else ""
    return {"figures": "; ".join(figures), "cpu_s": round(cpu), "wall_s": round(wall),
            "training cpu": trained.group(1) if trained else "", "estimated": f"{plan['estimated_seconds'] / 60:.1f} min",
            "plan": f"{plan['measured'].get('model', 'multilabel_small')}, {size}, {ran} of {stages} epochs, "
                    f"batch {plan['batch_size']}, aug {'on' if plan['augment'] else 'off'}{colour}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir_argument(parser)
    sources = label_sources(Path("."))
    parser.add_argument("--sets", nargs="+", choices=list(sources), default=list(sources))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--scratch", action="store_true", help="also run --weights none (the from-scratch default)")
    parser.add_argument("--tuned", action="store_true", help="also run the hand-chosen flags, where known")
    parser.add_argument("--only-tuned", action="store_true", help="run the hand-chosen flags alone")
    parser.add_argument("--models", nargs="+", default=[],
                        help="also run the default plan on these architectures (--model NAME)")
    parser.add_argument("--keep", type=Path, help="keep every run's output folder here (default: a temporary folder)")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or temporary
        for name in args.sets:
            source = label_sources(args.data)[name]
            variants = {} if args.only_tuned else {"no flags": []}
            if args.scratch and not args.only_tuned:
                variants["from scratch"] = ["--weights", "none"]
            for model in [] if args.only_tuned else args.models:
                variants[model] = ["--model", model]
            if (args.tuned or args.only_tuned) and name in TUNED:
                variants["hand-chosen"] = TUNED[name]
            for seed in args.seeds:
                for label, flags in variants.items():
                    output = Path(folder) / f"{name}_{label.replace(' ', '_')}_{seed}"
                    row = run([*source, *flags, "--seed", str(seed)], output)
                    rows.append({"set": name, "run": label, "seed": seed, **row})
                    print_table(rows[-1:], list(rows[-1]))
                    sys.stdout.flush()
    print()
    print_table(rows, ["set", "run", "seed", "figures", "cpu_s", "wall_s", "training cpu", "estimated", "plan"])


if __name__ == "__main__":
    main()
