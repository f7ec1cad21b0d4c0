# Training: token ids + image features → build/$(NAME)/model/{model.safetensors,config.json,train_log.csv}
# (docs/model.md). Early stopping on the validation split; an interrupted run resumes from its
# checkpoint in build/$(NAME)/model/.
#   TRAIN_SET    config overrides SECTION.KEY=VALUE, each passed as lrmm-train --set, applied after
#                CONFIG's `base` chain, e.g. "train.max_epochs=3 data.max_len=20" (docs/model.md)
#   TRAIN_FLAGS  extra lrmm-train flags, e.g. "--leak-target" (the paper's documents) or "--max-epochs 5"
#   DEVICE       cpu (default) or cuda (needs a `--features cuda` build, see ../shared/gpu/README.md)

TRAIN_SET ?=
TRAIN_FLAGS ?=
DEVICE ?= cpu
SHARED ?= ../shared
MODEL_DIR := $(BUILD)/model
TRAIN_INPUTS := $(BUILD)/interactions.parquet $(BUILD)/review_tokens.parquet $(BUILD)/item_tokens.parquet \
	$(BUILD)/tokenizer.json $(BUILD)/image_features.safetensors
TRAIN_ARGS := --config $(CONFIG) $(foreach s,$(TRAIN_SET),--set $(s)) --seed $(SEED) --device $(DEVICE) $(TRAIN_FLAGS)

# $(call config_files,FILE): FILE and the configs its `base` chain names, as prerequisites, so that
# a model reruns when a config it inherits from changes (scripts/pipeline_config.py; memoised).
config_files = $(1) $(if $(filter undefined,$(origin CONFIG_BASES_$(1))),$(eval CONFIG_BASES_$(1) := $(shell python3 scripts/pipeline_config.py bases $(1))))$(CONFIG_BASES_$(1))

$(BIN)/lrmm-train $(BIN)/lrmm-bench-train &: $(RUST_SOURCES)
	$(CARGO) build --release -p lrmm-model

$(BUILD)/.train.args: FORCE
	$(call remember,$@,$(TRAIN_ARGS))

# model.safetensors is written last, after config.json and train_log.csv.
$(MODEL_DIR)/model.safetensors: $(TRAIN_INPUTS) $(call config_files,$(CONFIG)) $(BIN)/lrmm-train $(BUILD)/.train.args
	$(BIN)/lrmm-train --data $(BUILD) --out $(MODEL_DIR) $(TRAIN_ARGS)

.PHONY: train bench-train
train: $(MODEL_DIR)/model.safetensors ## train LRMM on build/$(NAME) with CONFIG (SEED, DEVICE, TRAIN_SET, TRAIN_FLAGS)

ALL_TARGETS += $(MODEL_DIR)/model.safetensors

# Throughput beside the PyTorch reference: BENCH_ROUNDS paired rounds (lrmm, then PyTorch) at the
# paper's shapes (batch 256, L 100, LSTM 256, AE 1024, embedding 128, vocab 20k) and at the default
# config's (batch 64, L 50, embedding 32, hidden 64, AE 256), on synthetic batches; prints a table of
# medians with GFLOP/s, the share of the CPU's FP32 peak and peak RSS (scripts/bench_train.py).
# The stepwise (stock candle ops) LSTM takes minutes per step on a CPU: BENCH_STEPWISE=1 adds a line.
BENCH_STEPS ?= 3
BENCH_ROUNDS ?= 3
BENCH_SHAPES ?= paper,default
BENCH_STEPWISE ?= $(if $(filter cuda,$(DEVICE)),1,0)
bench-train: $(BIN)/lrmm-bench-train ## train/infer samples/s of LRMM beside PyTorch: medians, GFLOP/s, peak RSS (BENCH_ROUNDS, BENCH_SHAPES)
	python3 scripts/bench_train.py --lrmm $(BIN)/lrmm-bench-train --torch $(SHARED)/bench/lrmm_torch.py \
		--device $(DEVICE) --rounds $(BENCH_ROUNDS) --steps $(BENCH_STEPS) --shapes $(BENCH_SHAPES)
	@if [ "$(BENCH_STEPWISE)" = 1 ]; then $(BIN)/lrmm-bench-train --lstm stepwise --device $(DEVICE) --steps 1; \
	else echo "bench-train: stepwise LSTM skipped (minutes per training step on 2 CPU cores); BENCH_STEPWISE=1 runs it"; fi
