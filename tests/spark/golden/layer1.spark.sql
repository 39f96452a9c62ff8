-- create_view o
SELECT rid AS oid, txn_id, merchant_id, merchant_order_no, merchant_txn_id, channel_txn_id, merchant_refund_id, CASE WHEN record_type = 'REFUND' THEN channel_txn_id END AS channel_refund_id, original_txn_id, record_type, currency, CAST(amount AS DECIMAL(38, 6)) AS amount, COALESCE(CAST(fee AS DECIMAL(38, 6)), 0) AS fee, status, CAST(trade_time AS TIMESTAMP) AS trade_time, source_file, CAST(source_line AS BIGINT) AS source_line, counterparty, CAST(carried_from AS DATE) AS carried_from FROM ours_in;

-- create_view t
SELECT rid AS tid, account, channel_txn_id, merchant_txn_id, channel_refund_id, merchant_refund_id, record_type, currency, CAST(amount AS DECIMAL(38, 6)) AS amount, CAST(fee AS DECIMAL(38, 6)) AS fee, status, CAST(trade_time AS TIMESTAMP) AS trade_time, source_file, CAST(source_line AS BIGINT) AS source_line, counterparty, payout_id, CAST(carried_from AS DATE) AS carried_from FROM theirs_in;

-- create_table pairs
SELECT CAST(NULL AS BIGINT) AS oid, CAST(NULL AS BIGINT) AS tid, CAST(NULL AS STRING) AS pass_name, CAST(NULL AS STRING) AS match_key, CAST(NULL AS DOUBLE) AS confidence, CAST(NULL AS STRING) AS group_id, CAST(NULL AS INT) AS group_size, CAST(NULL AS BOOLEAN) AS anchor, CAST(NULL AS DECIMAL(38, 6)) AS g_amount, CAST(NULL AS DECIMAL(38, 6)) AS g_fee, CAST(NULL AS STRING) AS g_status, CAST(NULL AS DECIMAL(38, 6)) AS go_amount, CAST(NULL AS DECIMAL(38, 6)) AS go_fee, CAST(NULL AS STRING) AS go_status WHERE FALSE;

-- create_table new_pairs
SELECT * FROM pairs;

-- create_table dup_o
WITH ident AS (SELECT oid, record_type, carried_from, source_file, source_line, txn_id, CASE WHEN record_type = 'REFUND' THEN merchant_refund_id ELSE merchant_txn_id END AS k FROM o), multi AS (SELECT record_type, XXHASH64(k) AS h FROM ident WHERE NOT k IS NULL GROUP BY ALL HAVING COUNT(*) > 1), ranked AS (SELECT i.*, ROW_NUMBER() OVER w AS n, FIRST_VALUE(i.source_file) OVER w AS twin_file, FIRST_VALUE(i.source_line) OVER w AS twin_line FROM ident AS i SEMI JOIN multi AS m ON m.record_type = i.record_type AND m.h = XXHASH64(i.k) AND NOT i.k IS NULL WINDOW w AS (PARTITION BY i.record_type, i.k ORDER BY i.carried_from ASC NULLS LAST, i.source_file NULLS LAST, i.source_line NULLS LAST, i.txn_id NULLS LAST)) SELECT oid, k AS match_key, twin_file, twin_line FROM ranked WHERE n > 1;

-- create_view fo_0
SELECT * FROM o ANTI JOIN dup_o USING (oid);

-- create_table dup_t
WITH ident AS (SELECT tid, record_type, carried_from, source_file, source_line, channel_txn_id, CASE WHEN record_type = 'REFUND' THEN COALESCE(channel_refund_id, merchant_refund_id) ELSE channel_txn_id END AS k FROM t), multi AS (SELECT record_type, XXHASH64(k) AS h FROM ident WHERE NOT k IS NULL GROUP BY ALL HAVING COUNT(*) > 1), ranked AS (SELECT i.*, ROW_NUMBER() OVER w AS n, FIRST_VALUE(i.source_file) OVER w AS twin_file, FIRST_VALUE(i.source_line) OVER w AS twin_line FROM ident AS i SEMI JOIN multi AS m ON m.record_type = i.record_type AND m.h = XXHASH64(i.k) AND NOT i.k IS NULL WINDOW w AS (PARTITION BY i.record_type, i.k ORDER BY i.carried_from ASC NULLS LAST, i.source_file NULLS LAST, i.source_line NULLS LAST, i.channel_txn_id NULLS LAST)) SELECT tid, k AS match_key, twin_file, twin_line FROM ranked WHERE n > 1;

-- create_view ft_0
SELECT * FROM t ANTI JOIN dup_t USING (tid);

-- insert new_pairs
WITH a AS (SELECT oid, record_type, merchant_txn_id AS k FROM fo_0 WHERE record_type <> 'REFUND' AND NOT merchant_txn_id IS NULL), b AS (SELECT tid, record_type, merchant_txn_id AS k FROM ft_0 WHERE record_type <> 'REFUND' AND NOT merchant_txn_id IS NULL), joined AS (SELECT a.oid, b.tid, a.k, a.record_type FROM a JOIN b USING (record_type, k)), pick AS (SELECT oid, ANY_VALUE(tid) IGNORE NULLS AS tid, ANY_VALUE(k) IGNORE NULLS AS k FROM joined GROUP BY oid HAVING COUNT(*) = 1) SELECT oid, tid, 'key:merchant_txn_id', k, NULL, NULL, 1, TRUE, NULL, NULL, NULL, NULL, NULL, NULL FROM pick;

