"""Fixtures for the Stripe / PayPal / Adyen parser tests: parse a file or inline text, golden text."""

from __future__ import annotations

from zoneinfo import ZoneInfo
import os
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from parsers.base import ParseContext, Sample
from parsers.registry import format_ids, get_parser, parse_file, PluginError
from recon.money import exponent
from rules.loader import load_rules

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
RULES = {"stripe.balance": "stripe", "paypal.stl": "paypal", "adyen.settlement": "adyen"}
GOLDEN_FIELDS = ("source_line", "record_type", "status", "account", "bill_date", "channel_txn_id", "merchant_txn_id",
                 "channel_refund_id", "merchant_refund_id", "trade_time", "currency", "amount", "fee", "net_amount", "payout_id")


def _parse(path: Path, fmt: str, **ctx):
    context = ParseContext(channel=ctx.pop("channel", "test"), rules=load_rules(RULES[fmt]), **{"zone": ZoneInfo("Asia/Shanghai"), **ctx})
    return parse_file(path, context, fmt)[1]


@pytest.fixture()
def parse():
    """parse(path, format_id, **context) -> ParsedStatement (conformed and validated like the CLI)."""
    return _parse


@pytest.fixture()
def write(tmp_path: Path):
    """write(text or bytes, name) -> a file in tmp_path."""
    def _write(content, name: str = "statement.csv") -> Path:
        p = tmp_path / name
        p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return p
    return _write


def golden_text(bill: pl.DataFrame) -> str:
    """One readable line per row: the contract fields a reviewer checks, `|`-separated."""
    out = [" | ".join(GOLDEN_FIELDS)]
    for row in bill.select(GOLDEN_FIELDS).iter_rows(named=True):
        cells = []
        for k in GOLDEN_FIELDS:
            v = row[k]
            if k == "trade_time" and v is not None:
                v = v.strftime("%Y-%m-%dT%H:%M:%SZ")
            elif k in ("amount", "fee", "net_amount"):
                v = str(v.quantize(Decimal(1).scaleb(-exponent(row["currency"]))))
            cells.append("-" if v is None else str(v))
        out.append(" | ".join(cells))
    return "\n".join(out) + "\n"


@pytest.fixture()
def golden():
    """golden(name, bill): compare with golden/<name>.txt; RECON_UPDATE_GOLDEN=1 rewrites it on purpose."""
    def _check(name: str, bill: pl.DataFrame) -> None:
        path = HERE / "golden" / f"{name}.txt"
        text = golden_text(bill)
        if os.environ.get("RECON_UPDATE_GOLDEN") == "1":
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"missing golden file {path} (run once with RECON_UPDATE_GOLDEN=1 and review it)"
        assert text == path.read_text(encoding="utf-8")
    return _check


def claimants(path: Path) -> list[str]:
    """Every loadable registered parser that claims `path` (others' unfinished plugins are skipped)."""
    from parsers.registry import sample

    smp: Sample = sample(path)
    found = []
    for fid in format_ids():
        try:
            parser = get_parser(fid)
        except PluginError:
            continue
        if parser.identify(smp):
            found.append(fid)
    return found


@pytest.fixture()
def claimed_by():
    return claimants


@pytest.fixture()
def repo() -> Path:
    return REPO
