-- A channel line left unpaired that echoes the same serial of ours as another line of the same
-- type (our merchant_txn_id, or our refund id) is the channel charging or refunding one order
-- twice under two of its own serials: a DUPLICATE of that line, not a line we know nothing about.
-- (Where a rule declares 1:N groups, such lines were grouped before this runs.) The line already
-- paired, else the first in source order, is the original.
CREATE OR REPLACE TEMP TABLE dup_echo AS
WITH echo AS (
    SELECT tid, record_type, carried_from, source_file, source_line, channel_txn_id,
           CASE WHEN record_type = 'REFUND' THEN merchant_refund_id ELSE merchant_txn_id END AS k
    FROM t ANTI JOIN dup_t USING (tid)
), wanted AS (
    SELECT DISTINCT e.record_type, e.k FROM echo e SEMI JOIN {ft} f USING (tid) WHERE e.k IS NOT NULL
), ranked AS (
    SELECT e.*, f.tid IS NOT NULL AS free,
           row_number() OVER w AS n,
           first_value(e.source_file) OVER w AS twin_file,
           first_value(e.source_line) OVER w AS twin_line
    FROM echo e SEMI JOIN wanted USING (record_type, k) LEFT JOIN {ft} f USING (tid)
    WINDOW w AS (PARTITION BY e.record_type, e.k
                 ORDER BY (f.tid IS NOT NULL), e.carried_from ASC NULLS LAST, e.source_file, e.source_line,
                          e.channel_txn_id)
)
SELECT tid, k AS match_key, twin_file, twin_line FROM ranked WHERE n > 1 AND free;

INSERT INTO dup_t SELECT * FROM dup_echo;

DELETE FROM {ft} WHERE tid IN (SELECT tid FROM dup_echo);
