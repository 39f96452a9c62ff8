-- Every row of both sides gets exactly one outcome: a pair (one row per channel line of a 1:N
-- group; one row per member of the longer side of an N:M group, so one side may be absent), a
-- duplicate, or an unmatched row of either side. This table is narrow (row ids and the
-- decision); wide.sql joins the rows' columns back when writing, so the day is never copied whole.
-- x_* columns are working columns for explanations and are not written.
CREATE OR REPLACE TABLE res AS
SELECT CAST($date AS DATE) AS business_date, CAST($channel AS VARCHAR) AS channel, u.*,
       NULL::VARCHAR AS reason, NULL::VARCHAR AS closest
FROM (
SELECT 'P' AS x_side, coalesce(p.tid, -1 - p.oid) AS x_key, p.oid, p.tid,
       {outcome_case} AS outcome,
       p.pass_name, p.match_key, p.confidence,
       least(o.carried_from, t.carried_from) AS carried_from,
       CASE WHEN o.carried_from IS NOT NULL AND t.carried_from IS NOT NULL THEN 'both'
            WHEN o.carried_from IS NOT NULL THEN 'ours' WHEN t.carried_from IS NOT NULL THEN 'theirs' END
         AS carried_side,
       coalesce(t.account, $account) AS account,
       p.group_id, p.group_size, p.anchor,
       -- a 1:N group is compared through its sums, on every line of the group
       coalesce(p.g_amount, t.amount) AS x_their_amount, coalesce(p.g_fee, t.fee) AS x_their_fee,
       coalesce(p.g_status, t.status) AS x_their_status,
       NULL::VARCHAR AS x_twin_file, NULL::BIGINT AS x_twin_line,
       -- the two times fall on different local days of the channel (FAULTS.md A19)
       -- (an N:M row with one side absent has nothing to compare)
       o.oid IS NOT NULL AND t.tid IS NOT NULL
         AND (CASE WHEN o.trade_time < $day_start THEN -1 WHEN o.trade_time >= $day_end THEN 1 ELSE 0 END)
             <> (CASE WHEN t.trade_time < $day_start THEN -1 WHEN t.trade_time >= $day_end THEN 1 ELSE 0 END)
         AS x_cross_midnight,
       -- an N:M group is compared through both sides' sums
       p.go_amount AS x_our_total, p.go_fee AS x_our_fee_total
FROM pairs p
LEFT JOIN (SELECT oid, currency, amount, fee, status, trade_time, carried_from FROM o) o ON o.oid = p.oid
LEFT JOIN (SELECT tid, account, currency, amount, fee, status, trade_time, carried_from FROM t) t ON t.tid = p.tid

UNION ALL
SELECT 'O', -1 - o.oid, o.oid, NULL,
       CASE WHEN d.oid IS NOT NULL THEN 'DUPLICATE'
            WHEN o.carried_from IS NOT NULL
                 AND date_diff('day', o.carried_from, $date) >= $pending_days THEN 'LOCAL_ONLY'
            WHEN o.carried_from IS NOT NULL THEN 'PENDING'
            WHEN $pending_days > 0 AND o.trade_time >= $pending_from THEN 'PENDING'
            ELSE 'LOCAL_ONLY' END,
       NULL, coalesce(d.match_key, CASE WHEN o.record_type = 'REFUND' THEN o.merchant_refund_id END,
                      o.merchant_txn_id, o.channel_txn_id, o.txn_id),
       NULL, o.carried_from, CASE WHEN o.carried_from IS NOT NULL THEN 'ours' END, $account, NULL, 1, TRUE,
       NULL, NULL, NULL, d.twin_file, d.twin_line, FALSE, NULL, NULL
FROM (SELECT oid FROM dup_o UNION ALL SELECT oid FROM {fo}) s JOIN o USING (oid) LEFT JOIN dup_o d USING (oid)

UNION ALL
SELECT 'T', t.tid, NULL, t.tid,
       CASE WHEN d.tid IS NOT NULL THEN 'DUPLICATE'
            WHEN t.carried_from IS NOT NULL
                 AND date_diff('day', t.carried_from, $date) >= $pending_days THEN 'CHANNEL_ONLY'
            WHEN t.carried_from IS NOT NULL THEN 'PENDING'
            WHEN $pending_days > 0 AND t.trade_time >= $pending_from THEN 'PENDING'
            ELSE 'CHANNEL_ONLY' END,
       NULL, coalesce(d.match_key,
                      CASE WHEN t.record_type = 'REFUND' THEN coalesce(t.merchant_refund_id, t.channel_refund_id) END,
                      t.merchant_txn_id, t.channel_txn_id),
       NULL, t.carried_from, CASE WHEN t.carried_from IS NOT NULL THEN 'theirs' END, coalesce(t.account, $account),
       NULL, 1, TRUE,
       NULL, NULL, NULL, d.twin_file, d.twin_line, FALSE, NULL, NULL
FROM (SELECT tid FROM dup_t UNION ALL SELECT tid FROM {ft}) s JOIN t USING (tid) LEFT JOIN dup_t d USING (tid)
) u;
