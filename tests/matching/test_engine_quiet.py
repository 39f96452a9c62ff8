"""DuckDB draws a progress bar on stdout, terminal or not, for any statement running past 2 s; the
connections matching runs in never do, so `recon match --json` / `recon run --json` stay JSON on a
big or busy day."""

from __future__ import annotations

import polars as pl

from recon.matching import day_inputs, engine


def test_the_layer1_connection_draws_no_progress_bar():
    con = engine.connect()
    assert con.execute("SELECT current_setting('enable_progress_bar')").fetchall() == [(False,)]


def test_the_layers23_queries_draw_no_progress_bar(monkeypatch):
    monkeypatch.setattr(day_inputs, "sql_text", lambda name: "SELECT current_setting('enable_progress_bar') AS on")
    assert day_inputs.query("any").to_dicts() == [{"on": False}]
    assert isinstance(day_inputs.query("any", frame=pl.DataFrame({"x": [1]})), pl.DataFrame)
