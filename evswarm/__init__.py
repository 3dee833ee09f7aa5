"""evswarm: an offline-first simulator and macro-eval harness for multi-agent systems on the OpenAI Agents SDK."""

__version__ = "0.1.0"
