"""cpsdiag's tests, a package: test modules import the shared helpers as ``tests.support.*`` (docs/testing.md)."""
