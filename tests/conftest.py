"""Shared fixtures: the public sample corpus, workspaces, and the store backends.

PostgreSQL tests run against the server at 127.0.0.1:5432 (trust auth, database `test`) and skip
with the reason when none is reachable. Each test gets its own schema so runs never collide.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from hypothesis import settings

import recon  # noqa: F401  first: it keeps openpyxl on the XML writer the report streams for (recon/__init__.py)

# Hypothesis profiles: "default" for a developer's run; "ci" (HYPOTHESIS_PROFILE=ci) runs every test
# that takes its budget from the profile twenty times deeper. The parsers' property tests set their
# own budget with tests/parsers_toolkit/budget.py, which `make test` (the CI path) deepens twentyfold
# (RECON_PARSER_PROPERTIES=deep). Other tests that pin max_examples keep their own budget.
settings.register_profile("default", max_examples=100, deadline=None)  # hypothesis's own budget; no timing
settings.register_profile("ci", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parent.parent
SHARED_SAMPLES = Path(os.environ.get("RECON_SHARED_SAMPLES", REPO.parent / "shared" / "samples"))
PG_URL = os.environ.get("RECON_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def shared_samples() -> Path:
    if not SHARED_SAMPLES.is_dir():
        pytest.skip(f"public samples not found at {SHARED_SAMPLES} (set RECON_SHARED_SAMPLES)")
    return SHARED_SAMPLES


def _pg_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3):
            return None
    except Exception as exc:  # any failure means "not reachable here"; the reason is reported
        return f"PostgreSQL not reachable at 127.0.0.1:5432 ({type(exc).__name__}: {str(exc).strip()[:120]})"


@pytest.fixture(scope="session")
def pg_base_url() -> str:
    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    return PG_URL


@pytest.fixture()
def pg_url(pg_base_url: str):
    """A fresh PostgreSQL schema for one test, dropped afterwards; the URL selects it."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_base_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{pg_base_url}?options=-csearch_path%3D{schema}"
    yield url
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path: Path) -> str:
    """Run a test on both backends (the PostgreSQL leg skips with a reason where unreachable)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'recon.db'}"
    return request.getfixturevalue("pg_url")

