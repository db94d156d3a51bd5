"""Findings for the tools teams already watch: SARIF (code scanning), OCSF (data lakes), ASFF (Security Hub).

Every format renders the same `Finding` list, built from the checklist the dashboard shows.
"""
