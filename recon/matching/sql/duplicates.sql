-- A business identity seen twice on one side: the first copy (carried rows first, then source
-- order) goes on matching, every later copy is a DUPLICATE naming the first. Run once per side:
-- ours ({side} = o, keyed by our serial, the refund id for refunds) and theirs ({side} = t, keyed by
-- the channel's serial); {tiebreak} orders copies that share a file and line (our txn_id, their serial).
CREATE OR REPLACE TABLE dup_{side} AS
WITH ident AS (
    SELECT {id}, record_type, carried_from, source_file, source_line, {tiebreak}, {key} AS k
    FROM {side}
), multi AS (
    -- counting 64-bit hashes is cheaper than counting strings; a collision only adds a group
    -- that the ranking below (on the real key) finds to have one row
    SELECT record_type, hash(k) AS h FROM ident WHERE k IS NOT NULL GROUP BY ALL HAVING count(*) > 1
), ranked AS (
    SELECT i.*,
           row_number() OVER w AS n,
           first_value(i.source_file) OVER w AS twin_file,
           first_value(i.source_line) OVER w AS twin_line
    FROM ident i SEMI JOIN multi m ON m.record_type = i.record_type AND m.h = hash(i.k) AND i.k IS NOT NULL
    WINDOW w AS (PARTITION BY i.record_type, i.k
                 ORDER BY i.carried_from ASC NULLS LAST, i.source_file, i.source_line, i.{tiebreak})
)
SELECT {id}, k AS match_key, twin_file, twin_line FROM ranked WHERE n > 1;

CREATE OR REPLACE VIEW f{side}_0 AS SELECT * FROM {side} ANTI JOIN dup_{side} USING ({id});
