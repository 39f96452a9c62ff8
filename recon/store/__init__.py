"""The OLTP store (SQLAlchemy): payment core, discrepancy queue, run registry. SQLite or PostgreSQL."""
