import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from sklearn import metrics as skm

import zoo
from zoo.training.callbacks import SafeModelCheckpoint, StopOnNaN, ValidationMetrics, standard_callbacks


def _setup(n=12, seed=0):
    heads = [zoo.Head("tags", ["a", "b", "c"]), zoo.Head("kind", ["x", "y"], kind="multiclass")]
    model = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3))
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 255, (n, 32, 32, 3)).astype("float32")
    targets = {"tags": rng.integers(0, 2, (n, 3)).astype("float32"), "kind": np.eye(2)[rng.integers(0, 2, n)]}
    return model, images, targets


def test_validation_metrics_align_predictions_with_targets_of_a_shuffled_dataset():
    model, images, targets = _setup()
    shuffled = tf.data.Dataset.from_tensor_slices((images, targets)).shuffle(12, seed=1).batch(5)
    logs = {}
    callback = ValidationMetrics(shuffled)
    callback.set_model(model)
    callback.on_epoch_end(0, logs)
    predicted = model.predict(images, verbose=0)
    expected = skm.f1_score(targets["tags"], (predicted["tags"] > 0.5).astype(int), average="micro", zero_division=0)
    assert logs["val_tags_micro_f1"] == pytest.approx(expected)
    assert logs["val_kind_accuracy"] == pytest.approx(
        skm.accuracy_score(targets["kind"].argmax(1), predicted["kind"].argmax(1)))
    assert logs["val_score"] == pytest.approx(np.mean([logs["val_tags_mAP"], logs["val_kind_accuracy"]]))
    assert {"val_kind_macro_f1", "val_tags_macro_f1", "val_tags_micro_precision"} <= set(logs)
    kept = callback.predictions  # the epoch's one pass
    assert len(kept) == 12 and [h.name for h in kept.heads] == ["tags", "kind"]
    pd.testing.assert_frame_equal(zoo.summary_table(zoo.evaluate(model, kept)),
                                  zoo.summary_table(zoo.evaluate(model, shuffled)))


def test_checkpoint_saves_best_atomically_with_metadata(tmp_path):
    model, images, targets = _setup()
    checkpoint = SafeModelCheckpoint(tmp_path / "best.keras", monitor="val_kind_accuracy")
    assert checkpoint.mode == "max"
    checkpoint.set_model(model)
    checkpoint.on_epoch_end(0, {"val_kind_accuracy": 0.5})
    first = (tmp_path / "best.keras").stat().st_mtime_ns
    checkpoint.on_epoch_end(1, {"val_kind_accuracy": 0.4})
    assert (tmp_path / "best.keras").stat().st_mtime_ns == first and checkpoint.best_epoch == 1
    assert zoo.model_info(zoo.load_model(tmp_path / "best.keras"))["heads"]["kind"]["classes"] == ["x", "y"]
    with pytest.raises(KeyError, match="Received: monitor='val_kind_accuracy'"):
        checkpoint.on_epoch_end(2, {"loss": 1.0})


def test_stop_on_nan_stops_with_position(caplog):
    model, images, targets = _setup()
    poisoned = images.copy()
    poisoned[:] = np.nan
    stopper = StopOnNaN()
    history = model.fit(poisoned, targets, epochs=3, batch_size=4, callbacks=[stopper], verbose=0)
    assert stopper.stopped_at == (1, 1)
    assert len(history.history["loss"]) == 1
    assert "loss became nan at epoch 1, batch 1" in caplog.text


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise KeyboardInterrupt


def test_resume_after_interruption_loses_no_epoch(tmp_path):
    model, images, targets = _setup()
    validation = tf.data.Dataset.from_tensor_slices((images, targets)).batch(6)
    callbacks = standard_callbacks(tmp_path, validation)
    with pytest.raises(KeyboardInterrupt):
        model.fit(images, targets, epochs=4, batch_size=6, validation_data=validation, verbose=0,
                  callbacks=[*callbacks, _Interrupt()])
    resumed = model.fit(images, targets, epochs=4, batch_size=6, validation_data=validation, verbose=0,
                        callbacks=standard_callbacks(tmp_path, validation))
    assert len(resumed.history["loss"]) == 2  # epochs 3 and 4 only
    log = pd.read_csv(tmp_path / "history.csv")
    assert log["epoch"].tolist() == [0, 1, 2, 3]
    assert "val_tags_micro_f1" in log.columns
    assert (tmp_path / "best.keras").is_file()
