-- Layer 3: one day's money that reached our bank accounts, the lines a payout must be found among. A
-- credit is a successful positive line; its value date is `settle_date` where the parser knows it,
-- else the statement's date. A reversal (ADJUSTMENT) undoes an earlier line and is never a payout.
-- Input: `bill` (one day's standardized bill of a bank channel).
SELECT channel, account, currency, channel_txn_id, merchant_txn_id, memo, counterparty,
       amount::DECIMAL(38, 6) AS amount,
       coalesce(settle_date, bill_date) AS value_date,
       bill_date, source_file, source_line
FROM bill
WHERE status = 'SUCCESS' AND amount > 0 AND record_type <> 'ADJUSTMENT'
