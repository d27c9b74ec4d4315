"""One planned training run: its output folder, its record, staged training with backups, NaN stop.

Running again with the same settings (a `zoo.training.config.RunConfig`) after an
interruption continues from the last finished epoch: the plan and the best value
so far are read back from the output folder, and the split is checked against the
one the run began with. Messages name settings through the config's reporter
(`zoo.training.reporter.Reporter`): as flags on the command line.

Example:
    >>> import tempfile
    >>> from zoo.training.config import RunConfig
    >>> config = RunConfig(output=Path(tempfile.mkdtemp()) / "run", epochs=2)
    >>> with holding(config.output):
    ...     previous_run(config) is None
    True
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from zoo.training.config import changed_arguments

LOCK_FILE = ".lock"
RUN_FILE = "run.json"
PLAN_FILE = "plan.json"
SPLIT_FILE = "split.csv"
BACKUP_FOLDER = "backup"
BEST_MODEL = "best.keras"
MONITOR = "val_score"
MONITOR_MEANING = ("val_score: the mean over heads of validation accuracy (multiclass heads) and mAP (multilabel "
                   "and binary heads); the epoch with the highest is kept")


class RunError(RuntimeError):
    """A run that cannot start or continue; the message says what to do."""


@contextlib.contextmanager
def holding(output: Path, reporter=None):
    """Holds the output folder for this process while the block runs: two runs never write one folder.

    The hold is the operating system's lock on an open file in `output`, so it ends
    with the process however the process ends (a kill included) and never needs
    cleaning up; the file names the process that holds it.

    A block that fails before any model or checkpoint file is written removes
    the folder, but only when this process created it and holds it: never a
    folder that existed before, nor one another run holds.

    Args:
        output: The run's output folder.
        reporter: Names the output setting in the error (default `Reporter()`).

    Raises:
        RunError: Another process holds `output`.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> with holding(folder):  # doctest: +ELLIPSIS
        ...     with holding(folder):
        ...         pass
        Traceback (most recent call last):
        ...
        zoo.training.run.RunError: another zoo train (process ...) is writing to output='...'; wait for it to end, ...
    """
    say = _option_namer(reporter)
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        output.mkdir()
        created = True  # this process made the folder: nothing in it is anyone else's while it holds it
    except FileExistsError:
        created = False
    with open(output / LOCK_FILE, "a+") as handle:
        try:
            _lock(handle)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise RunError(f"another zoo train (process {holder}) is writing to {say('output', output)}; wait for it "
                           f"to end, or choose another {say('output')}. Received: {say('output', output)}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        except BaseException:
            if created and not any(any(output.rglob(p)) for p in MODEL_FILE_PATTERNS):
                shutil.rmtree(output, ignore_errors=True)  # under the hold: no other run writes there
            raise


# A failed run keeps a folder holding one of these (a checkpoint is work).
MODEL_FILE_PATTERNS = ("*.keras", "*.h5", "*.hdf5")


def _lock(handle) -> None:
    """Locks an open file for this process without waiting; OSError when another holds it."""
    if os.name == "nt":
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _option_namer(reporter):
    """`reporter.option`, or the library default's."""
    if reporter is None:
        from zoo.training.reporter import Reporter

        reporter = Reporter()
    return reporter.option


def previous_run(config) -> dict | None:
    """The unfinished run to continue in `config.output`, or None to start one.

    With `config.restart` an earlier run's backup and best model are removed first.

    Raises:
        RunError: The output folder holds a finished run, or one made with other
            settings, and `config.restart` is not set.
    """
    output, say = config.output, config.reporter.option
    run_file = output / RUN_FILE
    if not run_file.is_file():
        return None
    run = json.loads(run_file.read_text())
    if config.restart:
        shutil.rmtree(output / BACKUP_FOLDER, ignore_errors=True)
        (output / BEST_MODEL).unlink(missing_ok=True)
        return None
    if run.get("finished"):
        raise RunError(f"{say('output', output)} holds a finished run; choose another {say('output')}, or pass "
                       f"{say('restart', True)} to train again there. Received: {say('output', output)}")
    changed = changed_arguments(run["arguments"], config.arguments())
    if changed:
        raise RunError(f"{say('output', output)} holds an unfinished run made with other arguments "
                       f"({', '.join(changed)}); run the same command to continue it, choose another "
                       f"{say('output')}, or pass {say('restart', True)}.")
    return run


