-- Rows no pass took and nobody waits on (LOCAL_ONLY / CHANNEL_ONLY), with what the exact-sum search
-- needs: the block they belong to, the exact amount, and the label a person knows them by (the
-- queue key: match_key, else the source line).
SELECT r.x_side, r.x_key, r.outcome, r.reason,
       coalesce(o.currency, t.currency) AS currency,
       coalesce(o.record_type, t.record_type) AS record_type,
       coalesce(o.counterparty, t.counterparty) AS counterparty,
       coalesce(o.amount, t.amount) AS amount,
       coalesce(r.match_key, o.txn_id, coalesce(o.source_file, t.source_file) || ':'
                || CAST(coalesce(o.source_line, t.source_line) AS VARCHAR)) AS label,
       coalesce(o.source_file, t.source_file) AS source_file,
       coalesce(o.source_line, t.source_line) AS source_line
-- (an unmatched row needs words, so its row is among few_rows.sql's)
FROM res r LEFT JOIN o_few o ON o.oid = r.oid LEFT JOIN t_few t ON t.tid = r.tid
WHERE r.outcome IN ('LOCAL_ONLY', 'CHANNEL_ONLY')
