"""recon: batch payment reconciliation and clearing."""
