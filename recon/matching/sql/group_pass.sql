-- 1:N: one of our orders settled by several channel lines sharing the group key. The lines are
-- summed per currency (a group mixing currencies is never summed, FAULTS.md E11); the sums are
-- what the outcome compares. The first line in source order is the anchor that carries our money.
INSERT INTO new_pairs
WITH a AS (
    SELECT oid, record_type, currency, {key_o} AS k FROM {fo}
    WHERE record_type <> 'REFUND' AND {key_o} IS NOT NULL
), ua AS (
    SELECT record_type, k FROM a GROUP BY ALL HAVING count(*) = 1
), b AS (
    SELECT tid, record_type, currency, amount, fee, status, source_file, source_line, channel_txn_id,
           {key_t} AS k
    FROM {ft} WHERE record_type <> 'REFUND' AND {key_t} IS NOT NULL
), g AS (
    SELECT record_type, k, count(*) AS n, sum(amount) AS ga, sum(fee) AS gf,
           CASE WHEN count(DISTINCT status) = 1 THEN min(status) ELSE 'MIXED' END AS gs
    FROM b GROUP BY ALL HAVING count(*) >= 2 AND count(DISTINCT currency) = 1
), members AS (
    SELECT b.*, g.n, g.ga, g.gf, g.gs,
           row_number() OVER (PARTITION BY b.record_type, b.k
                              ORDER BY b.source_file, b.source_line, b.channel_txn_id) AS pos
    FROM b JOIN g USING (record_type, k)
)
SELECT a.oid, m.tid, $pass_name, a.k, NULL, a.k, m.n, m.pos = 1, m.ga, m.gf, m.gs, NULL, NULL, NULL
FROM a SEMI JOIN ua USING (record_type, k)
JOIN members m ON m.record_type = a.record_type AND m.k = a.k AND m.currency = a.currency;
