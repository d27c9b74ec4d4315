"""The plan of a run from its `zoo.training.config.RunConfig`: measured here, or repeated from `config.plan`.

Each setting the user gave (image size, epochs, stages, batch size, learning rate)
fixes one choice of `zoo.training.plan.choose_plan`; the speed of this machine
(`zoo.training.speed`) decides the rest.

Example:
    >>> import zoo
    >>> model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3))
    >>> boundary_heads(model)  # no pretrained backbone: nothing to fine-tune from a boundary
    {}
"""

from __future__ import annotations

import dataclasses

PROBE_SIDES = (48, 96)
# A pretrained plan's inputs are 200-280 pixels a side: a line through 48 and 96 priced its fine-tuning
# step a quarter low, and 96 and 160 a tenth, varying less between runs (benchmarks/speed_probe.py).
FINE_TUNE_PROBE_SIDES = (96, 160)
PROBE_BATCHES = 4  # training batches the speed is measured on, at each probe side
PRETRAINED_MODEL, PRETRAINED_BACKBONE = "multilabel_efficientnet_lite0", "efficientnet_lite0"
SCRATCH_MODEL = "multilabel_small"


def default_model(model: str, weights, plan=None) -> str:
    """The architecture `auto` stands for: the pretrained one when its weights are installed.

    `weights="none"` keeps the from-scratch `multilabel_small`; an architecture the
    user names is kept; a repeated plan (`plan`, a plan.json) takes the one it was
    made for. Imports no TensorFlow.

    Example:
        >>> default_model("auto", "none"), default_model("color_type", "auto")
        ('multilabel_small', 'color_type')
    """
    if model != "auto":
        return model
    if plan is not None:  # plans from before `auto` were made for multilabel_small
        import json
        from pathlib import Path

        try:
            return json.loads(Path(plan).read_text()).get("measured", {}).get("model") or SCRATCH_MODEL
        except (OSError, ValueError, AttributeError):
            pass  # `Plan.load` reports it
    if weights == "none":
        return SCRATCH_MODEL
    from zoo.models.weights import pretrained_installed

    return PRETRAINED_MODEL if pretrained_installed(PRETRAINED_BACKBONE) else SCRATCH_MODEL


def boundary_heads(model) -> dict:
    """{head or branch: top-block boundary} for every backbone holding pretrained weights."""
    from zoo.models.backbones import get_backbone_spec
    from zoo.training.finetune import pretrained_branches
    from zoo.models.card import card_of

    card = card_of(model)
    heads = list(card.head_names)
    boundaries = {}
    for backbone, pretrained in pretrained_branches(model).items():
        if pretrained:
            owner = next((h for h in heads if backbone.name.startswith(f"{h}_")), heads[0])
            name = card.branches[backbone.name]
            boundaries[owner] = next(iter(get_backbone_spec(name).boundaries))
    return boundaries


