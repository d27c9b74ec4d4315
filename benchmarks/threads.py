"""Processor and wall time of MIML training epochs with TensorFlow's default operation threads and with
`zoo train`'s (all cores but one: `zoo.training.threads`).

The thread pools are fixed when TensorFlow starts, so each setting trains in a
process of its own; the rounds alternate the two, so slow spells of a shared
machine hit both alike. Each process decodes the images once, trains one epoch
that builds the step, then times `--epochs` more (the figures are their median)
and reports the whole process too.

    python benchmarks/threads.py --side 64 --rounds 3 --epochs 4
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

from common import data_dir_argument, miml_scenes, print_table


def child(args) -> None:
    """Trains in this process with `args.threads` operation threads (0: TensorFlow's default); prints JSON."""
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    import keras

    import zoo
    from zoo import data
    from zoo.training.callbacks import ValidationMetrics

    rows, heads = miml_scenes(args.data, args.images)
    train_rows, validation_rows = data.train_validation_split(rows, heads, 0.2, seed=0)
    common = dict(directory=args.data / "miml" / "images", image_size=(args.side, args.side), batch_size=32, seed=0,
                  cache=True)
    train = data.make_dataset(train_rows, heads, augment=True, **common)
    validation = data.make_dataset(validation_rows, heads, shuffle=False, **common)
    for dataset in (train, validation):
        for _ in dataset:  # decode once: the epochs time training
            pass
    keras.utils.set_random_seed(0)
    model = zoo.build("multilabel_small", heads=heads, input_shape=(args.side, args.side, 3), weights=None)
    zoo.compile_model(model, optimizer=keras.optimizers.AdamW(1e-3))
    callbacks = [ValidationMetrics(validation, compiled_metrics=True)]
    model.fit(train, epochs=1, callbacks=callbacks, verbose=0)  # builds the step
    cpu, wall = [], []
    for epoch in range(1, args.epochs + 1):
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        model.fit(train, initial_epoch=epoch, epochs=epoch + 1, callbacks=callbacks, verbose=0)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started_wall)
    print(json.dumps({"cpu": float(np.median(cpu)), "wall": float(np.median(wall)),
                      "threads": tf.config.threading.get_intra_op_parallelism_threads()}))


def one_process(args, threads: int) -> dict:
    """Runs `child` in a new process; adds the whole process's processor and wall seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, __file__, "--child", "--threads", str(threads), "--side", str(args.side),
                             "--epochs", str(args.epochs), "--data", str(args.data)]
                            + (["--images", str(args.images)] if args.images else []),
                            capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["process_cpu"] = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    figures["process_wall"] = time.perf_counter() - started
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir_argument(parser)
    parser.add_argument("--side", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4, help="timed epochs per process")
    parser.add_argument("--images", type=int, help="the first N MIML images (default: all 2,000)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    from zoo.training.threads import available_cores, operation_threads

    cores = available_cores()
    settings = {"TensorFlow's default": 0, f"zoo train: {operation_threads(cores)} of {cores} cores": operation_threads(cores)}
    runs = {name: [] for name in settings}
    names = list(settings)
    for round_ in range(args.rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:
            runs[name].append(one_process(args, settings[name]))
    first = runs[names[0]]
    rows = []
    for name, figures in runs.items():
        def median(key, figures=figures):
            return float(np.median([f[key] for f in figures]))

        rows.append({
            "operation threads": name,
            "epoch processor s": f"{median('cpu'):.2f}",
            "epoch wall s": f"{median('wall'):.2f}",
            "process processor s": f"{median('process_cpu'):.1f}",
            "process wall s": f"{median('process_wall'):.1f}",
            "process processor / default": f"{np.median([f['process_cpu'] / d['process_cpu'] for f, d in zip(figures, first)]):.3f}",
            "process wall / default": f"{np.median([f['process_wall'] / d['process_wall'] for f, d in zip(figures, first)]):.3f}",
        })
    print(f"MIML, {args.side}x{args.side}, batch 32, {args.epochs} timed epochs a process, {args.rounds} rounds, "
          f"{cores} cores")
    print_table(rows, list(rows[0]))


if __name__ == "__main__":
    main()
