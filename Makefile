# lumenrig: every target sets up what it needs; `make run` and `make test` are all a new user types.
PY_SYS ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MPY := $(VENV)/bin/micropython
STAMP := $(VENV)/.installed
PORT ?= /dev/ttyACM0

# The precompiled firmware (hil_sim/fwbuild.py, docs/firmware-build.md): what `make flash`
# copies to the Pico and what the simulator runs; the launcher also rebuilds what is stale.
FW_BUILD := build/firmware
# (the folders too: a deleted module changes its folder's mtime, and its .mpy must go)
FW_SOURCES := firmware/main.py $(shell find firmware/lumenfw protocol -name '*.py' 2>/dev/null) \
	$(shell find firmware/lumenfw protocol -type d -not -name __pycache__ 2>/dev/null)

.PHONY: install system-deps run test test-fast typecheck lint bench sim firmware flash clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(MAKE) system-deps
	test -x $(PY) || $(PY_SYS) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Debian packages the tests need; installed only when missing.
system-deps:
	@bash scripts/system-deps.sh

run: install
	$(VENV)/bin/lumenrig serve --rig sim:G1 --host 127.0.0.1 --port 8000

# The suite spends about half its time waiting on the processes it starts (services, the
# MicroPython VM, a browser), so it runs in more workers than cores; a file stays on one
# worker (its module fixtures are made once). TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 3

test: install
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

typecheck: install
	$(PY) -m mypy --config-file mypy-firmware.ini firmware protocol

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) -m bench

sim: install
	$(VENV)/bin/lumenrig sim --device G1

firmware: build/.firmware-made

build/.firmware-made: $(FW_SOURCES) $(STAMP)
	$(PY) -m hil_sim.fwbuild $(FW_BUILD)
	touch $@

flash: firmware
	bash scripts/flash.sh $(PORT)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache build
