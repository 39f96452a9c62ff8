"""`recon match --dry-run --rules FILE --since D1 --until D2`: a rule change previewed over stored days.

A real workspace is matched day by day through the CLI (as cron would), then a candidate rule file
is tried over the range: the transitions must appear on the days the change affects and nowhere
else, the totals must be the sum of the days, days without stored inputs are listed as skipped, and
the workspace tree is byte for byte what it was (results, queue store, logs, temp folders).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.test_queue_days import CONFIG, at, pay, recon, runner, write_day
from cli import app

MON, TUE, WED, THU, FRI = (dt.date(2024, 5, 6) + dt.timedelta(days=n) for n in range(5))
LOOSE = 'name = "loose"\n[match]\namount_tolerance = "1.00"\n'


def tree(root: Path) -> dict[str, str]:
    """Every file and folder under `root`: relative path -> sha256 of its bytes ('dir' for folders)."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        found[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def off_by(pair: tuple[dict, dict], theirs: str) -> tuple[dict, dict]:
    """A payment the channel billed at another amount."""
    ours, line = pair
    return ours, {**line, "amount": Decimal(theirs), "net_amount": Decimal(theirs)}


def what_if(root: Path, *args: str, code: int = 0):
    result = runner.invoke(app, ["match", "--dry-run", *args, "--workspace", str(root)])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    """Mon-Wed matched and stored; Thu has its inputs but was never matched; Fri has nothing."""
    (tmp_path / "recon.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "loose.toml").write_text(LOOSE, encoding="utf-8")
    # Monday: one bill line 0.50 short (a tolerance of 1.00 absorbs it), one clean payment
    write_day(tmp_path, MON, *zip(off_by(pay(1, "100.00", at(MON, 10, 0)), "99.50"), pay(2, "20.00", at(MON, 11, 0))))
    # Tuesday: clean; nothing a tolerance changes
    write_day(tmp_path, TUE, *zip(pay(3, "30.00", at(TUE, 10, 0)), pay(4, "40.00", at(TUE, 11, 0))))
    # Wednesday: 0.30 over and 0.70 short (absorbed), 5.00 short (not)
    write_day(tmp_path, WED, *zip(off_by(pay(5, "50.00", at(WED, 9, 0)), "50.30"),
                                  off_by(pay(6, "60.00", at(WED, 10, 0)), "59.30"),
                                  off_by(pay(7, "70.00", at(WED, 11, 0)), "65.00")))
    for day in (MON, TUE, WED):
        recon(tmp_path, "match", "--date", str(day), "-q")
    write_day(tmp_path, THU, *zip(pay(8, "80.00", at(THU, 10, 0))))
    return tmp_path


def test_a_tolerance_moves_the_days_it_affects_and_no_others(root: Path):
    before = tree(root)
    doc = json.loads(what_if(root, "--rules", str(root / "loose.toml"), "--since", str(MON), "--until", str(FRI),
                             "--json").stdout)
    assert tree(root) == before  # nothing written: results, queue store, logs, temp folders

    days = {d["business_date"]: d for d in doc["days"]}
    assert list(days) == [str(MON), str(TUE), str(WED)]

    def moves(day: dt.date) -> list[tuple]:
        [wx] = days[str(day)]["channels"]
        assert wx["channel"] == "wx"
        return [(t["side"], t["before"], t["after"], t["rows"], t["amounts"]) for t in wx["transitions"]]

    assert moves(MON) == [("ours", "AMOUNT_MISMATCH", "MATCHED", 1, {"CNY": "100.00"}),
                          ("theirs", "AMOUNT_MISMATCH", "MATCHED", 1, {"CNY": "99.50"})]
    assert moves(TUE) == [] and days[str(TUE)]["rows_changed"] == 0
    assert moves(WED) == [("ours", "AMOUNT_MISMATCH", "MATCHED", 2, {"CNY": "110.00"}),
                          ("theirs", "AMOUNT_MISMATCH", "MATCHED", 2, {"CNY": "109.60"})]
    # per outcome, stored vs would be: Wednesday's 5.00 stays a mismatch
    [wed] = days[str(WED)]["channels"]
    assert {c["outcome"]: (c["stored"], c["new"]) for c in wed["counts"]} == {
        "AMOUNT_MISMATCH": (3, 1), "MATCHED": (0, 2)}

    totals = doc["totals"]
    assert totals["transitions"] == [
        {"channel": "wx", "side": "ours", "before": "AMOUNT_MISMATCH", "after": "MATCHED", "rows": 3,
         "amounts": {"CNY": "210.00"}},
        {"channel": "wx", "side": "theirs", "before": "AMOUNT_MISMATCH", "after": "MATCHED", "rows": 3,
         "amounts": {"CNY": "209.10"}}]
    assert totals["rows_changed"] == sum(d["rows_changed"] for d in doc["days"]) == 6
    assert (totals["days_compared"], totals["days_changed"]) == (3, 2)
    assert doc["skipped"] == [
        {"business_date": str(THU), "channel": None, "reason": f"no stored results (results/{THU}/layer1.parquet): "
                                                               "the day was never matched"},
        {"business_date": str(FRI), "channel": None, "reason": f"no stored results (results/{FRI}/layer1.parquet): "
                                                               "the day was never matched"}]
    assert (doc["dry_run"], doc["since"], doc["until"], doc["channels"]) == (True, str(MON), str(FRI), ["wx"])
    assert doc["rules"].endswith("loose.toml")


def test_the_table_shows_each_day_the_totals_and_the_skipped_days(root: Path):
    before = tree(root)
    out = what_if(root, "--rules", str(root / "loose.toml"), "--since", str(MON), "--until", str(THU)).stdout
    print(out)  # the report of issue 23 quotes this output
    assert tree(root) == before
    lines = out.splitlines()
    assert any(str(MON) in line and "ours" in line and "AMOUNT_MISMATCH" in line and "MATCHED" in line
               and "100.00 CNY" in line for line in lines)
    assert any(str(TUE) in line and "no change" in line for line in lines)
    assert any("theirs" in line and "AMOUNT_MISMATCH" in line and " 3 " in line and "209.10 CNY" in line
               for line in lines)
    assert "total over 3 day(s) compared, 2 with changes" in out
    assert f"skipped {THU}: no stored results (results/{THU}/layer1.parquet)" in out
    # a range reaching past the stored days: one line for the run of days skipped for one reason
    longer = what_if(root, "--rules", str(root / "loose.toml"), "--since", str(MON), "--until", "2024-05-20").stdout
    assert f"skipped {THU}..2024-05-20: no stored results (results/<D>/layer1.parquet)" in longer
    assert what_if(root, "--since", str(MON), "--until", str(THU), "--quiet").stdout == ""
    assert tree(root) == before


def test_the_rules_in_force_change_nothing_and_a_channel_day_without_its_bill_is_skipped(root: Path):
    (root / "bills" / "wx" / f"{TUE}.parquet").unlink()  # Tuesday's parsed bill gone; its results stay
    shutil.rmtree(root / "logs")  # a preview creates no log files either
    before = tree(root)
    doc = json.loads(what_if(root, "--since", str(MON), "--until", str(WED), "--channel", "wx", "--json").stdout)
    assert tree(root) == before
    assert [d["business_date"] for d in doc["days"]] == [str(MON), str(WED)]
    assert doc["totals"]["transitions"] == [] and doc["totals"]["rows_changed"] == 0
    assert doc["skipped"] == [{"business_date": str(TUE), "channel": "wx",
                               "reason": f"no parsed bill (bills/wx/{TUE}.parquet)"}]


def test_a_changed_pending_rule_is_carried_from_the_what_if_day_before_not_the_stored_one(tmp_path: Path):
    """Stored with pending_days = 0, previewed with 1: Monday's late payment would wait, and Tuesday
    would close it against the channel's line (carried from Monday's what-if, not its stored rows)."""
    (tmp_path / "recon.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "wechatpay.toml").write_text("[match]\npending_days = 0\n", encoding="utf-8")
    (tmp_path / "patient.toml").write_text('name = "patient"\n[match]\npending_days = 1\n', encoding="utf-8")
    late, early = pay(1, "250.00", at(MON, 23, 59, 58)), pay(2, "10.00", at(MON, 10, 0))
    write_day(tmp_path, MON, [late[0], early[0]], [early[1]])
    write_day(tmp_path, TUE, [], [{**late[1], "trade_time": at(TUE, 0, 0, 3)}])
    for day in (MON, TUE):
        recon(tmp_path, "match", "--date", str(day), "-q")
    before = tree(tmp_path)
    doc = json.loads(what_if(tmp_path, "--rules", str(tmp_path / "patient.toml"), "--since", str(MON),
                             "--until", str(TUE), "--json").stdout)
    assert tree(tmp_path) == before
    moves = {d["business_date"]: [(t["side"], t["before"], t["after"], t["rows"])
                                  for c in d["channels"] for t in c["transitions"]] for d in doc["days"]}
    assert moves[str(MON)] == [("ours", "LOCAL_ONLY", "PENDING", 1)]
    assert moves[str(TUE)] == [("ours", None, "AUTO_RESOLVED", 1), ("theirs", "CHANNEL_ONLY", "AUTO_RESOLVED", 1)]


def test_refusals_exit_with_the_config_code_and_write_nothing(root: Path):
    (root / "bad.toml").write_text('name = "bad"\n[match]\namount_tolerence = "1"\n', encoding="utf-8")
    negative = root / "negative.toml"
    negative.write_text('name = "neg"\n[match]\namount_tolerance = "-1"\n', encoding="utf-8")
    before = tree(root)  # the rule files are in place; from here nothing may change
    bad = what_if(root, "--rules", str(root / "bad.toml"), "--since", str(MON), "--until", str(WED), code=2)
    assert "bad.toml: match.amount_tolerence: unknown key" in bad.stderr
    assert "cannot be negative" in what_if(root, "--rules", str(negative), "--since", str(MON), code=2).stderr
    backwards = what_if(root, "--since", str(WED), "--until", str(MON), code=2)
    assert "before --since" in backwards.stderr
    for_real = runner.invoke(app, ["match", "--since", str(MON), "--until", str(WED), "--workspace", str(root)])
    assert for_real.exit_code == 2
    assert "only previews a range" in for_real.stderr and "recon rerun --since" in for_real.stderr
    alone = runner.invoke(app, ["match", "--until", str(WED), "--dry-run", "-w", str(root)])
    assert alone.exit_code == 2 and "give its first day with --since" in alone.stderr
    both = runner.invoke(app, ["match", "--date", str(MON), "--since", str(MON), "--dry-run", "-w", str(root)])
    assert both.exit_code == 2 and "exclude each other" in both.stderr
    unknown = what_if(root, "--since", str(MON), "--channel", "nope", code=2)
    assert "nope" in unknown.stderr
    assert tree(root) == before


def test_a_group_counts_our_order_once_and_its_lines_each(tmp_path: Path):
    """A 1:N group repeats our order on each of its lines (money on the anchor only): the what-if
    counts that order as one row of 100.00, and the channel's two lines as two rows."""
    (tmp_path / "recon.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "wechatpay.toml").write_text('[match]\ngroup_key = "merchant_txn_id"\n')
    (tmp_path / "loose.toml").write_text('name = "loose"\n[match]\ngroup_key = "merchant_txn_id"\n'
                                         'amount_tolerance = "1.00"\n', encoding="utf-8")
    ours, line_a = pay(1, "100.00", at(MON, 10, 0), mtx="M-A1")
    _, line_b = pay(2, "39.50", at(MON, 10, 0), mtx="M-A1")
    line_a = {**line_a, "amount": Decimal("60.00"), "net_amount": Decimal("60.00")}
    write_day(tmp_path, MON, [ours], [line_a, line_b])
    recon(tmp_path, "match", "--date", str(MON), "-q")
    before = tree(tmp_path)
    doc = json.loads(what_if(tmp_path, "--rules", str(tmp_path / "loose.toml"), "--since", str(MON),
                             "--until", str(MON), "--json").stdout)
    assert tree(tmp_path) == before
    [day] = doc["days"]
    [wx] = day["channels"]
    assert [(t["side"], t["before"], t["after"], t["rows"], t["amounts"]) for t in wx["transitions"]] == [
        ("ours", "AMOUNT_MISMATCH", "MATCHED", 1, {"CNY": "100.00"}),
        ("theirs", "AMOUNT_MISMATCH", "MATCHED", 2, {"CNY": "99.50"})]


TWO = CONFIG + """
[channels.wx2]
format = "wechatpay.trade"
account = "1900000110"

[channels.wx2.internal]
source = "file"
path = "internal/wx2-{date:%Y-%m-%d}.csv"
"""


def test_two_channels_each_compared_and_skipped_on_its_own_and_channel_narrows(tmp_path: Path):
    (tmp_path / "recon.toml").write_text(TWO, encoding="utf-8")
    (tmp_path / "loose.toml").write_text(LOOSE, encoding="utf-8")
    for day in (MON, TUE):
        write_day(tmp_path, day, *zip(off_by(pay(day.day, "10.00", at(day, 10, 0)), "10.40")))
        ours, line = off_by(pay(day.day + 50, "20.00", at(day, 10, 0)), "19.00" if day == MON else "20.00")
        second = tmp_path / "second"
        write_day(second, day, [{**ours, "channel": "wx2"}], [{**line, "channel": "wx2", "account": "1900000110"}])
        (tmp_path / "bills" / "wx2").mkdir(parents=True, exist_ok=True)
        (second / "bills" / "wx" / f"{day}.parquet").rename(tmp_path / "bills" / "wx2" / f"{day}.parquet")
        (second / "internal" / f"{day}.csv").rename(tmp_path / "internal" / f"wx2-{day}.csv")
        recon(tmp_path, "match", "--date", str(day), "-q")
    shutil.rmtree(tmp_path / "second")
    (tmp_path / "internal" / f"wx2-{TUE}.csv").unlink()  # our wx2 export of Tuesday is gone
    before = tree(tmp_path)
    doc = json.loads(what_if(tmp_path, "--rules", str(tmp_path / "loose.toml"), "--since", str(MON),
                             "--until", str(TUE), "--json").stdout)
    assert tree(tmp_path) == before
    assert doc["channels"] == ["wx", "wx2"]
    got = {(d["business_date"], c["channel"]): [(t["side"], t["before"], t["after"], t["rows"])
                                                for t in c["transitions"]]
           for d in doc["days"] for c in d["channels"]}
    mismatch_gone = [("ours", "AMOUNT_MISMATCH", "MATCHED", 1), ("theirs", "AMOUNT_MISMATCH", "MATCHED", 1)]
    assert got == {(str(MON), "wx"): mismatch_gone, (str(MON), "wx2"): mismatch_gone,  # 0.40 and 1.00: absorbed
                   (str(TUE), "wx"): mismatch_gone}
    assert doc["skipped"] == [{"business_date": str(TUE), "channel": "wx2",
                               "reason": f"no internal export (internal/wx2-{TUE}.csv)"}]
    assert [(t["channel"], t["side"], t["rows"]) for t in doc["totals"]["transitions"]] == [
        ("wx", "ours", 2), ("wx", "theirs", 2), ("wx2", "ours", 1), ("wx2", "theirs", 1)]
    narrowed = json.loads(what_if(tmp_path, "--rules", str(tmp_path / "loose.toml"), "--since", str(MON),
                                  "--until", str(TUE), "--channel", "wx2", "--json").stdout)
    assert narrowed["channels"] == ["wx2"]
    assert [(d["business_date"], [c["channel"] for c in d["channels"]]) for d in narrowed["days"]] == [
        (str(MON), ["wx2"])]
    assert narrowed["totals"]["rows_changed"] == 2
    # channels side by side in two worker processes: the same document
    side_by_side = what_if(tmp_path, "--rules", str(tmp_path / "loose.toml"), "--since", str(MON),
                           "--until", str(TUE), "--json", "--jobs", "2").stdout
    assert json.loads(side_by_side) == doc
    assert tree(tmp_path) == before
