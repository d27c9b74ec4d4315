"""`zoo train`: labelled images -> a planned, staged run -> the best model, its report and plots.

Example:
    $ zoo train --folders clothing --separator _ --heads color type
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import time
import warnings
from pathlib import Path

from zoo.cli.choices import MIX_MODES, ON_ERROR, PRECISIONS, THRESHOLD_METRICS, TRAINING_LOSSES
from zoo.cli.sources import add_source_arguments


def add_parser(commands) -> None:
    """Adds `zoo train` to the command's subparsers."""
    train = commands.add_parser("train", help="train a model on your labelled images, in stages")
    add_source_arguments(train)
    train.add_argument("--model", default="multilabel_small",
                       help="architecture from `zoo list` (default: %(default)s)")
    plan = train.add_argument_group(
        "plan (chosen from the data and this machine's speed to fit --budget; a flag overrides a choice)")
    plan.add_argument("--budget", type=float, default=10.0, metavar="MINUTES",
                      help="time budget of the run in minutes: processor time (all cores together) without a "
                           "GPU, wall time with one (default: %(default)s)")
    plan.add_argument("--plan", type=Path, metavar="PLAN_JSON", help="repeat the plan.json of an earlier run exactly")
    plan.add_argument("--image-size", type=int, nargs=2, metavar=("HEIGHT", "WIDTH"), help="input size")
    plan.add_argument("--epochs", type=int, help="total epochs (spread over the stages)")
    plan.add_argument("--learning-rate", type=float, help="peak learning rate of the first stage")
    plan.add_argument("--batch-size", type=int)
    plan.add_argument("--no-augment", action="store_true", help="no flip, rotation, zoom, translation, contrast")
    plan.add_argument("--augment", action="store_true", help=argparse.SUPPRESS)  # on by default now
    train.add_argument("--mix", choices=MIX_MODES,
                       help="mix pairs of training images and their targets: mixup (blend, alpha 0.2) or cutmix "
                            "(paste a box, alpha 1.0), after the other augmentations")
    plan.add_argument("--stage", action="append", default=[], metavar="SPEC",
                      help="a training stage, repeatable, replacing the planned ones, e.g. "
                           "epochs=10,trainable=heads,lr=1e-3 then epochs=10,trainable=type:block5_conv1,lr=1e-5; "
                           "fields: epochs, lr, trainable=auto|heads|all|BOUNDARY|BRANCH:BOUNDARY/..., optimizer, "
                           "schedule, warmup, name, loss_weights=HEAD:WEIGHT/... (e.g. color:0.1/type:1)")
    train.add_argument("--weights", default="auto",
                       help="auto (ImageNet where a backbone has it and the file can be had, else random), "
                            "imagenet, none or a weights file (default: %(default)s)")
    train.add_argument("--validation-split", type=float, default=0.2)
    train.add_argument("--no-stratify", action="store_true", help="random instead of multi-label stratified split")
    train.add_argument("--allow-empty", action="store_true",
                       help="images without any label are valid negatives of multilabel heads")
    train.add_argument("--min-count", type=int, metavar="N", help="drop classes with fewer than N images")
    train.add_argument("--precision", choices=PRECISIONS, default="float32",
                       help="mixed_bfloat16 for CPUs with AVX-512 BF16 or AMX and recent GPUs, mixed_float16 for "
                            "GPUs; weights and outputs stay float32 (default: %(default)s)")
    train.add_argument("--no-cache", action="store_true",
                       help="decode the images again every epoch (default: keep them in memory when they fit in 2 GiB)")
    train.add_argument("--loss", choices=TRAINING_LOSSES, default="bce",
                       help="loss of multilabel and binary heads; weighted_bce weighs positives by the training "
                            "split's negatives/positives (default: %(default)s)")
    train.add_argument("--tune-thresholds", choices=THRESHOLD_METRICS,
                       help="tune per-class thresholds on the validation split; report_tuned_cross_fitted.csv "
                            "estimates their effect on unseen images (2-fold cross-fitting)")
    train.add_argument("--format", choices=["keras", "h5"], default="keras", help="model file format")
    train.add_argument("--output", default="zoo_output", help="output folder (default: %(default)s)")
    train.add_argument("--restart", action="store_true",
                       help="start over in an --output folder that holds an interrupted or finished run")
    train.add_argument("--tensorboard", type=Path, metavar="DIR", help="also write a TensorBoard log there")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--on-error", choices=ON_ERROR, default="raise", help="unreadable images and bad labels")
    train.add_argument("--progress", action="store_true", help="progress bars instead of one line per epoch")
    train.set_defaults(run=run)


