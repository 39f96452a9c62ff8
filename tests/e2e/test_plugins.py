"""A third-party package adds a bank format and a fetcher, and recon uses them like its own.

The package below is written to a temporary folder with its `*.dist-info/entry_points.txt`, the
way pip would install it, and put on PYTHONPATH of a `recon` subprocess; nothing in the installed
venv is touched. The format says it is a bank statement (`kind = "bank"`), so its channel takes part
in layer 3 exactly as MT940 would: its closing balance is checked against our book position, and
layer 1 leaves it alone. Its statement arrives through the plugin's own transport.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl

DAY = "2024-05-06"  # a Monday: a business day in the built-in calendar

PLUGIN = '''
"""tinybank: a made-up bank's CSV statement and the pigeon that brings it."""
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

from jobs.transports.base import Availability, Discovery, Downloaded, RemoteFile
from parsers.balances import Balance, BalanceType, Entry, balances_frame, bill_frame, check_balance, entries_sum
from parsers.base import ParsedStatement
from recon.files import sha256_file


class TinyBankParser:
    format_id = "tinybank.csv"
    description = "TinyBank account statement (a test plugin)"
    kind = "bank"
    rule_family = "bank"

    def identify(self, sample):
        return sample.head.startswith(b"TINYBANK")

    def parse(self, path, ctx):
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        _, account, currency, day, opening, closing = lines[0].split(",")
        day = dt.date.fromisoformat(day)
        entries = [Entry("S1", account, currency, day, Decimal(amount), "PAYMENT", ref, n)
                   for n, (ref, amount) in enumerate((l.split(",") for l in lines[1:]), start=2)]
        name = ctx.source_name or str(path)
        check = check_balance(name, 1, "S1", currency, Decimal(opening), entries_sum(entries), Decimal(closing))
        balances = [Balance(account, currency, "S1", day, BalanceType.OPENING, Decimal(opening), 1),
                    Balance(account, currency, "S1", day, BalanceType.CLOSING, Decimal(closing), 1)]
        return ParsedStatement(
            bill=bill_frame(entries, channel=ctx.channel, source_file=name, bill_date=ctx.bill_date,
                            statement_dates={"S1": day}),
            balances=balances_frame(balances, channel=ctx.channel, source_file=name), checks=(check,))


class Pigeon:
    """Brings the file named by the `loft` option (the plugin's own key) from a folder."""

    def __init__(self, options):
        self.loft = Path(options.plugin_options["loft"])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def discover(self, date):
        path = self.loft / f"tiny_{date:%Y%m%d}.csv"
        if not path.exists():
            return Discovery(Availability.NOT_READY, detail=f"no pigeon yet for {date}")
        return Discovery(Availability.READY, files=(RemoteFile(name=path.name, source=f"pigeon:{path.name}",
                                                               size=path.stat().st_size, handle=path),))

    def download(self, remote, dest):
        shutil.copyfile(remote.handle, dest)
        return Downloaded(dest, dest.stat().st_size, sha256_file(dest))
'''

ENTRY_POINTS = """\
[recon.parsers]
tinybank.csv = tinybank:TinyBankParser

[recon.fetchers]
pigeon = tinybank:Pigeon
"""


def _install_plugin(site: Path) -> None:
    info = site / "tinybank-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "tinybank.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tinybank\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")


def _workspace(root: Path, loft: Path) -> None:
    root.mkdir()
    (root / "rules").mkdir()
    (root / "recon.toml").write_text(f"""
[defaults]
timezone = "Europe/Amsterdam"

[channels.tiny]
format = "tinybank.csv"
account = "NL91TINY0417164300"

[channels.tiny.fetch]
transport = "pigeon"
loft = "{loft}"
""", encoding="utf-8")
    # our books say 1,250.00 at the bank at the end of the day; the statement will say 1,200.00
    (root / "books.csv").write_text(f"date,account,currency,balance\n{DAY},NL91TINY0417164300,EUR,1250.00\n",
                                    encoding="utf-8")
    (root / "rules" / "settlement.toml").write_text('[books]\npath = "books.csv"\n', encoding="utf-8")


def _recon(site: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    exe = Path(sys.executable).with_name("recon")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env)


def test_a_third_party_bank_format_and_fetcher_take_part_like_built_ins(tmp_path):
    site, loft, ws = tmp_path / "site", tmp_path / "loft", tmp_path / "ws"
    _install_plugin(site)
    loft.mkdir()
    (loft / "tiny_20240506.csv").write_text(
        "TINYBANK,NL91TINY0417164300,EUR,2024-05-06,1000.00,1200.00\nPAYOUT-7,150.00\nPAYOUT-8,50.00\n",
        encoding="utf-8")
    _workspace(ws, loft)

    listed = _recon(site, "parse", "--list-formats", "--json")
    assert {"format": "tinybank.csv", "description": "TinyBank account statement (a test plugin)"} in json.loads(listed.stdout)
    done = _recon(site, "run", "--date", DAY, "--workspace", str(ws), "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr

    # fetched by the plugin's transport, parsed by the plugin's parser, checked against itself
    assert (ws / "raw" / "tiny" / DAY / "tiny_20240506.csv").exists()
    assert pl.read_parquet(ws / "bills" / "tiny" / f"{DAY}.balances.parquet").height == 2
    # a bank: nothing of it is matched line by line in layer 1...
    assert pl.read_parquet(ws / "results" / DAY / "layer1.parquet").height == 0
    # ...and layer 3 compares its closing balance with our books, as it would an MT940's
    cash = pl.read_parquet(ws / "results" / DAY / "layer3.parquet").filter(pl.col("section") == "cash")
    assert cash.select("kind", "account").rows() == [("CASH_MISMATCH", "NL91TINY0417164300")]
