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


def save(path, p_test, p_tumours, y_test=("notumor", "notumor", "notumor", "tumor")):
    np.savez(path, p_test=np.asarray(p_test), y_test=np.asarray(y_test),
             p_tumours=np.asarray(p_tumours))  # fmt: skip
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
    a = save(tmp_path / "a.npz", [0.9, 0.9, 0.9, 0.1], [0.5, 0.2])
    b = save(tmp_path / "b.npz", [0.9, 0.9, 0.9, 0.1], [0.5, 0.2])
    for path, held in ((a, [0.6, 0.4, 0.8]), (b, [0.6, 0.4, 0.8])):
        np.savez(path, **dict(np.load(path)), p_healthy=np.asarray(held))
    out = tmp_path / "trials.jsonl"
    trial["main"](["--average", str(a), str(b), "--out", str(out)])
    row = json.loads(out.read_text())
    assert row["n_healthy"] == 3
    # tumour 0.5 lies above the held-out healthy 0.4: 5 of the 6 pairs ordered
    assert row["auc"] == pytest.approx(5 / 6)
    plain = save(tmp_path / "c.npz", [0.9, 0.9, 0.9, 0.1], [0.5, 0.2])
    with pytest.raises(SystemExit, match="only some runs have a held-out healthy side"):
        trial["main"](["--average", str(a), str(plain), "--out", str(out)])
