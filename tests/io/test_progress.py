import io

import keras
import numpy as np

from zoo.io.progress import Progress, format_duration, timing, track
from zoo.io.progress_callbacks import EpochProgress, keras_progress


class Clock:
    """A clock that stands still until the test moves it."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_durations_and_estimates():
    assert [format_duration(s) for s in (0, 59.6, 61, 3600)] == ["0:00", "1:00", "1:01", "1:00:00"]
    assert timing(30, 1, 4) == "elapsed 0:30, left ~1:30"
    assert timing(30, 4, 4) == timing(30, 0, 4) == timing(30, 2, None) == "elapsed 0:30"


def test_plain_lines_every_tenth_and_at_the_end():
    stream = io.StringIO()
    clock = Clock()
    progress = Progress(25, "predict", "images", stream=stream, clock=clock)
    for _ in range(25):
        clock.now += 1
        progress.advance()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "predict 2/25 images  elapsed 0:02, left ~0:23"
    assert lines[-1] == "predict 25/25 images  elapsed 0:25"
    assert len(lines) == 13  # every 2 images, then the last one
    assert "\x1b" not in stream.getvalue() and "\r" not in stream.getvalue()


def test_a_bar_on_a_terminal():
    stream, clock = Terminal(), Clock()
    for item in track(range(4), 4, "decode", "files", stream=stream, clock=clock):
        clock.now += 1
    text = stream.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n") and "\x1b" not in text
    assert "\r[" + "#" * 12 + "." * 12 + "] decode 2/4 files  elapsed 0:02, left ~0:02" in text


def test_epoch_lines_count_across_fits():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.zeros((4, 2)), np.zeros((4, 1))
    stream = io.StringIO()
    clock = Clock()
    # The first epoch takes 30 s (it builds the step and fills the cache), every later one 10 s
    ticker = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: setattr(clock, "now", clock.now + (30 if epoch == 0 else 10)))
    callback = EpochProgress(total_epochs=4, stream=stream, clock=clock)
    model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0, callbacks=[ticker, callback])
    model.fit(x, y, validation_data=(x, y), initial_epoch=2, epochs=4, verbose=0, callbacks=[ticker, callback])
    lines = stream.getvalue().splitlines()
    assert [line.split("  ")[0] for line in lines] == ["epoch 1/4", "epoch 2/4", "epoch 3/4", "epoch 4/4"]
    assert lines[0] == "epoch 1/4  loss 0  val_loss 0  elapsed 0:30"  # no estimate from the slow first epoch
    assert lines[1] == "epoch 2/4  loss 0  val_loss 0  elapsed 0:40, left ~0:20"
    assert lines[2] == "epoch 3/4  loss 0  val_loss 0  elapsed 0:50, left ~0:10"
    assert lines[3] == "epoch 4/4  loss 0  val_loss 0  elapsed 1:00"
    resumed = EpochProgress(total_epochs=4, stream=io.StringIO(), clock=clock)  # a rerun after epoch 1
    model.fit(x, y, validation_data=(x, y), initial_epoch=1, epochs=4, verbose=0, callbacks=[ticker, resumed])
    lines = resumed.stream.getvalue().splitlines()
    assert lines[0] == "epoch 2/4  loss 0  val_loss 0  elapsed 0:10" and lines[1].endswith("elapsed 0:20, left ~0:10")


def test_keras_progress_never_uses_the_keras_bar_off_a_terminal():
    assert keras_progress(5, min_batches=10) == {"verbose": 0}
    settings = keras_progress(50, stream=io.StringIO())
    assert settings["verbose"] == 0 and type(settings["callbacks"][0]).__name__ == "BatchProgress"


def test_batches_of_a_dataset_are_tracked_from_its_cardinality():
    import tensorflow as tf

    from zoo.io.progress import track_batches

    stream = io.StringIO()
    dataset = tf.data.Dataset.range(24).batch(2)
    assert [int(b[0]) for b in track_batches(dataset, "evaluate", stream=stream)] == list(range(0, 24, 2))
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("evaluate 1/12 batches  elapsed") and lines[-1].startswith("evaluate 12/12 batches")
    small = dataset.take(3)
    assert track_batches(small, stream=stream) is small  # short runs report nothing
