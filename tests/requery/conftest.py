"""Fixtures for the re-query tests: channel keys, a loopback HTTP server, workspaces with queue items.

The HTTP server and the channels' side of the signatures come from tests/fetch/fetch_servers.py;
queue items are made the way matching makes them, from layer-1 results (tests/queue/layers.py).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS / "fetch"))
if "layers" not in sys.modules:  # the same module object when the queue tests run in this session too
    _spec = importlib.util.spec_from_file_location("layers", TESTS / "queue" / "layers.py")
    sys.modules["layers"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["layers"])

from fetch_servers import HttpServer  # noqa: E402
from fetch_support import rsa_key  # noqa: E402


@pytest.fixture(scope="session")
def keys() -> dict:
    """merchant (our signing key), platform (the channel's), forger (anyone else's)."""
    return {name: rsa_key() for name in ("merchant", "platform", "forger")}


@pytest.fixture()
def http():
    server = HttpServer()
    yield server
    server.close()
