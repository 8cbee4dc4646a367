"""Leakage-aware model selection: duplicate groups, split audits, clean test sets, sources."""

from ._duplicates import SplitAudit, audit_split, clean_test_mask, duplicate_groups
from ._sources import LeaveOneSourceOut, SourceAudit, source_audit
from ._split import LeakageFreeSplit

__all__ = [
    "LeakageFreeSplit",
    "LeaveOneSourceOut",
    "SourceAudit",
    "SplitAudit",
    "audit_split",
    "clean_test_mask",
    "duplicate_groups",
    "source_audit",
]
