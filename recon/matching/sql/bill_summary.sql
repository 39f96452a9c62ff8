-- Layer 2, bill level: our day's totals against the channel's, per channel, account, currency and
-- record type. Only rows that moved money count (status SUCCESS on both sides); payouts are not
-- trades and are checked by the settlement step instead. Inputs: `our_rows` (internal frame plus
-- the configured channel account) and `their_rows` (the standardized bill).
WITH ours AS (
    SELECT channel, account, currency, record_type,
           count(*) AS n,
           sum(amount)::DECIMAL(38, 6) AS amount,
           sum(coalesce(fee, 0))::DECIMAL(38, 6) AS fee,
           sum(amount - coalesce(fee, 0))::DECIMAL(38, 6) AS net
    FROM our_rows
    WHERE status = 'SUCCESS' AND record_type <> 'PAYOUT'
    GROUP BY channel, account, currency, record_type
),
theirs AS (
    SELECT channel, account, currency, record_type,
           count(*) AS n,
           sum(amount)::DECIMAL(38, 6) AS amount,
           sum(fee)::DECIMAL(38, 6) AS fee,
           sum(net_amount)::DECIMAL(38, 6) AS net
    FROM their_rows
    WHERE status = 'SUCCESS' AND record_type <> 'PAYOUT'
    GROUP BY channel, account, currency, record_type
)
SELECT channel, account, currency, record_type,
       coalesce(o.n, 0) AS our_count, coalesce(t.n, 0) AS their_count,
       coalesce(o.amount, 0)::DECIMAL(38, 6) AS our_amount,
       coalesce(t.amount, 0)::DECIMAL(38, 6) AS their_amount,
       coalesce(o.fee, 0)::DECIMAL(38, 6) AS our_fee,
       coalesce(t.fee, 0)::DECIMAL(38, 6) AS their_fee,
       coalesce(o.net, 0)::DECIMAL(38, 6) AS our_net,
       coalesce(t.net, 0)::DECIMAL(38, 6) AS their_net
FROM ours AS o
FULL OUTER JOIN theirs AS t USING (channel, account, currency, record_type)
ORDER BY channel, account, currency, record_type
