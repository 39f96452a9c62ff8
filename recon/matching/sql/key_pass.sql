-- Pair rows whose key is equal, same record type, and unique among the free rows of each side
-- (an ambiguous key pairs nothing: guessing would break the bijection, FAULTS.md E8).
-- {pick} keeps only unambiguous pairs: where a side is known unique on this key (it is its
-- business identity, deduplicated already), counting join rows per id of that side is enough and
-- far cheaper than counting key values over every row.
INSERT INTO new_pairs
WITH a AS (
    SELECT oid, record_type, {key_o} AS k FROM {fo} WHERE {class_filter} AND {key_o} IS NOT NULL
), b AS (
    SELECT tid, record_type, {key_t} AS k FROM {ft} WHERE {class_filter} AND {key_t} IS NOT NULL
), joined AS (
    SELECT a.oid, b.tid, a.k, a.record_type FROM a JOIN b USING (record_type, k)
), pick AS (
    {pick}
)
SELECT oid, tid, $pass_name, k, NULL, NULL, 1, TRUE, NULL, NULL, NULL, NULL, NULL, NULL FROM pick;
