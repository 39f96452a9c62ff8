-- Every input row of both sides has exactly one outcome: each of our rows is decided once (the
-- lines of one 1:N group share its decision), each channel line exactly once. Checked after every
-- run on either engine; a gap here is a bug, never a discrepancy to queue.
SELECT (SELECT count(*) FROM o) AS ours,
       (SELECT count(DISTINCT oid) FROM res WHERE oid IS NOT NULL) AS ours_decided,
       (SELECT count(*) FROM (SELECT oid FROM res WHERE oid IS NOT NULL GROUP BY oid
                              HAVING count(DISTINCT coalesce(group_id, CAST(x_key AS VARCHAR))) > 1) twice)
         AS ours_twice,
       (SELECT count(*) FROM t) AS theirs,
       (SELECT count(DISTINCT tid) FROM res WHERE tid IS NOT NULL) AS theirs_decided,
       (SELECT count(tid) FROM res) AS their_results
