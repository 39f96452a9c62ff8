"""Column types that keep money exact and instants in UTC on every backend.

SQLAlchemy's `Numeric` on SQLite goes through float (SQLite has no decimal type; SQLAlchemy warns
about exactly this, FAULTS.md E5). `ExactDecimal` stores a Decimal as NUMERIC(38, scale) where the
backend has a real decimal (PostgreSQL) and as canonical decimal text on SQLite, so a value read
back is the value written, digit for digit. Sums happen in Python or DuckDB, never in SQLite.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from recon.money import MONEY_SCALE, context


class ExactDecimal(TypeDecorator[Decimal]):
    impl = String(64)
    cache_ok = True

    def __init__(self, scale: int = MONEY_SCALE) -> None:
        super().__init__()
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(38, self.scale, asdecimal=True))
        return dialect.type_descriptor(String(64))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money must be Decimal, got {type(value).__name__}: {value!r}")
        if not value.is_finite():
            raise ValueError(f"money must be finite, got {value}")
        q = value.quantize(Decimal(1).scaleb(-self.scale), context=context())
        if q != value:
            raise ValueError(f"{value} has more than {self.scale} decimals")
        return q if dialect.name == "postgresql" else format(q, "f")

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))


# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An aware instant, stored in UTC (naive UTC text on SQLite, timestamptz on PostgreSQL)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"instant {value!r} has no time zone; recon stores aware instants only")
        utc = value.astimezone(dt.timezone.utc)
        return utc if dialect.name == "postgresql" else utc.replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


class NaiveUtcDateTime(TypeDecorator[dt.datetime]):
    """An aware instant in a column without a zone (the run registry's and fetch schedule's tables,
    created that way by their first revisions): stored as naive UTC, read back aware."""

    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"instant {value!r} has no time zone; recon stores aware instants only")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.timezone.utc)
