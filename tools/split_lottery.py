"""A split lottery: one paper model's score over many random test splits.

A paper that reports one random split reports one draw. This script runs a
recipe's model (paper A's LiuCNN by default) under the paper's protocol with
the test split drawn from seeds 0 .. N-1, and under the duplicate-grouped
split drawn from the same seeds, and writes the distribution of the metric:
per-split figures, mean, std, best, the share of splits at or above the
paper's figure, how many test images have a copy in training on each split,
and a histogram. The training seed stays 0, so the spread is the split's.
Each split is saved in OUT/splits/ when it ends: a run stopped half-way goes on
from there when started again, and two processes started on the same OUT
share the splits (a split being run is claimed by OUT/splits/SEED.running;
delete that file if its process was stopped).

    python3 tools/split_lottery.py --data YESNO_FOLDER --splits 20 \
        --out docs/reproduction/liu-split-lottery

On a 2-core x86 CPU, LiuCNN's quick profile takes about one minute per split
and protocol. ``--profile tiny`` checks the set-up in seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from sklearn_braintumor.experiments import get_recipe, load_experiment_data, run_recipe
from sklearn_braintumor.model_selection import audit_split
from sklearn_braintumor.utils._persistence import atomic_write_text, replacing

PROTOCOLS = {"paper": "paper's protocol (random split)", "leakage_free": "duplicate-grouped split"}


def one_split(recipe, data, model: str, seed: int, profile: str, device: str) -> dict:
    """Train ``model`` on the splits drawn with ``seed``; return its metrics per protocol."""
    split = dataclasses.replace(recipe.split, random_state=seed, cv=None)
    result = run_recipe(dataclasses.replace(recipe.only(model), split=split), data,
                        profile=profile, device=device, log=lambda line: None)  # fmt: skip
    row = {"seed": seed}
    for record in result.records:
        row[record["arm"]] = record["metrics"]
    paper = next(arm for arm in result.arms if arm.name == "paper")
    audit = audit_split([result.data.images[i] for i in paper.train],
                        [result.data.images[i] for i in paper.test])  # fmt: skip
    row["test_images"] = len(paper.test)
    row["test_with_copy"] = int((audit.exact_mask | audit.near_mask).sum())
    return row


def summarize(rows: list[dict], metric: str, reported: float | None) -> dict:
    """Mean, std, best, worst and the share at or above ``reported``, per protocol."""
    summary = {}
    for arm in PROTOCOLS:
        values = np.array([row[arm][metric] for row in rows if arm in row]) * 100
        if not len(values):
            continue
        summary[arm] = {
            "n": len(values),
            "mean": float(values.mean()),
            "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            "min": float(values.min()),
            "median": float(np.median(values)),
            "max": float(values.max()),
            "at_or_above_paper": None
            if reported is None
            else int((values >= reported * 100 - 1e-9).sum()),
        }
    return summary


def render(rows, summary, metric, reported, command, seconds) -> str:
    """Return the markdown page of the lottery."""
    paper = "–" if reported is None else f"{reported * 100:.2f}"
    lines = [
        f"# Split lottery: {metric} over {len(rows)} random splits",
        "",
        f"`{command}` ({seconds / 60:.1f} min of training in all)",
        "",
        f"The paper reports {paper} on one random split. Each row below trains the same model "
        "(training seed 0) on the split drawn with that seed.",
        "",
        "| protocol | splits | mean ± std | min | median | max | splits >= paper |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for arm, s in summary.items():
        share = "–" if s["at_or_above_paper"] is None else f"{s['at_or_above_paper']} / {s['n']}"
        lines.append(
            f"| {PROTOCOLS[arm]} | {s['n']} | {s['mean']:.2f} ± {s['std']:.2f} | {s['min']:.2f} "
            f"| {s['median']:.2f} | {s['max']:.2f} | {share} |"
        )
    header = " | ".join(["split seed", "test images", "with a copy in training",
                         *PROTOCOLS.values()])  # fmt: skip
    lines += ["", f"| {header} |", "| --- | --- | --- | --- | --- |"]
    for row in rows:
        cells = [f"{row[arm][metric] * 100:.2f}" if arm in row else "–" for arm in PROTOCOLS]
        lines.append(f"| {row['seed']} | {row['test_images']} | {row['test_with_copy']} | "
                     + " | ".join(cells) + " |")  # fmt: skip
    lines += ["", "![histogram](histogram.png)", ""]
    return "\n".join(lines)


def histogram(rows, metric: str, reported: float | None, path: Path) -> None:
    """Both protocols' distributions, the paper's figure as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    values = {arm: [row[arm][metric] * 100 for row in rows if arm in row] for arm in PROTOCOLS}
    low = min(min(v) for v in values.values() if v)
    bins = np.linspace(min(low, 100.0) - 1, 100, 21)
    for arm, label in PROTOCOLS.items():
        ax.hist(values[arm], bins=bins, alpha=0.6, label=label)
    if reported is not None:
        ax.axvline(reported * 100, color="black", linestyle="--", label="paper")
    ax.set_xlabel(metric.replace("_", " ") + " (%)")
    ax.set_ylabel("splits")
    ax.legend()
    fig.tight_layout()
    with replacing(path, ".png.partial") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def run_splits(args, recipe, data, parts: Path) -> None:
    """Run every split not yet done or claimed, each claimed by a file while it runs."""
    for seed in range(args.splits):
        done, claim = parts / f"{seed}.json", parts / f"{seed}.running"
        if done.exists():
            continue
        try:  # atomic: two processes on one folder never run the same split
            os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        tic = time.perf_counter()
        row = one_split(recipe, data, args.model, seed, args.profile, args.device)
        row["seconds"] = time.perf_counter() - tic
        atomic_write_text(done, json.dumps(row, indent=2) + "\n")
        claim.unlink()
        cells = ", ".join(f"{arm} {row[arm][args.metric]:.4f}" for arm in PROTOCOLS)
        print(f"split {seed}: {cells}; {row['test_with_copy']} test images with a copy",
              flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the lottery; write its page, JSON and histogram; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="the recipe's data folder (default: the embedded sample)")
    parser.add_argument("--recipe", default="liu")
    parser.add_argument("--model", default="LiuCNN")
    parser.add_argument("--metric", default="macro_f1")
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--profile", default="quick", choices=("quick", "paper", "tiny"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", required=True, help="folder for the page, JSON and histogram")
    parser.add_argument("--report-only", action="store_true",
                        help="write the page from the finished splits; run none")  # fmt: skip
    args = parser.parse_args(argv)
    out = Path(args.out)
    parts = out / "splits"
    parts.mkdir(parents=True, exist_ok=True)
    recipe = get_recipe(args.recipe)
    if not args.report_only:
        run_splits(args, recipe, load_experiment_data(args.data), parts)
    rows = [json.loads((parts / f"{seed}.json").read_text()) for seed in range(args.splits)
            if (parts / f"{seed}.json").exists()]  # fmt: skip
    pending = args.splits - len(rows)
    if not rows:
        print(f"no split finished yet in {out}; {pending} running elsewhere")
        return 0
    reported = recipe.reported.get(args.model, {}).get(args.metric)
    summary = summarize(rows, args.metric, reported)
    words = argv if argv is not None else sys.argv[1:]
    command = "python3 tools/split_lottery.py " + " ".join(words)
    seconds = sum(row["seconds"] for row in rows)
    record = {"recipe": args.recipe, "model": args.model, "metric": args.metric,
              "profile": args.profile, "reported": reported, "command": command,
              "seconds": seconds, "pending": pending, "summary": summary,
              "splits": rows}  # fmt: skip
    atomic_write_text(out / "lottery.json", json.dumps(record, indent=2) + "\n")
    histogram(rows, args.metric, reported, out / "histogram.png")
    page = render(rows, summary, args.metric, reported, command, seconds)
    if pending:
        page += f"\n{pending} of {args.splits} splits are not finished (running, or stopped).\n"
    atomic_write_text(out / "README.md", page)
    print(page.split("\n\n")[3])
    return 0


if __name__ == "__main__":
    sys.exit(main())
