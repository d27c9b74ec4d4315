"""`zoo audit`: labelled images -> the likeliest label mistakes, ranked, with suggested labels.

Example:
    $ zoo audit --csv styles.csv --file-column id --extension .jpg --images images --heads articleType baseColour
"""

from __future__ import annotations

from pathlib import Path

from zoo.cli.choices import ON_ERROR
from zoo.cli.sources import add_source_arguments


def add_parser(commands) -> None:
    """Adds `zoo audit` to the command's subparsers."""
    audit = commands.add_parser(
        "audit", help="find likely label mistakes: cross-fitted probabilities, ranked by cleanlab")
    add_source_arguments(audit)
    audit.add_argument("--output", default="zoo_output",
                       help="folder for label_issues.csv and label_issues.png, e.g. the run folder of "
                            "`zoo train` (default: %(default)s)")
    audit.add_argument("--folds", type=int, default=5,
                       help="K: every image is judged by a model fitted on the other K-1 folds (default: %(default)s)")
    audit.add_argument("--top", type=int, default=20,
                       help="images on the contact sheet, the likeliest mistakes first (default: %(default)s)")
    audit.add_argument("--backbone", default="auto",
                       help="pretrained backbone whose pooled features feed the linear classifiers; auto: the "
                            "first with ImageNet weights on this machine; none: K short training runs from "
                            "scratch instead (default: %(default)s)")
    audit.add_argument("--image-size", type=int, nargs=2, metavar=("HEIGHT", "WIDTH"),
                       help="input size (default: 224 224 for backbone features, 64 64 for training runs)")
    audit.add_argument("--epochs", type=int, default=8, help="epochs of each training run (--backbone none)")
    audit.add_argument("--allow-empty", action="store_true",
                       help="images without any label are valid negatives of multilabel heads")
    audit.add_argument("--seed", type=int, default=0, help="seed of the folds (default: %(default)s)")
    audit.add_argument("--on-error", choices=ON_ERROR, default="raise", help="unreadable images and bad labels")
    audit.set_defaults(run=run)


def check_arguments(args) -> None:
    """Raises a `UsageError` for the first `zoo audit` argument that cannot work (before TensorFlow loads)."""
    from zoo.cli.arguments import UsageError, _check_kinds_name_heads, _check_source
    from zoo.models import catalog

    _check_kinds_name_heads(args, _check_source(args))
    for flag in ("folds", "top", "epochs"):
        value = getattr(args, flag)
        if value < (2 if flag == "folds" else 1):
            raise UsageError(f"--{flag} must be at least {2 if flag == 'folds' else 1}. Received: --{flag} {value}")
    for side in args.image_size or ():
        if side < 1:
            raise UsageError(f"--image-size must be positive. Received: --image-size {' '.join(map(str, args.image_size))}")
    if args.backbone not in ("auto", "none") and "imagenet" not in catalog.BACKBONES.get(args.backbone, {}).get(
            "pretrained", ()):
        choices = sorted(n for n, spec in catalog.BACKBONES.items() if "imagenet" in spec.get("pretrained", ()))
        raise UsageError(f"--backbone: {args.backbone!r} is not a backbone with ImageNet weights; choose auto, none "
                         f"or one of {', '.join(choices)}. Received: --backbone {args.backbone}")


def run(args) -> None:
    """`zoo audit`: label source -> cross-fitted probabilities -> label_issues.csv and label_issues.png."""
    import time
    import warnings

    from zoo.cli.quiet import import_tensorflow

    import_tensorflow(verbose=args.verbose)

    from zoo import data
    from zoo.cli.sources import checked_rows, load_source
    from zoo.evaluation import audit
    from zoo.io.progress import format_duration

    began, processor = time.perf_counter(), time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", data.DataWarning)
        df, kinds = load_source(args)
        rows, heads = checked_rows(args, df, data.heads_from_dataframe(df, kinds))
    for warning in caught:
        print(f"Warning: {warning.message}")
    print(f"{len(rows)} images; heads: " + ", ".join(f"{h.name} ({h.kind}, {len(h.classes)} classes)" for h in heads))
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    backbone = audit.pretrained_backbone() if args.backbone == "auto" else None if args.backbone == "none" \
        else args.backbone
    if backbone is None and args.backbone == "auto":
        print("No backbone with ImageNet weights on this machine: the probabilities come from "
              f"{args.folds} short training runs from scratch (slower, and weaker on small sets)")
    extractor = None if backbone is None else audit.backbone_extractor(backbone, args.image_size)
    result = audit.audit_labels(rows, heads, directory=args.images, extractor=extractor, folds=args.folds,
                                seed=args.seed, image_size=args.image_size, on_error=args.on_error,
                                allow_empty=args.allow_empty, cache=output / audit.FEATURES_FILE,
                                name=f"{backbone} and colour histogram" if backbone else "none", epochs=args.epochs)
    issues = result.issues
    issues.to_csv(output / audit.ISSUES_FILE, index=False)
    sheet = audit.plot_label_issues(issues, output / audit.SHEET_FILE, top=args.top)
    print(f"Out-of-sample probabilities: {result.method}; {format_duration(time.perf_counter() - began)}, "
          f"processor time {format_duration(time.process_time() - processor)}")
    for head in heads:
        flagged = issues[issues["head"] == head.name]
        print(f"{head.name}: {len(flagged)} of {len(result.files)} labels look wrong")
        for _, row in flagged.head(5).iterrows():
            print(f"  {row['rank']:>3}. {row['file']}: {row['given']} -> {row['suggested']} (score {row['score']:.3f})")
        if len(flagged) > 5:
            print(f"  ... and {len(flagged) - 5} more")
        alone = result.alone(head.name)
        if alone:
            print(f"  {len(alone)} image(s) are the only one of their {head.name} class, so no other image can vouch "
                  f"for their label: {', '.join(alone[:5])}" + (f" ... and {len(alone) - 5} more" if len(alone) > 5
                                                               else ""))
    print(f"Written: {output / audit.ISSUES_FILE}" + (f", {sheet}" if sheet else " (no suspect to show)"))
