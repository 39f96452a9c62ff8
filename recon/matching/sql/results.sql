-- Every row of both sides lands in exactly one result row: a pair (one row per channel line of a
-- 1:N group), a duplicate, or an unmatched row of either side. x_* columns are working columns
-- (x_key identifies the row for the explanations join) and are not written; reason and closest
-- are filled afterwards for the rows that need words.
CREATE OR REPLACE TABLE res AS
SELECT CAST($date AS DATE) AS business_date, CAST($channel AS VARCHAR) AS channel, u.*,
       NULL::VARCHAR AS reason, NULL::VARCHAR AS closest
FROM (
SELECT 'P' AS x_side, p.tid AS x_key,
       {outcome_case} AS outcome,
       p.pass_name, p.match_key, p.confidence,
       least(o.carried_from, t.carried_from) AS carried_from,
       coalesce(t.account, $account) AS account,
       o.txn_id AS our_txn_id, o.merchant_id AS our_merchant_id, o.merchant_txn_id AS our_merchant_txn_id,
       o.channel_txn_id AS our_channel_txn_id, o.merchant_refund_id AS our_merchant_refund_id,
       o.record_type AS our_record_type, o.currency AS our_currency,
       CASE WHEN p.anchor THEN o.amount END AS our_amount, CASE WHEN p.anchor THEN o.fee END AS our_fee,
       o.status AS our_status, o.trade_time AS our_trade_time, o.source_file AS our_source_file,
       o.source_line AS our_source_line,
       t.channel_txn_id AS their_channel_txn_id, t.merchant_txn_id AS their_merchant_txn_id,
       t.channel_refund_id AS their_channel_refund_id, t.merchant_refund_id AS their_merchant_refund_id,
       t.record_type AS their_record_type, t.currency AS their_currency, t.amount AS their_amount,
       t.fee AS their_fee, t.status AS their_status, t.trade_time AS their_trade_time,
       t.source_file AS their_source_file, t.source_line AS their_source_line,
       -- a difference across currencies means nothing (FAULTS.md E11); a group compares its sum
       CASE WHEN p.anchor AND o.currency = t.currency THEN coalesce(p.g_amount, t.amount) - o.amount END AS diff_amount,
       CASE WHEN p.anchor AND o.currency = t.currency THEN coalesce(p.g_fee, t.fee) - o.fee END AS diff_fee,
       p.group_id, p.group_size,
       o.merchant_order_no AS our_merchant_order_no, o.original_txn_id AS our_original_txn_id,
       t.account AS their_account, t.counterparty AS their_counterparty,
       p.g_amount AS x_g_amount, p.g_status AS x_g_status, NULL::VARCHAR AS x_twin_file, NULL::BIGINT AS x_twin_line,
       -- the two times fall on different local days of the channel (FAULTS.md A19)
       (CASE WHEN o.trade_time < $day_start THEN -1 WHEN o.trade_time >= $day_end THEN 1 ELSE 0 END)
         <> (CASE WHEN t.trade_time < $day_start THEN -1 WHEN t.trade_time >= $day_end THEN 1 ELSE 0 END)
         AS x_cross_midnight
FROM pairs p JOIN o USING (oid) JOIN t USING (tid)

UNION ALL
SELECT 'O', -1 - o.oid,
       CASE WHEN d.oid IS NOT NULL THEN 'DUPLICATE'
            WHEN o.carried_from IS NOT NULL AND date_diff('day', o.carried_from, $date) >= $pending_days THEN 'LOCAL_ONLY'
            WHEN o.carried_from IS NOT NULL THEN 'PENDING'
            WHEN $pending_days > 0 AND o.trade_time >= $pending_from THEN 'PENDING'
            ELSE 'LOCAL_ONLY' END,
       NULL, coalesce(d.match_key, CASE WHEN o.record_type = 'REFUND' THEN o.merchant_refund_id END,
                      o.merchant_txn_id, o.channel_txn_id, o.txn_id),
       NULL, o.carried_from, $account,
       o.txn_id, o.merchant_id, o.merchant_txn_id, o.channel_txn_id, o.merchant_refund_id, o.record_type,
       o.currency, o.amount, o.fee, o.status, o.trade_time, o.source_file, o.source_line,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, 1, o.merchant_order_no, o.original_txn_id, NULL, NULL,
       NULL, NULL, d.twin_file, d.twin_line, FALSE
FROM (SELECT oid FROM dup_o UNION ALL SELECT oid FROM {fo}) s JOIN o USING (oid) LEFT JOIN dup_o d USING (oid)

UNION ALL
SELECT 'T', t.tid,
       CASE WHEN d.tid IS NOT NULL THEN 'DUPLICATE'
            WHEN t.carried_from IS NOT NULL AND date_diff('day', t.carried_from, $date) >= $pending_days THEN 'CHANNEL_ONLY'
            WHEN t.carried_from IS NOT NULL THEN 'PENDING'
            WHEN $pending_days > 0 AND t.trade_time >= $pending_from THEN 'PENDING'
            ELSE 'CHANNEL_ONLY' END,
       NULL, coalesce(d.match_key, CASE WHEN t.record_type = 'REFUND' THEN coalesce(t.merchant_refund_id, t.channel_refund_id) END,
                      t.merchant_txn_id, t.channel_txn_id),
       NULL, t.carried_from, coalesce(t.account, $account),
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       t.channel_txn_id, t.merchant_txn_id, t.channel_refund_id, t.merchant_refund_id, t.record_type,
       t.currency, t.amount, t.fee, t.status, t.trade_time, t.source_file, t.source_line,
       NULL, NULL, NULL, 1, NULL, NULL, t.account, t.counterparty,
       NULL, NULL, d.twin_file, d.twin_line, FALSE
FROM (SELECT tid FROM dup_t UNION ALL SELECT tid FROM {ft}) s JOIN t USING (tid) LEFT JOIN dup_t d USING (tid)
) u;