def make_plan(config, model, heads, train_rows, train_paths, validation_count: int, began: float, stages=None):
    """The data-driven plan (see `zoo.training.plan`); each setting of `config` fixes one choice, the rest fit
    around it.

    `began` is the wall clock (`time.perf_counter`) at the run's start; without a
    GPU the budget counts this process's processor time from its start instead.
    The user's stages (`config.stages`, or `stages` where given: `zoo.Stage`s) replace
    the planned ones, each named (`stage<number>` where it has no name);
    `train_paths` are the files of `train_rows` (`zoo.data.resolve_paths`).
    Lines go to `config.reporter`.
    """
    import keras

    import zoo
    from zoo import data
    from zoo.training.colour_probe import PROBE_IMAGES
    from zoo.training.plan import Plan, choose_plan
    from zoo.training.speed import budget_clock, measure_training_speed, median_image_size
    from zoo.models.card import card_of
    from zoo.training.finetune import parse_stage, pretrained_branches, set_trainable

    if config.plan:
        return Plan.load(config.plan)
    if stages is None:
        stages = [parse_stage(s, [h.name for h in heads]) if isinstance(s, str) else s for s in config.stages]
    default_side = int(min(card_of(model).input_shape[:2]))
    gpu = _has_gpu()
    clock = budget_clock(gpu)
    batch_size = config.batch_size or (64 if gpu else 32)

    boundaries = boundary_heads(model)
    all_pretrained = all(pretrained_branches(model).values())
    fine_tune = bool(boundaries) and all_pretrained and not stages  # timed as the fine-tuning steps will run

    def probe(side):
        keras.backend.clear_session(free_memory=False)
        with zoo.training.scale.mixed_precision(config.precision):
            built = zoo.build(config.model, heads=heads, input_shape=(side, side, 3), weights=None,
                              freeze_backbone=False)
            if fine_tune:
                set_trainable(built, boundaries)
                zoo.compile_model(built)
        return built

    sample = train_rows.sample(min(len(train_rows), PROBE_BATCHES * batch_size), random_state=config.seed)
    augmented = config.augment  # the plan's choice; timed as the run will train
    augment = data.with_mixing(True if augmented else None, config.mix)

    def batches(side):
        return data.make_dataset(sample, heads, directory=config.images, image_size=(side, side),
                                 batch_size=batch_size, augment=augment, seed=config.seed, cache=True, check="header",
                                 allow_empty=config.allow_empty)

    fixed = config.image_size and (config.epochs or config.stages)  # nothing left that the speed decides
    if not fixed:
        config.reporter.line("Measuring this machine's training speed to plan the run...")
    once = {}
    per_pixel, overhead, per_epoch = (0.0, 0.0, 0.0) if fixed else measure_training_speed(
        probe, batches, FINE_TUNE_PROBE_SIDES if fine_tune else PROBE_SIDES, clock=clock, once=once)
    stages = [_named(stage, number) for number, stage in enumerate(stages, start=1)]
    spent = clock() - (began if gpu else 0.0)
    plan = choose_plan(
        train_images=len(train_paths), validation_images=validation_count,
        median_size=median_image_size(train_paths, seed=config.seed), default_side=default_side,
        seconds_per_pixel=per_pixel, overhead_per_image=overhead, seconds_per_epoch=per_epoch,
        pretrained_boundaries=boundaries, fine_tune_measured=fine_tune, all_pretrained=all_pretrained,
        budget_seconds=max(config.budget * 60 - spent, 0.0), seconds_spent=spent,
        batch_size=batch_size, augment=augmented, **once,
        probe_images=min(PROBE_IMAGES, len(train_rows)) if fine_tune and _probe_colour(card_of(model)) else 0,
        image_size=config.image_size, epochs=sum(s.epochs for s in stages) if stages else config.epochs,
    )
    if plan.cached_heads and not stages and _probe_colour(card_of(model)):
        decisions = colour_decisions(config, heads, train_rows, plan, seed=config.seed)
        plan.colour_heads = [d.head for d in decisions if d.colour]
        plan.measured["colour"] = [d.describe() for d in decisions]
        spent = clock() - (began if gpu else 0.0)
    plan.measured["model"] = config.model
    plan.measured["gpu"] = gpu
    plan.measured["clock"] = "wall" if gpu else "processor"
    plan.measured["seconds_before_training"] = round(spent, 1)
    plan.budget_seconds = config.budget * 60
    if stages:  # the user's stages replace the planned ones, with as many epochs in all, and run as given
        plan.stages = stages
        plan.cached_heads, plan.patience = False, None
    elif config.learning_rate:
        ratio = config.learning_rate / plan.stages[0].learning_rate
        plan.stages = [dataclasses.replace(s, learning_rate=s.learning_rate * ratio) for s in plan.stages]
    return plan


def _probe_colour(card) -> bool:
    """The colour probe applies to one pretrained trunk shared by every head."""
    return list(card.feature_layers) == ["pool"] and len(card.branches) == 1


def colour_decisions(config, heads, train_rows, plan, seed: int = 0) -> list:
    """`zoo.training.colour_probe.probe_heads` with the run's pretrained trunk at the plan's input size."""
    import keras

    import zoo
    from zoo.training.colour_probe import probe_heads

    keras.backend.clear_session(free_memory=False)
    trunk = zoo.build(config.model, heads=heads, weights=None if config.weights == "none" else config.weights,
                      input_shape=(*plan.image_size, 3))
    return probe_heads(trunk, train_rows, heads, config.images, plan.image_size, batch_size=plan.batch_size,
                       seed=seed, allow_empty=config.allow_empty)


def _named(stage, number: int):
    """`stage`, named `stage<number>` where the user gave it no name (a plan names every stage)."""
    return dataclasses.replace(stage, name=stage.name or f"stage{number}")


def _has_gpu() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))
