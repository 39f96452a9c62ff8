"""The thin payment core (DOMAIN.md): the transactions reconciliation checks, and their books.

Payment and refund orders with transition-table state machines (`machine`), 32-character business
ids (`ids`), idempotency by unique index (`idempotency`), accounting rules from TOML (`accounting`)
posted as append-only double-entry transfers (`ledger`), explicit transaction boundaries (`uow`).
The bulk import (`importer`) reads column-wise (`import_read`), checks each batch set-based
(`import_checks`), books it as frames (`journal_frames`) and writes through the DBAPI (`bulk`).

What other areas call:
- `export.internal_frame(engine, channel, date, zone)` — the internal side for matching;
- `importer.import_file(core, path)` / `import_frame(core, frame)` — idempotent bulk import;
- `orders.Core(engine).post_event(Event(...), key=...)` — CLEAR / SETTLE / PAYOUT / ADJUST entries
  (clearing, queue resolutions), once per key; `ledger.reverse(conn, key, now=...)` to correct one;
- `check.check_day(engine, date, zone)` — internal reconciliation (layer 0) as values;
- `ledger.balances(engine, account)` / `ledger.trial_balance(engine)`.
Call `recon.store.schema.ensure_schema(engine)` once before using a store.
"""
