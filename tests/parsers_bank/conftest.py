"""Helpers for the bank-format tests: a parse context on the built-in `bank` rules, and parsing."""

from __future__ import annotations

from zoneinfo import ZoneInfo
from pathlib import Path

import pytest

from parsers.base import ParseContext, ParsedStatement
from parsers.registry import get_parser
from rules.loader import load_rules


@pytest.fixture(scope="session")
def bank_ctx() -> ParseContext:
    return ParseContext(channel="bank", rules=load_rules("bank"), zone=ZoneInfo("Asia/Shanghai"))


def parse(fmt: str, path: Path, **kw) -> ParsedStatement:
    ctx = ParseContext(channel="bank", rules=load_rules("bank"), source_name=path.name, **{"zone": ZoneInfo("Asia/Shanghai"), **kw})
    return get_parser(fmt).parse(path, ctx)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path
