# lrmm — the pipeline as a DAG of real files. `make all` runs every stage on the generated
# default dataset; each stage is its own target and reruns only when its inputs changed.
#
#   make all                                   # generated default dataset, offline
#   make all NAME=mi REVIEWS=path/reviews_Musical_Instruments_5.json.gz SEED=2
#   make ingest NAME=mi REVIEWS=… META=…       # one stage
#   make test                                  # every test (release profile)
#
# Variables every target takes:
#   NAME         artifacts go to build/$(NAME)/              (default: default)
#   REVIEWS      reviews JSON lines, plain or .gz            (default: generated dataset)
#   META         metadata file, 2014 literal or 2018 JSON    (default: generated dataset)
#   IMAGES       folder of images named by asin              (default: generated dataset)
#   VGG_WEIGHTS  torchvision VGG safetensors                 (default: none, seeded random init)
#   SEED         every random choice                          (default: 1)
#   CONFIG       a pipelines/ file                            (default: pipelines/default.toml)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

NAME ?= default
SEED ?= 1
CONFIG ?= pipelines/default.toml
GENERATED := data/generated/default
# Without REVIEWS, every input is the generated default dataset; with REVIEWS, META and
# IMAGES are whatever you name (a category without images or metadata is fine).
ifeq ($(origin REVIEWS),undefined)
REVIEWS := $(GENERATED)/reviews_Synthetic_5.json.gz
META ?= $(GENERATED)/meta_Synthetic.json.gz
IMAGES ?= $(GENERATED)/images
else
META ?=
IMAGES ?=
endif
VGG_WEIGHTS ?=
BUILD := build/$(NAME)

# One target directory outside the clone, shared by `make` and CI, so reruns are incremental.
CARGO_TARGET_DIR ?= $(HOME)/.cache/lrmm/target
export CARGO_TARGET_DIR
CARGO ?= cargo
BIN := $(CARGO_TARGET_DIR)/release
RUST_SOURCES := Cargo.toml $(wildcard Cargo.lock) $(shell find crates -name '*.rs' -o -name Cargo.toml 2>/dev/null)

# Each stage appends its final artifacts to ALL_TARGETS in its own mk/<stage>.mk.
ALL_TARGETS :=

# $(call remember,FILE,TEXT): rewrite FILE only when TEXT changed, so a stage whose rule
# depends on its arguments file reruns when SEED or a flag changes, and only then.
define remember
@mkdir -p $(dir $1); if [ ! -f $1 ] || [ "$$(cat $1)" != '$2' ]; then printf '%s\n' '$2' > $1; fi
endef
.PHONY: FORCE
FORCE:

.PHONY: help all test test-experiments lint build bench clean
help: ## list targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

# Binaries are built once, in the release profile; tests reuse the same compiled dependencies.
$(BIN)/.stamp: $(RUST_SOURCES)
	$(CARGO) build --release --workspace --bins
	@touch $@

build: $(BIN)/.stamp ## build every stage binary (release)

include $(sort $(wildcard mk/*.mk))

all: $(ALL_TARGETS) ## run every stage on build/NAME (default: the generated dataset)

test: lint ## lint, then every test (release profile; real-data tests skip when ../shared/data is absent)
	$(CARGO) test --release --workspace
	$(MAKE) --no-print-directory test-experiments

# clippy in the release profile reuses the release build's build scripts and proc macros.
lint: ## rustfmt check, clippy with warnings as errors on every target, no module import cycles
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings
	python3 scripts/check-module-cycles.py

test-experiments: $(BIN)/.stamp ## every experiment target end to end on the default dataset, CI-sized (part of test)
	bash scripts/test-experiments.sh

# Every stage's benchmark in pipeline order; each prints its own table.
bench: ## run every benchmark (bench-ingest first: later ones use its output)
	$(MAKE) bench-ingest
	$(MAKE) bench-vocab
	$(MAKE) bench-images
	$(MAKE) bench-train

clean: ## remove build/$(NAME)
	rm -rf $(BUILD)
