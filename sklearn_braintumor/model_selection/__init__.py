"""Leakage-aware model selection: duplicate groups, split audits, clean test sets."""

from ._duplicates import SplitAudit, audit_split, clean_test_mask, duplicate_groups

__all__ = ["SplitAudit", "audit_split", "clean_test_mask", "duplicate_groups"]
