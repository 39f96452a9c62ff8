-- Result rows per channel and outcome, stored vs new (both limited to the channels re-matched).
WITH s AS (SELECT channel, outcome, count(*) AS n FROM stored_results SEMI JOIN diff_channels USING (channel) GROUP BY ALL),
     n AS (SELECT channel, outcome, count(*) AS n FROM {new} GROUP BY ALL)
SELECT channel, outcome, coalesce(s.n, 0) AS stored, coalesce(n.n, 0) AS new
FROM s FULL OUTER JOIN n USING (channel, outcome)
ORDER BY channel, outcome
