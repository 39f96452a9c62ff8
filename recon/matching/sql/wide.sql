-- The contract columns of results/<D>/layer1.parquet (CONTRIBUTING.md), in contract order: the
-- narrow decisions in `res` joined back to both sides' rows. {extra} adds working columns for
-- explanations; {where} limits the rows (to those needing words); {o} / {t} are the sides' rows
-- (the whole day, or only the rows needing words: few_rows.sql).
SELECT r.business_date, r.channel, r.account, r.outcome, r.pass_name, r.match_key, r.reason,
       CAST(r.confidence AS DOUBLE) AS confidence, r.carried_from,
       o.txn_id AS our_txn_id, o.merchant_id AS our_merchant_id, o.merchant_txn_id AS our_merchant_txn_id,
       o.channel_txn_id AS our_channel_txn_id, o.merchant_refund_id AS our_merchant_refund_id,
       o.record_type AS our_record_type, o.currency AS our_currency,
       -- our money once per group, on its anchor line, so sums over the file never count it twice
       -- (an N:M group's rows of ours each appear once: each keeps its own)
       CASE WHEN r.anchor OR r.x_our_total IS NOT NULL THEN o.amount END AS our_amount,
       CASE WHEN r.anchor OR r.x_our_total IS NOT NULL THEN o.fee END AS our_fee,
       o.status AS our_status, o.trade_time AS our_trade_time, o.source_file AS our_source_file,
       o.source_line AS our_source_line,
       t.channel_txn_id AS their_channel_txn_id, t.merchant_txn_id AS their_merchant_txn_id,
       t.channel_refund_id AS their_channel_refund_id, t.merchant_refund_id AS their_merchant_refund_id,
       t.record_type AS their_record_type, t.currency AS their_currency, t.amount AS their_amount,
       t.fee AS their_fee, t.status AS their_status, t.trade_time AS their_trade_time,
       t.source_file AS their_source_file, t.source_line AS their_source_line,
       -- a difference across currencies means nothing (FAULTS.md E11); a group's is its sums'
       CASE WHEN r.anchor AND o.currency = t.currency
            THEN r.x_their_amount - coalesce(r.x_our_total, o.amount) END AS diff_amount,
       CASE WHEN r.anchor AND o.currency = t.currency
            THEN r.x_their_fee - coalesce(r.x_our_fee_total, o.fee) END AS diff_fee,
       r.group_id, CAST(r.group_size AS INTEGER) AS group_size, r.closest,
       o.merchant_order_no AS our_merchant_order_no, o.original_txn_id AS our_original_txn_id,
       t.account AS their_account, t.counterparty AS their_counterparty, r.carried_side
       {extra}
FROM res r LEFT JOIN {o} o ON o.oid = r.oid LEFT JOIN {t} t ON t.tid = r.tid
{where}
