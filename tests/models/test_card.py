"""The typed model card: JSON round trips, save and load, the format-1 dict, errors naming the field."""

import dataclasses
import json
import zipfile

import h5py
import keras
import pytest

import zoo
from zoo.models.card import Best, ModelCard, Pretrained, card_of, set_card
from zoo.models.card import heads_of, update_head

HEADS = [zoo.Head("tags", ["a", "b", "c"], threshold=[0.2, 0.5, 0.8]),
         zoo.Head("day", ["night", "day"], kind="binary")]

# A card as the format-1 code wrote it for `_tagged_model()` (plan and best added by training).
V1 = json.loads("""{"format": 1, "architecture": "multilabel_small", "input_shape": [32, 32, 3],
 "backbone": "compact_resnet", "branches": {"compact_resnet": "compact_resnet"}, "feature_layers": ["pool"],
 "pretrained": {"compact_resnet": {"source": "random", "file": null}},
 "heads": {"tags": {"name": "tags", "classes": ["a", "b", "c"], "kind": "multilabel", "hidden_units": null,
                    "dropout": 0.0, "loss_weight": 1.0, "threshold": [0.2, 0.5, 0.8]},
           "day": {"name": "day", "classes": ["night", "day"], "kind": "binary", "hidden_units": null,
                   "dropout": 0.0, "loss_weight": 1.0, "threshold": 0.5}},
 "best": {"val_score": 0.9, "epoch": 5}, "plan": {"image_size": [32, 32], "batch_size": 16}}""")

V1_CARD = ModelCard(
    heads=HEADS, input_shape=(32, 32, 3), architecture="multilabel_small", backbone="compact_resnet",
    branches={"compact_resnet": "compact_resnet"}, feature_layers=("pool",),
    pretrained={"compact_resnet": Pretrained("random")}, plan={"image_size": [32, 32], "batch_size": 16},
    best=Best("val_score", 0.9, 5),
)


def _tagged_model():
    return zoo.build("multilabel_small", heads=HEADS, input_shape=(32, 32, 3), weights=None, compile=False)


def test_card_json_round_trip_keeps_every_field():
    card = dataclasses.replace(V1_CARD, backbone={"tags": "compact_resnet"},
                               pretrained={"compact_resnet": Pretrained("file", "/w/compact.weights.h5")})
    again = ModelCard.from_json(card.to_json())
    assert again == card
    assert again.heads[0].threshold == (0.2, 0.5, 0.8) and again.heads[1].kind == "binary"
    assert again.pretrained["compact_resnet"].file == "/w/compact.weights.h5"
    assert again.best == Best("val_score", 0.9, 5) and again.input_shape == (32, 32, 3)
    assert ModelCard.from_dict(card.to_dict()) == card
    assert json.loads(card.to_json(indent=1)) == card.to_dict()


def test_a_format_1_dict_reads_into_the_card_and_back():
    assert ModelCard.from_dict(V1) == V1_CARD
    assert V1_CARD.to_dict() == V1
    assert list(V1_CARD.to_dict())[:8] == ["format", "architecture", "input_shape", "backbone", "branches",
                                           "feature_layers", "pretrained", "heads"]


def test_builders_write_the_card():
    model = _tagged_model()
    card = card_of(model)
    assert card == dataclasses.replace(V1_CARD, plan=None, best=None)
    assert zoo.model_info(model) == {k: v for k, v in V1.items() if k not in ("plan", "best")}
    assert heads_of(model) == HEADS


def test_a_branch_per_head_card():
    heads = {"color": ["red", "blue"], "type": ["shirt", "dress"]}
    card = card_of(zoo.build("color_type", heads=heads, input_shape=(32, 32, 3), weights=None, compile=False))
    assert card.backbone == {"color": "small_cnn", "type": "vgg16"}
    assert card.branches == {"color_small_cnn": "small_cnn", "type_vgg16": "vgg16"}
    assert card.feature_layers == ("color_pool", "type_pool")
    assert card.pretrained == {"color_small_cnn": Pretrained("random"), "type_vgg16": Pretrained("random")}
    assert [h.kind for h in card.heads] == ["multiclass", "multiclass"]


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_saved_and_loaded_models_have_an_equal_card(tmp_path, suffix):
    model = _tagged_model()
    set_card(model, dataclasses.replace(card_of(model), plan={"image_size": [32, 32], "batch_size": 16},
                                        best=Best("val_score", 0.9, 5)))
    zoo.save_model(model, tmp_path / f"m{suffix}")
    loaded = zoo.load_model(tmp_path / f"m{suffix}", compile=False)
    assert card_of(loaded) == card_of(model) == V1_CARD
    assert zoo.io.saving.read_card(tmp_path / f"m{suffix}") == V1_CARD


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_files_in_the_format_1_layout_load(tmp_path, suffix):
    model = _tagged_model()
    set_card(model, V1_CARD)
    path = tmp_path / f"v1{suffix}"
    if suffix == ".keras":
        keras.Model(model.inputs, model.output).save(path)  # earlier zoo versions saved a plain Functional
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("zoo_metadata.json", json.dumps(V1))
    else:
        zoo.io._keras2.save_h5(keras.Model(model.inputs, model.output), path)
        with h5py.File(path, "r+") as f:
            f.attrs["zoo_metadata"] = json.dumps(V1)
    loaded = zoo.load_model(path, compile=False)
    assert card_of(loaded) == V1_CARD
    assert zoo.model_info(loaded) == V1
    assert zoo.io.saving.read_metadata(path) == V1


