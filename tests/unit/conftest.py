"""Fixtures for the unit tests: a fixed clock and a session-wide certificate factory."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

# Every rule test runs at this instant; certificate dates are chosen far from it (see certs.py).
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def certs():  # -> CertFactory; imported lazily so collecting other tests does not need cryptography
    from .certs import CertFactory

    return CertFactory()
