"""Fixtures of the payment core tests: a migrated store on each backend, a core, a channel rule set."""

from __future__ import annotations

import pytest

from recon.core.orders import Core
from tests.builtin_rules import builtin_accounting
from recon.store.engine import engine_for
from recon.store.schema import ensure_schema
from recon.config.ruleset import RuleSet


@pytest.fixture()
def engine(store_url):
    eng = engine_for(store_url)
    ensure_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture()
def core(engine) -> Core:
    return Core(engine, builtin_accounting())


@pytest.fixture()
def rules() -> RuleSet:
    """A channel whose codes follow WeChat Pay: only SUCCESS is success, only explicit failures fail."""
    return RuleSet(name="test", status={
        "trade_state": {"SUCCESS": "SUCCESS", "PAYERROR": "FAILED", "CLOSED": "FAILED"},
        "refund_status": {"SUCCESS": "SUCCESS", "ABNORMAL": "FAILED"},
    })