-- insert new_pairs
WITH a AS (SELECT oid, record_type, merchant_refund_id AS k FROM fo_0 WHERE record_type = 'REFUND' AND NOT merchant_refund_id IS NULL), b AS (SELECT tid, record_type, merchant_refund_id AS k FROM ft_0 WHERE record_type = 'REFUND' AND NOT merchant_refund_id IS NULL), joined AS (SELECT a.oid, b.tid, a.k, a.record_type FROM a JOIN b USING (record_type, k)), pick AS (SELECT oid, ANY_VALUE(tid) IGNORE NULLS AS tid, ANY_VALUE(k) IGNORE NULLS AS k FROM joined GROUP BY oid HAVING COUNT(*) = 1) SELECT oid, tid, 'key:merchant_refund_id', k, NULL, NULL, 1, TRUE, NULL, NULL, NULL, NULL, NULL, NULL FROM pick;

-- query
SELECT COUNT(*) FROM new_pairs;

-- create_table fo_1
SELECT * FROM fo_0 WHERE oid IN (SELECT oid FROM fo_0 ANTI JOIN new_pairs USING (oid));

-- create_table ft_1
SELECT * FROM ft_0 WHERE tid IN (SELECT tid FROM ft_0 ANTI JOIN new_pairs USING (tid));

-- query
SELECT COUNT(*) FROM pairs;

-- drop pairs;

-- rename new_pairs;

-- create_table new_pairs
SELECT * FROM pairs LIMIT 0;

-- insert new_pairs
WITH a AS (SELECT oid, record_type, channel_txn_id AS k FROM fo_1 WHERE record_type <> 'REFUND' AND NOT channel_txn_id IS NULL), b AS (SELECT tid, record_type, channel_txn_id AS k FROM ft_1 WHERE record_type <> 'REFUND' AND NOT channel_txn_id IS NULL), joined AS (SELECT a.oid, b.tid, a.k, a.record_type FROM a JOIN b USING (record_type, k)), pick AS (SELECT ANY_VALUE(oid) IGNORE NULLS AS oid, tid, ANY_VALUE(k) IGNORE NULLS AS k FROM joined GROUP BY tid HAVING COUNT(*) = 1) SELECT oid, tid, 'key:channel_txn_id', k, NULL, NULL, 1, TRUE, NULL, NULL, NULL, NULL, NULL, NULL FROM pick;

-- insert new_pairs
WITH a AS (SELECT oid, record_type, channel_refund_id AS k FROM fo_1 WHERE record_type = 'REFUND' AND NOT channel_refund_id IS NULL), b AS (SELECT tid, record_type, channel_refund_id AS k FROM ft_1 WHERE record_type = 'REFUND' AND NOT channel_refund_id IS NULL), joined AS (SELECT a.oid, b.tid, a.k, a.record_type FROM a JOIN b USING (record_type, k)), pick AS (SELECT ANY_VALUE(oid) IGNORE NULLS AS oid, tid, ANY_VALUE(k) IGNORE NULLS AS k FROM joined GROUP BY tid HAVING COUNT(*) = 1) SELECT oid, tid, 'key:channel_refund_id', k, NULL, NULL, 1, TRUE, NULL, NULL, NULL, NULL, NULL, NULL FROM pick;

-- query
SELECT COUNT(*) FROM new_pairs;

-- insert new_pairs
WITH a AS (SELECT oid, record_type, CASE WHEN STARTSWITH(merchant_txn_id, 'WX') THEN SUBSTRING(merchant_txn_id, LENGTH('WX') + 1) ELSE merchant_txn_id END AS k FROM fo_1 WHERE record_type <> 'REFUND' AND NOT CASE WHEN STARTSWITH(merchant_txn_id, 'WX') THEN SUBSTRING(merchant_txn_id, LENGTH('WX') + 1) ELSE merchant_txn_id END IS NULL), b AS (SELECT tid, record_type, CASE WHEN STARTSWITH(merchant_txn_id, 'WX') THEN SUBSTRING(merchant_txn_id, LENGTH('WX') + 1) ELSE merchant_txn_id END AS k FROM ft_1 WHERE record_type <> 'REFUND' AND NOT CASE WHEN STARTSWITH(merchant_txn_id, 'WX') THEN SUBSTRING(merchant_txn_id, LENGTH('WX') + 1) ELSE merchant_txn_id END IS NULL), joined AS (SELECT a.oid, b.tid, a.k, a.record_type FROM a JOIN b USING (record_type, k)), pick AS (SELECT * FROM (SELECT *, COUNT(*) OVER (PARTITION BY oid) AS _w, COUNT(*) OVER (PARTITION BY tid) AS _w_2 FROM joined) AS _t WHERE _w = 1 AND _w_2 = 1) SELECT oid, tid, 'variant:wx-prefix', k, NULL, NULL, 1, TRUE, NULL, NULL, NULL, NULL, NULL, NULL FROM pick;

-- query
SELECT COUNT(*) FROM new_pairs;

-- create_table fo_2
SELECT * FROM fo_1 WHERE oid IN (SELECT oid FROM fo_1 ANTI JOIN new_pairs USING (oid));

-- create_table ft_2
SELECT * FROM ft_1 WHERE tid IN (SELECT tid FROM ft_1 ANTI JOIN new_pairs USING (tid));

