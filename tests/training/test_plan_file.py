"""`plan.json`: the plan's stages are `zoo.Stage` objects in Python and dicts of their fields in the file."""

import json

import pytest

import zoo
from zoo.training import heads_first
from zoo.training.plan import Plan, choose_plan

# A plan.json as `zoo train` wrote it before the plan held `Stage` objects (stages as dicts, `name` first).
WRITTEN = json.loads("""{
  "image_size": [64, 80], "batch_size": 32, "augment": true,
  "stages": [
    {"name": "heads", "epochs": 100, "trainable": "auto", "learning_rate": 0.001, "optimizer": "adamw",
     "schedule": "cosine", "warmup_epochs": 0},
    {"name": "fine-tune", "epochs": 4, "trainable": {"scene": "block7"}, "learning_rate": 0.0001,
     "optimizer": "adamw", "schedule": "cosine", "warmup_epochs": 0}
  ],
  "budget_seconds": 600.0, "estimated_seconds": 250.5,
  "measured": {"train_images": 1600, "median_size": [384, 256], "model": "multilabel_efficientnet_lite0"},
  "stop_after": null, "cached_heads": true, "patience": 2, "colour_heads": ["scene"]
}""")


def test_a_plan_json_of_dict_stages_loads_into_stage_objects_and_writes_the_same_json(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(WRITTEN, indent=2))
    plan = Plan.load(path)
    assert all(isinstance(stage, zoo.Stage) for stage in plan.stages)
    heads, fine = plan.stages
    assert (heads.name, heads.epochs, heads.optimizer, heads.loss_weights) == ("heads", 100, "adamw", None)
    assert (fine.trainable, fine.learning_rate) == ({"scene": "block7"}, 0.0001)
    assert plan.epochs == 104 and plan.image_size == (64, 80)
    assert plan.to_dict() == {**WRITTEN, "stopped_by": None}  # a field added since: what stopped the run early
    assert list(plan.to_dict()["stages"][0]) == list(WRITTEN["stages"][0])  # the same key order: name first
    plan.save(tmp_path / "again.json")
    assert json.loads((tmp_path / "again.json").read_text()) == {**WRITTEN, "stopped_by": None}
    assert "stage 2 (fine-tune): 4 epochs (fewer when the validation score has not improved for 2), " \
           "trainable={'scene': 'block7'}, adamw lr 0.0001, cosine" in plan.describe()


@pytest.mark.parametrize("stopped_by, why", [("validation", "the validation score had stopped improving"),
                                              ("budget", "another epoch would have run past the budget"),
                                              (None, "another epoch would have run past the budget")])
def test_a_recorded_stop_is_described_in_the_epochs_it_counts(stopped_by, why):
    cached = Plan.from_dict({**WRITTEN, "stop_after": 3, "stopped_by": stopped_by})
    assert f"stops after epoch 3 of 4 after the heads' stage: {why} there (plan.json records the stop)" \
        in cached.describe()
    on_images = heads_first.on_images(cached)  # a plan.json written before `stopped_by` was: a budget stop
    assert f"stops after epoch 3 of 8: {why} there (plan.json records the stop)" in on_images.describe()


def test_a_user_stage_with_loss_weights_round_trips():
    written = {**WRITTEN, "stopped_by": None, "stages": [{"epochs": 3, "trainable": {"color": "block5"}, "learning_rate": 1e-05,
                                      "optimizer": "adam", "schedule": None, "warmup_epochs": 1,
                                      "loss_weights": {"color": 0.1, "type": 1.0}, "name": "stage1"}]}
    plan = Plan.from_dict(written)
    assert plan.stages == [zoo.Stage(epochs=3, trainable={"color": "block5"}, learning_rate=1e-05,
                                     loss_weights={"color": 0.1, "type": 1.0}, name="stage1")]
    assert plan.to_dict() == written
    assert Plan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


def test_chosen_plans_hold_named_stages_and_splitting_leaves_them_alone():
    plan = choose_plan(1600, 400, (384, 256), 224, 4e-7, 1e-3, {"scene": "block7"}, budget_seconds=600)
    assert [type(s) for s in plan.stages] == [zoo.Stage, zoo.Stage] and [s.name for s in plan.stages] == [
        "heads", "fine-tune"]
    on_images = heads_first.on_images(plan)
    assert [s.epochs for s in on_images.stages] == [plan.stages[1].epochs] * 2
    assert plan.stages[0].epochs == 100  # the plan's own stages are not changed
    assert Plan.from_dict(plan.to_dict()) == plan


def test_a_stage_field_the_plan_does_not_know_is_refused(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({**WRITTEN, "stages": [{"name": "heads", "epochs": 2, "lr": 0.001}]}))
    with pytest.raises(ValueError, match=r"plan.json is not a zoo training plan: .*'lr'"):
        Plan.load(path)
