"""Fetch throughput over loopback: recon's verified fetch vs the bare library floor, same run.

A 100 MB statement (random bytes, generated in a temp dir and deleted after) is served by the
test suite's real servers on 127.0.0.1 (paramiko SFTP, stdlib HTTP). For each transport we time
`jobs.fetch.fetch_day` (download to a temp name, sha256 while streaming, remote size re-checked,
fsync, link into raw/, manifest) and the floor: a plain `SFTPClient.get` / `httpx` stream to a file.

    .venv/bin/python benchmarks/bench_fetch.py [--mb 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests" / "fetch")]

import httpx  # noqa: E402
import paramiko  # noqa: E402
from fetch_servers import HttpServer, SftpConfig, SftpServer  # noqa: E402
from fetch_support import make_ws, pem, rsa_key  # noqa: E402

from jobs.fetch import FetchState, fetch_day  # noqa: E402

DAY = dt.date(2024, 5, 1)
NOW = dt.datetime(2024, 5, 2, 2, 0, tzinfo=dt.timezone.utc)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=100)
    args = parser.parse_args()
    size = args.mb << 20
    tmp = Path(tempfile.mkdtemp(prefix="bench-fetch-"))
    try:
        served = tmp / "server" / "outgoing" / "20240501"
        served.mkdir(parents=True)
        data_file = served / "wechat_20240501.csv"
        with open(data_file, "wb") as fh:
            for _ in range(args.mb):
                fh.write(os.urandom(1 << 20))
        host_key = paramiko.RSAKey.from_private_key(io.StringIO(pem(rsa_key()).decode()))
        sftp = SftpServer(SftpConfig(root=tmp / "server", host_key=host_key, password="pw"))
        http = HttpServer()

        def serve(h):
            h.send_response(200)
            h.send_header("Content-Length", str(size))
            h.end_headers()
            with open(data_file, "rb") as fh:
                shutil.copyfileobj(fh, h.wfile, 1 << 20)

        http.route("/bills/20240501.csv", serve)
        os.environ["BENCH_SFTP_PASSWORD"] = "pw"
        (tmp / "known_hosts").write_text(sftp.known_hosts_line())
        common = {"stable_wait": 0.05, "timeout": 30.0}
        results = {}

        ws = make_ws(tmp / "ws1", {"sftp": {"transport": "sftp", "host": "127.0.0.1", "port": sftp.port,
                                            "username": "recon", "password_env": "BENCH_SFTP_PASSWORD",
                                            "known_hosts": str(tmp / "known_hosts"),
                                            "remote_path": "/outgoing/{date:%Y%m%d}/wechat_{date:%Y%m%d}.csv",
                                            **common},
                                   "http": {"transport": "http", "url": http.url("/bills/{date:%Y%m%d}.csv"), **common}})
        for name in ("sftp", "http"):
            outcome = None

            def run(name=name):
                nonlocal outcome
                outcome = fetch_day(ws, name, DAY, now=NOW)
            results[f"recon {name}"] = timed(run)
            assert outcome.state is FetchState.FETCHED, outcome.message

        client = paramiko.SSHClient()
        client.load_host_keys(str(tmp / "known_hosts"))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect("127.0.0.1", port=sftp.port, username="recon", password="pw",
                       allow_agent=False, look_for_keys=False)
        sftp_client = client.open_sftp()
        results["floor paramiko get"] = timed(lambda: sftp_client.get(
            "/outgoing/20240501/wechat_20240501.csv", str(tmp / "floor.sftp")))
        client.close()

        def httpx_floor():
            with httpx.stream("GET", http.url("/bills/20240501.csv")) as resp, open(tmp / "floor.http", "wb") as out:
                for chunk in resp.iter_raw(1 << 18):
                    out.write(chunk)
        results["floor httpx stream"] = timed(httpx_floor)

        print(f"{args.mb} MB over loopback ({os.cpu_count()} cores)")
        for label, seconds in results.items():
            print(f"  {label:<20} {seconds:7.2f} s  {args.mb / seconds:8.1f} MB/s")
        sftp.close()
        http.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
