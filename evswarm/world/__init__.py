"""The EV world: catalog, regions, suppliers, factories, dated market signals and regimes, the scenario
of one order and its oracle (the correct handling). Imports only `evswarm.core`."""

from evswarm.world.oracle import oracle_for
from evswarm.world.scenario import Scenario

__all__ = ["Scenario", "oracle_for"]
