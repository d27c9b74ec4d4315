"""Epoch-end backups that let an interrupted run continue where it stopped.

Each finished epoch is written to `backup/.partial-NNNNN/` (weights with the
optimizer state, then `state.json`) and renamed to `backup/epoch-NNNNN/` only when
complete; older backups are removed after that. A kill at any moment therefore
leaves at least one complete backup, and `latest_backup` ignores the rest.

Example:
    >>> import tempfile
    >>> latest_backup(tempfile.mkdtemp()) is None
    True
"""

from __future__ import annotations

import json
import math
import shutil
import warnings
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from zoo.io.atomic import replace, writing

STATE_FILE = "state.json"
WEIGHTS_FILE = "weights.weights.h5"


def _finite(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def write_csv_atomically(frame: pd.DataFrame, path) -> None:
    """Writes a CSV beside `path` and moves it over `path` when complete."""
    with writing(path) as temporary:
        frame.to_csv(temporary, index=False)


class RunBackup(keras.callbacks.Callback):
    """Backs up weights, optimizer state, history and the best value after every epoch.

    Args:
        folder: The backup folder (created).
        stages: `(stage name, epochs)` pairs in order, to label history rows.
        checkpoint: Optional `SafeModelCheckpoint` whose best value is saved.
        history_csv: Optional CSV rewritten from the saved rows after each backup,
            so the log never holds an epoch the backup lacks, nor the reverse.
        rows: History rows of earlier epochs (from `latest_backup`).
        epoch_offset: Epochs trained before these stages (whose rows `rows` begins
            with): the rows number this training's epochs after them.
    """

    def __init__(self, folder, stages, checkpoint=None, history_csv=None, rows=(), epoch_offset: int = 0):
        super().__init__()
        self.folder = Path(folder)
        self.stage_of_epoch = [name for name, epochs in stages for _ in range(epochs)]
        self.checkpoint = checkpoint
        self.history_csv = history_csv
        self.rows = list(rows)
        self.epoch_offset = int(epoch_offset)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if _finite(logs.get("loss", 0.0)) is None:
            return  # never back up NaN weights
        stage = self.stage_of_epoch[min(epoch, len(self.stage_of_epoch) - 1)]
        number = self.epoch_offset + epoch + 1
        self.rows = [r for r in self.rows if r["epoch"] < number]
        self.rows.append({"epoch": number, "stage": stage, **{k: _finite(v) for k, v in logs.items()}})
        state = {"epoch": epoch + 1, "rows": self.rows, "epoch_offset": self.epoch_offset}
        if self.checkpoint is not None:
            best = self.checkpoint.best  # None before the first improvement
            state.update(best=_finite(best) if best is not None else None, monitor=self.checkpoint.monitor)
        self._write(epoch + 1, state)
        if self.history_csv is not None:
            write_csv_atomically(pd.DataFrame(self.rows), self.history_csv)

    def _write(self, epoch: int, state: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".partial-{epoch:05d}"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        self.model.save_weights(partial / WEIGHTS_FILE)
        (partial / STATE_FILE).write_text(json.dumps(state))  # written last: marks the backup complete
        final = self.folder / f"epoch-{epoch:05d}"
        replace(partial, final)
        for older in self.folder.glob("epoch-*"):
            if older != final:
                shutil.rmtree(older, ignore_errors=True)


def latest_backup(folder) -> dict | None:
    """The newest complete backup in `folder`: its state plus `weights` (a path), or None.

    Incomplete backups (a kill while one was written) are removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None
    for partial in folder.glob(".partial-*"):
        shutil.rmtree(partial, ignore_errors=True)
    complete = sorted(p for p in folder.glob("epoch-*") if (p / STATE_FILE).is_file())
    if not complete:
        return None
    state = json.loads((complete[-1] / STATE_FILE).read_text())
    return {**state, "weights": str(complete[-1] / WEIGHTS_FILE)}


def restore_weights(model: keras.Model, path, with_optimizer: bool) -> None:
    """Loads backed-up weights into a compiled model, with the optimizer state when asked.

    Without it (a backup from the end of an earlier stage, whose optimizer
    trained other variables) the stage starts with a fresh optimizer.
    """
    if with_optimizer and model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    with warnings.catch_warnings():
        if not with_optimizer:
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        model.load_weights(path)
    if not all(np.isfinite(np.asarray(w)).all() for w in model.get_weights()):
        raise ValueError(f"Backup {path} holds weights that are not finite; start over without it.")
