"""tools/split_lottery.py: the distribution of a paper model's score over random splits."""

import json
import runpy
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "split_lottery.py"


@pytest.fixture(scope="module")
def lottery():
    return runpy.run_path(str(TOOL))


def test_one_split_trains_the_named_model_on_both_protocols_of_that_seed(lottery):
    from sklearn_braintumor.experiments import get_recipe, load_experiment_data

    recipe = get_recipe("liu")
    data = load_experiment_data()  # the embedded sample, binarized by the binary recipe
    row = lottery["one_split"](recipe, data, "LiuCNN", 3, "tiny", "cpu")
    assert row["seed"] == 3
    assert set(row) >= {"paper", "leakage_free", "test_images", "test_with_copy"}
    assert 0 <= row["paper"]["macro_f1"] <= 1
    assert 0 <= row["test_with_copy"] <= row["test_images"]


def test_the_page_counts_splits_at_or_above_the_paper(lottery, tmp_path, monkeypatch, capsys):
    scores = [0.90, 0.97, 0.9637, 0.80]
    calls = []

    def fake_split(recipe, data, model, seed, profile, device):
        calls.append(seed)
        return {"seed": seed, "paper": {"macro_f1": scores[seed]},
                "leakage_free": {"macro_f1": scores[seed] - 0.2},
                "test_images": 51, "test_with_copy": seed}  # fmt: skip

    main = lottery["main"]
    monkeypatch.setitem(main.__globals__, "one_split", fake_split)
    out = tmp_path / "lottery"
    (out / "splits").mkdir(parents=True)
    (out / "splits" / "2.running").touch()  # another process runs split 2
    assert main(["--splits", "4", "--out", str(out)]) == 0
    assert calls == [0, 1, 3]
    record = json.loads((out / "lottery.json").read_text())
    page = (out / "README.md").read_text()
    assert record["pending"] == 1 and "1 of 4 splits are not finished" in page
    (out / "splits" / "2.running").unlink()  # that process was stopped
    assert main(["--splits", "4", "--out", str(out), "--report-only"]) == 0
    assert calls == [0, 1, 3]  # the page again, no split run
    assert main(["--splits", "4", "--out", str(out)]) == 0  # split 2 runs now
    assert calls == [0, 1, 3, 2]  # finished splits are kept, not run again
    record = json.loads((out / "lottery.json").read_text())
    paper = record["summary"]["paper"]
    assert record["reported"] == pytest.approx(0.9637) and record["pending"] == 0
    assert paper["at_or_above_paper"] == 2  # 97.00 and 96.37 itself
    assert paper["max"] == pytest.approx(97.0) and paper["min"] == pytest.approx(80.0)
    assert record["summary"]["leakage_free"]["at_or_above_paper"] == 0
    page = (out / "README.md").read_text()
    assert "| paper's protocol (random split) | 4 |" in page and "2 / 4" in page
    assert "not finished" not in page
    assert (out / "histogram.png").read_bytes()[:4] == b"\x89PNG"
    assert "split 3: paper 0.8000" in capsys.readouterr().out
