# Two commands on a fresh machine (Python 3.11 + pip):
#   make demo   release lesson 01, grade three notebooks, print their score tables
#   make test   the whole test suite (unit + slow notebook tests + browser tests)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATA   ?= ../shared/data
WORKERS ?= 2
PORT   ?= 8888
HUB_PORT ?= 8000
PROXY  := hub/node_modules/.bin/configurable-http-proxy
# The browser suite drives Debian's chromium; Playwright never downloads a browser here.
CHROMIUM ?= /usr/bin/chromium
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-full test-fast test-browser lint data release validate check-graders calibrate \
	benchmark base-weights lab chromium clean student-wheel hub hub-proxy

$(BIN)/course: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

data: $(BIN)/course
	@if [ -d "$(DATA)" ]; then $(BIN)/course data import "$(DATA)"; \
	else echo "no offline data folder at $(DATA): Keras will download datasets when first used"; fi

demo: $(BIN)/course data
	$(BIN)/course demo

chromium:
	@[ -x "$(CHROMIUM)" ] || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

test: $(BIN)/course data chromium hub-proxy
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup --durations=30 -m "not full"

# What CI leaves out of expensive corpora (more canned notebooks of the CNN lessons): all of it
test-full: $(BIN)/course data
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup -m full

test-fast: $(BIN)/course
	$(BIN)/python -m pytest -m "not slow"

# JupyterLab in headless chromium: student, instructor, formgrader, feedback and report pages
test-browser: $(BIN)/course data chromium hub-proxy
	$(BIN)/python -m pytest -m browser -n $(WORKERS) --dist loadgroup

lint: $(BIN)/course
	$(BIN)/ruff check .

release: $(BIN)/course
	$(BIN)/course release

validate: $(BIN)/course data
	$(BIN)/course validate --workers $(WORKERS)

# Mutation testing of every lesson's hidden graders (slow: every mutant is a graded notebook).
check-graders: $(BIN)/course data
	$(BIN)/course check-graders all --workers $(WORKERS)

# Quality thresholds from the reference solutions over SEEDS seeds (slow; writes
# autograder/calibration/<lesson>.json).
SEEDS ?= 5
calibrate: $(BIN)/course data
	for lesson in $$(ls source); do $(BIN)/course calibrate $$lesson --seeds $(SEEDS) --workers $(WORKERS) || exit 1; done

# JupyterLab on the course folder: formgrader, Assignment List and Validate on one machine
lab: $(BIN)/course data
	$(BIN)/course lab --port $(PORT)

# dist/student/: the students' wheel (course_lib's student library, no graders) and the
# pinned requirements of a student's environment
student-wheel: $(BIN)/course
	$(BIN)/course build-student

# JupyterHub's proxy, from npm (hub/package-lock.json pins it)
$(PROXY): hub/package.json hub/package-lock.json
	cd hub && npm ci --no-audit --no-fund --loglevel=error
	touch $@

hub-proxy: $(PROXY)

# The course's JupyterHub on 127.0.0.1 for a trial (hub/jupyterhub_config.py; README,
# "Running a class"): users instructor, alice, bob; password keras-course
hub: $(BIN)/course data hub-proxy
	$(BIN)/jupyterhub -f hub/jupyterhub_config.py --port $(HUB_PORT)

benchmark: $(BIN)/course data
	$(BIN)/python benchmarks/grading_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache gradebook.db submitted autograded feedback demo-output \
		exchange student dist tests/browser/artefacts \
		hub/node_modules .course/hub

# Retrain lesson 07's pretrained network (a few minutes) and compare it with the shipped
# weights file; `make base-weights WRITE=--write` replaces the file.
base-weights: $(BIN)/course data
	$(BIN)/python -m course_lib.admin.pretrain $(WRITE)
