# Two commands on a fresh machine (Python 3.11 + pip):
#   make demo   release lesson 01, grade three notebooks, print their score tables
#   make test   the whole test suite (unit + slow notebook tests)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATA   ?= ../shared/data
WORKERS ?= 2

.PHONY: demo test test-fast lint data release validate check-graders calibrate benchmark base-weights clean

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

test: $(BIN)/course data
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup

test-fast: $(BIN)/course
	$(BIN)/python -m pytest -m "not slow"

lint: $(BIN)/course
	$(BIN)/ruff check .

release: $(BIN)/course
	$(BIN)/course release

validate: $(BIN)/course data
	$(BIN)/course validate

# Mutation testing of every lesson's hidden graders (slow: every mutant is a graded notebook).
check-graders: $(BIN)/course data
	$(BIN)/course check-graders all --workers $(WORKERS)

# Quality thresholds from the reference solutions over SEEDS seeds (slow; writes
# autograder/calibration/<lesson>.json).
SEEDS ?= 5
calibrate: $(BIN)/course data
	for lesson in $$(ls source); do $(BIN)/course calibrate $$lesson --seeds $(SEEDS) --workers $(WORKERS) || exit 1; done

benchmark: $(BIN)/course data
	$(BIN)/python benchmarks/grading_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache gradebook.db submitted autograded feedback demo-output

# Retrain lesson 07's pretrained network (a few minutes) and compare it with the shipped
# weights file; `make base-weights WRITE=--write` replaces the file.
base-weights: $(BIN)/course data
	$(BIN)/python -m course_lib.admin.pretrain $(WRITE)
