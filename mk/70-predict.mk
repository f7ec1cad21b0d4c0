# Prediction: ratings and top-K for users and items the model never saw, from raw Amazon records
# (docs/predict.md). Reads the trained model and its dataset folder build/$(NAME); nothing of the
# pipeline is rewritten.
#   PAIRS          JSON lines {"reviewerID": …, "asin": …} to predict (required by `make predict`)
#   NEW_META       metadata lines of new items (2014 literals or 2018 JSON, plain or gzip)
#   NEW_IMAGES     folder of new items' photos named by asin
#   NEW_REVIEWS    review lines that add to users' and items' histories
#   PREDICT_OUT    file written (default build/$(NAME)/predict.parquet)
#   PREDICT_FLAGS  extra lrmm-predict flags, e.g. "--top-k 10", "--format jsonl", "--skip-bad-lines"

PAIRS ?=
NEW_META ?=
NEW_IMAGES ?=
NEW_REVIEWS ?=
PREDICT_OUT ?= $(BUILD)/predict.parquet
PREDICT_FLAGS ?=
PREDICT_ARGS := $(if $(NEW_META),--meta $(NEW_META)) $(if $(NEW_IMAGES),--images $(NEW_IMAGES)) \
	$(if $(NEW_REVIEWS),--reviews $(NEW_REVIEWS)) --device $(DEVICE) $(PREDICT_FLAGS)

$(BIN)/lrmm-predict $(BIN)/lrmm-bench-predict &: $(RUST_SOURCES)
	$(CARGO) build --release -p lrmm-predict

.PHONY: predict bench-predict
# Always reruns: its inputs are the caller's files, not pipeline artifacts.
predict: $(MODEL_DIR)/model.safetensors $(BIN)/lrmm-predict ## predict PAIRS (new users/items too) with build/$(NAME)/model → PREDICT_OUT
	@if [ -z "$(PAIRS)" ]; then echo "make predict: give PAIRS=pairs.jsonl (JSON lines with reviewerID and asin)" >&2; exit 2; fi
	$(BIN)/lrmm-predict --model $(MODEL_DIR) --data $(BUILD) --pairs $(PAIRS) --out $(PREDICT_OUT) $(PREDICT_ARGS)

# Pairs/s of the stage at the paper's shapes and at build/$(NAME)'s trained config, and one user's
# top-10 over BENCH_CANDIDATES items; compare pairs/s with bench-train's inference samples/s.
BENCH_PAIRS ?= 4096
BENCH_CANDIDATES ?= 10000
bench-predict: $(MODEL_DIR)/model.safetensors $(BIN)/lrmm-bench-predict ## pairs/s and top-10 time of lrmm-predict (paper shapes, build/$(NAME)'s model)
	$(BIN)/lrmm-bench-predict --model $(MODEL_DIR) --data $(BUILD) --pairs $(BENCH_PAIRS) \
		--candidates $(BENCH_CANDIDATES) --device $(DEVICE)
