-- Layer 3: the bank credits of a look-back range in the order payouts are linked to them.
-- Input: `credit_rows` (credit_lines of the bank channels' days, in channel then day order).
SELECT *
FROM credit_rows
ORDER BY value_date, channel, account, source_file, source_line
