"""Outputs the project writes itself from checkov's in-process reports: SARIF for code scanning and a
Markdown summary for pull requests. Both start from the same findings (findings.py)."""
