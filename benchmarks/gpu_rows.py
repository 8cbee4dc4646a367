"""Every GPU row of the papers in one run, and GBMNet's training throughput on the GPU.

    python benchmarks/gpu_rows.py --data FOLDER --out DIR          # a GPU: about 9 minutes
    python benchmarks/gpu_rows.py --tiny --out DIR                 # any CPU: a check, seconds

FOLDER holds Training/ and Testing/ of the 4-class set.

Part 1, throughput. GBMNet trains on uploaded uint8 images at 64, 128 and 256
px, batch 256, Adam, for a few epochs: ``CNNClassifier`` (``fit`` on the uint8
array; its training set moves to the GPU once; bf16 mixed precision through
accelerate) against a hand-written PyTorch loop with its data kept on the GPU
as uint8 and bf16 autocast, alternating A B A B after a warm-up. Printed:
images/s of each and the ratio CNNClassifier / plain loop (goal >= 0.95, and
>= 20,000 img/s at 256 px on an H200).

Part 2, rows. Each row is a recipe restricted to one model at ``--profile
paper``, run with ``braintumor reproduce``'s own code, its report written to
DIR/NAME/: D's GBMnet, C's DenseNet121, ResNet101, ResNet152 and VGG16 from
random initialisation (4-class set binarized), and the recommended recipe. A
row that would start after ``--budget`` seconds is listed "not run" with the
command that runs it alone. DIR/gpu_rows.md and DIR/gpu_rows.json hold both
parts. ``--tiny`` runs the same code on the CPU with tiny images, tiny
profiles and the embedded sample: a check of the script, not a result.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_training import plain_loop

from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.experiments import (
    get_recipe,
    load_experiment_data,
    run_recipe,
    write_report,
)
from sklearn_braintumor.nn import GBMNet
from sklearn_braintumor.utils._persistence import atomic_write_text

# (report folder, recipe, model, what the row is)
ROWS = [
    ("gbmnet-paper", "gbmnet", "GBMnet", "D, 4-class set, 256 px, Adam 1e-5, 200 epochs"),
    *[(f"liaqat-{name.lower()}-paper", "liaqat", f"{name} (random init)",
       "C, 4-class set binarized, 224 px, SGD 1e-4, 30 epochs")
      for name in ("DenseNet121", "ResNet101", "ResNet152", "VGG16")],
    ("recommended-paper", "recommended", "GBMNet, screened",
     "recommended (two networks), 4-class set, 128 px, 120 epochs"),
]  # fmt: skip
SETTINGS = {  # per mode: sizes, images per size, epochs per round, batch size, rounds
    "gpu": {"sizes": (64, 128, 256), "images": 8192, "epochs": 3, "batch": 256, "rounds": 3},
    "tiny": {"sizes": (16, 32), "images": 64, "epochs": 1, "batch": 16, "rounds": 2},
}


def throughput(device: str, settings: dict) -> list[dict]:
    """Training images/s of CNNClassifier and of the plain loop, per image size, in bf16."""
    # bf16 on a CPU too (slowly there), so that --tiny runs the GPU run's code path
    rows = []
    for size in settings["sizes"]:
        images, target = make_synthetic_mri(settings["images"], image_size=size, random_state=0)
        X = torch.from_numpy(images[:, None]).to(device)  # uint8, uploaded once
        y = torch.from_numpy(target.astype(np.int64)).to(device)
        clf = CNNClassifier(GBMNet, lr=1e-3, batch_size=settings["batch"],
                            max_epochs=settings["epochs"], train_split=None, ood_rate=None,
                            random_state=0,  # accelerate places the model: device "auto"
                            device="auto", accelerate={"mixed_precision": "bf16"})  # fmt: skip

        def ours(images=images, target=target, clf=clf):
            clf.fit(images, target)

        def plain(X=X, y=y, size=size):
            plain_loop(X, y, size, 0, epochs=settings["epochs"],
                       batch_size=settings["batch"], bf16=True)  # fmt: skip

        ours(), plain()  # warm-up: kernels chosen, memory pools filled
        times = {"plain": [], "ours": []}
        for _ in range(settings["rounds"]):
            for name, run in (("plain", plain), ("ours", ours)):
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
        n = settings["images"] * settings["epochs"]
        rows.append({
            "size": size,
            "plain_img_s": n / statistics.median(times["plain"]),
            "ours_img_s": n / statistics.median(times["ours"]),
            "ratio": statistics.median(p / o for p, o in zip(times["plain"], times["ours"],
                                                             strict=True)),
        })  # fmt: skip
        last = rows[-1]
        print(f"{size:>4} px  plain loop {last['plain_img_s']:>9.0f} img/s  CNNClassifier "
              f"{last['ours_img_s']:>9.0f} img/s  ratio {last['ratio']:.3f}")  # fmt: skip
    return rows


def run_row(row, data, data_folder, profile: str, device: str, out: Path) -> dict:
    """Run one row's recipe restricted to its model; write its report; return its figures."""
    folder, recipe_name, model, _ = row
    recipe = get_recipe(recipe_name)
    if profile == "tiny" and "backbones" in recipe.profiles["quick"]:  # backbones too, tiny
        recipe = dataclasses.replace(recipe, tiny={**recipe.tiny, "backbones": True})
    start = time.perf_counter()
    result = run_recipe(recipe.only(model), data, profile=profile,
                        device=device, log=lambda line: print("  " + line, flush=True))  # fmt: skip
    data = ["--data", data_folder] if data_folder else []
    argv = ["reproduce", recipe_name, *data, "--profile", profile, "--device", device]
    write_report(result, out / folder, argv=argv, overwrite=True)
    figures = {r["arm"]: round(100 * r["metrics"]["accuracy"], 2) for r in result.records}
    if not figures:
        return {"status": "not run: " + "; ".join(result.unavailable.values())}
    return {"status": "ran", "seconds": round(time.perf_counter() - start, 1), **figures}