def test_plain_keras_models_get_an_inferred_card():
    inputs = keras.Input((8,))
    model = keras.Model(inputs, {"kind": keras.layers.Dense(3, activation="softmax", name="kind")(inputs),
                                 "flag": keras.layers.Dense(1, activation="sigmoid", name="flag")(inputs)})
    card = card_of(model)
    assert [(h.name, h.kind, h.classes) for h in card.heads] == [  # Keras orders dict outputs by name
        ("flag", "binary", ("0",)), ("kind", "multiclass", ("0", "1", "2"))]
    assert card.input_shape == (8,) and card.architecture is None and card.branches == {}
    assert card_of(model, infer=False) is None


def test_a_sequential_model_gets_a_card_named_after_its_last_layer_and_takes_thresholds():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="sigmoid", name="tags")])
    assert zoo.model_info(model)["heads"]["tags"]["classes"] == ["0", "1", "2"]
    update_head(model, "tags", threshold=[0.2, 0.5, 0.7])
    assert card_of(model).head("tags").threshold == (0.2, 0.5, 0.7)


def test_head_changes_go_through_the_card():
    model = _tagged_model()
    update_head(model, "tags", threshold=[0.1, 0.2, 0.3])
    assert card_of(model).head("tags").threshold == (0.1, 0.2, 0.3)
    assert card_of(model).head("day") == HEADS[1]
    with pytest.raises(ValueError, match=r"no head 'size'; heads: tags, day\. Received: head='size'"):
        update_head(model, "size", threshold=0.4)
    card = card_of(model)
    card.branches["other"] = "vgg16"  # a copy: the model's card is unchanged
    assert card_of(model).branches == {"compact_resnet": "compact_resnet"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        card.architecture = "other"


def test_the_dict_form_reads_and_writes_the_same_card():
    model = _tagged_model()
    set_card(model, ModelCard.from_dict(V1))
    assert card_of(model) == V1_CARD and zoo.model_info(model) == V1


@pytest.mark.parametrize("change, message", [
    ({"input_shape": "abc"}, "`input_shape` must be a list of positive integers. Received: input_shape='abc'"),
    ({"input_shape": [32, 0, 3]}, r"Received: input_shape=\[32, 0, 3\]"),
    ({"colour": "red"}, "Unknown model card field `colour`; known fields: heads, .*Received: colour='red'"),
    ({"architecture": 7}, "`architecture` must be a name or None. Received: architecture=7"),
    ({"branches": ["pool"]}, r"`branches` must be a dict of names \{str: str\}. Received: branches=\['pool'\]"),
    ({"feature_layers": "pool"}, "`feature_layers` must be a list of layer names. Received: feature_layers='pool'"),
    ({"heads": ["tags"]}, r"`heads` must be a dict \{name: head\}. Received: heads=\['tags'\]"),
    ({"heads": {"tags": {"classes": ["a"], "shade": 1}}}, "Unknown model card field `heads.tags.shade`.*shade=1"),
    ({"heads": {"tags": {"classes": ["a"], "kind": "many"}}}, "`heads.tags` is not a valid head.*kind='many'"),
    ({"pretrained": {"compact_resnet": {"source": "web"}}}, "`pretrained.source` must be one of random, "
                                                            "imagenet, file. Received: pretrained.source='web'"),
    ({"best": {"val_score": 0.9}}, "`best` must be .*Received: best={'val_score': 0.9}"),
    ({"format": 2}, "`format` must be a version from 1 to 1 .*Received: format=2"),
])
def test_bad_fields_are_named_with_what_was_received(change, message):
    with pytest.raises(ValueError, match=message):
        ModelCard.from_dict({**V1, **change})


@pytest.mark.parametrize("field", ["heads", "input_shape"])
def test_missing_required_fields_are_named(field):
    data = {k: v for k, v in V1.items() if k != field}
    with pytest.raises(ValueError, match=rf"`{field}` is required\. Received: fields \["):
        ModelCard.from_dict(data)


def test_constructed_and_replaced_cards_are_checked_too():
    with pytest.raises(ValueError, match="Received: input_shape='abc'"):
        dataclasses.replace(V1_CARD, input_shape="abc")
    with pytest.raises(ValueError, match=r"unique names. Received: heads=\['tags', 'tags'\]"):
        ModelCard(heads=[HEADS[0], HEADS[0]], input_shape=(32, 32, 3))
    with pytest.raises(ValueError, match="`plan` must be a JSON-ready dict or None"):
        dataclasses.replace(V1_CARD, plan={"sizes": {1, 2}})
    with pytest.raises(ValueError, match="must be a zoo ModelCard. Received: card={'format': 1"):
        set_card(_tagged_model(), {"format": 1})
    assert dataclasses.replace(V1_CARD, plan={"image_size": (32, 32)}).plan == {"image_size": [32, 32]}
