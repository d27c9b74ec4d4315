"""The training plan `zoo train` makes from the data and this machine's speed.

The plan fixes everything a run depends on: image size, batch size, augmentation
and the stages (epochs, trainable parts, optimizer, learning rate, schedule). It
is chosen from what is measured: the number of images, their median size, the
heads, whether pretrained weights were loaded, and the time of a few training
steps here (`zoo.training.speed`), so that the run fits a time budget. Without a
GPU the budget counts processor time, all cores together: the plan then depends
far less on what else the machine is doing. It is written to `plan.json` and
into the model, so the same run can be repeated exactly (`RunConfig.plan`).
Should its epochs take longer than estimated, the run stops before one that would
pass the budget (`zoo.training.budget`), and the plan records where.

The rules, in order:
1. Epochs: enough passes over the training images for a network to converge
   (`TARGET_IMAGE_PASSES`), within `MIN_EPOCHS`..`MAX_EPOCHS`.
2. Image size: the largest candidate that runs those epochs within the budget,
   or at least `EPOCH_SHARE_FOR_SIZE` of them (then with as many as fit), no
   larger than the architecture's default or the images themselves, with the
   images' median aspect ratio. If even the smallest does not fit, fewer epochs.
3. Stages: one stage training everything when no backbone is pretrained;
   otherwise the classic two. First the heads on the frozen pretrained
   backbones, trained on their features computed once from unaugmented images
   (`zoo.training.feature_cache`), up to `HEADS_EPOCHS` and until the validation
   loss stops improving (the model it ends with is the best so far, which a
   later epoch replaces only with a better validation score); then their top
   block unfrozen at a tenth of the learning rate with augmentation, for about
   `FINE_TUNE_IMAGE_PASSES` image passes (`MIN_FINE_TUNE_EPOCHS`..
   `MAX_FINE_TUNE_EPOCHS`), ending early when the validation score has not
   improved for `PATIENCE` epochs. A pretrained
   network needs a few passes where one from scratch needs a hundred thousand,
   so this plan is made for `PRETRAINED_BUDGET_SHARE` of the budget (what was
   spent before planning included): its image size is the largest that runs one
   fine-tuning epoch within that share (a pretrained trunk reads images best near
   the size it was trained at, and the heads' stage gives most of the gain), the
   fine-tuning epochs fitting around it, with what such a short run pays once
   (reading and decoding the images, building each stage's step, the colour
   probe's pass and the final evaluation) measured and counted. Training still
   stops before a fine-tuning epoch that would run past that share
   (`Plan.training_deadline`), unless the user fixed the size or the epochs.
4. Colour (`zoo.training.colour_probe`): a head that a linear probe on a colour
   histogram predicts at least as well as one on the pretrained features gets
   the histogram beside them (`colour_heads`).

Example:
    >>> plan = choose_plan(train_images=1600, validation_images=400, median_size=(300, 400),
    ...                    default_side=96, seconds_per_pixel=1e-6, overhead_per_image=1e-4,
    ...                    pretrained_boundaries={}, budget_seconds=600)
    >>> plan.image_size, plan.stages[0].epochs
    ((64, 80), 62)
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

from zoo.io.atomic import write_text
from zoo.training.stage import Stage, stage_dict


TARGET_IMAGE_PASSES = 100_000
MIN_EPOCHS, MAX_EPOCHS = 30, 200
MIN_SIDE = 32
SIDE_STEP = 8
RESERVE = 0.05  # of the budget left at planning time: the final evaluation, plots and saving
EPOCH_SHARE_FOR_SIZE = 0.8  # the share of the target epochs a larger input size may keep
PRETRAINED_LEARNING_RATE = 1e-3
SCRATCH_LEARNING_RATE = 2e-3
FINE_TUNE_FACTOR = 0.1
FROZEN_STEP_COST = 0.5  # a step with frozen backbones runs no backward pass through them
FORWARD_COST = 1 / 3  # a forward pass, against forward and backward in training
HEADS_EPOCHS = 100  # on cached features an epoch costs next to nothing; the validation loss ends it
HEADS_PATIENCE = 5
FINE_TUNE_IMAGE_PASSES = 6_000
PRETRAINED_BUDGET_SHARE = 0.45  # of the whole budget: a pretrained start should cost half a from-scratch run,
# which ends short of its reserve by part of an epoch (about nine tenths of the budget)
MIN_FINE_TUNE_EPOCHS, MAX_FINE_TUNE_EPOCHS = 2, 20
PATIENCE = 2  # fine-tuning epochs without a better validation score before it ends


@dataclasses.dataclass
class Plan:
    """Everything a `zoo train` run depends on.

    Attributes:
        image_size: (height, width) of the model input.
        batch_size: Images per training step.
        augment: Augment training images.
        stages: The `zoo.Stage`s, each named (`plan.json` holds their fields as dicts).
        budget_seconds: The time budget the plan was made for.
        estimated_seconds: The plan's estimated training time.
        measured: What the plan was chosen from (counts, sizes, step times).
        stop_after: The epoch the run stopped after, before its planned end; a
            repeat, or the run resumed after it was killed, stops there too.
        cached_heads: The first stage trains the heads on cached features of
            unaugmented images, until the validation loss stops improving.
        patience: Epochs without a better validation score after which the
            later stages end early (None: they run to the end).
        colour_heads: Heads given colour features beside the pretrained ones.
        stopped_by: What stopped the run after `stop_after`: "budget" (another
            epoch would have run past it, `zoo.training.budget`) or "validation"
            (the score stopped improving, `zoo.training.heads_first.early_stop`).
    """

    image_size: tuple
    batch_size: int
    augment: bool
    stages: list
    budget_seconds: float
    estimated_seconds: float
    measured: dict = dataclasses.field(default_factory=dict)
    stop_after: int | None = None
    cached_heads: bool = False
    patience: int | None = None
    colour_heads: list = dataclasses.field(default_factory=list)
    stopped_by: str | None = None

    @property
    def epochs(self) -> int:
        """Total epochs over all stages."""
        return sum(stage.epochs for stage in self.stages)

    def training_deadline(self) -> float | None:
        """Seconds of the budget's clock from the command's start by which training ends, keeping the reserve.

        None for a plan that holds no `seconds_before_training` (written before it was measured).

        A pretrained plan (`deadline_share` in `measured`) ends at its share of the
        budget, less the reserve, even when its epochs take longer than estimated.

        Example:
            >>> Plan((64, 64), 32, True, [], 600.0, 500.0, {"seconds_before_training": 40.0}).training_deadline()
            572.0
            >>> Plan((64, 64), 32, True, [], 600.0, 250.0,
            ...      {"seconds_before_training": 40.0, "deadline_share": 0.45}).training_deadline()
            256.5
        """
        before = self.measured.get("seconds_before_training")
        if before is None:
            return None
        deadline = self.budget_seconds - (self.budget_seconds - before) * RESERVE
        share = self.measured.get("deadline_share")  # a pretrained plan's share ends it sooner
        return deadline if share is None else min(deadline, self.budget_seconds * share * (1 - RESERVE))

    def to_dict(self) -> dict:
        """A JSON-ready dict (see `from_dict`): the stages as dicts of their fields.

        Example:
            >>> plan = Plan((32, 32), 16, True, [Stage(epochs=3, name="train")], 60.0, 30.0)
            >>> plan.to_dict()["stages"][0]["name"], Plan.from_dict(plan.to_dict()) == plan
            ('train', True)
        """
        return {**dataclasses.asdict(self), "image_size": list(self.image_size),
                "stages": [stage_dict(stage) for stage in self.stages]}

    @classmethod
    def from_dict(cls, data: dict) -> "Plan":
        """Reads `to_dict`'s output (a `plan.json`): each stage dict becomes a `Stage`."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - fields
        if unknown:
            raise ValueError(f"Unknown plan field(s) {sorted(unknown)}; known: {sorted(fields)}.")
        stages = [s if isinstance(s, Stage) else Stage(**s) for s in data.get("stages", [])]
        return cls(**{**data, "image_size": tuple(data["image_size"]), "stages": stages})

    def save(self, path) -> None:
        """Writes the plan as JSON."""
        write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path) -> "Plan":
        """Reads a plan written by `save`."""
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path} is not a zoo training plan: {error}") from error

    def describe(self) -> list[str]:
        """Human-readable lines: the choices and the measurements behind them."""
        m = self.measured
        lines = [
            f"images: {m.get('train_images')} training, {m.get('validation_images')} validation; median size "
            f"{'x'.join(str(d) for d in m.get('median_size', ()))} (height x width)",
            f"input {self.image_size[0]}x{self.image_size[1]}, batch {self.batch_size}, augmentation "
            f"{'on' if self.augment else 'off'}, {self.epochs} epochs",
        ]
        for number, stage in enumerate(self.stages, start=1):
            if number == 1 and self.cached_heads:
                ending = f"up to {stage.epochs} epochs on features cached once from unaugmented images, " \
                         f"ending when the validation loss has not improved for {HEADS_PATIENCE}"
            else:
                ending = f"{stage.epochs} epochs" + (
                    f" (fewer when the validation score has not improved for {self.patience})"
                    if self.patience else "")
            lines.append(
                f"stage {number} ({stage.name}): {ending}, trainable={stage.trainable}, "
                f"{stage.optimizer} lr {stage.learning_rate:g}, {stage.schedule or 'constant'}"
            )
        for decision in m.get("colour", []):
            lines.append(decision)
        if self.stop_after is not None:
            why = ("the validation score had stopped improving" if self.stopped_by == "validation"
                   else "another epoch would have run past the budget")
            counted = (f"{self.epochs - self.stages[0].epochs} after the heads' stage" if self.cached_heads
                       else f"{self.epochs}")
            lines.append(f"stops after epoch {self.stop_after} of {counted}: {why} there (plan.json records the stop)")
        kind = "processor time" if m.get("clock") == "processor" else "time"
        lines.append(f"estimated training {kind} {_minutes(self.estimated_seconds)} of a "
                     f"{_minutes(self.budget_seconds)} budget")
        return lines


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def target_epochs(train_images: int) -> int:
    """Epochs for about `TARGET_IMAGE_PASSES` image passes, within `MIN_EPOCHS`..`MAX_EPOCHS`.

    Example:
        >>> target_epochs(1600), target_epochs(50), target_epochs(100_000)
        (63, 200, 30)
    """
    return int(min(MAX_EPOCHS, max(MIN_EPOCHS, math.ceil(TARGET_IMAGE_PASSES / max(train_images, 1)))))


