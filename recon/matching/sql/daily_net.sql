-- Layer 2, settlement: what each trade day (or each payout id) adds to what the channel owes us.
-- A trade row carrying a payout id that some payout row also carries is owed through that payout;
-- every other row is owed through the settlement period of its trade day. Net is amount - fee, so
-- refunds, chargebacks and fee lines reduce what is owed. Input: `trades` (daily_trades of the days
-- in question), `paid_ids` (payout ids seen on payout rows).
SELECT account, currency, bill_date,
       CASE WHEN payout_id IN (SELECT payout_id FROM paid_ids) THEN payout_id END AS payout_id,
       sum(n)::BIGINT AS n,
       sum(net)::DECIMAL(38, 6) AS net
FROM trades
GROUP BY ALL
ORDER BY account, currency, bill_date, payout_id NULLS FIRST
