"""Fixtures for queue tests: a workspace on SQLite (`ws`) or on each store backend (`store_ws`)."""

from __future__ import annotations

import pytest

from layers import make_ws


@pytest.fixture()
def ws(tmp_path):
    return make_ws(tmp_path / "ws")


@pytest.fixture()
def store_ws(tmp_path, store_url):
    return make_ws(tmp_path / "ws", store_url=store_url)
