"""`zoo train`: labelled images -> a planned, staged run -> the best model, its report and plots.

Example:
    $ zoo train --folders clothing --separator _ --heads color type
"""

from __future__ import annotations

import time
from pathlib import Path

from zoo.cli.choices import MIX_MODES, ON_ERROR, PRECISIONS, THRESHOLD_METRICS, TRAINING_LOSSES
from zoo.cli.sources import add_min_count_argument, add_source_arguments
from zoo.cli.workers import add_arguments as add_worker_arguments


def add_parser(commands) -> None:
    """Adds `zoo train` to the command's subparsers."""
    train = commands.add_parser("train", help="train a model on your labelled images, in stages")
    add_source_arguments(train)
    add_worker_arguments(train)
    train.add_argument("--model", default="auto",
                       help="architecture from `zoo list`; auto: multilabel_efficientnet_lite0 from its installed "
                            "ImageNet weights (heads first on cached features, then the top block fine-tuned), or "
                            "multilabel_small from scratch with --weights none or without those weights "
                            "(default: %(default)s)")
    plan = train.add_argument_group(
        "plan (chosen from the data and this machine's speed to fit --budget; a flag overrides a choice)")
    plan.add_argument("--budget", type=float, default=10.0, metavar="MINUTES",
                      help="time budget of the run in minutes: processor time (all cores together) without a "
                           "GPU, wall time with one; training stops before an epoch that would run past it "
                           "(default: %(default)s)")
    plan.add_argument("--plan", type=Path, metavar="PLAN_JSON", help="repeat the plan.json of an earlier run exactly")
    plan.add_argument("--image-size", type=int, nargs=2, metavar=("HEIGHT", "WIDTH"), help="input size")
    plan.add_argument("--epochs", type=int, help="total epochs (spread over the stages)")
    plan.add_argument("--learning-rate", type=float, help="peak learning rate of the first stage")
    plan.add_argument("--batch-size", type=int, help="images per training step")
    plan.add_argument("--no-augment", action="store_true", help="no flip, rotation, zoom, translation, contrast")
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
    train.add_argument("--validation-split", type=float, default=0.2, metavar="FRACTION",
                       help="share of the images held out to validate on, pick the best epoch and report "
                            "(default: %(default)s)")
    train.add_argument("--no-stratify", action="store_true", help="random instead of multi-label stratified split")
    train.add_argument("--allow-empty", action="store_true",
                       help="images without any label are valid negatives of multilabel heads")
    add_min_count_argument(train)
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
    train.add_argument("--seed", type=int, default=0,
                       help="seed of the split, the initial weights, the shuffling and augmentation (default: "
                            "%(default)s)")
    train.add_argument("--on-error", choices=ON_ERROR, default="raise",
                       help="unreadable images and bad labels; raise: stop and name them; skip: leave them out, "
                            "counted and reported (default: %(default)s)")
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
    """`zoo train`: label source -> plan -> staged training with backups -> best model, report, plots.

    The flags become a `zoo.training.config.RunConfig` (`zoo.cli.run_config.run_config`),
    which is all the run reads from here on; its reporter names the flags in messages.

    On a cluster (`--workers`, or `TF_CONFIG`) every worker loads the same images and trains on
    its part of each batch; the chief (worker 0) alone plans, reads and writes `--output`, and
    sends the others the plan and the epoch a resumed run continues after.
    """
    import contextlib

    from zoo.cli import workers
    from zoo.cli.run_config import run_config
    from zoo.training.run import holding
    from zoo.training.threads import available_cores, leave_a_core_to_the_input

    from zoo.training.run_plan import default_model

    began = time.perf_counter()
    config = run_config(args, model=default_model(args.model, args.weights, args.plan))
    if args.model == "auto":
        start = ("from its installed ImageNet weights; --weights none trains multilabel_small from scratch"
                 if config.model != "multilabel_small" else "from scratch")
        print(f"Model: {config.model} ({start})")
    threads = leave_a_core_to_the_input()
    if threads is not None:
        print(f"TensorFlow operations run on {threads} thread(s), leaving one of {available_cores()} cores to the "
              "input pipeline (TF_NUM_INTRAOP_THREADS chooses another number)")
    cluster = workers.cluster_of(config)
    strategy = workers.connect(cluster, config.worker_timeout) if cluster else None  # before any TensorFlow op
    chief = cluster is None or cluster["task"]["index"] == 0
    with workers.reporting_lost_workers(strategy), (
            holding(config.output, config.reporter) if chief else contextlib.nullcontext()):
        _train(config, cluster, strategy, chief, began)


