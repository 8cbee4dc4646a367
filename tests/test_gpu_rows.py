"""benchmarks/gpu_rows.py in its tiny CPU form: the script a GPU run starts, checked here."""

import json
import runpy
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_rows.py"


@pytest.fixture(scope="module")
def gpu_rows():
    return runpy.run_path(str(SCRIPT))


def test_tiny_run_measures_both_loops_and_writes_a_row_report(gpu_rows, tmp_path):
    out = tmp_path / "rows"
    assert gpu_rows["main"](["--tiny", "--rows", "gbmnet-paper", "--out", str(out)]) == 0
    record = json.loads((out / "gpu_rows.json").read_text())
    assert record["device"] == "cpu" and record["profile"] == "tiny"
    assert [r["size"] for r in record["throughput"]] == [16, 32]
    for rate in record["throughput"]:
        assert rate["plain_img_s"] > 0 and rate["ours_img_s"] > 0 and rate["ratio"] > 0
    ran = record["rows"]["gbmnet-paper"]
    assert ran["status"] == "ran" and 0 <= ran["paper"] <= 100 and ran["seconds"] > 0
    assert (out / "gbmnet-paper" / "report.md").is_file()
    assert "--profile tiny" in (out / "gbmnet-paper" / "report.md").read_text()
    assert record["rows"]["liaqat-resnet101-paper"]["status"] == "not run: not selected"
    page = (out / "gpu_rows.md").read_text()
    assert "--rows liaqat-resnet101-paper" in page  # the command that runs a missing row


def test_rows_past_the_budget_are_listed_not_run(gpu_rows, tmp_path):
    out = tmp_path / "rows"
    assert gpu_rows["main"](["--tiny", "--budget", "0", "--out", str(out)]) == 0
    rows = json.loads((out / "gpu_rows.json").read_text())["rows"]
    assert {row["status"] for row in rows.values()} == {"not run: time budget"}
    assert len(rows) == 6
