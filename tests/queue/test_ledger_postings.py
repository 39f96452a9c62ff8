"""The ledger never double-books a queue resolution (issue 18, defect 1), on SQLite and PostgreSQL.

Every posting a queue action makes is keyed to the action; a reopen posts the reversal; an item has
at most one live adjustment; a bill-level item posts only the residual its group's row items do not
explain, and row items cannot change under an accepted bill item. The state machine drives resolve /
reopen / accept-ours at row and bill level and checks after every step that the ledger's adjustments
equal the sum of the currently accepted items' differences (the bill's covering its group) and that
the trial balance is zero.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from typer.testing import CliRunner

from cli import app
from layers import DAY, generic, make_ws, row, write_generic, write_layer1
from recon.core.accounting import accounting_of
from recon.core.ledger import balances, trial_balance
from recon.queue import actions, adjustments
from recon.queue.actions import QueueActionError
from recon.queue.store import queue_engine
from recon.queue.sync import sync_results
from recon.store.tables.queue import queue_items

CHANNEL_ACCOUNT = "assets:channel:wechat"
PAY = {"our_record_type": "PAYMENT", "their_record_type": "PAYMENT"}
# key -> (group, difference theirs minus ours); bills carry the totals of their group
ROWS = {"r1": ("amount", Decimal("0.10")), "r2": ("amount", Decimal("5.00")),
        "r3": ("amount", Decimal("-2.00")), "r4": ("fee", Decimal("0.10"))}
BILLS = {"BILL_AMOUNT_MISMATCH": ("amount", Decimal("3.50")), "BILL_FEE_MISMATCH": ("fee", Decimal("0.30")),
         "BILL_COUNT_MISMATCH": (None, Decimal("0"))}


def seed(ws) -> dict[str, int]:
    """One day of wechat PAYMENT CNY: four row items and the day's three bill-level items."""
    write_layer1(ws, [
        row("AMOUNT_MISMATCH", "r1", our="100.00", their="100.10", **PAY),
        row("CHANNEL_ONLY", "r2", our=None, their="5.00", **PAY),
        row("LOCAL_ONLY", "r3", our="2.00", their=None, **PAY),
        row("FEE_MISMATCH", "r4", their_fee=Decimal("0.70"), **PAY),
    ])
    write_generic(ws, 2, [
        generic("BILL_AMOUNT_MISMATCH", "PAYMENT:CNY", "1000.00", "1003.50"),
        generic("BILL_COUNT_MISMATCH", "PAYMENT:CNY", "1000.00", "1003.50"),
        generic("BILL_FEE_MISMATCH", "PAYMENT:CNY", "6.00", "6.30"),
    ])
    sync_results(ws, DAY)
    with queue_engine(ws).connect() as conn:
        return {(r.kind if r.layer == 2 else r.key): r.id for r in conn.execute(sa.select(queue_items))}


def channel_balance(engine) -> Decimal:
    return sum((b.balance for b in balances(engine, CHANNEL_ACCOUNT)), Decimal(0))


def act(ws, fn, item_id, **kw):
    with queue_engine(ws).begin() as conn:
        return fn(conn, item_id, actor="t", note="test", **kw)


def test_three_resolve_reopen_cycles_leave_no_adjustment(store_ws):
    ids = seed(store_ws)
    engine, rules = queue_engine(store_ws), accounting_of(store_ws)
    for _ in range(3):
        act(store_ws, actions.accept_channel, ids["r1"], accounting=rules)
        assert channel_balance(engine) == Decimal("0.10")
        act(store_ws, actions.reopen, ids["r1"])
        assert channel_balance(engine) == 0
    with engine.connect() as conn:
        assert adjustments.live_entries(conn, ids["r1"]) == []
        keys = sorted(conn.execute(sa.text("SELECT entry_key FROM core_entry")).scalars())
    # every posting is keyed to the action that made it, every reversal to what it reverses
    assert keys == sorted([f"ADJ:queue:{ids['r1']}:v{v}" for v in (1, 3, 5)]
                          + [f"REV:ADJ:queue:{ids['r1']}:v{v}" for v in (1, 3, 5)])
    assert trial_balance(engine).balanced


