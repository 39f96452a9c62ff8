SELECT u.{u_id} AS uid, 0 AS kind_rank, {prio} AS prio, '{field}' AS kind, c.{c_id} AS cid, 0 AS gap
FROM {u} u JOIN {c} c ON u.{u_col} = c.{c_col}
