"""Release tooling run by make targets (`make release`); not shipped in the wheel."""
