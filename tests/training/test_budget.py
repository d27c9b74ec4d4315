"""A planned `zoo train` ends within its budget; a repeated plan stops where its run did."""

import io
import os
import signal
import subprocess
import sys
import textwrap
import types

import pandas as pd
import pytest

import zoo
from zoo.cli import main
from zoo.data.synthetic import make_garments
from zoo.training.budget import BudgetStop, record_stop, stop_for_run
from zoo.training.plan import RESERVE, Plan
from zoo.training.config import RunConfig
from zoo.training.stage import Stage
from zoo.cli.run_config import CommandReporter


def _epochs(stop, seconds):
    """Runs `stop` over epochs taking `seconds` each of a fake clock; returns the epochs that ran."""
    now = [0.0]
    stop.clock = lambda: now[0]
    stop.set_model(types.SimpleNamespace(stop_training=False))
    ran = 0
    for epoch, length in enumerate(seconds):
        stop.on_epoch_begin(epoch)
        now[0] += length
        stop.on_epoch_end(epoch)
        ran += 1
        if stop.model.stop_training:
            break
    return ran


def test_the_first_epoch_of_a_process_does_not_set_the_pace():
    # A 30-second first epoch (it builds the step), then 5-second ones: after 7 epochs (60 s) an eighth would
    # end at 65 s, past 62; paced by the first epoch, the run would have stopped after the second (35 + 30 s).
    stop = BudgetStop(total_epochs=20, deadline=62.0)
    assert _epochs(stop, [30.0] + [5.0] * 19) == 7 and stop.stopped_after == 7


def test_the_longest_recent_epoch_sets_the_pace():
    stop = BudgetStop(total_epochs=20, deadline=45.0)
    # After five epochs (37 s) the next is taken to be 12 s, the longest of the last three after the first: 49 > 45.
    assert _epochs(stop, [10.0, 5.0, 12.0, 5.0, 5.0, 5.0, 5.0, 5.0]) == 5 and stop.stopped_after == 5


def test_the_planned_end_is_not_a_stop_and_no_deadline_never_stops():
    ending = BudgetStop(total_epochs=3, deadline=30.0)  # a fourth epoch would end at 40 s, but none is planned
    assert _epochs(ending, [10.0, 10.0, 10.0]) == 3 and ending.stopped_after is None
    unbounded = BudgetStop(total_epochs=5)
    assert _epochs(unbounded, [100.0] * 5) == 5 and unbounded.stopped_after is None


def test_a_repeated_plan_stops_after_the_same_epoch_whatever_the_time():
    stop = BudgetStop(total_epochs=10, deadline=1.0, stop_after=4)
    assert _epochs(stop, [100.0] * 10) == 4 and stop.stopped_after == 4


def _config(**given):
    return RunConfig(**given)


def _plan(**fields):
    measured = {"seconds_before_training": 40.0, "clock": "processor"}
    return Plan((32, 32), 16, True, [Stage(name="train", epochs=6)], 600.0, 500.0, measured, **fields)


def test_only_a_budget_chosen_plan_gets_a_deadline():
    stop = stop_for_run(_config(), _plan(), None, False, began=0.0)
    assert stop.deadline == pytest.approx(600.0 - 560.0 * RESERVE) and stop.stop_after is None
    for config, resumed, cluster in [(_config(epochs=6), None, False), (_config(stages=["epochs=6"]), None, False),
                                     (_config(stages=[Stage(epochs=6)]), None, False),
                                     (_config(plan="plan.json"), None, False), (_config(), {"epoch": 2}, False),
                                     (_config(), None, True)]:
        assert stop_for_run(config, _plan(), resumed, cluster, began=0.0) is None
    repeat = stop_for_run(_config(plan="plan.json"), _plan(stop_after=3), None, False, began=0.0)
    assert repeat.stop_after == 3 and repeat.deadline is None


