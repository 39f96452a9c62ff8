"""The discrepancy queue (差错处理): every discrepancy of every layer, worked by people.

Matching writes `results/<D>/layer*.parquet`; `recon.queue.sync.sync_results` turns every
discrepancy row into one queue item keyed by its natural key, so re-running a day updates items
instead of duplicating them. People then assign, resolve, write off or reopen items from the CLI
(`recon queue ...`) or through an exported workbook (`recon queue export` / `import`). Every change
is an event in an append-only log; nothing is ever deleted.
"""
