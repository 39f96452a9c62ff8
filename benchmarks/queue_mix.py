"""A kept day's queue made to look worked on, for the report's queue views to have something to read.

`bench_day.py --keep` leaves a day whose items are all just opened, so open items by age, the
re-query sheet and each row's status, assignee and note would read a uniform queue. Run once per
kept workspace, before timing its report (`bench_report.py --workspace WS --date D`):

    .venv/bin/python benchmarks/queue_mix.py --workspace WS --date 2026-11-20

A fifth of the day's items are first copied to the 45 days before (older open items for the ages,
re-query answers the day's sheet must not show). Then, through the queue's own actions, on the items
of the day and before in id order: every 4th active one gets one or two re-query answers (`requery`
events shaped like jobs.requery's), every 7th is resolved and the next written off (re-queried ones
among them), every 5th is assigned with a note.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from sqlalchemy import insert, select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ACTOR = "bench"


def answer(item, attempt: int) -> dict:
    """A `requery` event's data as jobs.requery writes it (the fields the report shows)."""
    return {"attempt": attempt, "adapter": "wechatpay", "asked_at": f"2026-11-2{attempt}T0{attempt}:15:00+00:00",
            "outcome": "WAIT" if attempt == 1 else "PROPOSE", "proposal": None if attempt == 1 else "accept_ours",
            "why": f"attempt {attempt} for {item.key}", "status": "PAID" if attempt > 1 else "NOTPAY",
            "said": "SUCCESS" if attempt > 1 else None, "amount": str(item.our_amount or item.their_amount or 0),
            "currency": item.currency, "time": "2026-11-20T10:00:00+08:00", "response_sha256": f"{item.id:064x}"}


def older_copies(conn, day: dt.date, every: int) -> None:
    """Every `every`-th item of the day again on one of the 45 days before (same identity otherwise)."""
    from recon.clock import utcnow
    from recon.store.tables.queue import queue_events, queue_items

    rows = conn.execute(select(queue_items).where(queue_items.c.business_date == day).order_by(queue_items.c.id)).all()
    for n, row in enumerate(rows[::every]):
        back = day - dt.timedelta(days=1 + n % 45)
        values = {k: v for k, v in row._mapping.items() if k != "id"} | {
            "business_date": back, "first_seen": back, "last_seen": back}
        new_id = conn.execute(insert(queue_items).values(**values)).inserted_primary_key[0]
        conn.execute(insert(queue_events).values(item_id=new_id, at=utcnow(), actor="recon", action="created",
                                                 to_state=row.status, note="", data="{}"))


def mix(conn, thresholds, day: dt.date) -> dict[str, int]:
    from recon.queue import actions
    from recon.queue.query import Filter, select_items

    counts = dict.fromkeys(("requeried", "answers", "resolved", "written_off", "assigned"), 0)
    for n, item in enumerate(select_items(conn, Filter(until=day), thresholds, day, "id")):
        if n % 4 == 0 and item.status in actions.ACTIVE_STATES:
            counts["requeried"] += 1
            for attempt in range(1, 2 + n % 8 // 4):
                actions.annotate(conn, item.id, actions.REQUERY, actor=ACTOR, note=f"attempt {attempt}",
                                 data=answer(item, attempt))
                counts["answers"] += 1
        if n % 7 == 0:
            actions.accept_ours(conn, item.id, actor=ACTOR, note=f"ours stand ({item.key})")
            counts["resolved"] += 1
        elif n % 7 == 1:
            actions.write_off(conn, item.id, account="6711", actor=ACTOR, note="below the threshold")
            counts["written_off"] += 1
        if n % 5 == 3:
            actions.assign(conn, item.id, f"analyst{n % 3}", actor=ACTOR, note=f"look at {item.key} first")
            counts["assigned"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--date", required=True, help="the kept day's business date")
    args = parser.parse_args()
    from jobs.catalog import open_workspace
    from recon.queue.store import queue_engine

    ws = open_workspace(args.workspace)
    day = dt.date.fromisoformat(args.date)
    with queue_engine(ws).begin() as conn:
        older_copies(conn, day, 5)
        print(mix(conn, ws.settings.queue, day))


if __name__ == "__main__":
    main()
