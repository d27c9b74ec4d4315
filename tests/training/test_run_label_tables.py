"""`zoo train` on label tables as a newcomer writes them: one head per column, images without a label."""

import numpy as np
import pandas as pd

import zoo
from zoo.cli import main


def test_one_head_per_table_column_on_fashion_products(data_dir, tmp_path, capsys):
    fashion = data_dir / "fashion_products"
    output = tmp_path / "fashion"
    heads = ["gender", "masterCategory", "articleType", "baseColour"]
    styles = pd.read_csv(fashion / "styles.csv")
    rare = np.any([styles[h].map(styles[h].value_counts()) <= 2 for h in heads], axis=0)
    styles = pd.concat([styles[rare], styles[~rare].sample(150, random_state=0)])  # every rare class, and others
    styles.to_csv(tmp_path / "styles.csv", index=False)
    assert main(["train", "--csv", str(tmp_path / "styles.csv"), "--file-column", "id", "--extension", ".jpg",
                 "--images", str(fashion / "images"), "--heads", *heads, "--min-count", "2", "--weights", "none",
                 "--image-size", "32", "32", "--epochs", "1", "--output", str(output)]) == 0
    out = capsys.readouterr().out
    assert "--min-count 2: Removed" in out and "'Duffel Bag' (1)" in out
    info = zoo.model_info(zoo.load_model(output / "model.keras", compile=False))
    assert list(info["heads"]) == heads and {h["kind"] for h in info["heads"].values()} == {"multiclass"}
    assert info["heads"]["gender"]["classes"] == sorted(styles["gender"].unique())
    assert "Navy Blue" in info["heads"]["baseColour"]["classes"]  # a label with a space stays whole
    assert "Duffel Bag" not in info["heads"]["articleType"]["classes"]
    report = pd.read_csv(output / "report.csv")
    assert set(report["head"]) == set(heads)


def test_allow_empty_makes_unlabelled_images_valid_negatives(garments, tmp_path, capsys):
    files = sorted(garments.rglob("*.jpg"))[:12]
    table = tmp_path / "labels.csv"
    rows = ["filename,labels"] + [f"{f},{'' if i % 4 == 0 else 'red blue' if i % 2 else 'blue'}"
                                  for i, f in enumerate(files)]
    table.write_text("\n".join(rows) + "\n")
    args = ["train", "--csv", str(table), "--delimiter", " ", "--image-size", "32", "32", "--epochs", "1",
            "--weights", "none", "--output", str(tmp_path / "run"), "--tensorboard", str(tmp_path / "logs")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "3 cell(s) hold no label" in err and "--allow-empty" in err
    assert not (tmp_path / "run").exists()
    assert main([*args, "--allow-empty"]) == 0
    assert list((tmp_path / "logs" / "train").glob("events.out.tfevents.*"))
    counts = pd.read_csv(tmp_path / "run" / "label_counts.csv")
    assert counts["train"].sum() + counts["validation"].sum() == 9 + 6  # 9 blue, 6 red; 3 images with none
