"""Adapters that let checkov run the rules: one base check class, and the per-scan state it shares."""
