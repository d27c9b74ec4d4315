"""`zoo audit` flip-and-find: flip a share of one head's labels at random, audit, count the flipped
images among the top suspects, and the processor time it took.

For a multiclass head a flip gives an image another class, drawn uniformly; for a multilabel head
it swaps one of the image's labels for one it lacks. The share found is the fraction of the flipped
images among the 2 x (number flipped) likeliest mistakes of that head (cleanlab's label quality
score, lowest first); the flagged columns count the images cleanlab's confident learning flags
(the rows of label_issues.csv) and the flipped images among them.

Example:
    $ nice -n 5 python audit.py                      # fashion articleType, baseColour, ... and MIML
    $ nice -n 5 python audit.py --sets miml --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from common import data_dir_argument, miml_scenes

FASHION_HEADS = ("gender", "masterCategory", "subCategory", "articleType", "baseColour", "season", "usage")


def fashion(data):
    """The fashion products table, one multiclass head per label column."""
    import zoo

    rows = zoo.data.from_csv(data / "fashion_products" / "styles.csv", label_columns=list(FASHION_HEADS),
                             file_column="id", extension=".jpg", delimiter="")
    return rows, zoo.data.heads_from_dataframe(rows, {h: "multiclass" for h in FASHION_HEADS}), \
        data / "fashion_products" / "images"


def flip(rows, head, fraction: float, seed: int):
    """A copy of `rows` with `fraction` of `head`'s labels changed at random, and the changed files."""
    rng = np.random.default_rng(seed)
    rows = rows.copy()
    chosen = rng.choice(len(rows), size=max(1, round(fraction * len(rows))), replace=False)
    classes = list(head.classes)
    for position in chosen:
        labels = tuple(rows.iloc[position][head.name])
        if head.kind == "multiclass":
            new = (rng.choice([c for c in classes if c not in labels]),)
        else:
            out = rng.choice(list(labels))
            new = tuple(sorted({*labels, rng.choice([c for c in classes if c not in labels])} - {out}))
        rows.iat[position, rows.columns.get_loc(head.name)] = tuple(str(c) for c in new)
    return rows, set(rows.iloc[chosen]["filename"])


def measure(rows, heads, directory, flipped_head, flipped_files, extractor, name, args):
    """One audit: (row of the table, seconds)."""
    from zoo.evaluation.audit import audit_labels

    began, processor = time.perf_counter(), time.process_time()
    result = audit_labels(rows, heads, directory=directory, extractor=extractor, folds=args.folds, seed=args.seed,
                          image_size=(args.size, args.size), name=name)
    cpu, wall = time.process_time() - processor, time.perf_counter() - began
    table = result.table[result.table["head"] == flipped_head]
    flipped = {str(directory / f) if directory else f for f in flipped_files}
    top = table.head(2 * len(flipped))
    found = top.file.isin(flipped).sum()
    flagged = table[table.issue]
    return {"images": len(result.files), "flipped": len(flipped), "found": int(found),
            "share": found / len(flipped), "flagged": len(flagged), "flagged_flipped": int(flagged.file.isin(flipped).sum()),
            "cpu": cpu, "wall": wall, "method": result.method}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_dir_argument(parser)
    parser.add_argument("--sets", nargs="+", default=["fashion", "miml"], choices=["fashion", "miml"])
    parser.add_argument("--heads", nargs="+", default=["articleType", "baseColour", "subCategory"],
                        help="fashion heads to flip, one audit each")
    parser.add_argument("--fraction", type=float, default=0.05)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--backbone", default="auto")
    args = parser.parse_args()

    import zoo  # noqa: F401  (TensorFlow before the threads are counted)
    from zoo.evaluation.audit import backbone_extractor, pretrained_backbone

    backbone = pretrained_backbone() if args.backbone == "auto" else args.backbone
    extractor = backbone_extractor(backbone, (args.size, args.size)) if backbone != "none" else None
    print(f"backbone {backbone}, {args.folds} folds, {args.size}x{args.size}, {os.cpu_count()} cores, "
          f"{args.fraction:.0%} of one head's labels flipped")
    results = []
    for seed in args.seeds:
        args.seed = seed
        cases = []
        if "fashion" in args.sets:
            rows, heads, directory = fashion(args.data)
            cases += [("fashion_products", rows, heads, directory, h) for h in args.heads]
        if "miml" in args.sets:
            rows, heads = miml_scenes(args.data)
            cases.append(("miml", rows, heads, args.data / "miml" / "images", "scene"))
        for set_name, rows, heads, directory, head_name in cases:
            head = next(h for h in heads if h.name == head_name)
            noisy, files = flip(rows, head, args.fraction, seed)
            row = measure(noisy, heads, directory, head_name, files, extractor, f"{backbone} and colour histogram", args)
            results.append((set_name, head_name, seed, row))
            print(f"{set_name} {head_name} seed {seed}: {row}", flush=True)
    print("\n| set | flipped head | seed | images | flipped | found in top 2x | share | flagged (flipped among them) "
          "| CPU s | wall s | CPU s per 2000 images |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for set_name, head_name, seed, r in results:
        print(f"| {set_name} | {head_name} | {seed} | {r['images']} | {r['flipped']} | {r['found']} | "
              f"{r['share']:.0%} | {r['flagged']} ({r['flagged_flipped']}) | {r['cpu']:.0f} | {r['wall']:.0f} | "
              f"{r['cpu'] * 2000 / r['images']:.0f} |")


if __name__ == "__main__":
    main()
