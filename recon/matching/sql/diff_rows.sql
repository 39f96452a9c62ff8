-- Input rows whose outcome would change, counted by (before, after).
WITH sides AS (
    SELECT channel, 'ours' AS side, our_source_file AS f, our_source_line AS l, outcome, 'stored' AS run
    FROM stored_results WHERE our_source_file IS NOT NULL
    UNION ALL SELECT channel, 'theirs', their_source_file, their_source_line, outcome, 'stored'
    FROM stored_results WHERE their_source_file IS NOT NULL
    UNION ALL SELECT channel, 'ours', our_source_file, our_source_line, outcome, 'new'
    FROM {new} WHERE our_source_file IS NOT NULL
    UNION ALL SELECT channel, 'theirs', their_source_file, their_source_line, outcome, 'new'
    FROM {new} WHERE their_source_file IS NOT NULL
), scoped AS (
    -- a 1:N group repeats our row on each line; it is one input row
    SELECT DISTINCT * FROM sides SEMI JOIN diff_channels USING (channel)
), s AS (SELECT * FROM scoped WHERE run = 'stored'), n AS (SELECT * FROM scoped WHERE run = 'new')
SELECT channel, s.outcome AS before, n.outcome AS after, count(*) AS rows
FROM s FULL OUTER JOIN n USING (channel, side, f, l)
WHERE s.outcome IS DISTINCT FROM n.outcome
GROUP BY ALL
ORDER BY channel, before NULLS FIRST, after NULLS FIRST
