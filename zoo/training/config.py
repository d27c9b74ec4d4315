"""`RunConfig`: everything one planned training run (`zoo train`) is asked to do, as typed fields.

The command line builds it from its flags (`zoo.cli.run_config.run_config`); a Python
user builds it directly and hands it to the run's pieces (`zoo.training.run`,
`zoo.training.run_plan`, `zoo.training.budget`). `arguments` is the record of the
run in its `run.json`: a run in the same output folder continues it only when the
record is the same.

Example:
    >>> config = RunConfig(output="runs/tags", epochs=4, image_size=[32, 32], stages=["epochs=4,trainable=heads"])
    >>> config.output, config.image_size, config.stages
    (PosixPath('runs/tags'), (32, 32), ('epochs=4,trainable=heads',))
    >>> record = config.arguments()
    >>> record["epochs"], record["image_size"], record["no_augment"], record["stage"]
    (4, [32, 32], False, ['epochs=4,trainable=heads'])
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from zoo.training.reporter import Reporter

DEFAULT_WORKER_TIMEOUT = 120.0


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """The settings of one planned run; unset plan fields (None) are chosen by the plan.

    Attributes:
        output: Folder the run writes (and continues in after an interruption).
        model: Architecture from `zoo list` (the command resolves `auto` with
            `zoo.training.run_plan.default_model` first).
        weights: "auto", "imagenet", "none" or a weights file.
        budget: Time budget in minutes (processor time without a GPU, wall time with one).
        plan: A `plan.json` to repeat exactly, or None to plan the run.
        image_size: (height, width) of the input, or None.
        epochs: Total epochs, or None.
        learning_rate: Peak learning rate of the first stage, or None.
        batch_size: Images per training step, or None.
        augment: Flip, rotate, zoom, translate and change contrast of training images.
        mix: "mixup", "cutmix" or None.
        stages: Stages replacing the planned ones: `zoo.Stage`s or their text form
            (`zoo.training.finetune.parse_stage`).
        validation_split: Share of the images held out to validate on.
        stratify: Multi-label stratified split (else random).
        allow_empty: Images without any label are valid negatives.
        precision: "float32", "mixed_float16" or "mixed_bfloat16".
        cache: Keep decoded images in memory where they fit.
        loss: Loss of multilabel and binary heads ("bce", "weighted_bce", ...).
        tune_thresholds: Metric to tune per-class thresholds for, or None.
        format: Model file format, "keras" or "h5".
        restart: Start over in an output folder that holds a run.
        tensorboard: Folder for a TensorBoard log, or None.
        seed: Seed of the split, weights, shuffling and augmentation.
        on_error: "raise" or "skip" for unreadable images and bad labels.
        progress: Progress bars instead of one line per epoch (on a terminal).
        images: Folder that the label source's relative file names are relative to.
        source: The label source's own arguments, as given (e.g. `folders`,
            `separator`, `heads`, `min_count`): recorded in `run.json` and used to
            name the source again in suggested commands.
        workers: Every worker's HOST:PORT on a cluster, or None.
        worker_index: This worker's place in `workers`.
        worker_timeout: Seconds to wait for the other workers.
        reporter: Where the run's lines go and how they name a setting
            (`zoo.training.reporter.Reporter`); not part of the record.
    """

    output: Path = Path("zoo_output")
    model: str = "multilabel_small"
    weights: str = "auto"
    budget: float = 10.0
    plan: Path | None = None
    image_size: tuple | None = None
    epochs: int | None = None
    learning_rate: float | None = None
    batch_size: int | None = None
    augment: bool = True
    mix: str | None = None
    stages: tuple = ()
    validation_split: float = 0.2
    stratify: bool = True
    allow_empty: bool = False
    precision: str = "float32"
    cache: bool = True
    loss: str = "bce"
    tune_thresholds: str | None = None
    format: str = "keras"
    restart: bool = False
    tensorboard: Path | None = None
    seed: int = 0
    on_error: str = "raise"
    progress: bool = False
    images: Path | None = None
    source: dict = dataclasses.field(default_factory=dict)
    workers: tuple | None = None
    worker_index: int | None = None
    worker_timeout: float = DEFAULT_WORKER_TIMEOUT
    reporter: Any = dataclasses.field(default_factory=Reporter, compare=False, repr=False)

    def __post_init__(self):
        def put(name, value):
            object.__setattr__(self, name, value)

        put("output", Path(self.output))
        for name in ("plan", "tensorboard", "images"):
            if getattr(self, name) is not None:
                put(name, Path(getattr(self, name)))
        if self.image_size is not None:
            put("image_size", tuple(int(side) for side in self.image_size))
        put("stages", tuple(self.stages))
        for stage in self.stages:  # the run records its stages in run.json and plan.json
            if not isinstance(getattr(stage, "optimizer", ""), str):
                raise ValueError(f"A run's stages are recorded as JSON: name the optimizer ('adam', 'adamw' or "
                                 f"'sgd'). Received: optimizer={stage.optimizer!r}")
        if self.workers is not None:
            put("workers", tuple(self.workers))
        put("source", dict(self.source))

    def arguments(self) -> dict:
        """The record of the run in `run.json`, as JSON-ready values.

        Its keys and values are those of the `zoo train` flags that define a run
        (the output, display and cluster flags left out), so that a run recorded by
        the command and one recorded from the same settings compare equal.
        """
        from zoo.training.stage import Stage

        stages = [dataclasses.asdict(s) if isinstance(s, Stage) else s for s in self.stages]
        record = {**self.source, "model": self.model, "weights": self.weights, "budget": self.budget,
                  "plan": self.plan, "image_size": list(self.image_size) if self.image_size else None,
                  "epochs": self.epochs, "learning_rate": self.learning_rate, "batch_size": self.batch_size,
                  "no_augment": not self.augment, "mix": self.mix, "stage": stages,
                  "validation_split": self.validation_split, "no_stratify": not self.stratify,
                  "allow_empty": self.allow_empty, "precision": self.precision, "no_cache": not self.cache,
                  "loss": self.loss, "tune_thresholds": self.tune_thresholds, "format": self.format,
                  "seed": self.seed, "on_error": self.on_error, "images": self.images}
        return {k: str(v) if isinstance(v, Path) else v for k, v in sorted(record.items())}


def changed_arguments(recorded: dict, arguments: dict) -> list[str]:
    """The keys whose values differ between two `arguments` records (empty: the same run).

    Augmentation compares by its effect: a record written while `zoo train` still
    had an `augment` flag (on by default) equals one of the same run without it.

    Example:
        >>> changed_arguments({"no_augment": False, "augment": True, "seed": 0},
        ...                {"no_augment": False, "augment": False, "seed": 1})
        ['seed']
    """
    def effective(record):
        record = dict(record)
        if "no_augment" in record or "augment" in record:
            record["augment"] = not record.pop("no_augment", False) or bool(record.get("augment"))
        return record

    old, new = effective(recorded), effective(arguments)
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
