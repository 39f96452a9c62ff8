-- Layer 2/3: one day's payout lines, the few a look-back range keeps of a bill for `payouts`. Only an
-- explicit success counts as paid. Input: `bill` (one day's standardized bill).
SELECT channel, account, currency, payout_id, channel_txn_id, bill_date, settle_date, net_amount, amount,
       source_file, source_line
FROM bill
WHERE status = 'SUCCESS' AND record_type = 'PAYOUT'
