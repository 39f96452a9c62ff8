-- The rows that need words: every discrepancy, and matches with something worth saying.
WHERE r.outcome <> 'MATCHED' OR r.group_size > 1 OR r.pass_name = 'no_reference'
   OR r.carried_from IS NOT NULL OR r.x_cross_midnight
