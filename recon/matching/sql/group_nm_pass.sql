-- N:M: rows of ours sharing the group key against the channel's lines sharing theirs (the same
-- value on both sides), compared on their sums. A group forms only where each side's members share
-- one currency and it is the same on both sides (a sum across currencies means nothing, FAULTS.md
-- E11). Payments and refunds are summed with their signs, as a batch nets them. Each member is one
-- results row: the i-th of ours (by txn id) beside the i-th of theirs (by channel serial), the
-- longer side's extra members alone, so every row of either side appears exactly once. Every row
-- carries both sums (so every row gets the group's outcome); row 1, the anchor, carries the
-- difference. Rows come from the free tables only: a row an earlier pass paired is never regrouped.
INSERT INTO new_pairs
WITH a AS (
    SELECT oid, currency, amount, fee, status, txn_id, source_file, source_line, {key_o} AS k
    FROM {fo} WHERE {key_o} IS NOT NULL
), b AS (
    SELECT tid, currency, amount, fee, status, channel_txn_id, source_file, source_line, {key_t} AS k
    FROM {ft} WHERE {key_t} IS NOT NULL
), ga AS (
    SELECT k, min(currency) AS currency, count(*) AS n, sum(amount) AS s_amount, sum(fee) AS s_fee,
           CASE WHEN count(DISTINCT status) = 1 THEN min(status) ELSE 'MIXED' END AS s_status
    FROM a GROUP BY k HAVING count(DISTINCT currency) = 1
), gb AS (
    SELECT k, min(currency) AS currency, count(*) AS n, sum(amount) AS s_amount, sum(fee) AS s_fee,
           CASE WHEN count(DISTINCT status) = 1 THEN min(status) ELSE 'MIXED' END AS s_status
    FROM b GROUP BY k HAVING count(DISTINCT currency) = 1
), g AS (
    SELECT ga.k, CASE WHEN ga.n > gb.n THEN ga.n ELSE gb.n END AS size,
           ga.s_amount AS oa, ga.s_fee AS ofee, ga.s_status AS ost,
           gb.s_amount AS ta, gb.s_fee AS tfee, gb.s_status AS tst
    FROM ga JOIN gb ON gb.k = ga.k AND gb.currency = ga.currency
), ma AS (
    SELECT a.oid, a.k, row_number() OVER (PARTITION BY a.k
                                          ORDER BY a.txn_id, a.source_file, a.source_line, a.oid) AS pos
    FROM a SEMI JOIN g USING (k)
), mb AS (
    SELECT b.tid, b.k, row_number() OVER (PARTITION BY b.k
                                          ORDER BY b.channel_txn_id, b.source_file, b.source_line, b.tid) AS pos
    FROM b SEMI JOIN g USING (k)
)
SELECT ma.oid, mb.tid, $pass_name, g.k, NULL, g.k, g.size, coalesce(ma.pos, mb.pos) = 1,
       g.ta, g.tfee, g.tst, g.oa, g.ofee, g.ost
FROM ma FULL JOIN mb ON mb.k = ma.k AND mb.pos = ma.pos
JOIN g ON g.k = coalesce(ma.k, mb.k);
