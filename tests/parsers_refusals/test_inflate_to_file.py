"""A compressed statement is inflated to a temporary plain file, not into memory (issue 18, defect 11).

A gzip statement or a zip member is inflated a chunk at a time into a `.tmp-*` file beside it, the
statement size cap enforced while writing, and the parser reads that file by path as it reads an
uncompressed statement. What inflating costs is measured in a fresh process (peak RSS, reset after
imports), on a 128 MiB payload the parser refuses right after its root element, so what is measured
is the inflating: the old in-memory inflate held the whole payload (twice, while copying it out).
The temporary file is gone after a success, a refusal and an unexpected exception alike.
"""

from __future__ import annotations

import gzip
import json
import random
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from jobs.catalog import format_rule_set
from parsers.base import ParseContext
from parsers.payload import CHUNK, member_file, plain_statement
from parsers.registry import get_parser, parse_file
from recon.errors import StatementRejected
from recon.files import TEMP_PREFIX, sweep_temp

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_statements"
MiB = 1 << 20
INFLATED = 128 * MiB
PROBE = """
import json, sys
from pathlib import Path
from zoneinfo import ZoneInfo
import parsers.payload
from jobs.catalog import format_rule_set
from parsers.base import ParseContext
from parsers.registry import parse_file

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

fmt, src, cap = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
if cap:
    parsers.payload.MAX_STATEMENT_BYTES = cap  # a lower cap, so a refusal at the cap is quick to reach
ctx = ParseContext(channel="bank", rules=format_rule_set(fmt), zone=ZoneInfo("UTC"))
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset the peak: importing polars must not hide what parsing costs
base = status("VmRSS:")
error = None
try:
    parse_file(src, ctx, fmt)
except Exception as exc:
    error = f"{type(exc).__name__}: {exc}"
print(json.dumps({"growth": status("VmHWM:") - base, "error": error}))
"""


def _peak_resettable() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


needs_peak_reset = pytest.mark.skipif(not _peak_resettable(), reason="peak RSS cannot be reset on this system")


def _probe(fmt: str, src: Path, cap: int = 0) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, fmt, str(src), str(cap)], capture_output=True, text=True,
                          cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ctx(fmt: str, **kw) -> ParseContext:
    return ParseContext(channel="test", rules=format_rule_set(fmt), zone=ZoneInfo("Asia/Shanghai"), **kw)


def _gzip(src: Path, folder: Path) -> Path:
    out = folder / f"{src.name}.gz"
    with open(src, "rb") as fh, gzip.open(out, "wb") as gz:
        shutil.copyfileobj(fh, gz)
    return out


