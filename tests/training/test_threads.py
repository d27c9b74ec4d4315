"""TensorFlow's operation threads for a CPU training."""

import os
import subprocess
import sys

import pytest
import tensorflow as tf

from zoo.training import threads


@pytest.fixture
def fake_tensorflow(monkeypatch):
    """TensorFlow's thread settings and device list, before TensorFlow has started."""
    state = {"intra": 0, "gpus": [], "started": False}

    def set_intra(count):
        if state["started"]:
            raise RuntimeError("Intra op parallelism cannot be modified after initialization.")
        state["intra"] = count

    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    monkeypatch.setattr(tf.config.threading, "get_intra_op_parallelism_threads", lambda: state["intra"])
    monkeypatch.setattr(tf.config.threading, "set_intra_op_parallelism_threads", set_intra)
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: state["gpus"])
    return state


@pytest.mark.parametrize("cores, expected", [(2, 1), (4, 3), (16, 15)])
def test_all_cores_but_one_run_operations(fake_tensorflow, monkeypatch, cores, expected):
    monkeypatch.setattr(threads, "available_cores", lambda: cores)
    assert threads.leave_a_core_to_the_input() == expected
    assert fake_tensorflow["intra"] == expected


@pytest.mark.parametrize("case", ["one core", "gpu", "environment", "chosen before", "started"])
def test_nothing_changes_where_the_choice_is_not_ours(fake_tensorflow, monkeypatch, case):
    monkeypatch.setattr(threads, "available_cores", lambda: 1 if case == "one core" else 8)
    if case == "gpu":
        fake_tensorflow["gpus"] = ["/physical_device:GPU:0"]
    elif case == "environment":
        monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "8")
    elif case == "chosen before":
        fake_tensorflow["intra"] = 6
    elif case == "started":
        fake_tensorflow["started"] = True
    assert threads.leave_a_core_to_the_input() is None
    assert fake_tensorflow["intra"] == {"chosen before": 6}.get(case, 0)


def test_a_fresh_process_gets_the_setting_before_tensorflow_starts():
    code = ("from zoo.training.threads import leave_a_core_to_the_input as leave, available_cores\n"
            "import tensorflow as tf\n"
            "print(available_cores(), leave(), tf.config.threading.get_intra_op_parallelism_threads())\n"
            "tf.constant(1.0) + 1.0\n"
            "print(leave())\n")
    env = {k: v for k, v in os.environ.items() if k != "TF_NUM_INTRAOP_THREADS"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env={**env, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-2000:]
    first, second = result.stdout.split("\n")[:2]
    cores, chosen, in_force = first.split()
    expected = str(int(cores) - 1) if int(cores) > 1 else "None"
    assert chosen == expected and in_force == (expected if expected != "None" else "0")
    assert second == "None"  # once set, and once TensorFlow runs, nothing changes

