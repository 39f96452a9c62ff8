-- Layer 2/3: payouts the channel reports (Stripe/PayPal/Adyen payout lines, WeChat/Alipay
-- fund-flow payouts). The money owed is consumed by -net_amount (a payout fee comes out of the
-- channel balance too); the bank receives -amount. `ref` is the payout id where the channel gives
-- one, else the line's own serial; lines sharing a payout id are one payout in pieces, so they are
-- summed (the bank sees one credit). Input: `payout_rows` (payout_lines of the days in question).
SELECT channel, account, currency,
       coalesce(payout_id, channel_txn_id) AS ref,
       any_value(payout_id) AS payout_id,
       max(bill_date) AS pay_date,
       max(coalesce(settle_date, bill_date)) AS arrival_date,
       sum(-net_amount)::DECIMAL(38, 6) AS settled,
       sum(-amount)::DECIMAL(38, 6) AS to_bank,
       min(source_file) AS source_file,
       min(source_line) AS source_line
FROM payout_rows
GROUP BY channel, account, currency, coalesce(payout_id, channel_txn_id)
ORDER BY pay_date, account, currency, ref