def write_run(config, finished: bool) -> None:
    """Records the run's settings (and whether it finished) in its output folder's `run.json`."""
    (config.output / RUN_FILE).write_text(json.dumps({"arguments": config.arguments(), "finished": finished},
                                                     indent=2))


def training_callbacks(output: Path, validation_data, plan, resumed: dict | None, tensorboard=None,
                       compiled_metrics: bool = True, best: float | None = None, earlier_rows=()):
    """Validation metrics, NaN stop, the best model, backups with the history log, TensorBoard.

    With `compiled_metrics` the validation metrics also log the validation loss and
    compiled metrics, so `fit` needs no validation pass of its own. `best` is the
    score of the model already in `best.keras` (the heads' stage's): an epoch
    replaces that file only when it does better. A resumed run reads the score
    back from its backup and that file. `earlier_rows`: the history of the epochs
    trained before `plan`'s (the heads' stage on cached features), which `history.csv`
    begins with; the epochs of `plan` are numbered after them there and in the
    best model's card.
    """
    import keras

    from zoo.training.backup import RunBackup
    from zoo.training.callbacks import SafeModelCheckpoint, StopOnNaN, ValidationMetrics
    from zoo.io.progress_callbacks import EpochProgress

    known = [value for value in (best, (resumed or {}).get("best")) if value is not None]
    best_file = output / BEST_MODEL
    if resumed is not None and best_file.is_file():  # saved after the backup, it may hold a better epoch
        known.append(_best_of(best_file))
    best = max(known) if known else None
    offset = (resumed or {}).get("epoch_offset", len(earlier_rows))
    checkpoint = SafeModelCheckpoint(best_file, monitor=MONITOR, mode="max", best=best, epoch_offset=offset)
    stop = StopOnNaN(log=False)  # `fit` reports it as the run's one error
    backup = RunBackup(output / BACKUP_FOLDER, [(s.name, s.epochs) for s in plan.stages],
                       checkpoint=checkpoint, history_csv=output / "history.csv",
                       rows=(resumed or {}).get("rows", earlier_rows), epoch_offset=offset)
    callbacks = [ValidationMetrics(validation_data, compiled_metrics=compiled_metrics), stop, checkpoint, backup,
                 EpochProgress(plan.epochs, metrics=("loss", "val_loss", MONITOR), prefix="  ")]
    if tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(tensorboard)))
    return callbacks, stop, backup


def _best_of(best_file: Path) -> float:
    """The monitored value stored in a best-model file (saved with it, atomically)."""
    from zoo.io.saving import read_card

    card = read_card(best_file)
    best = card.best if card is not None else None
    return best.value if best is not None and best.monitor == MONITOR else -np.inf


