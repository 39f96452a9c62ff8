"""A channel's order-query API played from a folder of its answers, on 127.0.0.1 (the demo's channel).

`recon demo` has no channel to ask, so it serves `channel_api/`: one file per answer, at the path
the real API would answer it (`v3/pay/transactions/out-trade-no/<out_trade_no>` holds what WeChat
Pay's order query returns), through the standard library's file server. Paired with the generic
adapter (`adapter = "http"`) and a rule set saying where the answer keeps its status and amount,
the re-query runs exactly as against a live API; a path without a file answers 404. The same
folder can be served by hand: `python -m http.server 8765 --bind 127.0.0.1 --directory channel_api`.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from jobs.requery.run import RequeryRun, requery_items
from recon.workspace import Workspace


class _Answers(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the re-query's own log says what was asked
        return


@contextmanager
def answers_server(folder: Path) -> Iterator[str]:
    """Serve `folder` on a free port of 127.0.0.1 while the block runs; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Answers, directory=str(folder)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def requery_from_folder(ws: Workspace, channel: str, item_ids: tuple[int, ...], folder: Path) -> tuple[str, RequeryRun]:
    """Ask about items of `channel` with its API played from `folder`; (the URL it was served at, the run).

    The channel's `url` is pointed at the server for this run only: recon.toml keeps its own.
    """
    cfg = ws.settings.channel(channel)
    with answers_server(folder) as url:
        local = cfg.model_copy(update={"requery": cfg.requery.model_copy(update={"url": url})})
        served = dataclasses.replace(ws, settings=ws.settings.model_copy(
            update={"channels": {**ws.settings.channels, channel: local}}))
        return url, requery_items(served, item_ids)
