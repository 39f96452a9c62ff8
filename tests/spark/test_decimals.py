"""Decimal semantics of the two engines agree: sums and products of 38-digit decimals stay exact,
keep their scale, and overflow is an error on both (never a rounded or NULL figure)."""

from __future__ import annotations

from decimal import Decimal as D
from decimal import localcontext

import pytest

from recon.matching import engine
from recon.matching.spark_engine import SparkSql

AMOUNTS = ("12345678901234567890123456789012.123456", "-2345678901234567890123456789012.000001",
           "0.000001", "99999999999999999999999999.999999")
RATE = "0.123456789"
QUERY = f"""
SELECT sum(a) AS total, sum(CASE WHEN abs(a) < 100000000000000000000 THEN a * r END) AS weighted,
       min(a * CAST('0.000000001' AS DECIMAL(18, 9))) AS smallest, count(*) AS n
FROM (SELECT CAST(x AS DECIMAL(38, 6)) AS a, CAST('{RATE}' AS DECIMAL(18, 9)) AS r
      FROM (VALUES {", ".join(f"('{a}')" for a in AMOUNTS)}) v(x))
"""
OVERFLOW = """
SELECT sum(CAST(x AS DECIMAL(38, 6))) AS total
FROM (VALUES ('99999999999999999999999999999999.999999'), ('0.000001')) v(x)
"""


def test_sums_and_products_of_38_digit_decimals_are_exact_on_both_engines(spark, tmp_path):
    on_duckdb = engine.connect().execute(QUERY).fetchall()[0]
    on_spark = SparkSql(spark, tmp_path).execute(QUERY).fetchall()[0]
    with localcontext() as exact:
        exact.prec = 80
        total = sum(D(a) for a in AMOUNTS)
        weighted = D("0.000001") * D(RATE)
    assert on_duckdb == on_spark
    assert on_duckdb[0] == total and on_duckdb[0].as_tuple().exponent == -6
    assert on_duckdb[1] == weighted and on_duckdb[1].as_tuple().exponent == -15
    assert on_duckdb[2] == D("-2345678901234567890123.456789012000001")


def test_decimal_overflow_is_an_error_on_both_engines(spark, tmp_path):
    with pytest.raises(Exception, match="(?i)overflow|out of range"):
        engine.connect().execute(OVERFLOW).fetchall()
    with pytest.raises(Exception, match="(?i)overflow|out of range|cannot be represented"):
        SparkSql(spark, tmp_path).execute(OVERFLOW).fetchall()
