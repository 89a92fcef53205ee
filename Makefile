# aksproxy: `make demo` runs the main job against the local ARM emulator, `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: venv wheel wheelhouse release demo test lint check bench clean proxies newest-az browser

$(BIN)/az: requirements-dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(BIN)/az

venv: $(BIN)/az

wheel: venv
	rm -rf dist build
	$(BIN)/python setup.py --quiet bdist_wheel

# A release to host anywhere static: the wheel and dist/index.json (azure-cli-extensions' index shape) naming it at
# RELEASE_BASE_URL/<wheel>. Users then run `az config set extension.index_url=<where index.json is>/index.json` and
# `az extension add --name aksproxy`. docs/development.md, "Releasing".
RELEASE_BASE_URL ?=
ifneq ($(filter release,$(MAKECMDGOALS)),)
ifeq ($(RELEASE_BASE_URL),)
$(error set RELEASE_BASE_URL: the URL the wheel will be downloaded from, without its file name)
endif
endif
release: wheel
	$(BIN)/python -m tools.release --base-url "$(RELEASE_BASE_URL)" --dist dist

# The demo's rollout checks each cluster from a node through a real squid on loopback (Debian's, as for the tests).
demo: wheel
	@command -v squid >/dev/null || test -x /usr/sbin/squid || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq squid; }
	$(BIN)/python -m tests.demo

# The real proxies the proxy check tests start on loopback: squid from Debian, mitmdump in its own venv.
MITM := .venv-mitm
proxies: $(MITM)/bin/mitmdump
	@command -v squid >/dev/null || test -x /usr/sbin/squid || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq squid; }

$(MITM)/bin/mitmdump: requirements-mitm.txt
	$(PY) -m venv $(MITM)
	$(MITM)/bin/pip install --quiet --disable-pip-version-check -r requirements-mitm.txt
	touch $@

# Headless Chromium from Debian for the fleet report's browser test (tests/browser.py drives it over DevTools).
browser:
	@command -v chromium >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# Dependency wheels for the packaging test, so `az extension add` installs them without leaving loopback.
wheelhouse: build/wheelhouse/.done
build/wheelhouse/.done: setup.py requirements-dev.txt
	$(BIN)/pip download --quiet --disable-pip-version-check -d build/wheelhouse jsonschema==4.26.0
	touch $@

# The oldest az we claim (azext_metadata.json): the end-to-end suite runs on it too.
OLDEST := .venv-oldest
$(OLDEST)/bin/az: requirements-oldest.txt
	$(PY) -m venv $(OLDEST)
	$(OLDEST)/bin/pip install --quiet --disable-pip-version-check -r requirements-oldest.txt
	touch $@

# The newest az on the package index, whatever it is on the day (requirements-newest.txt leaves azure-cli unpinned):
# upgraded on every run, so `make test` also proves the release users get next, before aksproxy pins it.
NEWEST := .venv-newest
newest-az:
	test -x $(NEWEST)/bin/python || $(PY) -m venv $(NEWEST)
	$(NEWEST)/bin/pip install --quiet --disable-pip-version-check --upgrade -r requirements-newest.txt
	@echo "newest az on the index: $$($(NEWEST)/bin/python -c 'from azure.cli.core import __version__; print(__version__)')"

# The e2e tests that prove aksproxy on each az. The benchmark smoke tests do not depend on the az version much, so
# they run once, with the pinned az above; the emulator's own tests live beside it (tests/armemu/tests/), outside
# tests/e2e, and run once too.
PER_AZ_E2E := --ignore-glob='tests/e2e/test_bench_*'

# What the reliability tests tried and how it went (tests/reliability_report.py); docs/reliability.md is made from it.
RELIABILITY_RECORDS := build/reliability/records.jsonl

# The fast loop (no proxies, no emulator, no network): lint and type check, then the unit tests.
lint: venv
	$(BIN)/ruff check .
	# Checked against Python 3.10's standard library: az runs on 3.10, and the pure packages use nothing newer.
	$(BIN)/mypy --python-version 3.10 azext_aksproxy/config azext_aksproxy/cluster azext_aksproxy/check \
		azext_aksproxy/nodes azext_aksproxy/fleet azext_aksproxy/iac

# Every GitHub Actions workflow in .github/workflows and in the docs through actionlint, the Azure Pipelines
# examples against their schema's keys (tests/workflows.py; tests/unit/test_workflows.py shows a broken one caught).
check: lint
	$(BIN)/python -m tests.workflows
	$(BIN)/python -m pytest -q -n 2 tests/unit

test: lint wheel proxies browser wheelhouse $(OLDEST)/bin/az newest-az
	rm -f $(RELIABILITY_RECORDS)
	$(BIN)/python -m pytest -n 2 tests
	$(BIN)/python -m tests.reliability_report   # docs/reliability.md, from the records of the run above
	AKSPROXY_RELIABILITY_RECORDS=build/reliability/oldest-az.jsonl \
		$(OLDEST)/bin/python -m pytest -n 2 -p no:cacheprovider $(PER_AZ_E2E) tests/e2e
	AKSPROXY_RELIABILITY_RECORDS=build/reliability/newest-az.jsonl \
		$(NEWEST)/bin/python -m pytest -n 2 -p no:cacheprovider $(PER_AZ_E2E) tests/e2e

bench: wheel
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(OLDEST) $(NEWEST) $(MITM) dist build *.egg-info
