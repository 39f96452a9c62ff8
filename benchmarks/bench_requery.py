"""Re-query throughput over loopback: recon's signed, verified, recorded re-query vs the bare floor.

N LOCAL_ONLY items are asked about WeChat Pay's order query, played by the test suite's loopback
server (tests/requery/requery_support.py: it checks our RSA signature and signs its answers). We
time `requery_items` for all N (rate limit lifted: the rate is a politeness setting, not a cost),
which per item signs the request, verifies the answer, reads it in two layers, decides, archives
the redacted body and records the event in the store; and two floors in the same run: bare `httpx`
GETs of the same URLs, and the same GETs signed and verified with `cryptography` directly.

    .venv/bin/python benchmarks/bench_requery.py [--items 300]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests" / "fetch"), str(REPO / "tests" / "queue"), str(REPO / "tests" / "requery")]

import httpx  # noqa: E402
from fetch_servers import HttpServer  # noqa: E402
from fetch_support import rsa_key  # noqa: E402
from layers import row  # noqa: E402
from requery_support import LATER, MCHID, SERIAL, queue, wechat_api, wechat_order, wechat_ws  # noqa: E402

from jobs.requery.run import requery_items  # noqa: E402
from jobs.transports.signing import verify_wechat_answer, wechat_authorization  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=300)
    n = parser.parse_args().items
    keys = {name: rsa_key() for name in ("merchant", "platform", "forger")}
    http = HttpServer()
    tmp = Path(tempfile.mkdtemp(prefix="bench-requery-"))
    try:
        api = wechat_api(http, keys)
        for i in range(n):
            api.orders[f"Mk{i}"] = wechat_order(f"Mk{i}", "SUCCESS", 10000)
        ws = wechat_ws(tmp / "ws", keys, http, rate=1e9, max_per_run=n)
        ids = queue(ws, *(row("LOCAL_ONLY", f"k{i}", their=None) for i in range(n)))
        urls = [http.url(f"/v3/pay/transactions/out-trade-no/Mk{i}?mchid={MCHID}") for i in range(n)]

        start = time.perf_counter()
        run = requery_items(ws, tuple(ids.values()), now=LATER)
        recon_s = time.perf_counter() - start
        assert len(run.lines) == n and all(line.outcome == "PROPOSED" for line in run.lines)

        with httpx.Client() as client:
            start = time.perf_counter()
            for url in urls:
                client.get(url)  # unsigned: the server refuses, which costs it the same
            bare_s = time.perf_counter() - start
            start = time.perf_counter()
            for url in urls:
                auth = wechat_authorization(keys["merchant"], MCHID, SERIAL, "GET", url)
                resp = client.get(url, headers={"Authorization": auth})
                verify_wechat_answer(keys["platform"].public_key(), resp.headers, resp.text, url)
            signed_s = time.perf_counter() - start
    finally:
        http.close()
        shutil.rmtree(tmp, ignore_errors=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"items: {n} (WeChat Pay v3 order query on 127.0.0.1)")
    print(f"recon requery_items   {recon_s:7.2f} s  {n / recon_s:8.1f} items/s")
    print(f"floor signed+verified {signed_s:7.2f} s  {n / signed_s:8.1f} req/s  (recon {recon_s / signed_s:.1f}x)")
    print(f"floor bare GET        {bare_s:7.2f} s  {n / bare_s:8.1f} req/s  (recon {recon_s / bare_s:.1f}x)")
    print(f"peak RSS              {rss:7.0f} MiB")


if __name__ == "__main__":
    main()
