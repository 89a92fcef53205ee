"""aksproxy's version: the one place it is written. setup.py reads this file as text (it does not import the
package), so the wheel's name, `az extension list` and az's "extension version" log line all say this, and
HISTORY.rst's top section names it (tests/unit/test_version.py)."""
VERSION = "0.4.0"