def test_bill_item_posts_only_what_its_rows_do_not(store_ws):
    ids = seed(store_ws)
    engine, rules = queue_engine(store_ws), accounting_of(store_ws)
    act(store_ws, actions.accept_channel, ids["r1"], accounting=rules)
    done = act(store_ws, actions.accept_channel, ids["BILL_AMOUNT_MISMATCH"], accounting=rules)
    assert done.to_state == "RESOLVED"
    assert channel_balance(engine) == Decimal("3.50")  # 0.10 by the row, the residual 3.40 by the bill
    act(store_ws, actions.accept_channel, ids["BILL_COUNT_MISMATCH"], accounting=rules)
    assert channel_balance(engine) == Decimal("3.50")  # a count carries no money
    with pytest.raises(QueueActionError, match="reopen item"):
        act(store_ws, actions.accept_channel, ids["r2"], accounting=rules)
    with pytest.raises(QueueActionError, match="reopen item"):
        act(store_ws, actions.reopen, ids["r1"])
    act(store_ws, actions.reopen, ids["BILL_AMOUNT_MISMATCH"])
    assert channel_balance(engine) == Decimal("0.10")
    assert trial_balance(engine).balanced


def test_cli_refuses_a_row_under_an_accepted_bill(ws):
    ids = seed(ws)
    run = lambda *a: CliRunner().invoke(app, [*a, "--workspace", str(ws.root)])  # noqa: E731
    ok = run("queue", "resolve", str(ids["BILL_AMOUNT_MISMATCH"]), "--accept", "channel", "--note", "bank is right")
    assert ok.exit_code == 0, ok.output
    refused = run("queue", "resolve", str(ids["r1"]), "--accept", "channel", "--note", "x")
    assert refused.exit_code == 2 and "reopen item" in refused.stderr and "Traceback" not in refused.output


def test_a_re_run_that_reopens_an_accepted_item_reverses_its_adjustment(ws):
    ids = seed(ws)
    engine = queue_engine(ws)
    act(ws, actions.accept_channel, ids["r1"], accounting=accounting_of(ws))
    write_layer1(ws, [row("AMOUNT_MISMATCH", "r1", our="100.00", their="100.30", **PAY)])
    sync_results(ws, DAY)
    assert channel_balance(engine) == 0 and trial_balance(engine).balanced


def test_a_re_run_that_reopens_a_row_under_an_accepted_bill_re_posts_the_bill_residual(ws):
    """The bill item covers its whole group: when a re-run re-opens an accepted row of it (the row's
    status changed, its money did not), the row's adjustment is reversed and the bill now posts what
    the row no longer does; the group still books exactly the bill's difference, once."""
    ids = seed(ws)
    engine, rules = queue_engine(ws), accounting_of(ws)
    bill = ids["BILL_AMOUNT_MISMATCH"]
    act(ws, actions.accept_channel, ids["r1"], accounting=rules)
    act(ws, actions.accept_channel, bill, accounting=rules)
    assert channel_balance(engine) == Decimal("3.50")
    write_layer1(ws, [
        row("AMOUNT_MISMATCH", "r1", our="100.00", their="100.10", our_status="PROCESSING", **PAY),
        row("CHANNEL_ONLY", "r2", our=None, their="5.00", **PAY),
        row("LOCAL_ONLY", "r3", our="2.00", their=None, **PAY),
        row("FEE_MISMATCH", "r4", their_fee=Decimal("0.70"), **PAY),
    ])
    report = sync_results(ws, DAY)
    assert report.reopened == 1
    assert channel_balance(engine) == Decimal("3.50") and trial_balance(engine).balanced
    with engine.connect() as conn:
        assert adjustments.live_entries(conn, ids["r1"]) == []
        (live,) = adjustments.live_entries(conn, bill)
        events = conn.execute(sa.text("SELECT action, data FROM queue_events WHERE item_id = :i ORDER BY id"),
                              {"i": bill}).all()
    assert events[-1].action == "residual_reposted"
    assert Decimal(json.loads(events[-1].data)["adjustment"]["amount"]) == Decimal("3.50")
    # The person's path still works: reopening the bill leaves nothing booked; the row then resolves alone.
    act(ws, actions.reopen, bill)
    assert channel_balance(engine) == 0
    act(ws, actions.accept_channel, ids["r1"], accounting=rules)
    assert channel_balance(engine) == Decimal("0.10") and trial_balance(engine).balanced
    sync_results(ws, DAY)  # the same results again: nothing moves
    assert channel_balance(engine) == Decimal("0.10")


