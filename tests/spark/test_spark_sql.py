"""The Spark SQL recon generates, pinned: every statement of a layer-1 run, transpiled (no Java needed).

Statements are recorded as the DuckDB engine executes them, then translated exactly as `SparkSql`
translates them, so a change to the passes or to sqlglot shows up here as a reviewable diff
(RECON_UPDATE_GOLDEN=1 rewrites the snapshot, as for the parsers' golden files).
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlglot import exp

from recon.matching import engine, layer1, transpile
from tests.golden import assert_golden
from tests.matching.factory import frames
from tests.spark.parity_day import D1, RULES, day_one

SNAPSHOT = Path(__file__).parent / "golden" / "layer1.spark.sql"


class Recorder:
    """The DuckDB connection, writing down every statement in its Spark form before running it."""

    def __init__(self, con) -> None:
        self.con, self.log = con, []

    def execute(self, statement, params=None):
        step = transpile.to_spark(statement, params)
        sql = transpile.finish(step, self._columns)
        self.log.append(transpile.log_entry(step, sql))
        return self.con.execute(statement, params) if params else self.con.execute(statement)

    def _columns(self, table: str) -> list[str]:
        return [d[0] for d in self.con.execute(f"SELECT * FROM {table} LIMIT 0").description]

    def __getattr__(self, name):
        return getattr(self.con, name)


def test_generated_spark_sql_matches_the_snapshot():
    con = engine.connect()
    bill, internal = frames(*day_one())
    layer1.register_side(con, "ours_in", internal, None, layer1.OURS_FIELDS)
    layer1.register_side(con, "theirs_in", bill, None, layer1.THEIRS_FIELDS)
    recorder = Recorder(con)
    layer1.run(recorder, RULES, D1, channel="wx", account="1900000109", zone=ZoneInfo("Asia/Shanghai"))
    recorder.execute(layer1.wide_sql())
    text = "\n\n".join(recorder.log) + "\n"
    assert "epoch_us" not in text.lower() and "unix_micros" in text.lower() and "xxhash64" in text.lower()
    assert_golden(text, SNAPSHOT)


@pytest.mark.parametrize(("duckdb_sql", "spark_sql"), [
    ("SELECT epoch_us(t) FROM x", "SELECT UNIX_MICROS(t) FROM x"),
    ("SELECT hash(k) FROM x", "SELECT XXHASH64(k) FROM x"),
    ("SELECT s[3:] FROM x", "SELECT SUBSTRING(s, 3) FROM x"),
    ("SELECT s[1:length(s) - 2] FROM x", "SELECT SUBSTRING(s, 1, (LENGTH(s) - 2) - (1) + 1) FROM x"),
    ("SELECT least(a, b), greatest(a, b) FROM x", "SELECT LEAST(a, b), GREATEST(a, b) FROM x"),
    ("SELECT $d, $n, $s, $f", "SELECT CAST('2024-05-01' AS DATE), 3, 'it\\'s', CAST('0.5' AS DOUBLE)"),
])
def test_each_named_rewrite(duckdb_sql, spark_sql):
    params = {"d": D1, "n": 3, "s": "it's", "f": 0.5}
    assert transpile.to_spark(duckdb_sql, params).sql == spark_sql


def test_statements_become_table_operations():
    assert transpile.to_spark("DELETE FROM t WHERE id IN (SELECT id FROM d)") == transpile.Statement(
        "delete", "t", "SELECT * FROM t WHERE NOT COALESCE((id IN (SELECT id FROM d)), FALSE)")
    assert transpile.to_spark("ALTER TABLE a RENAME TO b") == transpile.Statement("rename", "a", new_name="b")
    assert transpile.to_spark("CREATE TABLE p (a BIGINT, b VARCHAR)").sql == \
        "SELECT CAST(NULL AS BIGINT) AS a, CAST(NULL AS STRING) AS b WHERE FALSE"
    update = transpile.to_spark("UPDATE r SET v = x.v FROM f x WHERE r.k = x.k")
    assert transpile.update_query(update.update, ["k", "v"]) == (
        "SELECT r.k AS k, CASE WHEN x.__updated THEN x.v ELSE r.v END AS v FROM r "
        "LEFT JOIN (SELECT *, TRUE AS __updated FROM f) AS x ON r.k = x.k")
    with pytest.raises(ValueError, match="slice without a start"):
        transpile.to_spark("SELECT s[:2] FROM x")
    assert isinstance(transpile.literal(None), exp.Null)
