-- The contract columns of results/<D>/layer1.parquet (CONTRIBUTING.md), in contract order.
SELECT business_date, channel, account, outcome, pass_name, match_key, reason,
       CAST(confidence AS DOUBLE) AS confidence, carried_from,
       our_txn_id, our_merchant_id, our_merchant_txn_id, our_channel_txn_id, our_merchant_refund_id,
       our_record_type, our_currency, our_amount, our_fee, our_status, our_trade_time, our_source_file,
       our_source_line,
       their_channel_txn_id, their_merchant_txn_id, their_channel_refund_id, their_merchant_refund_id,
       their_record_type, their_currency, their_amount, their_fee, their_status, their_trade_time,
       their_source_file, their_source_line,
       diff_amount, diff_fee,
       group_id, CAST(group_size AS INTEGER) AS group_size, closest,
       our_merchant_order_no, our_original_txn_id, their_account, their_counterparty
FROM {table}
