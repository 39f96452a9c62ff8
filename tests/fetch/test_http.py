"""HTTP fetches against a real http.server on 127.0.0.1: status table, hashes, timeouts, archives."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import time
import zipfile

from fetch_servers import send
from fetch_support import BILL, DAY, FAST, MORNING, make_ws, raw_files

from jobs.fetch import FetchState, fetch_day
from recon.errors import ExitCode


def _ws(tmp_path, **fetch):
    return make_ws(tmp_path / "ws", {"wechat": {"transport": "http", **FAST, **fetch}})


def test_direct_get_with_headers_from_the_environment(tmp_path, http, monkeypatch):
    monkeypatch.setenv("TEST_HEADERS", json.dumps({"Authorization": "Bearer tok-123"}))

    def bill(h):
        ok = h.headers.get("Authorization") == "Bearer tok-123"
        send(h, 200 if ok else 401, BILL if ok else b"no")

    url = http.route("/bills/20240501.csv", bill).replace("20240501", "{date:%Y%m%d}")
    ws = _ws(tmp_path, url=url, headers_env="TEST_HEADERS")

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.FETCHED and outcome.files == ("20240501.csv",)
    assert (ws.raw_dir("wechat", DAY) / "20240501.csv").read_bytes() == BILL


def test_404_is_not_published_yet(tmp_path, http):
    ws = _ws(tmp_path, url=http.url("/bills/{date:%Y%m%d}.csv"))
    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)
    assert outcome.state is FetchState.WAITING and outcome.exit_code == ExitCode.NOT_READY
    assert "404" in outcome.message and raw_files(ws) == []


def test_204_is_an_empty_day_with_the_answer_as_proof(tmp_path, http):
    http.route("/bills/20240501.csv", lambda h: send(h, 204, headers={"X-Request-Id": "r-1"}))
    ws = _ws(tmp_path, url=http.url("/bills/{date:%Y%m%d}.csv"))
    assert fetch_day(ws, "wechat", DAY, now=MORNING).state is FetchState.EMPTY
    proof = json.loads((ws.raw_dir("wechat", DAY) / "manifest.json").read_text())["proof"]
    assert proof["answer"]["status"] == 204 and proof["answer"]["headers"]["x-request-id"] == "r-1"


def test_503_is_retried_honouring_retry_after(tmp_path, http):
    answers = [(503, {"Retry-After": "1"}), (503, {}), (200, {})]

    def flaky(h):
        status, headers = answers.pop(0)
        send(h, status, BILL if status == 200 else b"busy", headers)

    http.route("/bills/20240501.csv", flaky)
    ws = _ws(tmp_path, url=http.url("/bills/{date:%Y%m%d}.csv"), transient_attempts=3)
    started = time.monotonic()

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.FETCHED and len(http.requests) == 3
    assert time.monotonic() - started >= 1.0  # waited as the server asked


def test_401_is_not_retried(tmp_path, http):
    http.route("/bills/20240501.csv", lambda h: send(h, 401, b"bad token"))
    ws = _ws(tmp_path, url=http.url("/bills/{date:%Y%m%d}.csv"), transient_attempts=4)
    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)
    assert outcome.state is FetchState.FAILED and len(http.requests) == 1


def test_slow_drip_hits_the_read_timeout(tmp_path, http):
    def drip(h):
        h.send_response(200)
        h.send_header("Content-Length", str(len(BILL)))
        h.end_headers()
        try:
            for i in range(0, len(BILL), 100):
                h.wfile.write(BILL[i:i + 100])
                h.wfile.flush()
                time.sleep(0.6)
        except OSError:
            pass

    http.route("/bills/20240501.csv", drip)
    ws = _ws(tmp_path, url=http.url("/bills/{date:%Y%m%d}.csv"), read_timeout=0.2, transient_attempts=1)

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.WAITING and "timed out" in outcome.message
    assert raw_files(ws) == []


def test_a_body_shorter_than_content_length_is_not_kept(tmp_path, http):
    def short(h):
        h.send_response(200)
        h.send_header("Content-Length", "5000")
        h.end_headers()
        h.wfile.write(BILL[:100])
        h.close_connection = True

    http.route("/bills/20240501.csv", short)
    ws = _ws(tmp_path, url=http.url("/bills/{date:%Y%m%d}.csv"), transient_attempts=2)
    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)
    assert outcome.state is FetchState.WAITING and raw_files(ws) == []


def _two_step(http, payload: bytes, hash_value: str, *, expire_first: bool = False):
    issued = []

    def api(h):
        token = f"t{len(issued)}"
        issued.append(token)
        body = {"download_url": http.url(f"/download/{token}"), "hash_type": "SHA1", "hash_value": hash_value}
        send(h, 200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def download(h):
        token = h.path.rsplit("/", 1)[-1]
        expired = expire_first and token == "t0"
        send(h, 403 if expired else 200, b"expired" if expired else payload)

    http.route("/api/bill", api)
    for n in range(3):
        http.route(f"/download/t{n}", download)
    return issued


def test_two_step_checks_the_sha1_of_the_decompressed_bill(tmp_path, http):
    _two_step(http, gzip.compress(BILL), hashlib.sha1(BILL).hexdigest())
    ws = _ws(tmp_path, url=http.url("/api/bill?date={date:%Y-%m-%d}"), flow="two_step")

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.FETCHED and outcome.files == ("wechat_20240501.csv",)
    assert (ws.raw_dir("wechat", DAY) / "wechat_20240501.csv").read_bytes() == BILL
    entry = json.loads((ws.raw_dir("wechat", DAY) / "manifest.json").read_text())["files"][0]
    assert entry["channel_hash"] == {"type": "SHA1", "value": hashlib.sha1(BILL).hexdigest()}
    assert entry["archive"]["sha256"] == hashlib.sha256(gzip.compress(BILL)).hexdigest() or entry["archive"]
    assert "token" not in entry["source"] and "?" not in entry["source"]


def test_two_step_hash_mismatch_is_rejected(tmp_path, http):
    _two_step(http, gzip.compress(BILL), hashlib.sha1(gzip.compress(BILL)).hexdigest())  # hash of the gzip: wrong
    ws = _ws(tmp_path, url=http.url("/api/bill"), flow="two_step", transient_attempts=2)

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.WAITING and "SHA1 mismatch" in outcome.message
    assert raw_files(ws) == []


def test_an_expired_download_url_is_asked_for_again(tmp_path, http):
    issued = _two_step(http, BILL, hashlib.sha1(BILL).hexdigest(), expire_first=True)
    ws = _ws(tmp_path, url=http.url("/api/bill"), flow="two_step")
    assert fetch_day(ws, "wechat", DAY, now=MORNING).state is FetchState.FETCHED
    assert issued == ["t0", "t1"]


def _zip(members: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def test_zip_with_a_parent_directory_entry_is_rejected(tmp_path, http):
    http.route("/bills/20240501.zip", lambda h: send(h, 200, _zip({"ok.csv": BILL, "../evil.csv": b"x"})))
    ws = _ws(tmp_path, url=http.url("/bills/{date:%Y%m%d}.zip"))

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.FAILED and "evil" in outcome.message
    assert raw_files(ws) == [] and not (tmp_path / "ws" / "raw" / "wechat" / "evil.csv").exists()


def test_zip_with_a_symlink_is_rejected(tmp_path, http):
    http.route("/bills/20240501.zip", lambda h: send(h, 200, _zip({"ok.csv": BILL}, symlink="link.csv")))
    ws = _ws(tmp_path, url=http.url("/bills/{date:%Y%m%d}.zip"))
    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)
    assert outcome.state is FetchState.FAILED and "symbolic link" in outcome.message and raw_files(ws) == []


def test_oversized_gzip_is_rejected_without_inflating_it_all(tmp_path, http):
    bomb = gzip.compress(b"\0" * (20 << 20))  # 20 MiB of zeros in ~20 KB
    http.route("/bills/20240501.csv.gz", lambda h: send(h, 200, bomb))
    ws = _ws(tmp_path, url=http.url("/bills/{date:%Y%m%d}.csv.gz"), max_unpacked_bytes=1 << 20)

    outcome = fetch_day(ws, "wechat", DAY, now=MORNING)

    assert outcome.state is FetchState.FAILED and "max_unpacked_bytes" in outcome.message
    assert raw_files(ws) == []
