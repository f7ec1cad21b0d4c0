# Vocabulary: training reviews + metadata documents → tokenizer.json and the token ids of every
# review and metadata document (docs/vocab.md).
#   MIN_FREQ     keep words that occur at least this often in the training text   (default 20)
#   VOCAB_FLAGS  extra lrmm-vocab flags, e.g. "--max-size 50000" or "--metadata-scope all-items", or
#                "--tokenizer build/<other>/tokenizer.json" to encode with another dataset's vocabulary

MIN_FREQ ?= 20
VOCAB_FLAGS ?=
VOCAB_OUT := $(BUILD)/tokenizer.json $(BUILD)/review_tokens.parquet $(BUILD)/item_tokens.parquet $(BUILD)/vocab_stats.json
VOCAB_ARGS := --min-freq $(MIN_FREQ) $(VOCAB_FLAGS)

$(BIN)/lrmm-vocab $(BIN)/lrmm-vocab-bench &: $(RUST_SOURCES)
	$(CARGO) build --release -p lrmm-vocab

$(BUILD)/.vocab.args: FORCE
	$(call remember,$@,$(VOCAB_ARGS))

# A `--tokenizer PATH.json` in VOCAB_FLAGS (encode with an existing vocabulary, e.g. Table 4's
# source category) is a prerequisite too, so a retrained source re-encodes the target.
$(VOCAB_OUT) &: $(BUILD)/reviews.parquet $(BUILD)/items.parquet $(BIN)/lrmm-vocab $(BUILD)/.vocab.args $(filter %.json,$(VOCAB_FLAGS))
	$(BIN)/lrmm-vocab --data $(BUILD) $(VOCAB_ARGS)

.PHONY: vocab bench-vocab
vocab: $(VOCAB_OUT) ## build/$(NAME)/tokenizer.json and token ids of every review and item (MIN_FREQ=20)

ALL_TARGETS += $(BUILD)/review_tokens.parquet

# Encoding throughput on the ingestion output of the 1.64M-review scaled Musical Instruments file,
# which `make bench-ingest` writes to build/bench/.
BENCH_VOCAB_DATA ?= build/bench
bench-vocab: $(BIN)/lrmm-vocab-bench ## tokens/s encoding the 1.64M-review bench set (after make bench-ingest; prints a table)
	@test -f $(BENCH_VOCAB_DATA)/reviews.parquet -a -f $(BENCH_VOCAB_DATA)/items.parquet || { \
		echo "bench-vocab: $(BENCH_VOCAB_DATA)/reviews.parquet is absent; run 'make bench-ingest' first"; \
		echo "  (it builds the 1.64M-review scaled Musical Instruments file and ingests it into build/bench/)"; \
		exit 2; }
	$(BIN)/lrmm-vocab-bench --data $(BENCH_VOCAB_DATA) --min-freq $(MIN_FREQ)