def _train(config, cluster, strategy, chief: bool, began: float) -> None:
    import contextlib

    import keras

    import zoo
    from zoo.cli import workers
    from zoo.cli.reports import finish_run
    from zoo.io.progress import format_duration
    from zoo.training import budget, heads_first, multi_worker, run
    from zoo.training.plan import Plan

    output, say = config.output, config.reporter.line
    error, prepared = None, None
    try:
        prepared = _prepare(config, chief, began)
    except Exception as caught:  # every worker learns that one stopped, instead of waiting for it
        error = caught
    workers.together(strategy, error)
    heads, plan, resumed = prepared.heads, prepared.plan, prepared.resumed
    if strategy is not None:
        mine = workers.fingerprint(heads, prepared.train_rows, prepared.validation_rows)
        shared = multi_worker.broadcast(strategy, {"plan": plan.to_dict(), "epoch": (resumed or {}).get("epoch", 0),
                                                   "fingerprint": mine} if chief else None)
        workers.together(strategy, None if shared["fingerprint"] == mine else run.RunError(
            f"the heads or the training and validation images on worker {cluster['task']['index']} differ from "
            f"the chief's; give every worker the same images and labels, and the same command."))
        if not chief:
            plan = Plan.from_dict(shared["plan"])
            resumed = {"epoch": shared["epoch"]} if shared["epoch"] else None
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(config.seed)  # the same start whether or not the plan was measured first
    options = {"colour_heads": list(plan.colour_heads)} if plan.colour_heads else {}
    with strategy.scope() if strategy else contextlib.nullcontext():
        with zoo.training.scale.mixed_precision(config.precision):
            model = zoo.build(config.model, heads=heads, weights=prepared.weights,
                              input_shape=(*plan.image_size, 3), **options)
    say("Plan (plan.json; repeat it with --plan):\n  " + "\n  ".join(plan.describe()))

    train_data, validation_data = _datasets(config, prepared, plan)
    losses = training_losses(config.loss, heads, prepared.train_rows)
    fit_began, fit_processor = time.perf_counter(), time.process_time()
    staged, best, heads_rows = plan, None, []
    if plan.cached_heads and strategy is not None:  # a cluster trains every stage on images, together
        staged = heads_first.on_images(plan)
    elif plan.cached_heads and len(plan.stages) > 1:
        staged = heads_first.split_plan(plan)
        if not (resumed or {}).get("epoch"):
            heads_rows, kept = heads_first.train_heads(model, _plain_training(config, prepared, plan),
                                                       validation_data, plan, losses, log=say)
            best = heads_first.keep_as_best(model, validation_data, output / run.BEST_MODEL)
            heads_rows[kept - 1][run.MONITOR] = best  # the kept epoch's row carries the score it is kept with
            say(f"  the heads' stage scores {run.MONITOR} {best:.4f}: fine-tuning replaces that model only "
                f"where it does better")
    stop = budget.stop_for_run(config, staged, resumed, strategy is not None, began)
    early = heads_first.early_stop(staged) if strategy is None else None
    rows = run.fit(model, train_data, validation_data, staged, config, resumed, losses,
                   multi_worker=strategy is not None, chief=chief,
                   extra_callbacks=[c for c in (stop, early) if c is not None], best=best, earlier_rows=heads_rows)
    plan_file = output / run.PLAN_FILE if chief and staged is plan else None
    budget.record_stop(stop, staged, plan_file, config.reporter)
    heads_first.record_early_stop(early, staged, plan_file, log=say)
    if staged is not plan and staged.stop_after is not None and plan.stop_after is None:
        plan.stop_after, plan.stopped_by = staged.stop_after, staged.stopped_by
        plan.save(output / run.PLAN_FILE)
    say(f"Trained in {format_duration(time.perf_counter() - fit_began)}, processor time "
        f"{format_duration(time.process_time() - fit_processor)} (the plan estimated "
        f"{plan.estimated_seconds / 60:.1f} min of {plan.measured.get('clock', 'wall')} time)")
    if not chief:
        workers.together(strategy, None)  # the chief's report and model
        say(f"Worker {cluster['task']['index']} done; the chief (worker 0, {cluster['cluster']['worker'][0]}) "
            f"wrote the model and its report to its --output")
        return
    error = None
    try:
        with multi_worker.local(model):
            finish_run(config, model, plan, rows, validation_data, prepared, began)
    except Exception as caught:
        error = caught
    workers.together(strategy, error)


