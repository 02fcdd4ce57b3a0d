"""The remote tests register test-only renderers in this process; each test leaves the registry as it found it."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _registry_restored():
    yield
    import farm_renderers

    farm_renderers.unregister()