def test_a_stop_is_written_into_the_plan_and_said(tmp_path, capsys):
    plan, path = _plan(), tmp_path / "plan.json"
    stop = BudgetStop(total_epochs=6)
    stop.stopped_after = 4
    record_stop(stop, plan, path)
    assert Plan.load(path).stop_after == 4 == plan.stop_after
    out = capsys.readouterr().out
    assert "Stopped after epoch 4 of 6: another would have run past the 10-minute budget" in out
    assert out.rstrip().endswith("so plan repeats it")  # a library run names the setting, not the flag
    lines, again = [], _plan()
    record_stop(stop, again, None, CommandReporter(lines.append))
    assert again.stop_after == 4 and lines[0].endswith("plan.json records the stop, so --plan repeats it")


def test_zoo_train_repeats_a_plan_that_stopped_early(tmp_path):
    make_garments(tmp_path / "garments", images_per_pair=4, image_size=(32, 32), held_out_images=0, seed=0)
    plan = Plan((32, 32), 16, False, [Stage(name="train", epochs=3, trainable="auto", learning_rate=1e-3,
                                            optimizer="adamw", schedule="cosine", warmup_epochs=0)],
                600.0, 60.0, stop_after=2)
    plan.save(tmp_path / "plan.json")
    output = tmp_path / "run"
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdout", printed)
        status = main(["train", "--folders", str(tmp_path / "garments" / "train"), "--separator", "_",
                       "--heads", "color", "type", "--plan", str(tmp_path / "plan.json"), "--no-cache",
                       "--output", str(output)])
    assert status == 0, printed.getvalue()[-2000:]
    assert "stops after epoch 2 of 3" in printed.getvalue()
    assert pd.read_csv(output / "history.csv")["epoch"].tolist() == [1, 2]
    assert Plan.load(output / "plan.json") == plan
    assert zoo.model_info(zoo.load_model(output / "model.keras"))["plan"]["stop_after"] == 2
    assert not (output / "backup").exists()


KILL_BEFORE_REPORT = textwrap.dedent("""
    import os, signal, sys
    import keras
    from zoo.cli import reports
    from zoo.training import heads_first
    from zoo.training.run import MONITOR
    # No epoch beats the first by 10, so validation ends the run after its second epoch.
    heads_first.early_stop = lambda plan: keras.callbacks.EarlyStopping(monitor=MONITOR, mode="max", patience=1,
                                                                        min_delta=10.0)
    def die(*args, **kwargs):  # training ended; the report and the model are not written yet
        os.kill(os.getpid(), signal.SIGKILL)
    reports.finish_run = die
    from zoo.cli import main
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.slow
def test_a_run_killed_after_an_early_stop_resumes_at_the_stop(garments, tmp_path):
    plan = Plan((32, 32), 16, False, [Stage(name="train", epochs=5, trainable="auto", learning_rate=1e-3,
                                            optimizer="adamw", schedule="cosine", warmup_epochs=0)],
                600.0, 60.0, patience=1)
    plan.save(tmp_path / "plan.json")
    output = tmp_path / "run"
    args = ["train", "--folders", str(garments), "--separator", "_", "--heads", "color", "type", "--weights", "none",
            "--plan", str(tmp_path / "plan.json"), "--no-cache", "--output", str(output)]
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    killed = subprocess.run([sys.executable, "-c", KILL_BEFORE_REPORT, *args], capture_output=True, text=True,
                            env=environment)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert "Ended early after epoch 2 of 5" in killed.stdout
    recorded = Plan.load(output / "plan.json")
    assert (recorded.stop_after, recorded.stopped_by) == (2, "validation")
    assert not (output / "model.keras").exists()

    resumed = subprocess.run([sys.executable, "-m", "zoo.cli", *args], capture_output=True, text=True,
                             env=environment)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "stops after epoch 2 of 5: the validation score had stopped improving there" in resumed.stdout
    assert "Continuing the interrupted run" in resumed.stdout and "after epoch 2 of 5" in resumed.stdout
    assert "its training had ended after epoch 2 of 5" in resumed.stdout
    assert pd.read_csv(output / "history.csv")["epoch"].tolist() == [1, 2]
    assert zoo.model_info(zoo.load_model(output / "model.keras"))["plan"]["stopped_by"] == "validation"
    assert not (output / "backup").exists()
