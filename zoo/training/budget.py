"""A planned training that ends within the time budget it was planned for.

The plan estimates an epoch's time from a few training steps
(`zoo.training.speed`); the run's own epochs may take longer (a busier machine,
a slower stretch). `BudgetStop` watches the epochs as they end and stops
training before one that would run past the budget, keeping the plan's reserve
for the final evaluation and saving. The epoch it stopped after goes into the
plan (`Plan.stop_after`), so that a run repeating the plan repeats it exactly,
stop included. With a cosine schedule the last epochs train at a small fraction
of the peak learning rate, so a stop near the end costs little.

Example:
    >>> import types
    >>> now = [0.0]  # a clock each epoch moves on by 10 seconds
    >>> stop = BudgetStop(total_epochs=8, deadline=45.0, clock=lambda: now[0])
    >>> stop.set_model(types.SimpleNamespace(stop_training=False))
    >>> for epoch in range(8):
    ...     stop.on_epoch_begin(epoch)
    ...     now[0] += 10.0
    ...     stop.on_epoch_end(epoch)
    ...     if stop.model.stop_training:
    ...         break
    >>> stop.stopped_after  # after 4 epochs (40 s) a fifth would end at 50 s, past 45
    4
"""

from __future__ import annotations

import time

import keras

RECENT_EPOCHS = 3  # the next epoch is estimated as the longest of the last few


class BudgetStop(keras.callbacks.Callback):
    """Stops training before an epoch that would end past `deadline`, or after epoch `stop_after`.

    Args:
        total_epochs: The planned epochs of all stages; the last one ends the
            run anyway and is never counted as a stop.
        deadline: The `clock` reading training must end by; None: no deadline.
        clock: The budget's clock (`zoo.training.speed.budget_clock`).
        stop_after: Stop after this epoch (1-based) whatever the time: a
            repeated plan stops where its run did.

    Attributes:
        stopped_after: The epoch (1-based) training stopped after, or None.
    """

    def __init__(self, total_epochs: int, deadline: float | None = None, clock=time.process_time,
                 stop_after: int | None = None):
        super().__init__()
        self.total_epochs, self.deadline, self.clock, self.stop_after = total_epochs, deadline, clock, stop_after
        self.stopped_after = None
        self.seconds, self._started = [], None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = self.clock()

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if done >= self.total_epochs:
            return
        if self.stop_after is not None:
            if done >= self.stop_after:
                self._stop(done)
            return
        if self.deadline is None:
            return
        now = self.clock()
        self.seconds.append(now - self._started)
        later = self.seconds[1:] or self.seconds  # the process's first epoch also builds the step
        if now + max(later[-RECENT_EPOCHS:]) > self.deadline:
            self._stop(done)

    def _stop(self, done: int) -> None:
        self.stopped_after = done
        self.model.stop_training = True


def stop_for_run(config, plan, resumed, multi_worker: bool, began: float) -> BudgetStop | None:
    """The `BudgetStop` of a planned run, or None.

    A repeated plan stops where its run did. The budget decides only where it
    chose the epochs: not where the config fixes the epochs or the stages, or
    repeats a plan, nor in a resumed run (its clock started again) or on a
    cluster (the workers would have to agree).

    Args:
        config: The run's `zoo.training.config.RunConfig`.
        plan: The run's `zoo.training.plan.Plan`.
        resumed: The backup a resumed run continues from, or None.
        multi_worker: The run trains on a cluster.
        began: `time.perf_counter()` at the run's start (the budget's origin with a GPU).
    """
    from zoo.training.speed import budget_clock

    if plan.stop_after is not None:
        return BudgetStop(plan.epochs, stop_after=plan.stop_after)
    deadline = plan.training_deadline()
    if config.plan or config.epochs or config.stages or resumed or multi_worker or deadline is None:
        return None
    gpu = plan.measured.get("clock") == "wall"
    return BudgetStop(plan.epochs, deadline=deadline + (began if gpu else 0.0), clock=budget_clock(gpu))


def record_stop(stop: BudgetStop | None, plan, plan_file=None, reporter=None) -> None:
    """Writes a new stop into the plan (and `plan_file`, where given) and says so (to `reporter`, default
    `zoo.training.reporter.Reporter()`)."""
    if stop is None or stop.stopped_after is None or plan.stop_after is not None:
        return
    plan.stop_after, plan.stopped_by = stop.stopped_after, "budget"
    if plan_file is not None:
        plan.save(plan_file)
    if reporter is None:
        from zoo.training.reporter import Reporter

        reporter = Reporter()
    reporter.line(f"Stopped after epoch {plan.stop_after} of {plan.epochs}: another would have run past the "
                  f"{plan.budget_seconds / 60:g}-minute budget ({plan.measured.get('clock', 'wall')} time); "
                  f"plan.json records the stop, so {reporter.option('plan')} repeats it")
