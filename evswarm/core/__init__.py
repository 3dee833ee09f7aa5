"""The shared core: every file format one stage writes and another reads (bundle, labels, run table,
batch summary and manifest, analysis tables), the batch layout, storage and I/O. Imports no other
evswarm package."""

from evswarm.core.bundle import Bundle, Decision, RunStatus, TraceBundle
from evswarm.core.errors import BundleError, EvswarmError
from evswarm.core.labels import LabelRow, RubricFinding, read_labels, write_labels
from evswarm.core.layout import BatchLayout
from evswarm.core.symptoms import Severity, Symptom

__all__ = [
    "BatchLayout",
    "Bundle",
    "BundleError",
    "Decision",
    "EvswarmError",
    "LabelRow",
    "RubricFinding",
    "RunStatus",
    "Severity",
    "Symptom",
    "TraceBundle",
    "read_labels",
    "write_labels",
]