-- drop fo_1;

-- drop ft_1;

-- query
SELECT COUNT(*) FROM pairs;

-- insert pairs
SELECT * FROM new_pairs;

-- delete new_pairs
SELECT * FROM new_pairs WHERE FALSE;

-- insert new_pairs
WITH a AS (SELECT oid, record_type, currency, merchant_txn_id AS k FROM fo_2 WHERE record_type <> 'REFUND' AND NOT merchant_txn_id IS NULL), ua AS (SELECT record_type, k FROM a GROUP BY ALL HAVING COUNT(*) = 1), b AS (SELECT tid, record_type, currency, amount, fee, status, source_file, source_line, channel_txn_id, merchant_txn_id AS k FROM ft_2 WHERE record_type <> 'REFUND' AND NOT merchant_txn_id IS NULL), g AS (SELECT record_type, k, COUNT(*) AS n, SUM(amount) AS ga, SUM(fee) AS gf, CASE WHEN COUNT(DISTINCT status) = 1 THEN MIN(status) ELSE 'MIXED' END AS gs FROM b GROUP BY ALL HAVING COUNT(*) >= 2 AND COUNT(DISTINCT currency) = 1), members AS (SELECT b.*, g.n, g.ga, g.gf, g.gs, ROW_NUMBER() OVER (PARTITION BY b.record_type, b.k ORDER BY b.source_file NULLS LAST, b.source_line NULLS LAST, b.channel_txn_id NULLS LAST) AS pos FROM b JOIN g USING (record_type, k)) SELECT a.oid, m.tid, 'group:merchant_txn_id', a.k, NULL, a.k, m.n, m.pos = 1, m.ga, m.gf, m.gs, NULL, NULL, NULL FROM a SEMI JOIN ua USING (record_type, k) JOIN members AS m ON m.record_type = a.record_type AND m.k = a.k AND m.currency = a.currency;

-- query
SELECT COUNT(*) FROM new_pairs;

-- create_table fo_3
SELECT * FROM fo_2 WHERE oid IN (SELECT oid FROM fo_2 ANTI JOIN new_pairs USING (oid));

-- create_table ft_3
SELECT * FROM ft_2 WHERE tid IN (SELECT tid FROM ft_2 ANTI JOIN new_pairs USING (tid));

-- drop fo_2;

-- drop ft_2;

-- query
SELECT COUNT(*) FROM pairs;

-- insert pairs
SELECT * FROM new_pairs;

-- delete new_pairs
SELECT * FROM new_pairs WHERE FALSE;

-- insert new_pairs
WITH a AS (SELECT oid, currency, amount, fee, status, txn_id, source_file, source_line, merchant_order_no AS k FROM fo_3 WHERE NOT merchant_order_no IS NULL), b AS (SELECT tid, currency, amount, fee, status, channel_txn_id, source_file, source_line, payout_id AS k FROM ft_3 WHERE NOT payout_id IS NULL), ga AS (SELECT k, MIN(currency) AS currency, COUNT(*) AS n, SUM(amount) AS s_amount, SUM(fee) AS s_fee, CASE WHEN COUNT(DISTINCT status) = 1 THEN MIN(status) ELSE 'MIXED' END AS s_status FROM a GROUP BY k HAVING COUNT(DISTINCT currency) = 1), gb AS (SELECT k, MIN(currency) AS currency, COUNT(*) AS n, SUM(amount) AS s_amount, SUM(fee) AS s_fee, CASE WHEN COUNT(DISTINCT status) = 1 THEN MIN(status) ELSE 'MIXED' END AS s_status FROM b GROUP BY k HAVING COUNT(DISTINCT currency) = 1), g AS (SELECT ga.k, CASE WHEN ga.n > gb.n THEN ga.n ELSE gb.n END AS size, ga.s_amount AS oa, ga.s_fee AS ofee, ga.s_status AS ost, gb.s_amount AS ta, gb.s_fee AS tfee, gb.s_status AS tst FROM ga JOIN gb ON gb.k = ga.k AND gb.currency = ga.currency), ma AS (SELECT a.oid, a.k, ROW_NUMBER() OVER (PARTITION BY a.k ORDER BY a.txn_id NULLS LAST, a.source_file NULLS LAST, a.source_line NULLS LAST, a.oid NULLS LAST) AS pos FROM a SEMI JOIN g USING (k)), mb AS (SELECT b.tid, b.k, ROW_NUMBER() OVER (PARTITION BY b.k ORDER BY b.channel_txn_id NULLS LAST, b.source_file NULLS LAST, b.source_line NULLS LAST, b.tid NULLS LAST) AS pos FROM b SEMI JOIN g USING (k)) SELECT ma.oid, mb.tid, 'groups:merchant_order_no=payout_id', g.k, NULL, g.k, g.size, COALESCE(ma.pos, mb.pos) = 1, g.ta, g.tfee, g.tst, g.oa, g.ofee, g.ost FROM ma FULL JOIN mb ON mb.k = ma.k AND mb.pos = ma.pos JOIN g ON g.k = COALESCE(ma.k, mb.k);

-- query
SELECT COUNT(*) FROM new_pairs;

-- create_table fo_4
SELECT * FROM fo_3 WHERE oid IN (SELECT oid FROM fo_3 ANTI JOIN new_pairs USING (oid));

-- create_table ft_4
SELECT * FROM ft_3 WHERE tid IN (SELECT tid FROM ft_3 ANTI JOIN new_pairs USING (tid));

