"""Business ids: the 32-character layout of seeds/002 section 6, unique across threads and processes."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest

from recon.core import ids


def test_layout_round_trips_through_its_parts():
    bid = ids.BusinessId(date=dt.date(2024, 3, 1), sequence=42, business=ids.REFUND, db_shard="07",
                         table_shard="93", datacentre="02", environment="0")
    text = str(bid)
    assert len(text) == 32
    assert text == "20240301" "1" "1" "010" "16" "02" "07" "93" "0" "00" "00000042"
    assert ids.parse_id(text) == bid


@pytest.mark.parametrize("bad", ["2024030111", "2024130111010010000000000000000001", "x" * 32])
def test_parse_refuses_what_is_not_the_layout(bad):
    with pytest.raises(ValueError):
        ids.parse_id(bad)


def test_shard_bits_are_stable_per_merchant():
    assert ids.shard_of("m-1") == ids.shard_of("m-1")
    assert all(len(part) == 2 for part in ids.shard_of("m-2"))


def test_generators_sharing_a_store_never_repeat(engine):
    # Two generators stand for two processes: each claims blocks through the store's sequence row.
    day = dt.date(2024, 3, 1)
    gens = [ids.IdGenerator(engine, block=7), ids.IdGenerator(engine, block=5)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        batches = list(pool.map(lambda i: [gens[i % 2].next_id(day, shard_key="m") for _ in range(30)], range(6)))
    every = [i for batch in batches for i in batch]
    assert len(every) == len(set(every)) == 180
    assert {ids.parse_id(i).date for i in every} == {day}


def test_a_large_request_claims_one_block(engine):
    gen = ids.IdGenerator(engine, block=10)
    got = gen.many(dt.date(2024, 3, 2), 1000)
    assert [ids.parse_id(i).sequence for i in got] == list(range(1000))