def _prepare(config, chief: bool, began: float):
    """Labels, split and heads on every worker; on the chief (or one machine) also the output folder's
    first files and the plan, made or read back with the backup to continue from."""
    import types
    import warnings

    import keras

    import zoo
    from zoo import data
    from zoo.cli.run_config import source_arguments
    from zoo.cli.sources import checked_rows, load_source, print_summary
    from zoo.training import run, run_plan
    from zoo.training.backup import latest_backup
    from zoo.training.plan import Plan

    output, say, source = config.output, config.reporter.line, source_arguments(config)
    resumed_run = run.previous_run(config) if chief else None
    keras.utils.set_random_seed(config.seed)
    with warnings.catch_warnings(record=True) as caught:  # shown as plain lines, not source locations
        warnings.simplefilter("always", data.DataWarning)
        df, kinds = load_source(source)
        df, heads = checked_rows(source, df, data.heads_from_dataframe(df, kinds), output if chief else None)
        train_rows, validation_rows = data.train_validation_split(
            df, heads, config.validation_split, stratify=config.stratify, seed=config.seed
        )
    for warning in caught:
        say(f"Warning: {warning.message}")
    counts = data.label_counts({"train": train_rows, "validation": validation_rows}, heads)
    if chief:  # the output folder exists: the chief holds it (`zoo.training.run.holding`)
        counts.to_csv(output / "label_counts.csv")
        zoo.evaluation.plots.plot_label_counts(counts, output / "label_counts.png")
    say(f"{len(train_rows)} training and {len(validation_rows)} validation images; heads: "
        + ", ".join(f"{h.name} ({h.kind}, {len(h.classes)} classes)" for h in heads))
    summary_files = print_summary(source, df, heads, train_rows, validation_rows, output if chief else None)
    prepared = types.SimpleNamespace(df=df, heads=heads, train_rows=train_rows, validation_rows=validation_rows,
                                     counts=counts, weights=None if config.weights == "none" else config.weights,
                                     plan=None, resumed=None, summary_files=summary_files)
    if not chief:
        return prepared
    with zoo.training.scale.mixed_precision(config.precision):
        model = zoo.build(config.model, heads=heads, weights=prepared.weights,
                          input_shape=(*config.image_size, 3) if config.image_size else None)
    train_paths = data.resolve_paths(train_rows, config.images)
    validation_paths = data.resolve_paths(validation_rows, config.images)
    if resumed_run is not None:
        run.check_same_split(output, train_paths, validation_paths, config.reporter)
        prepared.plan = Plan.load(output / run.PLAN_FILE)
        prepared.resumed = latest_backup(output / run.BACKUP_FOLDER)
    else:
        prepared.plan = run_plan.make_plan(config, model, heads, train_rows, train_paths, len(validation_rows),
                                           began)
        prepared.plan.save(output / run.PLAN_FILE)
        run.write_split(output, train_paths, validation_paths)
        run.write_run(config, finished=False)
    return prepared


def _plain_training(config, prepared, plan):
    """The training images unaugmented, in the training order: the heads' stage caches their features."""
    from zoo import data

    return data.make_dataset(prepared.train_rows, prepared.heads, directory=config.images,
                             image_size=tuple(plan.image_size), batch_size=plan.batch_size, seed=config.seed,
                             on_error=config.on_error, cache=False, allow_empty=config.allow_empty)


def _datasets(config, prepared, plan):
    """The training and validation datasets of the plan."""
    from zoo import data

    size = tuple(plan.image_size)
    decoded_bytes = len(prepared.df) * size[0] * size[1] * 3 * 4  # float32 pixels
    cache = config.cache and decoded_bytes <= MEMORY_CACHE_BYTES
    if cache:
        config.reporter.line(f"Keeping the decoded images in memory ({decoded_bytes / 2**20:.0f} MiB); "
                             "--no-cache turns this off")
    common = dict(directory=config.images, image_size=size, batch_size=plan.batch_size, seed=config.seed,
                  on_error=config.on_error, cache=cache, allow_empty=config.allow_empty)
    augment = data.with_mixing(True if plan.augment else None, config.mix)
    return (data.make_dataset(prepared.train_rows, prepared.heads, augment=augment, **common),
            data.make_dataset(prepared.validation_rows, prepared.heads, shuffle=False, **common))
