"""Business IDs: 32 characters that say when, where and what, unique across processes.

A database row id says nothing and a snowflake id cannot be read by a person; a payment platform's
business id (seeds/002, section 6) is a fixed layout an operator can read at a glance:

    pos  1-8   date (YYYYMMDD)            pos 16-17 data centre
    pos  9     data version               pos 18-19 user database shard (00-99)
    pos 10     system version             pos 20-21 user table shard (00-99)
    pos 11-13  system code (010 = core)   pos 22    environment (0 pre-release, 1 production)
    pos 14-15  business code (01 pay)     pos 23-24 reserved
                                          pos 25-32 sequence (one hundred million per day)

The sequence is the only part that must never repeat. It comes from the store: each process claims a
*block* of numbers with a conditional UPDATE on `core_sequence` (compare-and-set on the old value),
so two processes, or two threads, never hand out the same number and the store is touched once per
block rather than once per id. The counter is per (date, system, business code): it restarts daily,
and running out of the day's hundred million is an error, never a silent wrap into a duplicate.
"""

from __future__ import annotations

import datetime as dt
import threading
import zlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from recon.core.errors import CoreError
from recon.store.tables.core import sequences

LENGTH = 32
SEQUENCE_DIGITS = 8
SEQUENCE_LIMIT = 10**SEQUENCE_DIGITS

# Business codes (positions 14-15). 00-15 are payment-class businesses in the seed's scheme.
PAYMENT = "01"
REFUND = "16"
SYSTEM_CORE = "010"


@dataclass(frozen=True, slots=True)
class BusinessId:
    """The parts of one business id; `str()` gives the 32 characters."""

    date: dt.date
    sequence: int
    business: str = PAYMENT
    system: str = SYSTEM_CORE
    data_version: str = "1"
    system_version: str = "1"
    datacentre: str = "01"
    db_shard: str = "00"
    table_shard: str = "00"
    environment: str = "1"
    reserved: str = "00"

    def __post_init__(self) -> None:
        widths = {"business": 2, "system": 3, "data_version": 1, "system_version": 1, "datacentre": 2,
                  "db_shard": 2, "table_shard": 2, "environment": 1, "reserved": 2}
        for name, width in widths.items():
            value = getattr(self, name)
            if len(value) != width or not value.isdigit():
                raise ValueError(f"business id {name} must be {width} digit(s), got {value!r}")
        if not 0 <= self.sequence < SEQUENCE_LIMIT:
            raise ValueError(f"sequence {self.sequence} outside 0..{SEQUENCE_LIMIT - 1}")

    def __str__(self) -> str:
        return (f"{self.date:%Y%m%d}{self.data_version}{self.system_version}{self.system}{self.business}"
                f"{self.datacentre}{self.db_shard}{self.table_shard}{self.environment}{self.reserved}"
                f"{self.sequence:0{SEQUENCE_DIGITS}d}")


def parse_id(text: str) -> BusinessId:
    """Read a business id back into its parts; anything not in the layout is refused."""
    if len(text) != LENGTH or not text.isdigit():
        raise ValueError(f"a business id is {LENGTH} digits, got {text!r}")
    try:
        date = dt.datetime.strptime(text[0:8], "%Y%m%d").date()
    except ValueError:
        raise ValueError(f"business id {text!r} does not start with a date") from None
    return BusinessId(date=date, data_version=text[8], system_version=text[9], system=text[10:13],
                      business=text[13:15], datacentre=text[15:17], db_shard=text[17:19],
                      table_shard=text[19:21], environment=text[21], reserved=text[22:24],
                      sequence=int(text[24:32]))


def shard_of(key: str) -> tuple[str, str]:
    """User shard bits from a stable hash of the merchant: (database, table), each 00-99."""
    digest = zlib.crc32(key.encode("utf-8"))
    return f"{digest % 100:02d}", f"{(digest // 100) % 100:02d}"


def claim_block(engine: Engine, name: str, size: int) -> int:
    """Claim `size` numbers of sequence `name`; returns the first. Safe across processes.

    Runs in its own short transaction: callers claim ids *before* opening their unit of work, so a
    long business transaction never holds the sequence row (and SQLite's write lock) for long.
    """
    if size < 1:
        raise ValueError("block size must be positive")
    for _ in range(1000):
        with engine.connect() as conn:
            current = conn.execute(sa.select(sequences.c.next_value)
                                   .where(sequences.c.name == name)).scalar_one_or_none()
            if current is None:
                try:
                    conn.execute(sequences.insert().values(name=name, next_value=size))
                    conn.commit()
                    return 0
                except IntegrityError:  # another process created it first: compare-and-set instead
                    conn.rollback()
                    continue
            done = conn.execute(sequences.update()
                                .where(sequences.c.name == name, sequences.c.next_value == current)
                                .values(next_value=current + size)).rowcount
            conn.commit()
            if done == 1:
                return current
    raise CoreError(f"could not claim a block of sequence {name!r}: too much contention")


class IdGenerator:
    """Hands out business ids from store-claimed blocks; one per process is enough (thread-safe)."""

    def __init__(self, engine: Engine, *, block: int = 100, datacentre: str = "01",
                 environment: str = "1") -> None:
        self.engine, self.block = engine, block
        self.datacentre, self.environment = datacentre, environment
        self._blocks: dict[str, tuple[int, int]] = {}  # sequence name -> (next, end)
        self._lock = threading.Lock()

    def next_id(self, date: dt.date, business: str = PAYMENT, shard_key: str = "") -> str:
        return self.many(date, 1, business, shard_key)[0]

    def many(self, date: dt.date, count: int, business: str = PAYMENT, shard_key: str = "") -> list[str]:
        """`count` fresh ids for `date`; a large count claims one block of exactly that size."""
        name = f"id:{date:%Y%m%d}:{SYSTEM_CORE}:{business}"
        db_shard, table_shard = shard_of(shard_key)
        numbers: list[int] = []
        with self._lock:
            while len(numbers) < count:
                nxt, end = self._blocks.get(name, (0, 0))
                if nxt >= end:
                    size = max(self.block, count - len(numbers))
                    nxt = claim_block(self.engine, name, size)
                    end = nxt + size
                take = min(end - nxt, count - len(numbers))
                numbers.extend(range(nxt, nxt + take))
                self._blocks[name] = (nxt + take, end)
        if numbers and numbers[-1] >= SEQUENCE_LIMIT:
            raise CoreError(f"the {date} sequence for business {business} is exhausted "
                            f"({SEQUENCE_LIMIT:,} ids a day)")
        return [str(BusinessId(date=date, sequence=n, business=business, datacentre=self.datacentre,
                               db_shard=db_shard, table_shard=table_shard,
                               environment=self.environment)) for n in numbers]
