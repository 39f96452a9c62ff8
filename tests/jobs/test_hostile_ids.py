"""A merchant id with `#`, `/` and quotes goes through every stage, re-clearing included (issue 18,
defect 7): a real `recon run`, a correction of our records, `recon rerun`, and a retry."""

from __future__ import annotations

import csv
import sqlite3

from recon.clearing.output import detail_name
from tests.jobs.conftest import DAYS, make_workspace, recon

MERCHANT = "M#1/\"q'"


def test_a_hostile_merchant_id_runs_and_re_clears(tmp_path):
    ws = make_workspace(tmp_path / "ws", days=DAYS[:1])
    internal = ws / "internal" / f"wechat_{DAYS[0]}.csv"
    text = internal.read_text(encoding="utf-8").replace(",M1001,", ',"M#1/""q\'",')
    internal.write_text(text, encoding="utf-8")

    first = recon(ws, "run", "--date", DAYS[0], "--quiet")
    assert first.returncode == 0, first.stdout + first.stderr
    internal.write_text(text.replace("116.72", "117.72"), encoding="utf-8")  # our records are corrected
    again = recon(ws, "rerun", "--date", DAYS[0], "--quiet")
    assert again.returncode == 0, again.stdout + again.stderr
    retry = recon(ws, "run", "--date", DAYS[0], "--quiet")
    assert retry.returncode == 0, retry.stdout + retry.stderr

    day = ws / "clearing" / DAYS[0]
    assert (day / detail_name(MERCHANT)).is_file()
    with open(day / "settlements.csv", encoding="utf-8") as fh:
        assert MERCHANT in {r["merchant_id"] for r in csv.DictReader(fh)}
    with sqlite3.connect(ws / "recon.db") as db:
        keys = [k for (k,) in db.execute("SELECT entry_key FROM core_entry WHERE entry_key LIKE 'CLEAR:%'")]
        states = {s for (s,) in db.execute("SELECT state FROM stage_runs")}
    ours = sorted(k for k in keys if MERCHANT in k)
    assert ours == [f"CLEAR:{DAYS[0]}:{MERCHANT}:CNY:wechat", f"CLEAR:{DAYS[0]}:{MERCHANT}:CNY:wechat#2"]
    assert "RUNNING" not in states
