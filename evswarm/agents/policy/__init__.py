"""The offline policy model: deterministic per-agent policies behind the SDK's `Model` interface."""
