-- The rows of each side that need words ({where}: explain_where.sql), copied once after the
-- outcomes are known: the explanations, FX and the exact-sum proposals all read these few rows
-- instead of each joining the whole day's rows back (the discrepancies are a sliver of the day).
CREATE OR REPLACE TEMP TABLE o_few AS
SELECT * FROM o WHERE oid IN (SELECT r.oid FROM res r {where});

CREATE OR REPLACE TEMP TABLE t_few AS
SELECT * FROM t WHERE tid IN (SELECT r.tid FROM res r {where});
