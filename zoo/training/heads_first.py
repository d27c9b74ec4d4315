"""The pretrained plan's first stage: the heads trained on features cached once, until validation stops improving.

With every backbone frozen and the images unaugmented, the backbones' features
are the same every epoch: they are computed once (`zoo.training.feature_cache`)
and the heads train on them for up to the stage's epochs, keeping the weights of
the epoch with the lowest validation loss once `HEADS_PATIENCE` epochs bring no
better one. The later stages then train on images as planned (`split_plan`),
ending early once the validation score has not improved for the plan's
`patience` epochs (`early_stop`).

Example:
    >>> from zoo.training.plan import Plan, Stage
    >>> plan = Plan((64, 64), 32, True, [Stage(100, name="heads"), Stage(5, name="fine-tune")],
    ...             600.0, 300.0, cached_heads=True, patience=2)
    >>> [s.name for s in split_plan(plan).stages], split_plan(plan).epochs
    (['fine-tune'], 5)
"""

from __future__ import annotations

import dataclasses
import time

from zoo.training.plan import HEADS_PATIENCE


def split_plan(plan):
    """The plan of the stages after the cached heads' stage (what `zoo.training.run.fit` trains)."""
    return dataclasses.replace(plan, stages=[dataclasses.replace(s) for s in plan.stages[1:]], cached_heads=False)


def on_images(plan):
    """The plan with its heads' stage trained on images like the others (on a cluster): as many epochs as
    the stage after it, since nothing ends it early there.

    Example:
        >>> from zoo.training.plan import Plan, Stage
        >>> plan = Plan((64, 64), 32, True, [Stage(100, name="heads"), Stage(5, name="fine-tune")],
        ...             600.0, 300.0, cached_heads=True, patience=2)
        >>> [s.epochs for s in on_images(plan).stages]
        [5, 5]
    """
    first, *later = plan.stages
    epochs = later[-1].epochs if later else min(first.epochs, 10)
    stages = [dataclasses.replace(first, epochs=epochs), *(dataclasses.replace(s) for s in later)]
    return dataclasses.replace(plan, stages=stages, cached_heads=False)


def train_heads(model, train, validation, plan, losses=None, log=print) -> tuple[list[dict], int]:
    """Trains the heads of the plan's first stage on cached features; returns its history and the epoch kept.

    The history is a row per epoch run (`epoch`, `stage` and Keras' logs), the
    rows that `history.csv` begins with (`zoo.training.run.fit`'s `earlier_rows`);
    the epoch kept (1-based) is the one with the lowest validation loss, whose
    weights the model ends with.

    Args:
        model: The run's model, pretrained backbones frozen by the stage's `trainable`.
        train: The training `ImageDataset`, unaugmented (its features are cached).
        validation: The validation `ImageDataset`.
        plan: The run's `Plan` (`cached_heads`).
        losses: Per-head losses (`zoo.compile_model`).
    """
    import keras

    import zoo
    from zoo.training.feature_cache import cache_verdict
    from zoo.training.finetune import set_trainable

    stage = plan.stages[0]
    set_trainable(model, stage.trainable)
    reason, _ = cache_verdict(model, train, validation)
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=HEADS_PATIENCE, restore_best_weights=True)
    began = time.process_time()
    history = zoo.fit_staged(model, train, validation, stages=[stage], callbacks=[stop], verbose=0,
                             cache_features=reason is None, losses=losses)
    ran = len(history.stage)
    best = stop.best_epoch + 1 if "val_loss" in history.history else ran  # Keras restores that epoch's weights
    where = "on features cached once" if reason is None else f"on the images ({reason})"
    ending = (f"ended early: the validation loss had not improved for {HEADS_PATIENCE} epochs; kept epoch {best}"
              if ran < stage.epochs else "ran every epoch")
    log(f"stage {stage.name}: {ran} of {stage.epochs} epochs {where}, "
        f"{time.process_time() - began:.0f} s processor time; {ending}")
    rows = [{"epoch": epoch + 1, "stage": stage.name, **{k: float(v[epoch]) for k, v in history.history.items()}}
            for epoch in range(ran)]
    return rows, best


def keep_as_best(model, validation, path) -> float:
    """Scores the model the heads' stage ended with on the validation images and saves it as the best so far.

    The fine-tuning's checkpoint starts from that score (`zoo.training.run.fit`'s `best`; a
    resumed run reads it back from `path`), so a fine-tuning epoch replaces the model only
    when it does better on validation: where fine-tuning hurts a set, the heads' stage's model is the
    one kept. The card records it as epoch 0.

    Args:
        model: The run's model after `train_heads`.
        validation: The validation `ImageDataset`.
        path: The run's best-model file (`best.keras`).

    Returns:
        The validation score (`zoo.training.run.MONITOR`).
    """
    import dataclasses

    from zoo.io.saving import save_model
    from zoo.models.card import Best, card_of, set_card
    from zoo.training.callbacks import ValidationMetrics
    from zoo.training.run import MONITOR

    logs = {}
    metrics = ValidationMetrics(validation)
    metrics.set_model(model)
    metrics.on_epoch_end(0, logs)
    score = float(logs[MONITOR])
    set_card(model, dataclasses.replace(card_of(model), best=Best(MONITOR, score, 0)))
    save_model(model, path)
    return score


def early_stop(plan):
    """The callback that ends the plan's stages once the validation score stops improving, or None."""
    import keras

    from zoo.training.run import MONITOR

    if not plan.patience:
        return None
    return keras.callbacks.EarlyStopping(monitor=MONITOR, mode="max", patience=plan.patience)


def record_early_stop(callback, plan, plan_file=None, log=print) -> None:
    """Writes where `early_stop`'s callback ended the run into the plan (and `plan_file`, where given), and
    says so.

    A run killed after that and before its report then resumes at its end instead of
    training on (`zoo.training.run.fit` ends at `Plan.stop_after`), and a repeat of the
    plan stops there too. A plan that already records a stop keeps it.

    Example:
        >>> import types
        >>> from zoo.training.plan import Plan, Stage
        >>> plan = Plan((64, 64), 32, True, [Stage(10, name="fine-tune")], 600.0, 300.0, patience=2)
        >>> record_early_stop(types.SimpleNamespace(stopped_epoch=4), plan)
        Ended early after epoch 5 of 10: the validation score had not improved for 2 epochs (the best model is the best epoch's)
        >>> plan.stop_after, plan.stopped_by
        (5, 'validation')
    """
    if callback is None or not callback.stopped_epoch or callback.stopped_epoch + 1 >= plan.epochs:
        return
    if plan.stop_after is None:
        plan.stop_after, plan.stopped_by = callback.stopped_epoch + 1, "validation"
        if plan_file is not None:
            plan.save(plan_file)
    log(f"Ended early after epoch {callback.stopped_epoch + 1} of {plan.epochs}: the validation score had not "
        f"improved for {plan.patience} epochs (the best model is the best epoch's)")
