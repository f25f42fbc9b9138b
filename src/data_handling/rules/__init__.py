"""The rules: plain functions from a resource, the infrastructure model and the policy map to an outcome."""
