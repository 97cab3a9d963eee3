# The user's verbs. Paths are variables: `make train SOURCES="a b" MODEL=my_model` learns from a/labels.csv with a/images and b/labels.csv with b/images.
PY      ?= python3.11
VENV    ?= .venv
BIN     := $(VENV)/bin
SHARED  ?= ../shared/data
INPUT   ?= dataset/sample/sample.csv
IMAGES  ?= dataset/sample/images
OUTPUT  ?= out/predictions.csv
MODEL   ?= models
SOURCES ?= $(SHARED)/dev $(SHARED)/more
OBJECTIVE ?= f1
TRIALS  ?= 60
# the ranker parameters the study tries first and keeps unless clearly beaten: the shipped model's
WARM    ?= models
LIMIT   ?=
N       ?= 1200
SYNTH   ?= out/synthetic

.PHONY: setup predict train test bench lint clean synth constraints

setup: $(VENV)/.installed

# exactly the versions CI tested (constraints.txt); the package itself states ranges (pyproject.toml)
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e ".[dev,easyocr,ray,review]"
	touch $@

# after a change of dependencies in pyproject.toml: the environment's versions become the new constraints
constraints: setup
	{ sed -n '1,2p' constraints.txt; $(BIN)/pip freeze --exclude-editable | grep -v '^prodspec=='; } > constraints.new
	mv constraints.new constraints.txt

predict: setup
	$(BIN)/prodspec predict --input $(INPUT) --images $(IMAGES) --output $(OUTPUT)
	$(BIN)/prodspec check --input $(INPUT) --predictions $(OUTPUT)
	@echo "predictions: $(OUTPUT)"

# N synthetic dimension drawings (seeded: the same files every time), which the shipped model also learns from
synth: $(SYNTH)/labels.csv

$(SYNTH)/labels.csv: $(VENV)/.installed dataset/synthetic.py
	$(BIN)/python -m prodspec.dataset.synthetic --n $(N) --seed 0 --out $(SYNTH)

train: setup synth
	$(BIN)/prodspec train $(foreach s,$(SOURCES),--labels $(s)/labels.csv --images $(s)/images) --synthetic $(SYNTH) --model-dir $(MODEL) --objective $(OBJECTIVE) --trials $(TRIALS) --warm-start $(WARM)

bench: setup synth
	$(BIN)/prodspec bench $(if $(LIMIT),--limit $(LIMIT),) --synthetic $(SYNTH)

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check bench candidates features ranker dataset models prodspec tests

clean:
	rm -rf out bench/out
