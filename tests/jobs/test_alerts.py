"""Alerts reach a real local webhook; a dead webhook never fails the run."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from tests.jobs.conftest import DAYS, make_workspace, recon


@pytest.fixture()
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


def _with_alerts(ws: Path, extra: str) -> None:
    text = (ws / "recon.toml").read_text()
    (ws / "recon.toml").write_text(text + f'\n[alerts]\nwebhook_env = "RECON_TEST_WEBHOOK"\n{extra}\n')


def test_manual_day_and_big_discrepancies_are_posted(tmp_path, webhook):
    url, received = webhook
    ws = make_workspace(tmp_path / "ws", drop=False)
    text = (ws / "recon.toml").read_text().replace('deadline = "D+3650 12:00"', 'deadline = "D+0 00:00"')
    (ws / "recon.toml").write_text(text)
    _with_alerts(ws, 'discrepancy_threshold = "100.00"')
    manual = recon(ws, "run", "--date", DAYS[0], "--quiet", env={"RECON_TEST_WEBHOOK": url})
    assert manual.returncode == 6, manual.stderr  # MANUAL: a person must get the statement
    assert [(a["event"], a["channel"], a["date"]) for a in received] == [("MANUAL", "wechat", DAYS[0])]
    assert url not in manual.stdout + manual.stderr + (ws / "logs" / "detail.log").read_text()

    ws2 = make_workspace(tmp_path / "ws2")
    _with_alerts(ws2, 'discrepancy_threshold = "100.00"')
    done = recon(ws2, "run", "--date", DAYS[0], "--quiet", env={"RECON_TEST_WEBHOOK": url})
    assert done.returncode == 0, done.stderr
    amount = [a for a in received if a["event"] == "DISCREPANCY_AMOUNT"]
    assert len(amount) == 1 and amount[0]["amount"].startswith("1")  # more than 100 CNY at stake
    assert amount[0]["currency"] == "CNY" and len(amount[0]["amount"].split(".")[1]) == 2  # CNY's exponent


def test_a_dead_webhook_never_fails_the_run(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    ws = make_workspace(tmp_path / "ws")
    _with_alerts(ws, 'discrepancy_threshold = "0.01"')
    done = recon(ws, "run", "--date", DAYS[0], "--quiet", env={"RECON_TEST_WEBHOOK": dead})
    assert done.returncode == 0, done.stderr
    assert "not delivered" in (ws / "logs" / "detail.log").read_text()


def test_json_logs_for_shippers(ws):
    done = recon(ws, "run", "--date", DAYS[0], "--quiet", "--log-format", "json")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in (ws / "logs" / "digest.log").read_text().splitlines()]
    assert {line["stage"] for line in lines} >= {"fetch", "parse", "match", "clear", "report"}
    assert all(line["date"] == DAYS[0] for line in lines)
