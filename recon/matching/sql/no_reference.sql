-- Rows left without a usable reference: same record type, currency and amount, times within the
-- window, counterparties not contradicting. The score (not money, so a float) rewards closeness in
-- time and an agreeing counterparty, and is docked when both sides carry different ids. A pair is
-- taken only when each row is the other's single best candidate; ties stay unpaired and explained.
INSERT INTO new_pairs
WITH cand AS (
    SELECT a.oid, b.tid, a.source_file AS of, a.source_line AS ol, b.source_file AS tf, b.source_line AS tl,
           round(0.6
                 + 0.3 * (1 - abs(epoch_us(a.trade_time) - epoch_us(b.trade_time)) / ($window_us + 1))
                 + CASE WHEN a.counterparty IS NOT NULL AND b.counterparty IS NOT NULL THEN 0.1 ELSE 0.05 END
                 - CASE WHEN {id_o} IS NOT NULL AND {id_t} IS NOT NULL AND {id_o} <> {id_t} THEN 0.2 ELSE 0 END,
                 4) AS score,
           coalesce({id_o}, {id_t}, a.txn_id) AS k
    FROM {fo} a JOIN {ft} b
      ON a.record_type = b.record_type AND a.currency = b.currency AND a.amount = b.amount
    WHERE a.trade_time IS NOT NULL AND b.trade_time IS NOT NULL
      AND abs(epoch_us(a.trade_time) - epoch_us(b.trade_time)) <= $window_us
      AND (a.counterparty IS NULL OR b.counterparty IS NULL OR a.counterparty = b.counterparty)
), ranked AS (
    SELECT *,
           max(score) OVER (PARTITION BY oid) AS best_o,
           max(score) OVER (PARTITION BY tid) AS best_t
    FROM cand
), tops AS (
    SELECT *,
           count(*) OVER (PARTITION BY oid) AS n_o,
           count(*) OVER (PARTITION BY tid) AS n_t
    FROM ranked WHERE score = best_o AND score = best_t
)
SELECT oid, tid, $pass_name, k, score, NULL, 1, TRUE, NULL, NULL, NULL, NULL, NULL, NULL
FROM tops WHERE n_o = 1 AND n_t = 1;
