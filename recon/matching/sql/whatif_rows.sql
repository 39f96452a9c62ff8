-- Input rows of one channel whose outcome differs between the stored results and a what-if run,
-- counted and summed per (side, before, after, currency). A row is its input row (side, source
-- file, line), as in diff_rows.sql; its money is that side's amount.
WITH sides AS (
    SELECT 'stored' AS run, 'ours' AS side, our_source_file AS f, our_source_line AS l, outcome,
           our_currency AS currency, our_amount AS amount
    FROM read_parquet({stored}) WHERE channel = $channel AND our_source_file IS NOT NULL
    UNION ALL SELECT 'stored', 'theirs', their_source_file, their_source_line, outcome, their_currency, their_amount
    FROM read_parquet({stored}) WHERE channel = $channel AND their_source_file IS NOT NULL
    UNION ALL SELECT 'new', 'ours', our_source_file, our_source_line, outcome, our_currency, our_amount
    FROM read_parquet({new}) WHERE channel = $channel AND our_source_file IS NOT NULL
    UNION ALL SELECT 'new', 'theirs', their_source_file, their_source_line, outcome, their_currency, their_amount
    FROM read_parquet({new}) WHERE channel = $channel AND their_source_file IS NOT NULL
), input_rows AS (
    -- a 1:N group repeats our row on each of its lines, our money on the anchor line only: one row
    SELECT run, side, f, l, max(outcome) AS outcome, max(currency) AS currency, max(amount) AS amount
    FROM sides GROUP BY run, side, f, l
), s AS (SELECT * FROM input_rows WHERE run = 'stored'), n AS (SELECT * FROM input_rows WHERE run = 'new')
SELECT side, s.outcome AS before, n.outcome AS after, coalesce(n.currency, s.currency) AS currency,
       count(*) AS rows, coalesce(sum(coalesce(n.amount, s.amount)), 0) AS amount
FROM s FULL OUTER JOIN n USING (side, f, l)
WHERE s.outcome IS DISTINCT FROM n.outcome
GROUP BY ALL
ORDER BY side, before NULLS FIRST, after NULLS FIRST, currency NULLS LAST