-- drop fo_3;

-- drop ft_3;

-- query
SELECT COUNT(*) FROM pairs;

-- insert pairs
SELECT * FROM new_pairs;

-- delete new_pairs
SELECT * FROM new_pairs WHERE FALSE;

-- insert new_pairs
WITH cand AS (SELECT a.oid, b.tid, a.source_file AS of, a.source_line AS ol, b.source_file AS tf, b.source_line AS tl, ROUND(0.6 + 0.3 * (1 - ABS(UNIX_MICROS(a.trade_time) - UNIX_MICROS(b.trade_time)) / (900000000 + 1)) + CASE WHEN NOT a.counterparty IS NULL AND NOT b.counterparty IS NULL THEN 0.1 ELSE 0.05 END - CASE WHEN NOT CASE WHEN a.record_type = 'REFUND' THEN a.merchant_refund_id ELSE a.merchant_txn_id END IS NULL AND NOT CASE WHEN b.record_type = 'REFUND' THEN b.merchant_refund_id ELSE b.merchant_txn_id END IS NULL AND CASE WHEN a.record_type = 'REFUND' THEN a.merchant_refund_id ELSE a.merchant_txn_id END <> CASE WHEN b.record_type = 'REFUND' THEN b.merchant_refund_id ELSE b.merchant_txn_id END THEN 0.2 ELSE 0 END, 4) AS score, COALESCE(CASE WHEN a.record_type = 'REFUND' THEN a.merchant_refund_id ELSE a.merchant_txn_id END, CASE WHEN b.record_type = 'REFUND' THEN b.merchant_refund_id ELSE b.merchant_txn_id END, a.txn_id) AS k FROM fo_4 AS a JOIN ft_4 AS b ON a.record_type = b.record_type AND a.currency = b.currency AND a.amount = b.amount WHERE NOT a.trade_time IS NULL AND NOT b.trade_time IS NULL AND ABS(UNIX_MICROS(a.trade_time) - UNIX_MICROS(b.trade_time)) <= 900000000 AND (a.counterparty IS NULL OR b.counterparty IS NULL OR a.counterparty = b.counterparty)), ranked AS (SELECT *, MAX(score) OVER (PARTITION BY oid) AS best_o, MAX(score) OVER (PARTITION BY tid) AS best_t FROM cand), tops AS (SELECT *, COUNT(*) OVER (PARTITION BY oid) AS n_o, COUNT(*) OVER (PARTITION BY tid) AS n_t FROM ranked WHERE score = best_o AND score = best_t) SELECT oid, tid, 'no_reference', k, score, NULL, 1, TRUE, NULL, NULL, NULL, NULL, NULL, NULL FROM tops WHERE n_o = 1 AND n_t = 1;

-- query
SELECT COUNT(*) FROM new_pairs;

-- create_table fo_5
SELECT * FROM fo_4 WHERE oid IN (SELECT oid FROM fo_4 ANTI JOIN new_pairs USING (oid));

-- create_table ft_5
SELECT * FROM ft_4 WHERE tid IN (SELECT tid FROM ft_4 ANTI JOIN new_pairs USING (tid));

-- drop fo_4;

-- drop ft_4;

-- query
SELECT COUNT(*) FROM pairs;

-- insert pairs
SELECT * FROM new_pairs;

-- delete new_pairs
SELECT * FROM new_pairs WHERE FALSE;

-- insert new_pairs
WITH cand AS (SELECT a.oid, b.tid, a.source_file AS of, a.source_line AS ol, b.source_file AS tf, b.source_line AS tl, ROUND(0.6 + 0.3 * (1 - ABS(UNIX_MICROS(a.trade_time) - UNIX_MICROS(b.trade_time)) / (900000000 + 1)) + CASE WHEN NOT a.counterparty IS NULL AND NOT b.counterparty IS NULL THEN 0.1 ELSE 0.05 END - CASE WHEN NOT CASE WHEN a.record_type = 'REFUND' THEN a.merchant_refund_id ELSE a.merchant_txn_id END IS NULL AND NOT CASE WHEN b.record_type = 'REFUND' THEN b.merchant_refund_id ELSE b.merchant_txn_id END IS NULL AND CASE WHEN a.record_type = 'REFUND' THEN a.merchant_refund_id ELSE a.merchant_txn_id END <> CASE WHEN b.record_type = 'REFUND' THEN b.merchant_refund_id ELSE b.merchant_txn_id END THEN 0.2 ELSE 0 END, 4) AS score, COALESCE(CASE WHEN a.record_type = 'REFUND' THEN a.merchant_refund_id ELSE a.merchant_txn_id END, CASE WHEN b.record_type = 'REFUND' THEN b.merchant_refund_id ELSE b.merchant_txn_id END, a.txn_id) AS k FROM fo_5 AS a JOIN ft_5 AS b ON a.record_type = b.record_type AND a.currency = b.currency AND a.amount = b.amount WHERE NOT a.trade_time IS NULL AND NOT b.trade_time IS NULL AND ABS(UNIX_MICROS(a.trade_time) - UNIX_MICROS(b.trade_time)) <= 900000000 AND (a.counterparty IS NULL OR b.counterparty IS NULL OR a.counterparty = b.counterparty)), ranked AS (SELECT *, MAX(score) OVER (PARTITION BY oid) AS best_o, MAX(score) OVER (PARTITION BY tid) AS best_t FROM cand), tops AS (SELECT *, COUNT(*) OVER (PARTITION BY oid) AS n_o, COUNT(*) OVER (PARTITION BY tid) AS n_t FROM ranked WHERE score = best_o AND score = best_t) SELECT oid, tid, 'no_reference', k, score, NULL, 1, TRUE, NULL, NULL, NULL, NULL, NULL, NULL FROM tops WHERE n_o = 1 AND n_t = 1;

