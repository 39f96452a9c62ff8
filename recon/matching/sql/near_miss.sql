-- For each unmatched row of one side ({u}), the closest row of the other side ({c}): first a row
-- sharing one of its ids (same record type first, then key priority), else a free row with the same currency and amount,
-- nearest in time within a day. Only unmatched rows are searched, so this stays small.
-- The candidates first: the ids of rows sharing an id, found over the id columns alone, then
-- those rows' {columns} (the ones read below), plus the other side's free rows. Filtering the
-- whole rows by the ids read every row's every column.
CREATE OR REPLACE TEMP TABLE near_c AS
SELECT {columns} FROM {c} WHERE {c_id} IN (SELECT {c_id} FROM {c} WHERE {prefilter})
UNION
SELECT {columns} FROM {c_free};

CREATE OR REPLACE TABLE {out} AS
WITH hits AS (
    {key_hits}
    UNION ALL
    SELECT u.{u_id} AS uid, u.record_type AS u_type, 1 AS kind_rank, 0 AS prio, 'amount' AS kind, c.{c_id} AS cid,
           abs(epoch_us(u.trade_time) - epoch_us(c.trade_time)) AS gap
    FROM {u} u JOIN {c_free} c ON u.currency = c.currency AND u.amount = c.amount
    WHERE abs(epoch_us(u.trade_time) - epoch_us(c.trade_time)) <= 86400000000
), ranked AS (
    SELECT h.*, c.source_file AS c_file, c.source_line AS c_line,
           -- a row of the same record type is the likelier twin (a payment's refund shares its id)
           row_number() OVER (PARTITION BY h.uid ORDER BY h.kind_rank, c.record_type <> h.u_type, h.prio, h.gap,
                                                          c.source_file, c.source_line) AS n,
           count(*) OVER (PARTITION BY h.uid, h.kind_rank, c.record_type <> h.u_type, h.prio, h.gap) AS ties
    FROM hits h JOIN near_c c ON c.{c_id} = h.cid
)
SELECT r.uid, r.kind, r.ties, r.c_file, r.c_line, c.{c_label} AS c_label, c.record_type AS c_record_type,
       c.currency AS c_currency, c.amount AS c_amount, c.status AS c_status, c.trade_time AS c_trade_time,
       CASE WHEN r.cid IN (SELECT {c_id} FROM {c_dup}) THEN 'duplicate'
            WHEN r.cid IN (SELECT {c_id} FROM {c_free}) THEN 'unmatched'
            ELSE 'paired' END AS c_state
FROM ranked r JOIN near_c c ON c.{c_id} = r.cid
WHERE r.n = 1;
