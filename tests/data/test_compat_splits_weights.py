import keras
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.utils.class_weight import compute_class_weight

import zoo
from zoo.data import (class_weights, flow_from_dataframe, label_counts, make_garments, positive_weights,
                      sample_weights, split_outputs, train_validation_split)


@pytest.fixture
def table(tmp_path):
    """Eight images; `class` holds one label, `tags` a list, `score` a number."""
    for i in range(8):
        Image.fromarray(np.full((10, 10, 3), 30 * i, np.uint8)).save(tmp_path / f"{i}.png")
    df = pd.DataFrame({
        "filename": [f"{i}.png" for i in range(8)],
        "class": ["cat", "dog"] * 4,
        "tags": [["a"], ["b"], ["a", "b"], ["c"], ["a"], ["b"], ["c"], ["a", "c"]],
        "score": np.arange(8, dtype=float),
    })
    return tmp_path, df


def test_flow_from_dataframe_categorical_and_rescale(table):
    directory, df = table
    dataset = flow_from_dataframe(df, directory=directory, y_col="class", target_size=(8, 8), batch_size=8,
                                  shuffle=False, rescale=1 / 255)
    images, y = next(iter(dataset))
    assert images.shape == (8, 8, 8, 3) and float(images.numpy().max()) <= 1.0
    np.testing.assert_allclose(images.numpy()[:, 0, 0, 0], np.arange(8) * 30 / 255, atol=0.01)
    np.testing.assert_array_equal(y.numpy(), np.eye(2)[[0, 1] * 4])


def test_flow_from_dataframe_multilabel_lists_and_sparse(table):
    directory, df = table
    _, y = next(iter(flow_from_dataframe(df, directory=directory, y_col="tags", target_size=(8, 8),
                                         batch_size=8, shuffle=False)))
    np.testing.assert_array_equal(y.numpy()[[2, 7]], [[1, 1, 0], [1, 0, 1]])
    _, sparse = next(iter(flow_from_dataframe(df, directory=directory, y_col="class", class_mode="sparse",
                                              target_size=(8, 8), batch_size=8, shuffle=False)))
    assert sparse.numpy().tolist() == [0, 1] * 4


def test_flow_from_dataframe_validation_split_is_complementary(table):
    directory, df = table
    kwargs = dict(directory=directory, y_col="class", target_size=(8, 8), batch_size=8, seed=5,
                  validation_split=0.25, shuffle=False)
    training = flow_from_dataframe(df, subset="training", **kwargs)
    validation = flow_from_dataframe(df, subset="validation", **kwargs)
    assert len(training.files) == 6 and len(validation.files) == 2
    assert not set(training.files) & set(validation.files)
    assert training.replay is None  # its batches are rescaled: the feature cache cannot replay them
    with pytest.raises(ValueError, match="Received: subset='train'"):
        flow_from_dataframe(df, subset="train", **{**kwargs})


def test_flow_from_dataframe_raw_and_multi_output(table):
    directory, df = table
    _, y = next(iter(flow_from_dataframe(df, directory=directory, y_col="score", class_mode="raw",
                                         target_size=(8, 8), batch_size=8, shuffle=False)))
    np.testing.assert_array_equal(y.numpy(), np.arange(8))
    images, y = next(iter(flow_from_dataframe(df, directory=directory, y_col=["score"],
                                              class_mode="multi_output", target_size=(8, 8), batch_size=8,
                                              shuffle=True, seed=1)))
    # Shuffled images stay paired with their targets.
    np.testing.assert_allclose(images.numpy()[:, 0, 0, 0] / 30, y["score"].numpy(), atol=0.1)
    images = next(iter(flow_from_dataframe(df, directory=directory, class_mode=None, target_size=(8, 8),
                                           batch_size=8, shuffle=False)))
    assert images.shape == (8, 8, 8, 3)


HEADS = [zoo.Head("color", ["r", "g"], kind="multiclass"), zoo.Head("tags", ["a", "b", "c"])]


def test_split_outputs_of_a_generator_and_a_pydataset():
    x = np.zeros((2, 4), "float32")
    y = np.array([[1, 0, 0, 1, 1], [0, 1, 1, 0, 0]], "float32")
    (x_out, parts), = list(split_outputs(iter([(x, y)]), HEADS))
    np.testing.assert_array_equal(parts["color"], [[1, 0], [0, 1]])
    np.testing.assert_array_equal(parts["tags"], [[0, 1, 1], [1, 0, 0]])

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, index):
            return x, y, np.ones(2, "float32")

    wrapped = split_outputs(Batches(), HEADS)
    assert len(wrapped) == 3
    _, parts, sample_weight = wrapped[0]
    assert set(parts) == {"color", "tags"} and sample_weight.shape == (2,)
    with pytest.raises(ValueError, match=r"shape \(batch, 5\).*Received: shape \(2, 4\)"):
        next(split_outputs([(x, y[:, :4])], HEADS))


