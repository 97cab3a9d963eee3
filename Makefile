# The user's verbs. Paths are variables: `make train LABELS=... IMAGES=...`.
PY      ?= python3.11
VENV    ?= .venv
BIN     := $(VENV)/bin
SHARED  ?= ../shared/data
INPUT   ?= dataset/sample/sample.csv
IMAGES  ?= dataset/sample/images
OUTPUT  ?= out/predictions.csv
MODEL   ?= prodspec/model
LABELS  ?= $(SHARED)/dev/labels.csv
TRAIN_IMAGES ?= $(SHARED)/dev/images
OBJECTIVE ?= f1
TRIALS  ?= 60
LIMIT   ?=

.PHONY: setup predict train test bench lint clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev,easyocr,ray]"
	touch $@

predict: setup
	$(BIN)/prodspec predict --input $(INPUT) --images $(IMAGES) --output $(OUTPUT)
	$(BIN)/prodspec check --input $(INPUT) --predictions $(OUTPUT)
	@echo "predictions: $(OUTPUT)"

train: setup
	$(BIN)/prodspec train --labels $(LABELS) --images $(TRAIN_IMAGES) --model-dir $(MODEL) --objective $(OBJECTIVE) --trials $(TRIALS)

bench: setup
	$(BIN)/prodspec bench $(if $(LIMIT),--limit $(LIMIT),)

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check bench candidates features ranker dataset prodspec tests

clean:
	rm -rf out bench/out
