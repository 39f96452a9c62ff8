-- The tables the passes leave behind on the matcher's connection, all but `res` (every decision):
-- dropped before the final sorted write of the wide rows, which sets the day's peak memory.
SELECT database_name, schema_name, table_name
FROM duckdb_tables()
WHERE NOT (database_name = 'memory' AND schema_name = 'main' AND table_name = 'res')
ORDER BY ALL
