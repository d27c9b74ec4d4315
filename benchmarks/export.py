"""Inference speed and file size of a zoo model in Keras and in its exports, side by side:
Keras `predict`, the SavedModel (`tf.saved_model.load`), ONNX Runtime and LiteRT (float32 and
dynamic-quantized), on the same real MIML images, in interleaved rounds.

    python export.py --images 256 --size 96 --rounds 7
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from common import data_dir_argument, print_table


def load_images(folder: Path, count: int, size: int) -> np.ndarray:
    """The first `count` MIML images (by number), stretched to size x size, float32 0..255."""
    from PIL import Image

    files = [folder / "miml" / "images" / f"{i}.jpg" for i in range(1, count + 1)]
    return np.stack([np.asarray(Image.open(f).convert("RGB").resize((size, size), Image.BILINEAR), "float32")
                     for f in files])


def size_of(path: Path) -> int:
    """Bytes of a file, or of every file in a folder."""
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir_argument(parser)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    import zoo
    from zoo.io.export.runtimes import LiteRTModel, OnnxRuntimeModel, SavedModelRuntime

    images = load_images(args.data, args.images, args.size)
    heads = [zoo.Head("scene", ["desert", "mountains", "sea", "sunset", "trees"])]
    model = zoo.build("multilabel_small", heads=heads, input_shape=(args.size, args.size, 3), weights=None,
                      compile=False)
    threads = os.cpu_count()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        zoo.save_model(model, folder / "model.keras")
        paths = {
            "Keras predict (.keras)": folder / "model.keras",
            "SavedModel, tf.saved_model.load": zoo.export(model, folder / "saved_model", format="saved_model"),
            "ONNX Runtime": zoo.export(model, folder / "model.onnx", format="onnx"),
            "LiteRT float32": zoo.export(model, folder / "model.tflite", format="litert"),
            "LiteRT dynamic int8": zoo.export(model, folder / "dynamic.tflite", format="litert", quantize="dynamic"),
        }
        runners = {
            "Keras predict (.keras)": lambda x: {"scene": model.predict(x, batch_size=args.batch_size, verbose=0)
                                                 ["scene"]},
            "SavedModel, tf.saved_model.load": SavedModelRuntime(paths["SavedModel, tf.saved_model.load"]).predict,
            "ONNX Runtime": OnnxRuntimeModel(paths["ONNX Runtime"]).predict,
            "LiteRT float32": LiteRTModel(paths["LiteRT float32"], num_threads=threads).predict,
            "LiteRT dynamic int8": LiteRTModel(paths["LiteRT dynamic int8"], num_threads=threads).predict,
        }
        reference = runners["Keras predict (.keras)"](images)["scene"]
        differences = {name: float(np.abs(run(images)["scene"] - reference).max()) for name, run in runners.items()}
        wall = {name: [] for name in runners}
        cpu = {name: [] for name in runners}
        names = list(runners)
        for round_ in range(args.rounds):
            order = names if round_ % 2 == 0 else names[::-1]
            for name in order:
                start, start_cpu = time.perf_counter(), time.process_time()
                runners[name](images)
                wall[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
        rows = []
        for name in names:
            rows.append({
                "runtime": name,
                "images/s median": f"{args.images / np.median(wall[name]):.0f}",
                "images/s best": f"{args.images / np.min(wall[name]):.0f}",
                "CPU s median": f"{np.median(cpu[name]):.2f}",
                "CPU s min": f"{np.min(cpu[name]):.2f}",
                "file MB": f"{size_of(paths[name]) / 1e6:.2f}",
                "max |p - Keras|": f"{differences[name]:.1e}",
            })
    print(f"{args.images} MIML images at {args.size}x{args.size}, batch {args.batch_size}, {args.rounds} rounds, "
          f"{threads} CPU threads; multilabel_small ({model.count_params():,} weights), untrained")
    print_table(rows, list(rows[0]))


if __name__ == "__main__":
    main()