-- query
SELECT COUNT(*) FROM new_pairs;

-- create_table dup_echo
WITH echo AS (SELECT tid, record_type, carried_from, source_file, source_line, channel_txn_id, CASE WHEN record_type = 'REFUND' THEN merchant_refund_id ELSE merchant_txn_id END AS k FROM t ANTI JOIN dup_t USING (tid)), wanted AS (SELECT DISTINCT e.record_type, e.k FROM echo AS e SEMI JOIN ft_5 AS f USING (tid) WHERE NOT e.k IS NULL), ranked AS (SELECT e.*, NOT f.tid IS NULL AS free, ROW_NUMBER() OVER w AS n, FIRST_VALUE(e.source_file) OVER w AS twin_file, FIRST_VALUE(e.source_line) OVER w AS twin_line FROM echo AS e SEMI JOIN wanted USING (record_type, k) LEFT JOIN ft_5 AS f USING (tid) WINDOW w AS (PARTITION BY e.record_type, e.k ORDER BY (NOT f.tid IS NULL) NULLS LAST, e.carried_from ASC NULLS LAST, e.source_file NULLS LAST, e.source_line NULLS LAST, e.channel_txn_id NULLS LAST)) SELECT tid, k AS match_key, twin_file, twin_line FROM ranked WHERE n > 1 AND free;

-- insert dup_t
SELECT * FROM dup_echo;

-- delete ft_5
SELECT * FROM ft_5 WHERE NOT COALESCE((tid IN (SELECT tid FROM dup_echo)), FALSE);

-- create_table res
SELECT CAST(CAST('2024-05-01' AS DATE) AS DATE) AS business_date, CAST('wx' AS STRING) AS channel, u.*, CAST(NULL AS STRING) AS reason, CAST(NULL AS STRING) AS closest FROM (SELECT 'P' AS x_side, COALESCE(p.tid, -1 - p.oid) AS x_key, p.oid, p.tid, CASE WHEN NOT p.confidence IS NULL AND p.confidence < CAST('2.0' AS DOUBLE) THEN 'SUGGESTED' WHEN o.currency <> t.currency THEN 'CURRENCY_MISMATCH' WHEN ABS(COALESCE(p.g_amount, t.amount) - COALESCE(p.go_amount, o.amount)) > CAST('0.01' AS DECIMAL(38, 6)) THEN 'AMOUNT_MISMATCH' WHEN (COALESCE(p.go_status, o.status) <> COALESCE(p.g_status, t.status) OR COALESCE(p.go_status, '') = 'MIXED') THEN 'STATUS_MISMATCH' WHEN NOT COALESCE(p.go_fee, o.fee) IS NULL AND ABS(COALESCE(p.g_fee, t.fee) - COALESCE(p.go_fee, o.fee)) > CAST('0' AS DECIMAL(38, 6)) AND CAST(ABS(COALESCE(p.g_fee, t.fee) - COALESCE(p.go_fee, o.fee)) AS DECIMAL(38, 15)) > ABS(COALESCE(p.go_fee, o.fee)) * CAST('1E-9' AS DECIMAL(18, 9)) THEN 'FEE_MISMATCH' WHEN NOT o.carried_from IS NULL OR NOT t.carried_from IS NULL THEN 'AUTO_RESOLVED' ELSE 'MATCHED' END AS outcome, p.pass_name, p.match_key, p.confidence, LEAST(o.carried_from, t.carried_from) AS carried_from, CASE WHEN NOT o.carried_from IS NULL AND NOT t.carried_from IS NULL THEN 'both' WHEN NOT o.carried_from IS NULL THEN 'ours' WHEN NOT t.carried_from IS NULL THEN 'theirs' END AS carried_side, COALESCE(t.account, '1900000109') AS account, p.group_id, p.group_size, p.anchor, COALESCE(p.g_amount, t.amount) AS x_their_amount, COALESCE(p.g_fee, t.fee) AS x_their_fee, COALESCE(p.g_status, t.status) AS x_their_status, CAST(NULL AS STRING) AS x_twin_file, CAST(NULL AS BIGINT) AS x_twin_line, NOT o.oid IS NULL AND NOT t.tid IS NULL AND (CASE WHEN o.trade_time < CAST('2024-04-30 16:00:00' AS TIMESTAMP) THEN -1 WHEN o.trade_time >= CAST('2024-05-01 16:00:00' AS TIMESTAMP) THEN 1 ELSE 0 END) <> (CASE WHEN t.trade_time < CAST('2024-04-30 16:00:00' AS TIMESTAMP) THEN -1 WHEN t.trade_time >= CAST('2024-05-01 16:00:00' AS TIMESTAMP) THEN 1 ELSE 0 END) AS x_cross_midnight, p.go_amount AS x_our_total, p.go_fee AS x_our_fee_total FROM pairs AS p LEFT JOIN (SELECT oid, currency, amount, fee, status, trade_time, carried_from FROM o) AS o ON o.oid = p.oid LEFT JOIN (SELECT tid, account, currency, amount, fee, status, trade_time, carried_from FROM t) AS t ON t.tid = p.tid UNION ALL SELECT 'O', -1 - o.oid, o.oid, NULL, CASE WHEN NOT d.oid IS NULL THEN 'DUPLICATE' WHEN NOT o.carried_from IS NULL AND DATEDIFF(DAY, o.carried_from, CAST('2024-05-01' AS DATE)) >= 1 THEN 'LOCAL_ONLY' WHEN NOT o.carried_from IS NULL THEN 'PENDING' WHEN 1 > 0 AND o.trade_time >= CAST('2024-05-01 15:50:00' AS TIMESTAMP) THEN 'PENDING' ELSE 'LOCAL_ONLY' END, NULL, COALESCE(d.match_key, CASE WHEN o.record_type = 'REFUND' THEN o.merchant_refund_id END, o.merchant_txn_id, o.channel_txn_id, o.txn_id), NULL, o.carried_from, CASE WHEN NOT o.carried_from IS NULL THEN 'ours' END, '1900000109', NULL, 1, TRUE, NULL, NULL, NULL, d.twin_file, d.twin_line, FALSE, NULL, NULL FROM (SELECT oid FROM dup_o UNION ALL SELECT oid FROM fo_5) AS s JOIN o USING (oid) LEFT JOIN dup_o AS d USING (oid) UNION ALL SELECT 'T', t.tid, NULL, t.tid, CASE WHEN NOT d.tid IS NULL THEN 'DUPLICATE' WHEN NOT t.carried_from IS NULL AND DATEDIFF(DAY, t.carried_from, CAST('2024-05-01' AS DATE)) >= 1 THEN 'CHANNEL_ONLY' WHEN NOT t.carried_from IS NULL THEN 'PENDING' WHEN 1 > 0 AND t.trade_time >= CAST('2024-05-01 15:50:00' AS TIMESTAMP) THEN 'PENDING' ELSE 'CHANNEL_ONLY' END, NULL, COALESCE(d.match_key, CASE WHEN t.record_type = 'REFUND' THEN COALESCE(t.merchant_refund_id, t.channel_refund_id) END, t.merchant_txn_id, t.channel_txn_id), NULL, t.carried_from, CASE WHEN NOT t.carried_from IS NULL THEN 'theirs' END, COALESCE(t.account, '1900000109'), NULL, 1, TRUE, NULL, NULL, NULL, d.twin_file, d.twin_line, FALSE, NULL, NULL FROM (SELECT tid FROM dup_t UNION ALL SELECT tid FROM ft_5) AS s JOIN t USING (tid) LEFT JOIN dup_t AS d USING (tid)) AS u;

