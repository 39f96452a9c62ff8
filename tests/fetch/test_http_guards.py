"""HTTP under attack (issue 18, defects 2, 4 and 10), against real servers on 127.0.0.1.

Credentials stay with their origin on redirects; a stalled body ends at `download_timeout`; the
two-step flow refuses an answer without a hash it can check, and an unknown hash type is one clear
line, not a crash.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time

import pytest
from fetch_servers import HttpServer, send
from fetch_support import BILL, DAY, FAST, MORNING, make_ws, raw_files
from typer.testing import CliRunner

from cli import app
from jobs.fetch import FetchState, fetch_day

SECRETS = {"X-Api-Key": "k-CANARY-1", "Authorization": "Bearer CANARY-2", "Cookie": "sid=CANARY-3",
           "Token": "CANARY-4"}


def _ws(tmp_path, **fetch):
    return make_ws(tmp_path / "ws", {"wechat": {"transport": "http", **FAST, **fetch}})


@pytest.fixture()
def other_origin():
    server = HttpServer()
    yield server
    server.close()


def _redirect(to: str):
    return lambda h: send(h, 302, b"", {"Location": to})


def test_a_redirect_to_another_origin_carries_no_credential(tmp_path, http, other_origin, monkeypatch):
    monkeypatch.setenv("TEST_HEADERS", json.dumps(SECRETS))
    seen = {}

    def bill(h):
        seen.update(dict(h.headers))
        send(h, 200, BILL)

    other_origin.route("/elsewhere/bill.csv", bill)
    http.route("/bills/20240501.csv", _redirect(other_origin.url("/elsewhere/bill.csv")))
    ws = _ws(tmp_path, url=http.url("/bills/{date:%Y%m%d}.csv"), headers_env="TEST_HEADERS")

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.FETCHED
    assert seen and not any("CANARY" in v for v in seen.values()), seen


def test_a_same_origin_redirect_keeps_the_credentials(tmp_path, http, monkeypatch):
    monkeypatch.setenv("TEST_HEADERS", json.dumps({"X-Api-Key": "k-1"}))
    http.route("/bills/20240501.csv", _redirect(http.url("/moved/20240501.csv")))
    http.route("/moved/20240501.csv", lambda h: send(h, 200 if h.headers.get("X-Api-Key") == "k-1" else 401, BILL))
    ws = _ws(tmp_path, url=http.url("/bills/{date:%Y%m%d}.csv"), headers_env="TEST_HEADERS")
    assert fetch_day(ws, "wechat", DAY, now=MORNING).state is FetchState.FETCHED


def test_a_two_step_answer_redirected_elsewhere_carries_no_credential(tmp_path, http, other_origin, monkeypatch):
    monkeypatch.setenv("TEST_HEADERS", json.dumps(SECRETS))
    seen = []
    other_origin.route("/api", lambda h: (seen.append(dict(h.headers)), send(h, 404, b"{}"))[-1])
    http.route("/api/bill", _redirect(other_origin.url("/api")))
    ws = _ws(tmp_path, url=http.url("/api/bill"), flow="two_step", headers_env="TEST_HEADERS")
    fetch_day(ws, "wechat", DAY, now=MORNING)
    assert seen and not any("CANARY" in v for h in seen for v in h.values())


def test_a_stalled_download_ends_at_the_overall_deadline(tmp_path, http):
    """One byte every 50 ms never trips a 2 s read timeout; download_timeout ends it."""
    def drip(h):
        h.send_response(200)
        h.send_header("Content-Length", str(len(BILL) * 100))
        h.end_headers()
        try:
            for _ in range(len(BILL) * 100):
                h.wfile.write(b"x")
                h.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass

    http.route("/bills/20240501.csv", drip)
    ws = _ws(tmp_path, url=http.url("/bills/{date:%Y%m%d}.csv"), read_timeout=2.0, download_timeout=0.5,
             transient_attempts=1)

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.WAITING and "download_timeout" in outcome.message
    assert raw_files(ws) == []


def _answer(http, body: dict):
    http.route("/download/t0", lambda h: send(h, 200, gzip.compress(BILL)))
    http.route("/api/bill", lambda h: send(h, 200, json.dumps({"download_url": http.url("/download/t0"), **body})
                                           .encode(), {"Content-Type": "application/json"}))


def test_two_step_without_a_hash_is_refused(tmp_path, http):
    _answer(http, {})
    ws = _ws(tmp_path, url=http.url("/api/bill"), flow="two_step")

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.FAILED and "no hash_type/hash_value" in outcome.message
    assert raw_files(ws) == [] and [path for _, path, _ in http.requests] == ["/api/bill"]


@pytest.mark.parametrize("hash_type", ["SHA-256", "sha256", "SHA1", "MD5"])
def test_two_step_accepts_the_documented_hash_types(tmp_path, http, hash_type):
    algo = hash_type.lower().replace("-", "")
    _answer(http, {"hash_type": hash_type, "hash_value": hashlib.new(algo, BILL).hexdigest().upper()})
    ws = _ws(tmp_path, url=http.url("/api/bill"), flow="two_step")
    assert fetch_day(ws, "wechat", DAY, now=MORNING).state is FetchState.FETCHED


def test_an_unsupported_hash_type_is_one_line_and_the_day_stays_retryable(tmp_path, http):
    _answer(http, {"hash_type": "CRC32", "hash_value": "cbf43926"})
    ws = _ws(tmp_path, url=http.url("/api/bill"), flow="two_step")

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)
    assert outcome.state is FetchState.FAILED and "CRC32" in outcome.message and "not supported" in outcome.message

    result = CliRunner().invoke(app, ["fetch", "--date", DAY.isoformat(), "--workspace", str(ws.root)])
    assert result.exit_code not in (0, 1) and "Traceback" not in result.output
    assert "not supported" in result.output
