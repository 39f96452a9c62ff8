-- Layer 2, settlement: one day's bill reduced to what daily_net sums over a look-back range, so the
-- range is never held line by line: the successful trade lines (not payouts) per bill date, account,
-- currency and payout id as the lines carry it, with their count and net (amount - fee).
-- Input: `bill` (one day's standardized bill).
SELECT account, currency, bill_date, payout_id,
       count(*) AS n,
       sum(net_amount)::DECIMAL(38, 6) AS net
FROM bill
WHERE status = 'SUCCESS' AND record_type <> 'PAYOUT'
GROUP BY ALL
