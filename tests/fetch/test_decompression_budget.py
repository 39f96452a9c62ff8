"""Decompression has a memory budget (issue 18, defect 11): what a bomb costs is bounded by a chunk,
whether unpacking a download or inflating a parser's payload (to a temporary file, under the
documented statement size cap), never by what the archive claims or would inflate to. Measured in a fresh process (peak RSS), so the test process's
own memory does not count."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

INFLATED = 256 << 20  # what the bombs inflate to
MiB = 1 << 20
PROBE = """
import json, resource, sys
from pathlib import Path
from jobs.transports import archive
from parsers.registry import read_payload
what, src, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
error = None
try:
    if what == "gunzip":
        archive.gunzip(src, out / "bill.bin", name="bill.csv", limit=1 << 40)
    elif what == "unzip":
        archive.unzip(src, out, limit=1 << 40, temp_prefix="m.")
    else:
        read_payload(src, **({"limit": int(what)} if int(what) else {}))
except Exception as exc:
    error = f"{type(exc).__name__}: {exc}"
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"delta_kib": peak - base, "error": error}))
"""


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    block = b"0" * MiB
    with gzip.open(folder / "bomb.gz", "wb", compresslevel=9) as gz:
        for _ in range(INFLATED // MiB):
            gz.write(block)
    with zipfile.ZipFile(folder / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf, zf.open("bill.csv", "w") as fh:
        for _ in range(INFLATED // MiB):
            fh.write(block)
    return {"gz": folder / "bomb.gz", "zip": folder / "bomb.zip"}


def _probe(what: str, src: Path, out: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, what, str(src), str(out)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("what, bomb", [("gunzip", "gz"), ("unzip", "zip")])
def test_unpacking_a_download_streams_in_chunks(bombs, tmp_path, what, bomb):
    assert bombs[bomb].stat().st_size < 2 * MiB  # a few hundred KiB on the wire
    got = _probe(what, bombs[bomb], tmp_path)
    assert got["error"] is None
    assert got["delta_kib"] * 1024 < 32 * MiB  # 256 MiB came out; the process grew by a few chunks


def test_a_parsers_payload_stops_at_the_size_cap(bombs, tmp_path):
    cap = 16 * MiB
    got = _probe(str(cap), bombs["gz"], tmp_path)
    assert got["error"].startswith("StatementRejected") and "size cap" in got["error"]
    assert got["delta_kib"] * 1024 < 8 * MiB  # a few chunks: inflated to disk, refused at the cap while writing


def test_a_statement_over_the_documented_cap_is_refused_before_it_is_read(tmp_path):
    from parsers.registry import MAX_STATEMENT_BYTES

    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as fh:  # sparse: costs no disk, and must cost no memory either
        fh.truncate(MAX_STATEMENT_BYTES + 1)
    got = _probe("0", huge, tmp_path)  # "0": the probe's limit argument; 0 means the default cap below
    assert got["error"].startswith("StatementRejected") and "size cap" in got["error"]
    assert got["delta_kib"] * 1024 < 32 * MiB
