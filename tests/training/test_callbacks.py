import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from sklearn import metrics as skm

import zoo
from zoo.evaluation.predictions import Predictions
from zoo.training.callbacks import (CompiledFigures, SafeModelCheckpoint, StopOnNaN, ValidationMetrics,
                                  standard_callbacks)


def _setup(n=12, seed=0):
    """A compiled two-head model on the small plain CNN (the callbacks do not depend on the trunk), and data."""
    heads = [zoo.Head("tags", ["a", "b", "c"]), zoo.Head("kind", ["x", "y"], kind="multiclass")]
    model = zoo.compile_model(zoo.build_shared_trunk("small_cnn", heads, (32, 32, 3)))
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


def test_compiled_metrics_log_what_the_keras_validation_pass_logs():
    model, images, targets = _setup(n=20)
    zoo.compile_model(model, optimizer="adam", loss_weights={"tags": 2.0, "kind": 0.5})
    # Batches of equal size: Keras averages each head's loss over batches, not images
    validation = tf.data.Dataset.from_tensor_slices((images, targets)).batch(5)
    train = tf.data.Dataset.from_tensor_slices((images[::-1], targets)).batch(5)
    keras_pass = {}
    model.fit(train, validation_data=validation, epochs=1, verbose=0,
              callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: keras_pass.update(logs))])
    logs = {}
    callback = ValidationMetrics(validation, compiled_metrics=True)
    callback.set_model(model)
    callback.on_epoch_end(0, logs)
    keras_keys = {k for k in keras_pass if k.startswith("val_")}
    assert {"val_loss", "val_tags_loss", "val_kind_loss", "val_kind_accuracy"} <= keras_keys <= set(logs)
    for key in keras_keys - {"val_kind_accuracy"}:  # the one key both passes log (both as accuracy)
        assert logs[key] == pytest.approx(keras_pass[key], rel=1e-4, abs=1e-6), key
    predicted = model.predict(images, verbose=0)
    per_head = {h: float(np.mean(keras.losses.get(model.loss[h])(targets[h], predicted[h]))) for h in targets}
    assert logs["val_loss"] == pytest.approx(2.0 * per_head["tags"] + 0.5 * per_head["kind"], rel=1e-5)
    assert all(float(v) == 0 for v in model.get_metrics_result().values())  # the states were left clean
    weighted = tf.data.Dataset.from_tensor_slices((images, targets, np.ones(20))).batch(5)
    with pytest.raises(ValueError, match="carry them. Received: batches of 3 parts"):
        ValidationMetrics(weighted, compiled_metrics=True)
    ValidationMetrics(weighted)  # its own figures ignore the weights, as zoo.evaluate does


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


def test_stop_on_nan_is_keras_terminate_on_nan_and_names_the_batch_once(capsys, caplog):
    model, images, targets = _setup()
    poisoned = images.copy()
    poisoned[8:] = np.nan  # the third batch of four images
    quiet = StopOnNaN(log=False)
    assert isinstance(quiet, keras.callbacks.TerminateOnNaN)
    history = model.fit(poisoned, targets, epochs=3, batch_size=4, callbacks=[quiet], verbose=0, shuffle=False)
    assert quiet.stopped_at == (1, 3) and len(history.history["loss"]) == 1
    assert "Invalid loss" not in capsys.readouterr().out and "loss became" not in caplog.text  # nothing said
    model, _, _ = _setup()  # the NaN batch's update left the weights NaN
    told = StopOnNaN()
    model.fit(poisoned, targets, epochs=1, batch_size=4, callbacks=[told], verbose=0, shuffle=False)
    assert caplog.text.count("loss became nan at epoch 1, batch 3") == 1
    assert "Invalid loss" not in capsys.readouterr().out  # Keras' own line is not printed beside it
    model, _, _ = _setup()
    strict = StopOnNaN(log=False, raise_error=True)
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 2"):
        model.fit(poisoned, targets, epochs=1, batch_size=4, callbacks=[strict], verbose=0, shuffle=False)
    assert strict.stopped_at == (1, 3)


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


def test_compiled_figures_are_traced_once_per_compile():
    """Eagerly, each head's multi-label AUC traced a new function at every epoch; one kept graph traces once."""
    rng = np.random.default_rng(0)
    model = zoo.compile_model(zoo.build("multilabel_small", heads={"tags": list("abc")}, input_shape=(32, 32, 3),
                                        weights=None))
    batches = [(rng.uniform(0, 255, (8, 32, 32, 3)), {"tags": rng.integers(0, 2, (8, 3)).astype("float32")})]
    predictions = Predictions.of(model, batches)
    figures = CompiledFigures()
    epochs = [figures(model, predictions) for _ in range(2)]
    traced = figures._graph.experimental_get_tracing_count()  # the first call may trace twice (it builds metrics)
    epochs += [figures(model, predictions) for _ in range(5)]
    assert figures._graph.experimental_get_tracing_count() == traced <= 2
    assert all(epoch == epochs[0] for epoch in epochs)
    targets, outputs = dict(predictions.targets), dict(predictions.probabilities)
    model.reset_metrics()
    eager = {k: float(v) for k, v in model.compute_metrics(None, targets, outputs).items()}
    eager["loss"] = float(model.compute_loss(y=targets, y_pred=outputs, training=False))
    assert epochs[0] == pytest.approx(eager, rel=1e-5)
    zoo.compile_model(model, loss_weights={"tags": 2.0})  # new metric objects: the graph is made again
    assert figures(model, predictions)["loss"] == pytest.approx(2 * eager["loss"], rel=1e-5)
