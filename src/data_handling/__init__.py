"""Checks that enforce a written data-handling policy on Terraform, run by checkov."""

__version__ = "0.1.0"
