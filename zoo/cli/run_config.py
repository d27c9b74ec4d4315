"""`zoo train`'s flags as a `zoo.training.config.RunConfig`, and the reporter that names the flags.

The training library speaks of settings by their `RunConfig` names; on the command
line its messages name the flag instead (`learning_rate` -> `--learning-rate`).

Example:
    >>> reporter = CommandReporter()
    >>> reporter.option("learning_rate"), reporter.option("output", "runs/a"), reporter.option("restart", True)
    ('--learning-rate', '--output runs/a', '--restart')
    >>> reporter.option("stages")
    '--stage'
"""

from __future__ import annotations

import argparse
from pathlib import Path

from zoo.training.reporter import UNSET, Reporter

# Settings whose flag is not `--` + the name with dashes.
FLAGS = {"stages": "--stage", "augment": "--no-augment", "stratify": "--no-stratify", "cache": "--no-cache"}
# Namespace entries a RunConfig field (or nothing: display, cluster) stands for; the others are the label source's.
NOT_SOURCE = {"output", "model", "weights", "budget", "plan", "image_size", "epochs", "learning_rate", "batch_size",
              "no_augment", "mix", "stage", "validation_split", "no_stratify", "allow_empty", "precision",
              "no_cache", "loss", "tune_thresholds", "format", "restart", "tensorboard", "seed", "on_error",
              "progress", "images", "workers", "worker_index", "worker_timeout", "verbose", "command", "run"}


class CommandReporter(Reporter):
    """Prints each line and names a setting by its `zoo train` flag, with the value as typed."""

    def option(self, name: str, value=UNSET) -> str:
        flag = FLAGS.get(name, "--" + name.replace("_", "-"))
        if value is UNSET or value is True:
            return flag
        return f"{flag} {' '.join(map(str, value)) if isinstance(value, (list, tuple)) else value}"


def run_config(args: argparse.Namespace, model: str | None = None):
    """The `RunConfig` of parsed `zoo train` arguments (`model`: the architecture `--model auto` became).

    Example:
        >>> from zoo.cli.app import build_parser
        >>> args = build_parser().parse_args(["train", "--folders", "shop", "--heads", "color", "type",
        ...                                   "--no-augment", "--stage", "epochs=2"])
        >>> config = run_config(args, model="multilabel_small")
        >>> config.augment, config.stages, config.source["heads"], type(config.reporter).__name__
        (False, ('epochs=2',), ['color', 'type'], 'CommandReporter')
    """
    from zoo.training.config import RunConfig

    return RunConfig(
        output=Path(args.output), model=model or args.model, weights=args.weights, budget=args.budget,
        plan=args.plan, image_size=args.image_size, epochs=args.epochs, learning_rate=args.learning_rate,
        batch_size=args.batch_size, augment=not args.no_augment, mix=args.mix, stages=args.stage,
        validation_split=args.validation_split, stratify=not args.no_stratify, allow_empty=args.allow_empty,
        precision=args.precision, cache=not args.no_cache, loss=args.loss, tune_thresholds=args.tune_thresholds,
        format=args.format, restart=args.restart, tensorboard=args.tensorboard, seed=args.seed,
        on_error=args.on_error, progress=args.progress, images=args.images,
        source={k: v for k, v in vars(args).items() if k not in NOT_SOURCE and not callable(v)},
        workers=args.workers, worker_index=args.worker_index, worker_timeout=args.worker_timeout,
        reporter=CommandReporter(),
    )


def source_arguments(config) -> argparse.Namespace:
    """The label-source arguments of a config, as `zoo.cli.sources` reads them."""
    return argparse.Namespace(**config.source, images=config.images, allow_empty=config.allow_empty,
                              on_error=config.on_error, validation_split=config.validation_split, seed=config.seed,
                              no_stratify=not config.stratify)