-- query
WITH per_o AS (SELECT oid, COUNT(*) AS n FROM res WHERE NOT oid IS NULL GROUP BY oid) SELECT (SELECT COUNT(*) FROM o) AS ours, (SELECT COUNT(*) FROM per_o) AS ours_decided, (SELECT COUNT(*) FROM (SELECT r.oid FROM res AS r JOIN per_o AS m ON m.oid = r.oid AND m.n > 1 GROUP BY r.oid HAVING COUNT(DISTINCT COALESCE(r.group_id, CAST(r.x_key AS STRING))) > 1) AS twice) AS ours_twice, (SELECT COUNT(*) FROM t) AS theirs, (SELECT COUNT(DISTINCT tid) FROM res WHERE NOT tid IS NULL) AS theirs_decided, (SELECT COUNT(tid) FROM res) AS their_results;

-- create_table o_few
SELECT * FROM o WHERE oid IN (SELECT r.oid FROM res AS r WHERE r.outcome <> 'MATCHED' OR r.group_size > 1 OR r.pass_name = 'no_reference' OR NOT r.carried_from IS NULL OR r.x_cross_midnight);

-- create_table t_few
SELECT * FROM t WHERE tid IN (SELECT r.tid FROM res AS r WHERE r.outcome <> 'MATCHED' OR r.group_size > 1 OR r.pass_name = 'no_reference' OR NOT r.carried_from IS NULL OR r.x_cross_midnight);

-- create_table near_c
SELECT tid, channel_txn_id, merchant_txn_id, merchant_refund_id, channel_refund_id, record_type, currency, amount, status, trade_time, source_file, source_line FROM t WHERE tid IN (SELECT tid FROM t WHERE merchant_txn_id IN (SELECT merchant_txn_id FROM fo_5) OR channel_txn_id IN (SELECT channel_txn_id FROM fo_5) OR merchant_refund_id IN (SELECT merchant_refund_id FROM fo_5) OR channel_refund_id IN (SELECT channel_refund_id FROM fo_5)) UNION SELECT tid, channel_txn_id, merchant_txn_id, merchant_refund_id, channel_refund_id, record_type, currency, amount, status, trade_time, source_file, source_line FROM ft_5;

