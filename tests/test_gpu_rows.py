"""benchmarks/gpu_rows.py in its tiny CPU form: the script a GPU run starts, checked here.

It runs as a user runs it, in its own process: accelerate keeps one mixed precision per
process, and the script trains in bf16 while other tests set up accelerate otherwise.
"""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_rows.py"


def run_script(*args: str) -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def test_tiny_run_measures_both_loops_and_writes_a_row_report(tmp_path):
    out = tmp_path / "rows"
    run_script("--tiny", "--rows", "gbmnet-paper", "--out", str(out))
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


def test_rows_past_the_budget_are_listed_not_run(tmp_path):
    out = tmp_path / "rows"
    run_script("--tiny", "--budget", "0", "--out", str(out))
    rows = json.loads((out / "gpu_rows.json").read_text())["rows"]
    assert {row["status"] for row in rows.values()} == {"not run: time budget"}
    assert len(rows) == 6
