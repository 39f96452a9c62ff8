-- Layer 1, FX: the pairs whose currencies differ, with what comparing them through a rate needs:
-- both amounts and fees (a 1:N group's sums on the channel side), the statuses, and the rate the
-- channel's statement states on the line where its format carries one (`fx_rate`: `fx_from` x
-- rate = the line's currency). recon.matching.fx decides them; nothing else reads this.
-- (A CURRENCY_MISMATCH row needs words, so its rows are among few_rows.sql's.)
SELECT r.x_side, r.x_key, r.account, r.reason, r.carried_from,
       o.currency AS our_currency, o.amount AS our_amount, o.fee AS our_fee, o.status AS our_status,
       t.currency AS their_currency, r.x_their_amount AS their_amount, r.x_their_fee AS their_fee,
       r.x_their_status AS their_status, ti.fx_rate AS fx_rate, ti.fx_from AS fx_from,
       t.source_file AS their_file, t.source_line AS their_line
FROM res r
JOIN o_few o ON o.oid = r.oid
JOIN t_few t ON t.tid = r.tid
JOIN theirs_in ti ON ti.rid = r.tid
WHERE r.outcome = 'CURRENCY_MISMATCH'
ORDER BY r.x_side, r.x_key