-- create_table near_o
WITH hits AS (SELECT u.oid AS uid, u.record_type AS u_type, 0 AS kind_rank, 0 AS prio, 'merchant_txn_id' AS kind, c.tid AS cid, COALESCE(ABS(UNIX_MICROS(u.trade_time) - UNIX_MICROS(c.trade_time)), 9223372036854775807) AS gap FROM fo_5 AS u JOIN near_c AS c ON u.merchant_txn_id = c.merchant_txn_id UNION ALL SELECT u.oid AS uid, u.record_type AS u_type, 0 AS kind_rank, 1 AS prio, 'channel_txn_id' AS kind, c.tid AS cid, COALESCE(ABS(UNIX_MICROS(u.trade_time) - UNIX_MICROS(c.trade_time)), 9223372036854775807) AS gap FROM fo_5 AS u JOIN near_c AS c ON u.channel_txn_id = c.channel_txn_id UNION ALL SELECT u.oid AS uid, u.record_type AS u_type, 0 AS kind_rank, 2 AS prio, 'merchant_refund_id' AS kind, c.tid AS cid, COALESCE(ABS(UNIX_MICROS(u.trade_time) - UNIX_MICROS(c.trade_time)), 9223372036854775807) AS gap FROM fo_5 AS u JOIN near_c AS c ON u.merchant_refund_id = c.merchant_refund_id UNION ALL SELECT u.oid AS uid, u.record_type AS u_type, 0 AS kind_rank, 3 AS prio, 'channel_refund_id' AS kind, c.tid AS cid, COALESCE(ABS(UNIX_MICROS(u.trade_time) - UNIX_MICROS(c.trade_time)), 9223372036854775807) AS gap FROM fo_5 AS u JOIN near_c AS c ON u.channel_refund_id = c.channel_refund_id UNION ALL SELECT u.oid AS uid, u.record_type AS u_type, 1 AS kind_rank, 0 AS prio, 'amount' AS kind, c.tid AS cid, ABS(UNIX_MICROS(u.trade_time) - UNIX_MICROS(c.trade_time)) AS gap FROM fo_5 AS u JOIN ft_5 AS c ON u.currency = c.currency AND u.amount = c.amount WHERE ABS(UNIX_MICROS(u.trade_time) - UNIX_MICROS(c.trade_time)) <= 86400000000), ranked AS (SELECT h.*, c.source_file AS c_file, c.source_line AS c_line, ROW_NUMBER() OVER (PARTITION BY h.uid ORDER BY h.kind_rank NULLS LAST, c.record_type <> h.u_type NULLS LAST, h.prio NULLS LAST, h.gap NULLS LAST, c.source_file NULLS LAST, c.source_line NULLS LAST) AS n, COUNT(*) OVER (PARTITION BY h.uid, h.kind_rank, c.record_type <> h.u_type, h.prio, h.gap) AS ties FROM hits AS h JOIN near_c AS c ON c.tid = h.cid) SELECT r.uid, r.kind, r.ties, r.c_file, r.c_line, c.channel_txn_id AS c_label, c.record_type AS c_record_type, c.currency AS c_currency, c.amount AS c_amount, c.status AS c_status, c.trade_time AS c_trade_time, CASE WHEN r.cid IN (SELECT tid FROM dup_t) THEN 'duplicate' WHEN r.cid IN (SELECT tid FROM ft_5) THEN 'unmatched' ELSE 'paired' END AS c_state FROM ranked AS r JOIN near_c AS c ON c.tid = r.cid WHERE r.n = 1;

-- create_table near_c
SELECT oid, txn_id, merchant_txn_id, channel_txn_id, merchant_refund_id, channel_refund_id, record_type, currency, amount, status, trade_time, source_file, source_line FROM o WHERE oid IN (SELECT oid FROM o WHERE merchant_txn_id IN (SELECT merchant_txn_id FROM ft_5) OR channel_txn_id IN (SELECT channel_txn_id FROM ft_5) OR merchant_refund_id IN (SELECT merchant_refund_id FROM ft_5) OR channel_refund_id IN (SELECT channel_refund_id FROM ft_5)) UNION SELECT oid, txn_id, merchant_txn_id, channel_txn_id, merchant_refund_id, channel_refund_id, record_type, currency, amount, status, trade_time, source_file, source_line FROM fo_5;

