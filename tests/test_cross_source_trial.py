"""tools/cross_source_trial.py --average: runs saved with --scores, scored as one ensemble."""

import json
import runpy
from pathlib import Path

import numpy as np
import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "cross_source_trial.py"


@pytest.fixture(scope="module")
def trial():
    return runpy.run_path(str(TOOL))


def save(path, p_test, p_tumours, y_test=("notumor", "notumor", "notumor", "tumor"),
         p_healthy=None, g_tumours=None, g_healthy=None):  # fmt: skip
    """Save a run's scores as ``--scores`` does; copy groups default to one image each."""
    n_healthy = sum(y == "notumor" for y in y_test) if p_healthy is None else len(p_healthy)
    held = {} if p_healthy is None else {"p_healthy": np.asarray(p_healthy)}
    np.savez(path, p_test=np.asarray(p_test), y_test=np.asarray(y_test),
             p_tumours=np.asarray(p_tumours),
             g_tumours=np.arange(len(p_tumours)) if g_tumours is None else np.asarray(g_tumours),
             g_healthy=np.arange(n_healthy) if g_healthy is None else np.asarray(g_healthy),
             **held)  # fmt: skip
    return path


def test_the_average_of_two_runs_separates_where_neither_does(trial, tmp_path):
    # p(no tumour): each run calls one of the healthy scans less healthy than a tumour;
    # their mean puts every tumour below every healthy scan
    a = save(tmp_path / "a.npz", [0.9, 0.2, 0.8, 0.1], [0.3, 0.4])
    b = save(tmp_path / "b.npz", [0.2, 0.9, 0.8, 0.1], [0.3, 0.4])
    out = tmp_path / "trials.jsonl"
    for runs in ([a], [a, b]):
        trial["main"](["--average", *map(str, runs), "--label", str(len(runs)), "--out", str(out)])
    one, two = (json.loads(line) for line in out.read_text().splitlines())
    assert one["auc"] == pytest.approx(4 / 6) and two["auc"] == 1.0
    assert two["average"] == [str(a), str(b)] and two["threshold"] == 0.5
    # the healthy scans' means 0.55, 0.55, 0.8 (one run alone calls 0.2 a tumour); the tumour's 0.1
    assert one["notumor_recall"] == pytest.approx(2 / 3) and two["notumor_recall"] == 1.0
    assert two["testing_accuracy"] == 1.0 and two["found"] == 1.0 and two["found_at_99"] == 1.0


def test_runs_scored_on_other_images_are_refused(trial, tmp_path):
    a = save(tmp_path / "a.npz", [0.9, 0.2, 0.8, 0.1], [0.3])
    b = save(tmp_path / "b.npz", [0.9, 0.2, 0.8, 0.1], [0.3], y_test=["tumor"] * 4)
    with pytest.raises(SystemExit, match="different Testing images"):
        trial["main"](["--average", str(a), str(b), "--out", str(tmp_path / "t.jsonl")])
    with pytest.raises(SystemExit):  # training needs the data
        trial["main"](["--out", str(tmp_path / "t.jsonl")])


def test_a_held_out_healthy_side_replaces_testing_s_and_must_be_shared(trial, tmp_path):
    # Testing's healthy scans are easy (copies of trained scans); the held-out ones are not
    a = save(tmp_path / "a.npz", [0.9, 0.9, 0.9, 0.1], [0.5, 0.2], p_healthy=[0.6, 0.4, 0.8])
    b = save(tmp_path / "b.npz", [0.9, 0.9, 0.9, 0.1], [0.5, 0.2], p_healthy=[0.6, 0.4, 0.8])
    out = tmp_path / "trials.jsonl"
    trial["main"](["--average", str(a), str(b), "--out", str(out)])
    row = json.loads(out.read_text())
    assert row["n_healthy"] == 3
    # tumour 0.5 lies above the held-out healthy 0.4: 5 of the 6 pairs ordered
    assert row["auc"] == pytest.approx(5 / 6)
    plain = save(tmp_path / "c.npz", [0.9, 0.9, 0.9, 0.1], [0.5, 0.2])
    with pytest.raises(SystemExit, match="only some runs have a held-out healthy side"):
        trial["main"](["--average", str(a), str(plain), "--out", str(out)])


def test_copies_of_one_scan_count_once_on_either_side(trial, tmp_path):
    # the held-out healthy side: one scan four times over (p 0.8) and a tumour-like one (0.3)
    p_healthy, g_healthy = [0.8, 0.8, 0.8, 0.8, 0.3], [0, 0, 0, 0, 1]
    # tumours: one scan twice (0.5, found below 0.8 only) and one (0.1)
    args = dict(p_healthy=p_healthy, g_tumours=[0, 0, 1], g_healthy=g_healthy)
    a = save(tmp_path / "a.npz", [0.9, 0.9, 0.9, 0.1], [0.5, 0.5, 0.1], **args)
    out = tmp_path / "trials.jsonl"
    trial["main"](["--average", str(a), "--out", str(out)])
    row = json.loads(out.read_text())
    assert row["n_healthy"] == 5 and row["n_healthy_scans"] == 2 and row["n_tumour_scans"] == 2
    # each distinct scan weighs one: 3 of the 4 (tumour, healthy) pairs ordered (per image:
    # 13 of 15, the copies at 0.8 counted four times and the repeated tumour twice)
    assert row["auc"] == pytest.approx(3 / 4)
    # keeping 95 % of the healthy scans means keeping both distinct ones: threshold 0.3, and
    # of the two distinct tumours only the one at 0.1 lies below it
    assert row["found_at_95"] == pytest.approx(1 / 2)
    old = tmp_path / "old.npz"
    np.savez(old, **{k: v for k, v in np.load(a).items() if not k.startswith("g_")})
    with pytest.raises(SystemExit, match="copy groups"):
        trial["main"](["--average", str(old), "--out", str(out)])
