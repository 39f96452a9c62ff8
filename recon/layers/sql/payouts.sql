-- Layer 2/3: payouts the channel reports (Stripe/PayPal/Adyen payout lines, WeChat/Alipay
-- fund-flow payouts). Only an explicit success counts as paid. The money owed is consumed by
-- -net_amount (a payout fee comes out of the channel balance too); the bank receives -amount.
-- `ref` is the payout id where the channel gives one, else the line's own serial.
SELECT channel, account, currency,
       coalesce(payout_id, channel_txn_id) AS ref,
       payout_id,
       bill_date AS pay_date,
       coalesce(settle_date, bill_date) AS arrival_date,
       (-net_amount)::DECIMAL(38, 6) AS settled,
       (-amount)::DECIMAL(38, 6) AS to_bank,
       source_file, source_line
FROM payout_rows
WHERE status = 'SUCCESS' AND record_type = 'PAYOUT'
ORDER BY pay_date, account, currency, ref, source_file, source_line
