import pandas as pd

from zoo.demo import run_demo


def test_demo_runs_end_to_end_at_a_tiny_size(tmp_path):
    lines = []
    summary = run_demo(tmp_path / "demo", image_size=32, images_per_pair=4, epochs=(1, 1), verbose=0,
                       log=lines.append)
    assert summary["reload_identical"]
    assert set(summary["held_out_accuracy"]) == {"color", "type"}
    for name in ("color_type.h5", "history.csv", "history.png", "predictions.csv"):
        assert (tmp_path / "demo" / name).is_file(), name
    predictions = pd.read_csv(tmp_path / "demo" / "predictions.csv")
    assert len(predictions) == 20  # 10 images for each of the two held-out pairs
    assert set(predictions["color"]) <= {"black", "blue", "red"}
    assert any("never seen in training: black dress, red jeans" in line for line in lines)
