import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import zoo


def test_mixed_precision_computes_in_half_and_outputs_float32():
    with zoo.training.scale.mixed_precision("mixed_bfloat16"):
        model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3))
    assert keras.config.dtype_policy().name == "float32"
    conv = model.get_layer("compact_resnet").get_layer("stem_conv")
    assert conv.compute_dtype == "bfloat16" and conv.kernel.dtype == "float32"
    outputs = model(np.zeros((2, 32, 32, 3), "float32"))
    assert outputs["tags"].dtype == "float32"
    logs = model.train_on_batch(np.zeros((2, 32, 32, 3), "float32"), {"tags": np.ones((2, 2), "float32")},
                                return_dict=True)
    assert np.isfinite(logs["loss"])


def test_unknown_strategy_is_named():
    with pytest.raises(ValueError, match="Received: kind='tpu'"):
        zoo.training.scale.strategy("tpu")


MIRRORED = textwrap.dedent(
    """
    import os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import zoo
    strategy = zoo.training.scale.strategy("mirrored", ["/cpu:0", "/cpu:1"])
    with strategy.scope():
        model = zoo.build("multilabel_small", heads={"tags": ["a", "b", "c"]}, input_shape=(32, 32, 3))
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (16, 32, 32, 3)).astype("float32")
    targets = {"tags": rng.integers(0, 2, (16, 3)).astype("float32")}
    history = zoo.fit_staged(model, (images, targets), stages=[zoo.Stage(epochs=2)], verbose=0)
    print("replicas", strategy.num_replicas_in_sync, "loss", history.history["loss"][-1])
    """
)


def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    script = tmp_path / "mirrored.py"
    script.write_text(MIRRORED)
    result = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    words = result.stdout.split()
    assert words[words.index("replicas") + 1] == "2"
    assert np.isfinite(float(words[words.index("loss") + 1]))
