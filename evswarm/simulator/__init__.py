"""Scenario generation over the world, the batch runner (`simulate`) and the replay driver (`replay`)."""

from evswarm.simulator.batch import BatchReport, simulate
from evswarm.simulator.replay import ReplayReport, replay

__all__ = ["BatchReport", "ReplayReport", "replay", "simulate"]
