-- The rows that need words: every discrepancy, and matches with something worth saying.
SELECT * FROM res
WHERE outcome <> 'MATCHED' OR group_size > 1 OR pass_name = 'no_reference'
   OR carried_from IS NOT NULL OR x_cross_midnight