def render(device: str, rates: list[dict], rows: dict, data_folder) -> str:
    """The markdown summary of both parts."""
    lines = [f"# GPU rows ({device})", "", "| size | plain loop img/s | CNNClassifier img/s | "
             "ratio |", "| --- | --- | --- | --- |"]  # fmt: skip
    lines += [f"| {r['size']} px | {r['plain_img_s']:.0f} | {r['ours_img_s']:.0f} | "
              f"{r['ratio']:.3f} |" for r in rates]  # fmt: skip
    lines += ["", "| row | model | paper's protocol | leakage-free | time | status |",
              "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for folder, _, model, what in ROWS:
        r = rows[folder]
        time_ = f"{r['seconds']:.0f} s" if "seconds" in r else "–"
        command = (f"`python benchmarks/gpu_rows.py --data {data_folder or 'FOLDER'} --out DIR "
                   f"--rows {folder}`")  # fmt: skip
        status = r["status"] if r["status"] == "ran" else f"{r['status']} ({command})"
        lines.append(f"| {what} | {model} | {r.get('paper', '–')} | "
                     f"{r.get('leakage_free', '–')} | {time_} | {status} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run both parts; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a folder with Training/ and Testing/ (4-class set)")
    parser.add_argument("--out", required=True, help="folder for the summary and the reports")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--budget", type=float, default=540.0,
                        help="seconds after which no further row starts (default 540)")  # fmt: skip
    parser.add_argument("--rows", nargs="+", choices=[row[0] for row in ROWS],
                        help="run only these rows (default: all)")  # fmt: skip
    parser.add_argument("--tiny", action="store_true",
                        help="CPU, tiny sizes and profiles, the embedded sample")  # fmt: skip
    args = parser.parse_args(argv)
    device = "cpu" if args.tiny else args.device
    profile = "tiny" if args.tiny else "paper"
    if not args.tiny and args.data is None:
        parser.error("--data is needed (or --tiny)")
    start = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"torch {torch.__version__} on {device}", flush=True)
    rates = throughput(device, SETTINGS["tiny" if args.tiny else "gpu"])
    rows, data = {}, None
    for row in ROWS:
        if args.rows and row[0] not in args.rows:
            rows[row[0]] = {"status": "not run: not selected"}
        elif time.perf_counter() - start > args.budget:
            rows[row[0]] = {"status": "not run: time budget"}
        else:
            print(f"{row[0]}: {row[2]}", flush=True)
            if data is None:  # decoded once for every row (binary recipes relabel it)
                data = load_experiment_data(args.data)
            rows[row[0]] = run_row(row, data, args.data, profile, device, out)
    record = {"device": device, "torch": torch.__version__, "profile": profile,
              "throughput": rates, "rows": rows,
              "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip
    atomic_write_text(out / "gpu_rows.json", json.dumps(record, indent=2) + "\n")
    page = render(device, rates, rows, args.data)
    atomic_write_text(out / "gpu_rows.md", page)
    print(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
