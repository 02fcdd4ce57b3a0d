"""The quality gate in the studio: QC verdicts, findings, the human review queue (issue 11)."""
