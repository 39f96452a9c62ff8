"""Each stage's wall time and peak memory: in the digest log and in `recon run --json` (issue 24)."""

from __future__ import annotations

import json

from jobs import meter
from tests.jobs.conftest import DAYS, recon

STAGES = {"wechat/fetch", "wechat/parse", "*/match", "*/clear", "*/report"}


def test_run_json_and_digest_give_each_stage_its_time_and_peak_memory(ws):
    done = recon(ws, "run", "--date", DAYS[0], "--json")
    assert done.returncode == 0, done.stderr
    usage = json.loads(done.stdout)[0]["usage"]
    assert set(usage) == STAGES
    for figures in usage.values():
        assert figures["seconds"] >= 0 and figures["peak_mib"] > 0
    lines = [line.split("|") for line in (ws / "logs" / "digest.log").read_text().splitlines()]
    assert {f[1].strip() for f in lines} == {"fetch", "parse", "match", "clear", "report"}
    assert all(f[-1].endswith("MiB") and int(f[-1][:-3]) > 0 for f in lines)
    again = recon(ws, "run", "--date", DAYS[0], "--json")  # nothing due: nothing ran, nothing measured
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)[0]["usage"] == {}


def test_json_digest_lines_carry_the_peak(ws):
    done = recon(ws, "run", "--date", DAYS[0], "--quiet", "--log-format", "json")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in (ws / "logs" / "digest.log").read_text().splitlines()]
    assert lines and all(isinstance(d["peak_mib"], int) and d["peak_mib"] > 0 for d in lines)


def test_a_stage_peak_is_its_own_not_the_process_high_water_mark():
    with meter.measure() as big:
        block = b"x" * (256 * 2**20)  # written, so resident
        del block
    with meter.measure() as small:
        sum(range(1000))
    assert big.peak_bytes >= 256 * 2**20
    if small.own_peak:  # Linux: the high-water mark was reset for the second stage
        assert small.peak_bytes < big.peak_bytes - 128 * 2**20
