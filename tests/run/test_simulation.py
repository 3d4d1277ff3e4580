"""The simulation harness against each provider's sandbox (issue 17 item 12; see tests/support/simulation.py).

``make test`` runs a fixed set of derandomised examples per provider; ``make soak`` runs many more
with fresh seeds (``CATALOG_SYNC_SOAK_EXAMPLES`` and ``CATALOG_SYNC_SOAK_STEPS`` set the size).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings

from tests.support.simulation import simulation_for

SOAK = "CATALOG_SYNC_SOAK_EXAMPLES" in os.environ
SETTINGS = settings(
    max_examples=int(os.environ.get("CATALOG_SYNC_SOAK_EXAMPLES", "6")),
    stateful_step_count=int(os.environ.get("CATALOG_SYNC_SOAK_STEPS", "25")),
    derandomize=not SOAK,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
    # real runs over HTTP shrink slowly: the soak reports the steps as found (its seed replays them)
    phases=[Phase.explicit, Phase.reuse, Phase.generate] if SOAK else list(Phase),
)

#: each machine runs a minute or two alone; a busy machine may take several times that
pytestmark = pytest.mark.timeout(900)

TestRoyaltiSimulation = simulation_for("royalti").TestCase
TestRoyaltiSimulation.settings = SETTINGS
TestKeevaultSimulation = simulation_for("keevault").TestCase
TestKeevaultSimulation.settings = SETTINGS
TestJoggSimulation = simulation_for("jogg").TestCase
TestJoggSimulation.settings = SETTINGS
