"""Helpers for the Chinese-channel parser tests: contexts, a readable golden form, rejections."""

from __future__ import annotations

from zoneinfo import ZoneInfo
from pathlib import Path

import pytest

from parsers.base import ParseContext
from recon.errors import StatementRejected
from recon.schema import conform, validate_bill
from rules.loader import load_rules


def ctx(rules: str, channel: str = "test", **kw) -> ParseContext:
    return ParseContext(channel=channel, rules=load_rules(rules), **{"zone": ZoneInfo("Asia/Shanghai"), **kw})


def golden(bill) -> list[str]:
    """One line per row, the columns a person checks: line, type, ids, UTC time, money, status."""
    validate_bill(conform(bill), "golden")
    out = []
    for r in bill.iter_rows(named=True):
        t = r["trade_time"].strftime("%Y-%m-%dT%H:%M:%SZ") if r["trade_time"] else "-"
        ids = "/".join(r[k] or "-" for k in ("channel_txn_id", "merchant_txn_id", "channel_refund_id", "merchant_refund_id"))
        out.append(f"{r['source_line']} {r['record_type']} {ids} {t} {r['currency']} "
                   f"{r['amount'].normalize():f} {r['fee'].normalize():f} {r['net_amount'].normalize():f} {r['status']}")
    return out


def rejected(parser, path: Path, context: ParseContext) -> StatementRejected:
    with pytest.raises(StatementRejected) as info:
        parser.parse(path, context)
    return info.value
