import keras
import numpy as np
import pytest

import zoo


def _model():
    return zoo.build("multilabel_small", heads={"tags": ["a", "b", "c"]}, input_shape=(32, 32, 3), weights=None)


def _data(n=8, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 255, (n, 32, 32, 3)).astype("float32")
    targets = {"tags": rng.integers(0, 2, (n, 3)).astype("float32")}
    return images, targets


def _snapshot(layer):
    return {w.path: w.numpy().copy() for w in layer.weights}


@pytest.mark.parametrize("boundary", ["stage4", "stage4_block1_conv1", 12])
def test_unfreeze_from_boundary_alias_layer_or_count(boundary):
    model = _model()
    zoo.unfreeze_from(model, boundary)
    backbone = model.get_layer("compact_resnet")
    trainable = [l.name for l in backbone.layers if l.trainable and l.weights]
    assert "stem_conv" not in trainable and "stage3_block1_conv1" not in trainable
    assert "stage4_block1_conv2" in trainable
    assert not any(isinstance(backbone.get_layer(n), keras.layers.BatchNormalization) for n in trainable)


def test_unfreeze_errors_list_boundaries():
    model = _model()
    with pytest.raises(ValueError, match=r"Boundaries by branch: \{'compact_resnet': \['stage4'.*Received: boundary='block5'"):
        zoo.unfreeze_from(model, "block5")
    two = zoo.build_branches("small_cnn", [zoo.Head("a", ["x", "y"]), zoo.Head("b", ["x", "y"])], (32, 32, 3))
    with pytest.raises(ValueError, match="in several branches"):
        zoo.unfreeze_from(two, "conv3")
    zoo.unfreeze_from(two, "conv3", branch="b")
    assert two.get_layer("b_small_cnn").get_layer("conv3").trainable
    assert not two.get_layer("b_small_cnn").get_layer("conv2").trainable


def test_staged_fit_touches_only_what_each_stage_unfreezes():
    model = _model()
    images, targets = _data()
    backbone = model.get_layer("compact_resnet")
    stages = [zoo.Stage(epochs=2, trainable="heads", learning_rate=1e-2)]
    start = _snapshot(backbone)
    history = zoo.fit_staged(model, (images, targets), stages=stages, verbose=0)
    after_stage1 = _snapshot(backbone)
    for path, value in start.items():
        np.testing.assert_array_equal(value, after_stage1[path], err_msg=path)

    history2 = zoo.fit_staged(model, (images, targets), verbose=0, stages=[
        zoo.Stage(epochs=1, trainable={"tags": "stage4"}, learning_rate=1e-2, loss_weights={"tags": 0.5})])
    after_stage2 = _snapshot(backbone)
    for layer in backbone.layers:
        for w in layer.weights:
            changed = not np.array_equal(after_stage1[w.path], after_stage2[w.path])
            should_change = layer.name.startswith("stage4") and not isinstance(layer, keras.layers.BatchNormalization) \
                and "kernel" in w.path
            if isinstance(layer, keras.layers.BatchNormalization) or not layer.name.startswith("stage4"):
                assert not changed, w.path  # BatchNorm statistics and lower layers untouched
            elif should_change:
                assert changed, w.path
    assert history.stage == ["stage1", "stage1"] and len(history2.history["loss"]) == 1


def test_merged_history_has_every_epoch_with_its_stage():
    model = _model()
    history = zoo.fit_staged(model, _data(), verbose=0, stages=[
        zoo.Stage(epochs=1, trainable="heads", name="heads"),
        {"epochs": 2, "trainable": "all", "learning_rate": 1e-4, "schedule": "warmup_cosine"},
    ])
    frame = history.to_dataframe()
    assert frame["epoch"].tolist() == [1, 2, 3]
    assert frame["stage"].tolist() == ["heads", "stage2", "stage2"]
    assert np.isfinite(frame["loss"]).all()


def test_warmup_cosine_schedule_shape():
    from zoo.training.optimizers import learning_rate

    schedule = learning_rate(zoo.Stage(epochs=4, learning_rate=0.1, schedule="warmup_cosine"), steps_per_epoch=10)
    rates = [float(schedule(step)) for step in (0, 5, 10, 25, 40)]
    assert rates[0] == 0.0 and rates[1] == pytest.approx(0.05) and rates[2] == pytest.approx(0.1)
    assert rates[2] > rates[3] > rates[4] >= 0.0


def test_bad_stage_arguments_are_named():
    model = _model()
    with pytest.raises(ValueError, match="Received: trainable='some'"):
        zoo.set_trainable(model, "some")
    with pytest.raises(ValueError, match="Received: optimizer='rmsprop'"):
        zoo.fit_staged(model, _data(), stages=[zoo.Stage(epochs=1, optimizer="rmsprop")], verbose=0)


def test_trainable_summary_counts_parameters():
    model = _model()
    zoo.freeze(model)
    summary = zoo.trainable_summary(model).set_index("layer")
    backbone = model.get_layer("compact_resnet")
    assert summary.loc["compact_resnet", "trainable"] == 0
    assert summary.loc["compact_resnet", "frozen"] == backbone.count_params()
    assert summary.loc["tags_logits", "trainable"] == model.get_layer("tags_logits").count_params()


