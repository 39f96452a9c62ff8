-- A business identity seen twice on one side: the first copy (carried rows first, then source
-- order) goes on matching, every later copy is a DUPLICATE naming the first. Our identity is our
-- serial (the refund id for refunds); the channel's is its own serial.
CREATE OR REPLACE TABLE dup_o AS
WITH ident AS (
    SELECT oid, record_type, carried_from, source_file, source_line, txn_id,
           CASE WHEN record_type = 'REFUND' THEN merchant_refund_id ELSE merchant_txn_id END AS k
    FROM o
), multi AS (
    -- counting 64-bit hashes is cheaper than counting strings; a collision only adds a group
    -- that the ranking below (on the real key) finds to have one row
    SELECT record_type, hash(k) AS h FROM ident WHERE k IS NOT NULL GROUP BY ALL HAVING count(*) > 1
), ranked AS (
    SELECT i.*,
           row_number() OVER w AS n,
           first_value(i.source_file) OVER w AS twin_file,
           first_value(i.source_line) OVER w AS twin_line
    FROM ident i SEMI JOIN multi m ON m.record_type = i.record_type AND m.h = hash(i.k) AND i.k IS NOT NULL
    WINDOW w AS (PARTITION BY i.record_type, i.k
                 ORDER BY i.carried_from ASC NULLS LAST, i.source_file, i.source_line, i.txn_id)
)
SELECT oid, k AS match_key, twin_file, twin_line FROM ranked WHERE n > 1;

CREATE OR REPLACE TABLE dup_t AS
WITH ident AS (
    SELECT tid, record_type, carried_from, source_file, source_line, channel_txn_id,
           CASE WHEN record_type = 'REFUND' THEN coalesce(channel_refund_id, merchant_refund_id)
                ELSE channel_txn_id END AS k
    FROM t
), multi AS (
    -- counting 64-bit hashes is cheaper than counting strings; a collision only adds a group
    -- that the ranking below (on the real key) finds to have one row
    SELECT record_type, hash(k) AS h FROM ident WHERE k IS NOT NULL GROUP BY ALL HAVING count(*) > 1
), ranked AS (
    SELECT i.*,
           row_number() OVER w AS n,
           first_value(i.source_file) OVER w AS twin_file,
           first_value(i.source_line) OVER w AS twin_line
    FROM ident i SEMI JOIN multi m ON m.record_type = i.record_type AND m.h = hash(i.k) AND i.k IS NOT NULL
    WINDOW w AS (PARTITION BY i.record_type, i.k
                 ORDER BY i.carried_from ASC NULLS LAST, i.source_file, i.source_line, i.channel_txn_id)
)
SELECT tid, k AS match_key, twin_file, twin_line FROM ranked WHERE n > 1;

CREATE OR REPLACE VIEW fo_0 AS SELECT * FROM o ANTI JOIN dup_o USING (oid);
CREATE OR REPLACE VIEW ft_0 AS SELECT * FROM t ANTI JOIN dup_t USING (tid);
