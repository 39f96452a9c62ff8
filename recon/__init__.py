"""recon: batch payment reconciliation and clearing."""

import os

# openpyxl picks its XML writer when it is first imported: lxml's when lxml is installed (the camt
# parser brings it), else et_xmlfile's. The report streams its rows as et_xmlfile's bytes
# (recon.report.streaming) and falls back to openpyxl's slow per-cell path under lxml's writer, so
# every process that imports recon keeps openpyxl on the one writer the report is proven against.
# A user's explicit OPENPYXL_LXML still wins; defusedxml still guards what openpyxl reads.
os.environ.setdefault("OPENPYXL_LXML", "False")