def shape_for(side: int, aspect: float) -> tuple:
    """(height, width) with about `side`**2 pixels and height/width near `aspect`, in multiples of 8.

    Example:
        >>> shape_for(64, 1.0), shape_for(64, 1.5)
        ((64, 64), (80, 56))
    """
    aspect = min(max(aspect, 0.5), 2.0)  # keep extreme aspect ratios from starving one axis
    height = side * math.sqrt(aspect)
    return (max(8, int(round(height / 8)) * 8), max(8, int(round(side * side / height / 8)) * 8))


def candidate_sides(default_side: int, median_size) -> list[int]:
    """Square-equivalent sides to try, largest first: up to the default side and the images' own size."""
    largest = max(MIN_SIDE, min(default_side, int(min(median_size))))
    return list(range(largest - (largest - MIN_SIDE) % SIDE_STEP, MIN_SIDE - 1, -SIDE_STEP))


def choose_plan(train_images: int, validation_images: int, median_size, default_side: int,
                seconds_per_pixel: float, overhead_per_image: float, pretrained_boundaries: dict,
                budget_seconds: float, batch_size: int = 32, augment: bool = True,
                seconds_per_epoch: float = 0.0, image_size=None, epochs: int | None = None,
                fine_tune_measured: bool = False, seconds_spent: float = 0.0, all_pretrained: bool = True,
                decode_per_image: float = 0.0, stage_start: float = 0.0, probe_images: int = 0) -> Plan:
    """Chooses image size, epochs and stages from measured figures (see the module docstring).

    Args:
        train_images: Training images.
        validation_images: Validation images (predicted every epoch).
        median_size: Median (height, width) of the images.
        default_side: The architecture's default input side (an upper bound).
        seconds_per_pixel: Measured training seconds per input pixel and image.
        overhead_per_image: Measured seconds per image that do not grow with size.
        seconds_per_epoch: Measured seconds per epoch that do not depend on the
            number of images (the epoch loop, validation start, the backup).
        image_size: A (height, width) the user fixed; the epochs then fit it.
        epochs: Total epochs the user fixed; the image size then fits them.
        pretrained_boundaries: {head: top-block boundary} of branches with
            pretrained weights; empty when everything trains from scratch.
        budget_seconds: The time budget of the run's training (the caller takes
            off what was spent before planning).
        batch_size: Images per step.
        augment: Augment training images.
        fine_tune_measured: The step times were measured with only the top
            blocks of `pretrained_boundaries` trainable, as they fine-tune: a
            forward pass then costs about as much as such a step.
        seconds_spent: What the run spent before planning, on the budget's
            clock (the pretrained plan's share of the budget counts it).
        all_pretrained: Every backbone branch is pretrained. Where one trains
            from scratch beside a pretrained one (a two-branch network), the
            heads' stage trains it too, on augmented images, so the plan is the
            classic two stages of equal length over the budget's epochs.
        decode_per_image: Measured seconds to read, decode and resize one image
            (paid on every pass over images that are not kept in memory).
        stage_start: Measured seconds the first epoch of a stage costs beyond
            the others (building its training step).
        probe_images: Images the pretrained trunk runs over once more after
            planning, before training (the colour probe's sample).

    Returns:
        A `Plan`.
    """
    aspect = median_size[0] / median_size[1]
    usable = budget_seconds * (1 - RESERVE)
    measured = {
        "train_images": train_images,
        "validation_images": validation_images,
        "median_size": [int(d) for d in median_size],
        "seconds_per_pixel": seconds_per_pixel,
        "overhead_per_image": overhead_per_image,
        "seconds_per_epoch": seconds_per_epoch,
        "decode_per_image": decode_per_image,
        "stage_start": stage_start,
    }
    if pretrained_boundaries:
        measured["seconds_spent"] = seconds_spent

    def per_image(shape):
        return seconds_per_pixel * shape[0] * shape[1] + overhead_per_image

    if pretrained_boundaries and all_pretrained:
        return _pretrained_plan(train_images, validation_images, median_size, default_side, per_image,
                                seconds_per_epoch, pretrained_boundaries, budget_seconds, usable, batch_size,
                                augment, image_size, epochs, measured, fine_tune_measured, probe_images)

    frozen_share = 0.5 if pretrained_boundaries else 0.0  # half the epochs with the pretrained branches frozen

    def epoch_seconds(shape):
        step_cost = 1 - frozen_share * (1 - FROZEN_STEP_COST)
        return (train_images * per_image(shape) * step_cost + validation_images * per_image(shape) * FORWARD_COST
                + seconds_per_epoch)

    fixed_epochs = epochs
    epochs = fixed_epochs or target_epochs(train_images)
    if image_size is not None:
        shape = tuple(image_size)
    else:
        shapes = [shape_for(side, aspect) for side in candidate_sides(default_side, median_size)]
        # A larger input is worth a few fewer epochs: sizes come in steps of 8 pixels, and a step
        # costs a third or more per epoch, so insisting on every target epoch would waste the rest.
        least = epochs if fixed_epochs else max(1, math.ceil(epochs * EPOCH_SHARE_FOR_SIZE))
        shape = next((s for s in shapes if least * epoch_seconds(s) <= usable), shapes[-1])
    if not fixed_epochs and epoch_seconds(shape) > 0:  # zero when nothing was measured
        epochs = min(epochs, max(1, int(usable // epoch_seconds(shape))))
    return Plan(image_size=shape, batch_size=batch_size, augment=augment, stages=_stages(epochs, pretrained_boundaries),
                budget_seconds=float(budget_seconds), estimated_seconds=round(epochs * epoch_seconds(shape), 1),
                measured=measured)


def fine_tune_epochs(train_images: int) -> int:
    """Fine-tuning epochs for about `FINE_TUNE_IMAGE_PASSES` image passes, within the stage's bounds.

    Example:
        >>> fine_tune_epochs(1600), fine_tune_epochs(50), fine_tune_epochs(100_000)
        (4, 20, 2)
    """
    return int(min(MAX_FINE_TUNE_EPOCHS, max(MIN_FINE_TUNE_EPOCHS,
                                              math.ceil(FINE_TUNE_IMAGE_PASSES / max(train_images, 1)))))


def _pretrained_plan(train_images, validation_images, median_size, default_side, per_image, seconds_per_epoch,
                     boundaries, budget_seconds, usable, batch_size, augment, image_size, epochs, measured,
                     fine_tune_measured, probe_images=0) -> Plan:
    """The two-stage plan of pretrained backbones: heads on cached features, then the top block fine-tuned.

    Its estimate counts what such a short run pays once beside its epochs: the
    colour probe's pass, the feature pass that reads every image, the second
    reading of the training images for the fine-tuning (kept in memory from
    then on), building each stage's step, and the final evaluation's pass over
    the validation images; the whole must end within the pretrained share.
    """
    spent = measured["seconds_spent"]
    usable = max(min(usable, (budget_seconds + spent) * PRETRAINED_BUDGET_SHARE * (1 - RESERVE) - spent), 0.0)
    step, forward = (1.0, 1.0) if fine_tune_measured else (FROZEN_STEP_COST, FORWARD_COST)
    measured["fine_tune_measured"] = fine_tune_measured
    if not epochs and image_size is None:  # the share decides: the run stops there too
        measured["deadline_share"] = PRETRAINED_BUDGET_SHARE
    decode, start = measured["decode_per_image"], measured["stage_start"]

    def extraction(shape):  # once: the probe, the features of every image for the heads' stage and its
        # score, the fine-tuning's first reading of the training images, two stages built, the final evaluation
        passes = probe_images + train_images + 3 * validation_images
        return (passes * per_image(shape) * forward + (probe_images + 2 * train_images + validation_images) * decode
                + 2 * start)

    def fine_epoch(shape):
        return (train_images * per_image(shape) * step + validation_images * per_image(shape) * forward
                + seconds_per_epoch)

    if epochs:  # the user's total: half on the heads, the rest fine-tuning
        heads, fine = max(1, epochs // 2), epochs - max(1, epochs // 2)
    else:
        heads, fine = HEADS_EPOCHS, fine_tune_epochs(train_images)
    if image_size is not None:
        shape = tuple(image_size)
    else:
        shapes = [shape_for(side, median_size[0] / median_size[1])
                  for side in candidate_sides(default_side, median_size)]
        least = fine if epochs else 1  # the input first: a pretrained trunk reads best near its own size
        shape = next((s for s in shapes if extraction(s) + least * fine_epoch(s) <= usable), shapes[-1])
    if not epochs and fine_epoch(shape) > 0:
        fine = min(fine, max(1, int((usable - extraction(shape)) // fine_epoch(shape))))
    stages = [_stage("heads", heads, "auto", PRETRAINED_LEARNING_RATE, "cosine", 0)]
    if fine:
        stages.append(_stage("fine-tune", fine, dict(boundaries), PRETRAINED_LEARNING_RATE * FINE_TUNE_FACTOR,
                             "cosine", 0))
    return Plan(image_size=shape, batch_size=batch_size, augment=augment, stages=stages,
                budget_seconds=float(budget_seconds),
                estimated_seconds=round(extraction(shape) + fine * fine_epoch(shape), 1), measured=measured,
                cached_heads=True, patience=None if epochs else PATIENCE)


def _stages(epochs: int, pretrained_boundaries: dict) -> list[Stage]:
    if not pretrained_boundaries:
        return [_stage("train", epochs, "auto", SCRATCH_LEARNING_RATE, "warmup_cosine", min(2, epochs - 1))]
    first = max(1, epochs // 2)
    stages = [_stage("heads", first, "auto", PRETRAINED_LEARNING_RATE, "warmup_cosine", min(1, first - 1))]
    if epochs > first:
        stages.append(_stage("fine-tune", epochs - first, dict(pretrained_boundaries),
                             PRETRAINED_LEARNING_RATE * FINE_TUNE_FACTOR, "cosine", 0))
    return stages


def _stage(name, epochs, trainable, learning_rate, schedule, warmup) -> Stage:
    return Stage(name=name, epochs=int(epochs), trainable=trainable, learning_rate=learning_rate,
                 optimizer="adamw", schedule=schedule, warmup_epochs=max(0, int(warmup)))
