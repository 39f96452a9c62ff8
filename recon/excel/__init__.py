"""What every workbook recon writes shares, below both the queue export and the report.

`cells`: the one way a value enters a cell (formula-injection escaping, card masking, exact money
formats); `words`: the translated header and label words (en, zh). A leaf: it imports nothing of
the queue or the report, so both can use it without importing each other.
"""
