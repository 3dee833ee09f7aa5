"""The EV-order world, its scenario generators and oracle, and the batch runner (`simulate`)."""

from evswarm.simulator.batch import BatchReport, simulate

__all__ = ["BatchReport", "simulate"]
