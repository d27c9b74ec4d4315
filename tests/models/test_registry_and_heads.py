import numpy as np
import pandas as pd
import pytest

import zoo


def test_required_models_and_backbones_are_registered():
    assert {"color_type", "multilabel_resnet50", "multilabel_vgg16", "multilabel_mobilenet_v2",
            "multilabel_small"} <= set(zoo.list_models())
    assert {"vgg16", "resnet50", "mobilenet_v2", "efficientnet_b0", "small_cnn",
            "compact_resnet"} <= set(zoo.list_backbones())
    assert zoo.list_models("multilabel_vgg*") == ["multilabel_vgg16"]


def test_unknown_model_lists_valid_names():
    with pytest.raises(ValueError, match=r"Valid models: color_type, .*Received: model='resnet9'"):
        zoo.build("resnet9", heads={"a": ["x", "y"]})


def test_unknown_backbone_lists_valid_names():
    with pytest.raises(ValueError, match=r"Valid backbones: compact_resnet.*vgg16"):
        zoo.models.backbones.build_backbone("alexnet", (32, 32, 3))


def test_unknown_kind_names_the_value():
    with pytest.raises(ValueError, match=r"multilabel, multiclass, binary\. Received: kind='multi'"):
        zoo.Head("tags", ["a", "b"], kind="multi")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(name="my tags", classes=["a"]), "identifier"),
        (dict(name="tags", classes=[]), "non-empty list"),
        (dict(name="tags", classes="ab"), "non-empty list"),
        (dict(name="tags", classes=5), "non-empty list"),
        (dict(name="tags", classes=["a", "a"]), "repeated"),
        (dict(name="tags", classes=["a"], kind="multiclass"), "at least 2"),
        (dict(name="tags", classes=["a", "b", "c"], kind="binary"), "1 class"),
        (dict(name="tags", classes=["a", "b"], threshold=[0.5]), "2 outputs but 1 thresholds"),
    ],
)
def test_bad_heads_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        zoo.Head(**kwargs)


def test_head_classes_from_arrays_and_indexes():
    for classes in (np.array(["sea", "sky"]), pd.Index(["sea", "sky"]), ("sea", "sky")):
        assert zoo.Head("tags", classes).classes == ("sea", "sky")


@pytest.mark.parametrize(
    "kind, activation, loss, units",
    [
        ("multilabel", "sigmoid", "BinaryCrossentropy", 3),
        ("multiclass", "softmax", "CategoricalCrossentropy", 3),
        ("binary", "sigmoid", "BinaryCrossentropy", 1),
    ],
)
def test_head_kind_sets_activation_loss_and_units(kind, activation, loss, units):
    classes = ["a", "b", "c"] if kind != "binary" else ["no", "yes"]
    head = zoo.Head("out", classes, kind=kind)
    assert head.activation == activation
    assert type(head.loss()).__name__ == loss
    assert head.units == units


def test_head_dict_round_trip():
    head = zoo.Head("tags", ["a", "b"], threshold=[0.3, 0.7], hidden_units=16, dropout=0.2)
    assert zoo.Head.from_dict(head.to_dict()) == head
