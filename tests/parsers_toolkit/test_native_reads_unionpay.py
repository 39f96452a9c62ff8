"""UnionPay's column-wise read is an optimisation only: damaged ZM and ZME files give the same
complete refusal (every problem, in order, and the count) or the same bill either way (#19).

Hypothesis overwrites bytes in the records (lengths kept, so most damage reaches the field rules)
and inserts or deletes a few (so records are cut or shifted, which only the record-by-record reader
can name); each file is parsed natively and with the column-wise read switched off.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from pathlib import Path
from unittest import mock

import polars as pl
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st

from parsers.unionpay import UnionPayZmeParser, UnionPayZmParser, _UnionPayParser
from parsers.unionpay_layout import ZM, ZME, Layout
from recon.errors import StatementRejected
from tests.parsers_cn.cn_helpers import ctx
from tests.parsers_cn.test_unionpay import _zme_line
from tests.synth.cn import write_unionpay_zm

from .budget import parser_settings

FAST = parser_settings(150, suppress_health_check=[HealthCheck.too_slow])
_buf = io.BytesIO()
write_unionpay_zm(_buf, 8, dt.date(2024, 3, 1))
ZM_BILL = _buf.getvalue()
ZME_BILL = b"".join(_zme_line(f"1906{i:02d}", "D000000009940", "C000000000060") for i in range(4))
PATCHES = [b"0", b"9", b"C", b"D", b" ", b"E", b"e+1", b"\xff", "中".encode("gb18030"), "０".encode("gb18030"), b"\r",
           b"1231235960", b"0329023000", b"x"]


def _outcome(parser, data: bytes, name: str) -> tuple:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            parsed = parser.parse(path, ctx("unionpay"))
        except StatementRejected as exc:
            return ("rejected", exc.problem_count, tuple((p.code, p.line, p.message) for p in exc.problems))
        bill = parsed.bill.with_columns(pl.col("source_file").str.replace(tmp, "", literal=True))
        return ("parsed", bill.rows(), parsed.checks)


@st.composite
def damaged(draw, bill: bytes, layout: Layout, used: tuple[str, ...]) -> bytes:
    """Edits anywhere, or (half of them) inside a field the parser reads, where they matter most."""
    data = bytearray(bill)
    stride = layout.length + 2
    spans = [(start, end) for field, start, end in layout.spans() if field in used]
    for _ in range(draw(st.integers(1, 5))):
        if draw(st.booleans()):
            start, end = draw(st.sampled_from(spans))
            at = draw(st.integers(0, len(bill) // stride - 1)) * stride + draw(st.integers(start, end - 1))
        else:
            at = draw(st.integers(0, len(data) - 1))
        at = min(at, len(data) - 1)
        patch = draw(st.sampled_from(PATCHES))
        how = draw(st.sampled_from(["overwrite", "overwrite", "overwrite", "insert", "delete"]))
        if how == "overwrite":
            data[at : at + len(patch)] = patch[: len(data) - at]
        elif how == "insert":
            data[at:at] = patch
        else:
            del data[at : at + len(patch)]
    return bytes(data)


def _same_both_ways(parser, data: bytes, name: str) -> None:
    native = _outcome(parser, data, name)
    with mock.patch.object(_UnionPayParser, "_native", lambda *args: None):
        by_records = _outcome(parser, data, name)
    assert native == by_records


@FAST
@example(ZM_BILL.replace(b"C0000", b"X0000", 3))
@example(ZM_BILL.replace(b"10078001 ", b"10078001\r", 1))
@given(damaged(ZM_BILL, ZM, UnionPayZmParser.used))
def test_zm_both_readers_list_the_same_problems(data):
    _same_both_ways(UnionPayZmParser(), data, "INN24030188ZM_802310048993424")


@FAST
@given(damaged(ZME_BILL, ZME, UnionPayZmeParser.used))
def test_zme_both_readers_list_the_same_problems(data):
    _same_both_ways(UnionPayZmeParser(), data, "INN24030188ZME_802310048993424")