-- create_table near_t
WITH hits AS (SELECT u.tid AS uid, u.record_type AS u_type, 0 AS kind_rank, 0 AS prio, 'merchant_txn_id' AS kind, c.oid AS cid, COALESCE(ABS(UNIX_MICROS(u.trade_time) - UNIX_MICROS(c.trade_time)), 9223372036854775807) AS gap FROM ft_5 AS u JOIN near_c AS c ON u.merchant_txn_id = c.merchant_txn_id UNION ALL SELECT u.tid AS uid, u.record_type AS u_type, 0 AS kind_rank, 1 AS prio, 'channel_txn_id' AS kind, c.oid AS cid, COALESCE(ABS(UNIX_MICROS(u.trade_time) - UNIX_MICROS(c.trade_time)), 9223372036854775807) AS gap FROM ft_5 AS u JOIN near_c AS c ON u.channel_txn_id = c.channel_txn_id UNION ALL SELECT u.tid AS uid, u.record_type AS u_type, 0 AS kind_rank, 2 AS prio, 'merchant_refund_id' AS kind, c.oid AS cid, COALESCE(ABS(UNIX_MICROS(u.trade_time) - UNIX_MICROS(c.trade_time)), 9223372036854775807) AS gap FROM ft_5 AS u JOIN near_c AS c ON u.merchant_refund_id = c.merchant_refund_id UNION ALL SELECT u.tid AS uid, u.record_type AS u_type, 0 AS kind_rank, 3 AS prio, 'channel_refund_id' AS kind, c.oid AS cid, COALESCE(ABS(UNIX_MICROS(u.trade_time) - UNIX_MICROS(c.trade_time)), 9223372036854775807) AS gap FROM ft_5 AS u JOIN near_c AS c ON u.channel_refund_id = c.channel_refund_id UNION ALL SELECT u.tid AS uid, u.record_type AS u_type, 1 AS kind_rank, 0 AS prio, 'amount' AS kind, c.oid AS cid, ABS(UNIX_MICROS(u.trade_time) - UNIX_MICROS(c.trade_time)) AS gap FROM ft_5 AS u JOIN fo_5 AS c ON u.currency = c.currency AND u.amount = c.amount WHERE ABS(UNIX_MICROS(u.trade_time) - UNIX_MICROS(c.trade_time)) <= 86400000000), ranked AS (SELECT h.*, c.source_file AS c_file, c.source_line AS c_line, ROW_NUMBER() OVER (PARTITION BY h.uid ORDER BY h.kind_rank NULLS LAST, c.record_type <> h.u_type NULLS LAST, h.prio NULLS LAST, h.gap NULLS LAST, c.source_file NULLS LAST, c.source_line NULLS LAST) AS n, COUNT(*) OVER (PARTITION BY h.uid, h.kind_rank, c.record_type <> h.u_type, h.prio, h.gap) AS ties FROM hits AS h JOIN near_c AS c ON c.oid = h.cid) SELECT r.uid, r.kind, r.ties, r.c_file, r.c_line, c.txn_id AS c_label, c.record_type AS c_record_type, c.currency AS c_currency, c.amount AS c_amount, c.status AS c_status, c.trade_time AS c_trade_time, CASE WHEN r.cid IN (SELECT oid FROM dup_o) THEN 'duplicate' WHEN r.cid IN (SELECT oid FROM fo_5) THEN 'unmatched' ELSE 'paired' END AS c_state FROM ranked AS r JOIN near_c AS c ON c.oid = r.cid WHERE r.n = 1;

-- update res
SELECT res.business_date AS business_date, res.channel AS channel, res.x_side AS x_side, res.x_key AS x_key, res.oid AS oid, res.tid AS tid, res.outcome AS outcome, res.pass_name AS pass_name, res.match_key AS match_key, res.confidence AS confidence, res.carried_from AS carried_from, res.carried_side AS carried_side, res.account AS account, res.group_id AS group_id, res.group_size AS group_size, res.anchor AS anchor, res.x_their_amount AS x_their_amount, res.x_their_fee AS x_their_fee, res.x_their_status AS x_their_status, res.x_twin_file AS x_twin_file, res.x_twin_line AS x_twin_line, res.x_cross_midnight AS x_cross_midnight, res.x_our_total AS x_our_total, res.x_our_fee_total AS x_our_fee_total, CASE WHEN x.__updated THEN x.reason ELSE res.reason END AS reason, CASE WHEN x.__updated THEN x.closest ELSE res.closest END AS closest FROM res LEFT JOIN (SELECT *, TRUE AS __updated FROM reasons_frame) AS x ON res.x_side = x.x_side AND res.x_key = x.x_key;

-- query
SELECT r.business_date, r.channel, r.account, r.outcome, r.pass_name, r.match_key, r.reason, CAST(r.confidence AS DOUBLE) AS confidence, r.carried_from, o.txn_id AS our_txn_id, o.merchant_id AS our_merchant_id, o.merchant_txn_id AS our_merchant_txn_id, o.channel_txn_id AS our_channel_txn_id, o.merchant_refund_id AS our_merchant_refund_id, o.record_type AS our_record_type, o.currency AS our_currency, CASE WHEN r.anchor OR NOT r.x_our_total IS NULL THEN o.amount END AS our_amount, CASE WHEN r.anchor OR NOT r.x_our_total IS NULL THEN o.fee END AS our_fee, o.status AS our_status, o.trade_time AS our_trade_time, o.source_file AS our_source_file, o.source_line AS our_source_line, t.channel_txn_id AS their_channel_txn_id, t.merchant_txn_id AS their_merchant_txn_id, t.channel_refund_id AS their_channel_refund_id, t.merchant_refund_id AS their_merchant_refund_id, t.record_type AS their_record_type, t.currency AS their_currency, t.amount AS their_amount, t.fee AS their_fee, t.status AS their_status, t.trade_time AS their_trade_time, t.source_file AS their_source_file, t.source_line AS their_source_line, CASE WHEN r.anchor AND o.currency = t.currency THEN r.x_their_amount - COALESCE(r.x_our_total, o.amount) END AS diff_amount, CASE WHEN r.anchor AND o.currency = t.currency THEN r.x_their_fee - COALESCE(r.x_our_fee_total, o.fee) END AS diff_fee, r.group_id, CAST(r.group_size AS INT) AS group_size, r.closest, o.merchant_order_no AS our_merchant_order_no, o.original_txn_id AS our_original_txn_id, t.account AS their_account, t.counterparty AS their_counterparty, r.carried_side FROM res AS r LEFT JOIN o AS o ON o.oid = r.oid LEFT JOIN t AS t ON t.tid = r.tid ORDER BY channel ASC NULLS LAST, outcome ASC NULLS LAST, match_key ASC NULLS LAST, our_txn_id ASC NULLS LAST, their_channel_txn_id ASC NULLS LAST, their_source_line ASC NULLS LAST, our_source_file ASC NULLS LAST, our_source_line ASC NULLS LAST, their_source_file ASC NULLS LAST;
