"""Every table of the store, one module per area, all declared on `recon.store.metadata.metadata`.

The tables live here, below every area that uses them, so the migrations (which must see every
table) import nothing above the store: `core` (payment core and ledger), `queue` (discrepancy
items and their history), `runs` (stage runs, leases and the fetch schedule of the jobs).
"""