def _image_folder(tmp_path, n=10):
    from PIL import Image
    import pandas as pd

    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    tags = [tuple(t) for t in (["a"], ["b"], ["a", "c"], ["c"], ["b", "c"])] * (n // 5)
    return pd.DataFrame({"filename": [str(tmp_path / f"{i}.png") for i in range(n)], "tags": tags})


def _train_heads(df, cache, seed=0, architecture="multilabel_small"):
    keras.utils.set_random_seed(seed)
    heads = [zoo.Head("tags", ["a", "b", "c"], dropout=0.3)]
    model = zoo.build(architecture, heads=heads, input_shape=(32, 32, 3), freeze_backbone=True, dropout=0.2,
                      weights=None)
    train = zoo.data.make_dataset(df, heads, image_size=(32, 32), batch_size=4, seed=seed)
    history = zoo.fit_staged(model, train, stages=[zoo.Stage(epochs=3, trainable="heads", learning_rate=1e-2)],
                             cache_features=cache, verbose=0)
    return model, history


# multilabel_efficientnet_lite0 pools several stages of its trunk: the cache keeps their concatenation
@pytest.mark.parametrize("architecture", ["multilabel_small", "multilabel_efficientnet_lite0"])
def test_cached_feature_stage_gives_the_same_weights_as_the_slow_way(tmp_path, architecture):
    df = _image_folder(tmp_path)
    slow, slow_history = _train_heads(df, cache=False, architecture=architecture)
    keras.backend.clear_session(free_memory=False)
    fast, fast_history = _train_heads(df, cache=True, architecture=architecture)
    if architecture != "multilabel_small":
        extractor, _ = zoo.training.feature_cache.heads_model(fast)
        assert [tuple(o.shape) for o in extractor.outputs] == [tuple(fast.get_layer("pool").output.shape)]
    # the lower stages' features of a random trunk are large: float rounding moves the weights a little more
    atol = 1e-4 if architecture == "multilabel_small" else 3e-3
    for a, b in zip(slow.weights, fast.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=atol, err_msg=a.path)
    np.testing.assert_allclose(slow_history.history["loss"], fast_history.history["loss"], rtol=1e-3)
    assert not np.allclose(slow.get_layer("tags_logits").kernel.numpy(), 0)


def test_feature_cache_is_used_only_when_safe(tmp_path):
    from zoo.training.feature_cache import can_cache_features

    df = _image_folder(tmp_path)
    heads = [zoo.Head("tags", ["a", "b", "c"])]
    model = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3), freeze_backbone=True)
    plain = zoo.data.make_dataset(df, heads, image_size=(32, 32))
    augmented = zoo.data.make_dataset(df, heads, image_size=(32, 32), augment=True)
    assert can_cache_features(model, plain)
    assert not can_cache_features(model, augmented)
    assert not can_cache_features(model, plain.map(lambda images, targets: (images, targets)))
    zoo.unfreeze_from(model, "stage4")
    assert not can_cache_features(model, plain)


def _heads_stage(train, validation=None):
    heads = [zoo.Head("tags", ["a", "b", "c"])]
    model = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3), freeze_backbone=True, weights=None)
    return zoo.fit_staged(model, train, validation, stages=[zoo.Stage(epochs=1, trainable="heads", name="heads")],
                          verbose=0)


def test_fit_staged_caches_features_of_the_image_dataset(tmp_path, caplog, monkeypatch):
    from zoo.training import finetune

    df = _image_folder(tmp_path)
    heads = [zoo.Head("tags", ["a", "b", "c"])]
    train = zoo.data.make_dataset(df, heads, image_size=(32, 32), batch_size=4)
    validation = zoo.data.make_dataset(df, heads, image_size=(32, 32), batch_size=4, shuffle=False)
    extracted = []
    original = finetune.cached_features
    monkeypatch.setattr(finetune, "cached_features", lambda *a: extracted.append(a[1]) or original(*a))
    with caplog.at_level("WARNING"):
        history = _heads_stage(train, validation)
    assert history.feature_cache == {"heads": "used"}
    assert extracted == [train, validation]
    assert "cached backbone features" not in caplog.text


def test_after_a_user_map_fit_staged_says_the_feature_cache_is_off(tmp_path, caplog):
    df = _image_folder(tmp_path)
    heads = [zoo.Head("tags", ["a", "b", "c"])]
    train = zoo.data.make_dataset(df, heads, image_size=(32, 32), batch_size=4)
    mapped = train.map(lambda images, targets: (images, {"tags": targets["tags"] * 0.9 + 0.05}))  # label smoothing
    with caplog.at_level("WARNING", logger="zoo.training.finetune"):
        history = _heads_stage(mapped)
    reason = history.feature_cache["heads"]
    assert reason.startswith("the training data is a plain tf.data.Dataset, not the ImageDataset")
    assert "Stage 1 (heads) does not train the heads on cached backbone features" in caplog.text
    assert reason in caplog.text and np.isfinite(history.history["loss"]).all()
    rescaled = train.derive(mapped)  # same files, but no replay of the function
    assert "has no replay plan" in _heads_stage(rescaled).feature_cache["heads"]
