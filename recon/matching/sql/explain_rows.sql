-- Working columns for explanations; wide.sql adds them to its select for the rows needing words.
, r.x_side, r.x_key, coalesce(r.x_our_total, o.amount) AS x_our_amount,
  coalesce(r.x_our_fee_total, o.fee) AS x_our_fee, r.x_their_amount, r.x_their_fee,
  r.x_their_status, r.x_twin_file, r.x_twin_line, r.x_cross_midnight
