"""Benchmark: Alipay 业务明细 and WeChat Pay fund-flow parsers on 1,000,000-line bills.

Each parser is timed against a bare `polars.read_csv` of the same file in the same run (all columns
as strings, the `#`/summary lines skipped, the same encoding), so the ratio says what our checks
cost over just reading the table. Goal: within 2x. Peak memory is the process's max RSS (Linux
reports KiB), read after each step. Run: `.venv/bin/python benchmarks/bench_parsers_cn.py [LINES]`.
"""

from __future__ import annotations

import datetime as dt
import io
import resource
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from parsers.alipay import AlipayTradeParser
from parsers.base import ParseContext
from parsers.synth_cn import write_alipay_trade, write_wechat_fundflow
from parsers.wechatpay_fundflow import WeChatPayFundflowParser
from rules.loader import load_rules

DAY = dt.date(2024, 3, 1)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def baseline_alipay(path: Path) -> pl.DataFrame:
    # polars decodes non-UTF-8 input in Python (FAULTS A1), exactly as the parser must.
    return pl.read_csv(path, encoding="gb18030", skip_rows=4, comment_prefix="#", infer_schema=False, quote_char=None)


def baseline_fundflow(path: Path, lines: int) -> pl.DataFrame:
    return pl.read_csv(path, n_rows=lines, infer_schema=False, quote_char=None)


def run(lines: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cases = []
        alipay = Path(tmp) / "alipay_业务明细.csv"
        with open(alipay, "wb") as fh:
            write_alipay_trade(fh, lines, DAY)
        cases.append(("alipay.trade", alipay, AlipayTradeParser(), "alipay", lambda p: baseline_alipay(p)))
        fundflow = Path(tmp) / "fundflow.csv"
        with open(fundflow, "wb") as fh:
            write_wechat_fundflow(fh, lines, DAY)
        cases.append(("wechatpay.fundflow", fundflow, WeChatPayFundflowParser(), "wechatpay_fundflow", lambda p: baseline_fundflow(p, lines)))
        print(f"{'format':<20} {'MiB':>7} {'rows':>9} {'read_csv s':>10} {'parser s':>9} {'lines/s':>11} {'ratio':>6} {'maxRSS MiB':>10}")
        for fid, path, parser, rules, base in cases:
            ctx = ParseContext(channel=fid, rules=load_rules(rules), bill_date=DAY)
            frame, t_base = timed(lambda: base(path))
            del frame
            parsed, t_parse = timed(lambda: parser.parse(path, ctx))
            assert parsed.bill.height == lines, parsed.bill.height
            size = path.stat().st_size / 2**20
            print(f"{fid:<20} {size:7.1f} {lines:9d} {t_base:10.2f} {t_parse:9.2f} {lines / t_parse:11,.0f} {t_parse / t_base:6.2f} {rss_mib():10.0f}")
            del parsed


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
