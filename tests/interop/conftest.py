"""The interop tests use the trust tests' keys and witness processes."""

from tests.trust.witnessing import keys, witnesses  # noqa: F401 - fixtures
