# Evaluation: test split → build/$(NAME)/{metrics.json,metrics.md,predictions.parquet,examples.md}
# (docs/evaluation.md): the Surprise-equivalent baselines and LRMM with +F/-U/-O/-M/-V on all /
# warm / cold-item / cold-user test rows. `make report` renders build/$(NAME)/report/.
#   K           cut-off of Recall@K and NDCG@K   (default 10)
#   EVAL_FLAGS  extra lrmm-eval flags, e.g. "--baselines offset,svdpp" or "--device cuda"

K ?= 10
EVAL_FLAGS ?=
EVAL_ARGS := --k $(K) --seed $(SEED) $(EVAL_FLAGS)
REPORT_DIR := $(BUILD)/report

$(BIN)/lrmm-eval $(BIN)/lrmm-report &: $(RUST_SOURCES)
	$(CARGO) build --release -p lrmm-eval

$(BUILD)/.eval.args: FORCE
	$(call remember,$@,$(EVAL_ARGS))

# The tfidf baseline reads the vocabulary stage's token ids.
EVAL_TEXT := $(BUILD)/review_tokens.parquet $(BUILD)/item_tokens.parquet

# metrics.json is written last, after the predictions and tables.
$(BUILD)/metrics.json: $(BUILD)/interactions.parquet $(EVAL_TEXT) $(BUILD)/model/model.safetensors $(BIN)/lrmm-eval $(BUILD)/.eval.args
	$(BIN)/lrmm-eval --data $(BUILD) --model $(BUILD)/model $(EVAL_ARGS)

$(REPORT_DIR)/report.md: $(BUILD)/metrics.json $(BIN)/lrmm-report
	$(BIN)/lrmm-report render --data $(BUILD) --model $(BUILD)/model --out $(REPORT_DIR)

.PHONY: eval report eval-baselines
eval: $(BUILD)/metrics.json ## metrics of LRMM (+F/-U/-O/-M/-V) and the baselines on build/$(NAME)'s test split

report: $(REPORT_DIR)/report.md ## Markdown + PNG report of build/$(NAME) (learning curves, per-modality errors)

# Baselines only, without a trained model (e.g. on a freshly ingested real category; the
# vocabulary stage runs first for tfidf).
eval-baselines: $(BUILD)/interactions.parquet $(EVAL_TEXT) $(BIN)/lrmm-eval ## baselines only on build/$(NAME) → build/$(NAME)/baselines/
	$(BIN)/lrmm-eval --data $(BUILD) --out $(BUILD)/baselines $(EVAL_ARGS)

ALL_TARGETS += $(BUILD)/metrics.json $(REPORT_DIR)/report.md