@pytest.fixture(scope="module")
def camt_bomb(tmp_path_factory) -> Path:
    """A 128 MiB camt document in a ~130 KiB gzip whose root names another message: refused at once."""
    path = tmp_path_factory.mktemp("bomb") / "statement.xml.gz"
    with gzip.open(path, "wb", compresslevel=9) as gz:
        gz.write(b'<?xml version="1.0" encoding="UTF-8"?>\n'
                 b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.099.001.02"><BkToCstmrStmt>')
        for _ in range(INFLATED // MiB):
            gz.write(b" " * MiB)
        gz.write(b"</BkToCstmrStmt></Document>\n")
    return path


@needs_peak_reset
def test_inflating_a_gzip_statement_costs_chunks_not_its_size(camt_bomb):
    assert camt_bomb.stat().st_size < 2 * MiB
    got = _probe("camt.053", camt_bomb)
    assert "is not a camt.053 Document" in got["error"]  # the whole payload was inflated, then refused
    assert got["growth"] < 16 * CHUNK  # 128 MiB came out; the old in-memory inflate grew by 256 MiB
    assert sorted(p.name for p in camt_bomb.parent.iterdir()) == [camt_bomb.name]  # no temp file left


@needs_peak_reset
def test_the_size_cap_is_enforced_while_inflating_to_disk(camt_bomb):
    got = _probe("camt.053", camt_bomb, cap=32 * MiB)
    assert got["error"].startswith("StatementRejected") and "statement size cap" in got["error"]
    assert got["growth"] < 16 * CHUNK  # the old inflate held the cap in memory before refusing
    assert sorted(p.name for p in camt_bomb.parent.iterdir()) == [camt_bomb.name]


@pytest.mark.parametrize("fmt, sample", [
    ("mt940", "bank/icbc_cny_20261120.mt940"),
    ("camt.053", "bank/abn_eur_2025-12-29_2026-01-04.camt053.xml"),
    ("wechatpay.trade", "wechat/wechat_20261120.csv"),  # the bill date comes from the file name
    ("wechatpay.fundflow", "wechat_fundflow/fundflow_1900000109_20261120.csv"),
    ("stripe.balance", "stripe/stripe_balance_2026-01-15.csv"),
    ("paypal.stl", "paypal/STL-20260115.01.009.CSV"),
    ("adyen.settlement", "adyen/settlement_detail_report_batch_101.csv"),
])
def test_a_gzip_statement_parses_as_its_plain_file_and_leaves_no_temp_file(tmp_path, fmt, sample):
    plain = tmp_path / "plain" / Path(sample).name
    plain.parent.mkdir()
    shutil.copy(SAMPLES / sample, plain)
    packed = _gzip(plain, tmp_path)
    ctx = _ctx(fmt, source_name=Path(sample).name)
    _, want = parse_file(plain, ctx, fmt)
    _, got = parse_file(packed, ctx, fmt)
    assert got.bill.equals(want.bill)
    assert (got.balances is None and want.balances is None) or got.balances.equals(want.balances)
    assert got.checks == want.checks and got.warnings == want.warnings
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["plain", packed.name])


def test_a_refused_gzip_statement_names_the_source_and_leaves_no_temp_file(tmp_path):
    packed = tmp_path / "wechat_20261120.csv.gz"
    with gzip.open(packed, "wb") as gz:
        gz.write(b"not a header\n" + b"x\n" * 1000)
    with pytest.raises(StatementRejected) as err:
        parse_file(packed, _ctx("wechatpay.trade"), "wechatpay.trade")
    assert TEMP_PREFIX not in str(err.value) and str(packed) in str(err.value)
    assert [p.name for p in tmp_path.iterdir()] == [packed.name]


def test_a_truncated_gzip_is_refused_and_leaves_no_temp_file(tmp_path):
    whole = tmp_path / "icbc_cny_20261120.mt940.gz"
    with gzip.open(whole, "wb") as gz:  # text that packs poorly, so its first bytes still inflate: the break is later
        gz.write((SAMPLES / "bank/icbc_cny_20261120.mt940").read_bytes())
        rng = random.Random(7)
        gz.write("".join(f":86:{rng.getrandbits(128):032x}\n" for _ in range(20000)).encode())
    data = whole.read_bytes()
    whole.write_bytes(data[: len(data) // 2])
    with pytest.raises(StatementRejected, match="gzip stream is damaged or truncated"):
        parse_file(whole, _ctx("mt940"), "mt940")
    assert [p.name for p in tmp_path.iterdir()] == [whole.name]


@pytest.mark.parametrize("cut", [12, 40])
def test_a_gzip_damaged_in_its_first_bytes_is_refused_as_gzip_not_as_a_nul_byte(tmp_path, cut):
    """Compressed bytes hold NULs; a gzip that will not inflate even at its start used to be read as
    text and refused for a "NUL byte", which sent people looking for a binary file instead of a bad
    download."""
    whole = tmp_path / "icbc_cny_20261120.mt940.gz"
    with gzip.open(whole, "wb") as gz:
        gz.write((SAMPLES / "bank/icbc_cny_20261120.mt940").read_bytes())
    data = bytearray(whole.read_bytes())
    data[cut:cut + 16] = b"\x00\xff" * 8  # the deflate stream broken right after the header
    whole.write_bytes(bytes(data))
    with pytest.raises(StatementRejected, match="gzip stream is damaged or truncated") as err:
        parse_file(whole, _ctx("mt940"), "mt940")
    assert "NUL byte" not in str(err.value) and str(whole) in str(err.value)
    assert [p.name for p in tmp_path.iterdir()] == [whole.name]


def test_an_unexpected_exception_in_the_parser_leaves_no_temp_file(tmp_path, monkeypatch):
    packed = _gzip(SAMPLES / "bank/icbc_cny_20261120.mt940", tmp_path)
    seen = []

    def boom(self, path, ctx):
        seen.append((path, path.read_bytes()[:4], ctx.source_name))
        raise RuntimeError("parser bug")

    monkeypatch.setattr(type(get_parser("mt940")), "parse", boom)
    with pytest.raises(RuntimeError, match="parser bug"):
        parse_file(packed, _ctx("mt940"), "mt940")
    (path, head, name), = seen
    assert path.name.startswith(f"{TEMP_PREFIX}{packed.name}.") and path.parent == tmp_path  # swept after a crash
    assert head == (SAMPLES / "bank/icbc_cny_20261120.mt940").read_bytes()[:4]  # the parser read the plain bytes
    assert name == str(packed)  # messages still name the statement, not the temp file
    assert [p.name for p in tmp_path.iterdir()] == [packed.name]


def test_a_zip_member_is_inflated_under_its_limit_and_removed(tmp_path):
    archive = tmp_path / "bill.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("bill.csv", "w") as fh:
        for _ in range(8):
            fh.write(b"0" * MiB)
    with member_file(archive, "bill.csv", limit=16 * MiB) as plain:
        assert plain.stat().st_size == 8 * MiB and plain.parent == tmp_path
    with pytest.raises(StatementRejected, match="inflates to"), member_file(archive, "bill.csv", limit=4 * MiB):
        pass
    assert [p.name for p in tmp_path.iterdir()] == [archive.name]


@pytest.mark.parametrize("fmt, sample", [
    ("alipay.trade", "alipay/20880211096256330156_20240301.csv.zip"),
    ("unionpay.zm", "unionpay/802310048993424_20240301.zip"),
    ("camt.053", None),
])
def test_zip_statements_leave_no_temp_file(tmp_path, fmt, sample):
    if sample is None:  # camt: a zip of documents, each streamed from its inflated file
        path = tmp_path / "camt.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(SAMPLES / "bank/abn_eur_2025-12-29_2026-01-04.camt053.xml", "a.xml")
    else:
        path = tmp_path / Path(sample).name
        shutil.copy(SAMPLES / sample, path)
    try:
        parse_file(path, _ctx(fmt, bill_date=None), fmt)
    except StatementRejected:
        pass  # a sample may fail its own checks under these rules; the temp files must go either way
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_temp_file_left_by_a_crash_is_swept(tmp_path):
    packed = _gzip(SAMPLES / "bank/icbc_cny_20261120.mt940", tmp_path)
    with plain_statement(packed) as plain:
        left = tmp_path / plain.name
        shutil.copy(plain, left.with_name(left.name + "x"))  # what a killed process would leave
    assert sweep_temp(tmp_path) == [left.with_name(left.name + "x")]
    assert [p.name for p in tmp_path.iterdir()] == [packed.name]


def test_parse_context_is_left_alone_for_a_plain_statement(tmp_path, monkeypatch):
    plain = tmp_path / "icbc_cny_20261120.mt940"
    shutil.copy(SAMPLES / "bank/icbc_cny_20261120.mt940", plain)
    seen = []
    parser = type(get_parser("mt940"))
    real = parser.parse
    monkeypatch.setattr(parser, "parse", lambda self, path, ctx: seen.append((path, ctx)) or real(self, path, ctx))
    ctx = _ctx("mt940")
    parse_file(plain, ctx, "mt940")
    assert seen == [(plain, ctx)]
