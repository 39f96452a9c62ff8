-- Rows of the other side sharing one id field with an unmatched row (one arm of near_miss.sql hits).
SELECT u.{u_id} AS uid, u.record_type AS u_type, 0 AS kind_rank, {prio} AS prio, '{field}' AS kind, c.{c_id} AS cid,
       coalesce(abs(epoch_us(u.trade_time) - epoch_us(c.trade_time)), 9223372036854775807) AS gap
FROM {u} u JOIN {c} c ON u.{u_col} = c.{c_col}
