"""What the `scan --jobs` fork server imports before it forks the workers (checkov_adapter/parallel.py): checkov
and what the data-handling checks import, about two seconds of CPU, once instead of once per worker. Checkov reads
some of its settings at import time, so the environment is scrubbed first, as the CLI does before it imports
checkov."""

from data_handling.checkov_adapter.isolation import scrub_environment

scrub_environment()

import checkov.main  # noqa: E402, F401

import data_handling.checkov_adapter.base  # noqa: E402
import data_handling.checkov_adapter.parallel  # noqa: E402, F401
