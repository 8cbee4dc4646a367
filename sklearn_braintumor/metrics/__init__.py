"""Evaluation of fitted classifiers: one report with every metric the papers give."""

from ._report import EvaluationReport, evaluation_report, expected_calibration_error

__all__ = ["EvaluationReport", "evaluation_report", "expected_calibration_error"]
