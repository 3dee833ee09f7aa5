"""Foreign traces in and out: `import_traces` (OpenTelemetry GenAI, OpenInference, Agents SDK exports,
OpenAI and multi-agent chat logs, Potato step lists -> a batch directory) and `score_attribution`
(evswarm's per-trace attribution and the obvious baselines against human root-cause labels).

Reads and writes files through `evswarm.core` only."""

from evswarm.interop.importer import ImportResult, import_traces

__all__ = ["ImportResult", "import_traces"]
