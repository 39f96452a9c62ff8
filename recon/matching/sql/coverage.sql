-- Every input row of both sides has exactly one outcome: each of our rows is decided once (the
-- lines of one 1:N group share its decision), each channel line exactly once. Checked after every
-- run on either engine; a gap here is a bug, never a discrepancy to queue.
-- Rows of ours are counted once per id; only the few ids with several results rows (groups) are
-- looked at again for distinct decisions, so no string is built for the millions of plain pairs.
WITH per_o AS (
    SELECT oid, count(*) AS n FROM res WHERE oid IS NOT NULL GROUP BY oid
)
SELECT (SELECT count(*) FROM o) AS ours,
       (SELECT count(*) FROM per_o) AS ours_decided,
       (SELECT count(*) FROM (SELECT r.oid FROM res r JOIN per_o m ON m.oid = r.oid AND m.n > 1
                              GROUP BY r.oid
                              HAVING count(DISTINCT coalesce(r.group_id, CAST(r.x_key AS VARCHAR))) > 1) twice)
         AS ours_twice,
       (SELECT count(*) FROM t) AS theirs,
       (SELECT count(DISTINCT tid) FROM res WHERE tid IS NOT NULL) AS theirs_decided,
       (SELECT count(tid) FROM res) AS their_results