def test_split_outputs_feeds_fit():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, {"color": keras.layers.Dense(2, activation="softmax", name="color")(inputs),
                                 "tags": keras.layers.Dense(3, activation="sigmoid", name="tags")(inputs)})
    model.compile("adam", {"color": "categorical_crossentropy", "tags": "binary_crossentropy"})
    rng = np.random.default_rng(0)

    def batches():
        while True:
            yield rng.normal(size=(4, 4)).astype("float32"), np.tile([1, 0, 1, 0, 1], (4, 1)).astype("float32")

    history = model.fit(split_outputs(batches(), HEADS), steps_per_epoch=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def _scenes(n=200, seed=0):
    rng = np.random.default_rng(seed)
    frequency = np.array([0.5, 0.2, 0.05])
    tags = [tuple(np.array(["a", "b", "c"])[rng.random(3) < frequency]) or ("a",) for _ in range(n)]
    return pd.DataFrame({"filename": [f"{i}.jpg" for i in range(n)], "tags": tags})


def test_stratified_split_balances_rare_labels_and_is_reproducible():
    df = _scenes()
    heads = [zoo.Head("tags", ["a", "b", "c"])]
    train, validation = train_validation_split(df, heads, 0.2, seed=3)
    # Iterative stratification trades exact sizes for balanced labels.
    assert abs(len(validation) - 40) <= 5 and len(train) + len(validation) == 200
    assert not set(train.index) & set(validation.index)
    counts = label_counts({"train": train, "validation": validation}, heads)
    rare = counts.loc[[("tags", "b"), ("tags", "c")]]  # iterative stratification serves rare labels first
    np.testing.assert_allclose(rare["train_fraction"], rare["validation_fraction"], atol=0.02)
    share = rare["validation"] / (rare["train"] + rare["validation"])
    np.testing.assert_allclose(share, len(validation) / 200, atol=0.05)
    again, _ = train_validation_split(df, heads, 0.2, seed=3)
    assert again.index.tolist() == train.index.tolist()
    random_train, _ = train_validation_split(df, heads, 0.2, stratify=False, seed=3)
    assert len(random_train) == 160
    with pytest.raises(ValueError, match="Received: validation_fraction=1.5"):
        train_validation_split(df, heads, 1.5)


def test_imbalance_weights_against_hand_and_sklearn():
    multi_hot = np.array([[1, 0], [1, 0], [1, 1], [0, 0]])
    np.testing.assert_allclose(positive_weights(multi_hot), [1 / 3, 3.0], rtol=1e-6)
    one_hot = np.eye(3)[[0, 0, 0, 1, 2, 2]]
    np.testing.assert_allclose(
        class_weights(one_hot), compute_class_weight("balanced", classes=np.arange(3), y=[0, 0, 0, 1, 2, 2]),
        rtol=1e-6)
    weights = sample_weights({"kind": one_hot, "tags": multi_hot}, {"kind": "multiclass", "tags": "multilabel"})
    assert weights["kind"][3] > weights["kind"][0]  # the rare class weighs more
    np.testing.assert_allclose(weights["kind"].mean(), 1.0, rtol=1e-6)
    assert weights["tags"][2] > weights["tags"][0]  # a sample with the rare label weighs more


def test_synthetic_garments_leave_pairs_out(tmp_path):
    train, held_out = make_garments(tmp_path, images_per_pair=2, held_out_images=1, image_size=(24, 24))
    pairs = {(c[0], t[0]) for c, t in zip(train["color"], train["type"])}
    assert len(train) == 14 and len(pairs) == 7
    assert {(c[0], t[0]) for c, t in zip(held_out["color"], held_out["type"])} == {("black", "dress"), ("red", "jeans")}
    again, _ = make_garments(tmp_path / "again", images_per_pair=2, held_out_images=1, image_size=(24, 24))
    first = np.asarray(Image.open(train["filename"][0]))
    assert first.shape == (24, 24, 3)
    np.testing.assert_array_equal(first, np.asarray(Image.open(again["filename"][0])))
