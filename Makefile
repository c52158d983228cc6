# Two commands on a fresh machine with Python 3.11 and make:
#   make run    the service with the demo configuration on http://127.0.0.1:8000
#   make test   the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PEERS := .venv-peers
OPENSTACK := .venv-openstack
PORT ?= 8000

.PHONY: install peers openstack-venv openstack run test lint format fuzz bench profile

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# libvirt-python builds only where the libvirt C library is installed (Debian:
# libvirt-dev pkg-config); elsewhere the libvirt plugin says it is unavailable.
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-libvirt.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@if pkg-config --exists libvirt 2>/dev/null; then \
		$(BIN)/python -m pip install --quiet -r requirements-libvirt.txt; \
	else \
		echo "NOTE: libvirt development files not found: the libvirt plugin and its tests are unavailable"; \
	fi
	touch $@

install: $(VENV)/.installed

# The cloud emulators the tests run against (moto, mimic), in a venv of their own.
$(PEERS)/.installed: requirements-peers.txt
	$(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet --upgrade pip
	$(PEERS)/bin/python -m pip install --quiet -r requirements-peers.txt
	touch $@

peers: $(PEERS)/.installed

# A real OpenStack (Keystone v3, Placement, Glance, Neutron, Nova with the fake driver) in
# a venv of its own: about 2 minutes and 600 MB (scripts/openstack/README.md).
$(OPENSTACK)/.installed: scripts/openstack/requirements.txt scripts/openstack/bind_driver/*
	$(PYTHON) -m venv $(OPENSTACK)
	$(OPENSTACK)/bin/python -m pip install --quiet --upgrade pip
	$(OPENSTACK)/bin/python -m pip install --quiet -r scripts/openstack/requirements.txt
	$(OPENSTACK)/bin/python -m pip install --quiet ./scripts/openstack/bind_driver
	touch $@

openstack-venv: $(OPENSTACK)/.installed

# Starts the OpenStack cloud for a person (MariaDB and RabbitMQ must be running); Ctrl-C stops it.
openstack: openstack-venv
	$(OPENSTACK)/bin/python scripts/openstack/cloud.py run

run: install peers
	$(BIN)/python manage.py migrate --noinput
	PORT=$(PORT) $(BIN)/python demo/run.py

test: install peers
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks as ratios against baselines of the same run (docs/performance.md).
$(VENV)/.bench: requirements-bench.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	touch $@

bench: $(VENV)/.bench peers
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# A profile of the read of one instance, PCM against the baseline, in one process.
profile: $(VENV)/.bench
	$(BIN)/python bench/profile.py $(PROFILE_ARGS)

# schemathesis against a live PCM on loopback, from its OpenAPI schema.
fuzz: install
	bash scripts/fuzz.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