# `zoo train` keeps decoded images in memory when they fit in this much.
MEMORY_CACHE_BYTES = 2 * 2**30


def training_losses(name: str, heads, train_rows) -> dict | None:
    """`--loss` for every multilabel and binary head; weighted_bce's weights come from `train_rows`."""
    from zoo import data
    from zoo.models.heads import thresholded
    from zoo.training.losses import make_loss

    if name == "bce":
        return None
    sigmoid_heads = thresholded(heads)
    if name != "weighted_bce":
        return {h.name: make_loss(name) for h in sigmoid_heads}
    targets = data.encode(train_rows, sigmoid_heads, allow_empty=True).targets
    return {h.name: make_loss(name, pos_weight=data.positive_weights(targets[h.name]).tolist())
            for h in sigmoid_heads}


def run(args) -> None:
    """`zoo train`: label source -> plan -> staged training with backups -> best model, report, plots."""
    import keras
    import pandas as pd

    import zoo
    from zoo import data
    from zoo.training import run
    from zoo.training.backup import latest_backup
    from zoo.models.card import card_of, set_card
    from zoo.io.model_card import write_model_card
    from zoo.training.plan import Plan
    from zoo.training.finetune import parse_stage
    from zoo.io.progress import format_duration

    from zoo.cli.reports import print_summary, report_frame
    from zoo.cli.sources import checked_rows, load_source

    began = time.perf_counter()
    output = Path(args.output)
    resumed_run = run.previous_run(output, args)
    keras.utils.set_random_seed(args.seed)
    with warnings.catch_warnings(record=True) as caught:  # shown as plain lines, not source locations
        warnings.simplefilter("always", data.DataWarning)
        df, kinds = load_source(args)
        df, heads = checked_rows(args, df, data.heads_from_dataframe(df, kinds))
        train_rows, validation_rows = data.train_validation_split(
            df, heads, args.validation_split, stratify=not args.no_stratify, seed=args.seed
        )
    for warning in caught:
        print(f"Warning: {warning.message}")
    output.mkdir(parents=True, exist_ok=True)
    counts = data.label_counts({"train": train_rows, "validation": validation_rows}, heads)
    counts.to_csv(output / "label_counts.csv")
    zoo.evaluation.plots.plot_label_counts(counts, output / "label_counts.png")
    print(f"{len(train_rows)} training and {len(validation_rows)} validation images; heads: "
          + ", ".join(f"{h.name} ({h.kind}, {len(h.classes)} classes)" for h in heads))

    weights = None if args.weights == "none" else args.weights
    with zoo.training.scale.mixed_precision(args.precision):
        model = zoo.build(args.model, heads=heads, weights=weights,
                          input_shape=(*args.image_size, 3) if args.image_size else None)
    train_paths = data.resolve_paths(train_rows, args.images)
    validation_paths = data.resolve_paths(validation_rows, args.images)
    resumed = None
    if resumed_run is not None:
        run.check_same_split(output, train_paths, validation_paths)
        plan = Plan.load(output / run.PLAN_FILE)
        resumed = latest_backup(output / run.BACKUP_FOLDER)
    else:
        print("Measuring this machine's training speed to plan the run...")
        stages = [parse_stage(spec, [h.name for h in heads]) for spec in args.stage]
        plan = run.make_plan(args, model, heads, train_rows, len(validation_rows), began, stages)
        plan.save(output / run.PLAN_FILE)
        run.write_split(output, train_paths, validation_paths)
        run.write_run(output, args, finished=False)
    keras.backend.clear_session(free_memory=False)
    with zoo.training.scale.mixed_precision(args.precision):
        model = zoo.build(args.model, heads=heads, weights=weights, input_shape=(*plan.image_size, 3))
    print("Plan (plan.json; repeat it with --plan):\n  " + "\n  ".join(plan.describe()))

    size = tuple(plan.image_size)
    decoded_bytes = len(df) * size[0] * size[1] * 3 * 4  # float32 pixels
    cache = not args.no_cache and decoded_bytes <= MEMORY_CACHE_BYTES
    if cache:
        print(f"Keeping the decoded images in memory ({decoded_bytes / 2**20:.0f} MiB); --no-cache turns this off")
    common = dict(directory=args.images, image_size=size, batch_size=plan.batch_size, seed=args.seed,
                  on_error=args.on_error, cache=cache, allow_empty=args.allow_empty)
    augment = data.with_mixing(True if plan.augment else None, getattr(args, "mix", None))
    train_data = data.make_dataset(train_rows, heads, augment=augment, **common)
    validation_data = data.make_dataset(validation_rows, heads, shuffle=False, **common)
    losses = training_losses(args.loss, heads, train_rows)
    fit_began, fit_processor = time.perf_counter(), time.process_time()
    rows = run.fit(model, train_data, validation_data, plan, output, args, resumed, losses)
    print(f"Trained in {format_duration(time.perf_counter() - fit_began)}, processor time "
          f"{format_duration(time.process_time() - fit_processor)} (the plan estimated "
          f"{plan.estimated_seconds / 60:.1f} min of {plan.measured.get('clock', 'wall')} time)")
    best_epoch = run.restore_best(model, output)
    if best_epoch is not None:
        print(f"Restored the weights of epoch {best_epoch}, the best on validation ({run.MONITOR})")
    zoo.evaluation.plots.plot_history(pd.DataFrame(rows), output / "history.png")

    predictions = zoo.Predictions.of(model, validation_data)  # one pass serves every report
    written = ["plan.json", "split.csv", "label_counts.csv", "label_counts.png", "history.csv", "history.png",
               run.BEST_MODEL]
    reports = {}
    if args.tune_thresholds:
        reports["threshold 0.5"] = zoo.evaluate(model, predictions)
        report_frame(reports["threshold 0.5"]).to_csv(output / "report_threshold_0.5.csv", index=False)
        # Tuned and scored on the same images, report.csv flatters the thresholds; this does not.
        reports["tuned, cross-fitted"] = zoo.evaluation.thresholds.cross_fitted_report(
            model, predictions, metric=args.tune_thresholds)
        report_frame(reports["tuned, cross-fitted"]).to_csv(output / "report_tuned_cross_fitted.csv", index=False)
        zoo.tune_thresholds(model, predictions, metric=args.tune_thresholds)
        written += ["report_threshold_0.5.csv", "report_tuned_cross_fitted.csv"]
    report = zoo.evaluate(model, predictions)
    reports["tuned on these images" if args.tune_thresholds else "validation"] = report
    report_frame(report).to_csv(output / "report.csv", index=False)
    for name, part in report.items():
        zoo.evaluation.plots.plot_confusion(part, output / f"confusion_{name}.png", title=name, split="validation")
        written.append(f"confusion_{name}.png")
    run.prediction_sheet(model, validation_rows, predictions, heads, output / "predictions.png", args.images)
    written.append("predictions.png")
    set_card(model, dataclasses.replace(card_of(model), plan=plan.to_dict()))
    model_path = output / f"model.{args.format}"
    zoo.save_model(model, model_path)
    write_model_card(model, output, label_counts=counts, report=report, plan=plan.to_dict())
    written += ["MODEL_CARD.md", "MODEL_CARD.json"]
    run.write_run(output, args, finished=True)
    shutil.rmtree(output / run.BACKUP_FOLDER, ignore_errors=True)
    written += [model_path.name, "report.csv"]
    print_summary(reports, model, written, output, model_path, args, format_duration(time.perf_counter() - began))
