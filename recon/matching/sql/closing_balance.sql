-- Layer 3: the bank's closing booked balance of each account and currency for the business date.
-- A statement may repeat a closing balance (several pages, a corrected re-send): the last one in
-- file order wins, which is the bank's final word for the day. Input: `balances`
-- (parsers.balances.BALANCE_COLUMNS rows of every bank channel for the day) and $date.
SELECT channel, account, currency,
       arg_max(amount, source_file || ':' || lpad(CAST(source_line AS VARCHAR), 12, '0'))::DECIMAL(38, 6) AS amount,
       arg_max(statement_id, source_file || ':' || lpad(CAST(source_line AS VARCHAR), 12, '0')) AS statement_id
FROM balances
WHERE balance_type = 'CLOSING' AND balance_date = $date
GROUP BY channel, account, currency
ORDER BY channel, account, currency