def fit(model, train_data, validation_data, plan, config, resumed: dict | None, losses,
        multi_worker: bool = False, chief: bool = True, extra_callbacks=(), best: float | None = None,
        earlier_rows=()):
    """Trains the plan's stages with backups in `config.output`; returns the history rows of every epoch.

    `extra_callbacks` come after the run's own (every worker gets them). Lines go to
    `config.reporter`. `best`: the validation score of the model already saved as the
    best (`zoo.training.heads_first.keep_as_best`), which an epoch must beat; `earlier_rows`, the
    history of the stage that trained it (see `training_callbacks`).

    With `multi_worker` the model was built under a `MultiWorkerMirroredStrategy` and trains with
    `zoo.training.multi_worker.fit`; a worker other than the chief gets no callback that writes
    files (nor validation metrics, nor a backup: `resumed` holds only the epoch) and returns no rows.
    """
    import zoo
    from zoo.training import multi_worker as cluster
    from zoo.training.backup import restore_weights
    from zoo.training.callbacks import StopOnNaN
    from zoo.io.progress_callbacks import EpochProgress

    output, reporter, say = config.output, config.reporter, config.reporter.option
    if chief:  # one process predicts the validation images once an epoch; a cluster validates together
        callbacks, stop, backup = training_callbacks(output, validation_data, plan, resumed, config.tensorboard,
                                                     compiled_metrics=not multi_worker, best=best,
                                                     earlier_rows=earlier_rows)
    else:
        stop, backup = StopOnNaN(log=False), None
        callbacks = [stop, EpochProgress(plan.epochs, metrics=("loss", "val_loss"), prefix="  ")]
    callbacks = [*callbacks, *extra_callbacks]
    done = (resumed or {}).get("epoch", 0)
    if done:
        reporter.line(f"Continuing the interrupted run {f'in {output}' if chief else 'of the chief'} after epoch "
                      f"{done} of {plan.epochs} ({say('restart', True)} starts over)")
    load = (lambda m, within: restore_weights(m, resumed["weights"], within)) if done and chief else None
    restore = cluster.restorer(load) if multi_worker and done else load
    end = plan.stop_after or plan.epochs  # a run that stopped before its planned end ends there again
    if done < end:
        if chief:
            reporter.line(f"  ({MONITOR_MEANING})")
        zoo.fit_staged(
            model, train_data, validation_data if multi_worker else None, stages=plan.stages, callbacks=callbacks,
            losses=losses, verbose=1 if config.progress and sys.stdout.isatty() else 0, log=reporter.line,
            initial_epoch=done,
            restore=restore, trainer=cluster.fit if multi_worker else None,
        )
    elif chief:  # killed after the last epoch's backup: no stage runs to restore it
        if end < plan.epochs:
            reporter.line(f"  its training had ended after epoch {end} of {plan.epochs} (plan.json records the "
                          "stop): finishing the run")
        with cluster.local(model):
            restore_weights(model, resumed["weights"], with_optimizer=False)
    if stop.stopped_at is not None:
        epoch, batch = stop.stopped_at
        raise RunError(f"training stopped: the loss became NaN at epoch {epoch}, batch {batch}. Lower the "
                       f"learning rate ({say('learning_rate')}), check the images, or choose another "
                       f"{say('loss')}, and add {say('restart', True)} to start over with the new arguments.")
    return backup.rows if backup is not None else []


def write_split(output: Path, train_paths, validation_paths) -> None:
    """`split.csv`: every image file and its split, for `zoo evaluate`'s overlap warning."""
    resolved = [str(Path(p).resolve()) for p in (*train_paths, *validation_paths)]
    frame = pd.DataFrame({"file": resolved,
                          "split": ["train"] * len(train_paths) + ["validation"] * len(validation_paths)})
    frame.to_csv(output / SPLIT_FILE, index=False)


def check_same_split(output: Path, train_paths, validation_paths, reporter=None) -> None:
    """Raises `RunError` when a resumed run would train or validate on other images than it began with.

    `reporter` names the settings in the message (default `Reporter()`).
    """
    say = _option_namer(reporter)
    split = pd.read_csv(output / SPLIT_FILE)
    for name, paths in (("train", train_paths), ("validation", validation_paths)):
        before = set(split.loc[split["split"] == name, "file"])
        now = {str(Path(p).resolve()) for p in paths}
        if before != now:
            raise RunError(f"the {name} images differ from those the interrupted run in {output} began with "
                           f"({len(now - before)} new, {len(before - now)} gone); run with "
                           f"{say('restart', True)}, or choose another {say('output')}.")


def training_overlap(model_path, paths) -> tuple[int, int]:
    """(how many of `paths` were training images of the run that wrote `model_path`, how many paths)."""
    split_file = Path(model_path).resolve().parent / SPLIT_FILE
    if not split_file.is_file():
        return 0, len(paths)
    split = pd.read_csv(split_file)
    trained = {str(Path(p).resolve()) for p in split.loc[split["split"] == "train", "file"]}
    return sum(str(Path(p).resolve()) in trained for p in paths), len(paths)
