"""The core import's column-speed reader gives exactly `read_file`'s frame, and leaves every file it
cannot vouch for — and so every refusal and its message — to `read_file`."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recon.core import import_read
from recon.core.import_read import read_internal
from recon.errors import StageFailed
from recon.internal import read_file

HEADER = ("txn_id,merchant_id,merchant_order_no,channel,merchant_txn_id,channel_txn_id,record_type,"
          "merchant_refund_id,original_txn_id,trade_time,currency,amount,fee,status\n")
ROWS = [
    "P1,m1,o1,wechat,S1,W1,PAYMENT,,,2024-03-01T10:00:00+08:00,CNY,100.00,0.60,SUCCESS",
    "P2,m1,o2,wechat,S2,W2,PAYMENT,,,2024-03-01T23:59:59.123456-05:30,JPY,100,,FAILED",
    "P3,m2,=o3,wechat,S3,,PAYMENT,,,2024-02-29T00:00:00+00:00,KWD,0.125,0,UNKNOWN",
    "R1,m1,o1,wechat,S1,W1,REFUND,RF1,P1,2024-03-01T12:00:00+08:00,CNY,-30.5,0,SUCCESS",
    "F1,m1,,wechat,S9,,FEE,,,2024-03-01T12:00:00+08:00,CNY,-0.00,0,SUCCESS",
]


def _write(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "in.csv"
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_plain_file_reads_column_wise_to_the_same_frame(tmp_path, monkeypatch):
    path = _write(tmp_path, ROWS)
    monkeypatch.setattr(import_read, "read_file", lambda p: pytest.fail("fell back to the row reader"))
    assert read_internal(path).equals(read_file(path))


ODD_CELLS = [
    ("merchant_order_no", " o1"), ("merchant_order_no", "o\u200b1"), ("merchant_order_no", "'=o1"),
    ("amount", "100.001"), ("amount", "1e3"), ("amount", "-100.00"), ("amount", "007.00"), ("amount", "100."),
    ("fee", "0.1234567"), ("trade_time", "2024-03-01T10:00:00Z"), ("trade_time", "2024-02-30T10:00:00+08:00"),
    ("trade_time", "2024-03-01 10:00:00"), ("currency", "cny"), ("status", "OK"), ("record_type", "SALE"),
    ("txn_id", ""), ("channel_txn_id", '""'),
]


@pytest.mark.parametrize("column, value", ODD_CELLS)
def test_any_odd_cell_leaves_the_file_to_the_row_reader(tmp_path, column, value):
    cells = dict(zip(HEADER.strip().split(","), ROWS[0].split(",")))
    cells[column] = value
    path = _write(tmp_path, [ROWS[3], ",".join(cells.values())])
    try:
        expected = read_file(path)
    except StageFailed as exc:
        with pytest.raises(StageFailed) as got:
            read_internal(path)
        assert str(got.value) == str(exc) and f"{path}:3" in str(exc)
    else:
        assert read_internal(path).equals(expected)


ascii_id = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=",\"'"), min_size=1,
                   max_size=6)
amount = st.decimals(min_value=0, max_value=10**9, places=2).map(lambda d: f"{d:f}")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=50)
@given(st.lists(st.tuples(ascii_id, ascii_id, amount, st.sampled_from(["SUCCESS", "FAILED", "UNKNOWN"]),
                          st.integers(0, 59)), min_size=1, max_size=10))
def test_generated_files_read_the_same_both_ways(tmp_path, rows):
    lines = [f"T{i},{m},{o},ch,S{i},,PAYMENT,,,2024-03-01T10:{s:02d}:00+08:00,CNY,{a},0,{st_}"
             for i, (m, o, a, st_, s) in enumerate(rows)]
    path = _write(tmp_path, lines)
    assert read_internal(path).equals(read_file(path))
