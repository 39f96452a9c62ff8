-- Both sides with a row id, carried pending rows included (carried_from is their day). Views, not
-- tables: each pass reads only the columns it needs straight from the Parquet files or frames,
-- instead of a second copy of the whole day.
-- Inputs are the views ours_in / theirs_in that layer1.py builds over frames or Parquet files.
CREATE OR REPLACE VIEW o AS
SELECT rid AS oid, txn_id, merchant_id, merchant_order_no, merchant_txn_id, channel_txn_id,
       merchant_refund_id,
       -- the channel's serial of a refund is what our side stores as channel_txn_id on that row
       CASE WHEN record_type = 'REFUND' THEN channel_txn_id END AS channel_refund_id,
       original_txn_id, record_type, currency,
       -- an export without a fee means no fee, as recon.internal.from_records reads it
       CAST(amount AS DECIMAL(38, 6)) AS amount, coalesce(CAST(fee AS DECIMAL(38, 6)), 0) AS fee, status,
       CAST(trade_time AS TIMESTAMPTZ) AS trade_time, source_file, CAST(source_line AS BIGINT) AS source_line,
       counterparty, CAST(carried_from AS DATE) AS carried_from
FROM ours_in;

CREATE OR REPLACE VIEW t AS
SELECT rid AS tid, account, channel_txn_id, merchant_txn_id, channel_refund_id, merchant_refund_id,
       record_type, currency,
       CAST(amount AS DECIMAL(38, 6)) AS amount, CAST(fee AS DECIMAL(38, 6)) AS fee, status,
       CAST(trade_time AS TIMESTAMPTZ) AS trade_time, source_file, CAST(source_line AS BIGINT) AS source_line,
       counterparty, payout_id, CAST(carried_from AS DATE) AS carried_from
FROM theirs_in;

CREATE OR REPLACE TABLE pairs (
    oid BIGINT, tid BIGINT, pass_name VARCHAR, match_key VARCHAR, confidence DOUBLE,
    group_id VARCHAR, group_size INTEGER, anchor BOOLEAN,
    g_amount DECIMAL(38, 6), g_fee DECIMAL(38, 6), g_status VARCHAR,
    -- an N:M group's sums on our side (group_nm_pass.sql); null for every other pair
    go_amount DECIMAL(38, 6), go_fee DECIMAL(38, 6), go_status VARCHAR
);

CREATE OR REPLACE TABLE new_pairs AS SELECT * FROM pairs;