class Ledger(RuleBasedStateMachine):
    """resolve (channel / ours) and reopen over row and bill items of one day, in any order."""

    url: str = ""  # set per backend by the test below

    def __init__(self):
        super().__init__()
        self.schema = None
        url = self.url
        if url.startswith("postgresql"):
            self.schema = f"t_{uuid.uuid4().hex[:12]}"
            with sa.create_engine(url).begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
            url = f"{url}?options=-csearch_path%3D{self.schema}"
        root = Path(tempfile.mkdtemp(prefix="ledger-sm-"))
        self.ws = make_ws(root / "ws", store_url=None if self.schema is None else url)
        self.ids = seed(self.ws)
        self.kinds = {v: k for k, v in self.ids.items()}
        self.rules = accounting_of(self.ws)
        self.engine = queue_engine(self.ws)
        self.state = {i: "open" for i in self.ids.values()}
        self.posted: dict[int, Decimal] = {}

    def teardown(self):
        self.engine.dispose()
        if self.schema:
            with sa.create_engine(self.url).begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{self.schema}" CASCADE'))

    def _info(self, item_id):
        name = self.kinds[item_id]
        return (ROWS[name], False) if name in ROWS else (BILLS[name], True)

    def _bill_of(self, group):
        return next((self.ids[k] for k, (g, _) in BILLS.items() if g == group), None)

    def _covered(self, item_id) -> bool:
        (group, _), is_bill = self._info(item_id)
        return not is_bill and self.state[self._bill_of(group)] == "channel"

    @rule(item=st.sampled_from(sorted(ROWS) + sorted(BILLS)))
    def accept_channel(self, item):
        item_id = self.ids[item]
        if self.state[item_id] != "open" or self._covered(item_id):
            with pytest.raises(QueueActionError):
                act(self.ws, actions.accept_channel, item_id, accounting=self.rules)
            return
        act(self.ws, actions.accept_channel, item_id, accounting=self.rules)
        (group, diff), is_bill = self._info(item_id)
        if is_bill and group is not None:
            diff -= sum((self.posted[i] for k, i in self.ids.items()
                         if k in ROWS and ROWS[k][0] == group and i in self.posted), Decimal(0))
        self.state[item_id], self.posted[item_id] = "channel", diff

    @rule(item=st.sampled_from(sorted(ROWS) + sorted(BILLS)))
    def accept_ours(self, item):
        item_id = self.ids[item]
        if self.state[item_id] != "open":
            with pytest.raises(QueueActionError):
                act(self.ws, actions.accept_ours, item_id)
            return
        act(self.ws, actions.accept_ours, item_id)
        self.state[item_id] = "ours"

    @rule(item=st.sampled_from(sorted(ROWS) + sorted(BILLS)))
    def reopen(self, item):
        item_id = self.ids[item]
        if self.state[item_id] == "open" or (self.state[item_id] == "channel" and self._covered(item_id)):
            with pytest.raises(QueueActionError):
                act(self.ws, actions.reopen, item_id)
            return
        act(self.ws, actions.reopen, item_id)
        self.state[item_id] = "open"
        self.posted.pop(item_id, None)

    @invariant()
    def adjustments_equal_the_accepted_differences(self):
        assert channel_balance(self.engine) == sum(self.posted.values(), Decimal(0))
        for group in ("amount", "fee"):
            members = [i for k, i in self.ids.items() if k in ROWS and ROWS[k][0] == group]
            live = sum((self.posted.get(i, Decimal(0)) for i in [*members, self._bill_of(group)]), Decimal(0))
            bill = self._bill_of(group)
            expected = (BILLS[self.kinds[bill]][1] if self.state[bill] == "channel"
                        else sum((ROWS[self.kinds[i]][1] for i in members if self.state[i] == "channel"), Decimal(0)))
            assert live == expected
        assert trial_balance(self.engine).balanced
        with self.engine.connect() as conn:
            assert all(len(adjustments.live_entries(conn, i)) <= 1 for i in self.ids.values())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_ledger_state_machine(backend, request):
    Ledger.url = "sqlite" if backend == "sqlite" else request.getfixturevalue("pg_base_url")
    run_state_machine_as_test(Ledger, settings=settings(
        max_examples=12, stateful_step_count=14, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
