"""The fuzzing suite (Hypothesis property tests; see README.md). A package, so its conftest.py does not shadow
tests/conftest.py: test modules elsewhere import that one as `conftest`."""
