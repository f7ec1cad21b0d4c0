# Real-data quality (docs/evaluation.md, "Real data: LRMM against the best simple methods"):
# LRMM with the shipped configs against Biases, SVD++ and the TF-IDF content baseline on the
# real categories of ../shared/data, warm (random split) and item cold start, over SEEDS.
#
#   make coldstart NAME=gift REVIEWS=… META=…   item cold start on one category, mean ± std over SEEDS
#   make quality                               every real-data table → build/experiments/quality.md
#
#   COLD_ITEMS        share of items held out of training by `coldstart`   (default: 0.2)
#   COLDSTART_CONFIG  config of `coldstart`'s pipelines                    (default: CONFIG)
#   SHARED_DATA       the real data folder                                 (default: $LRMM_SHARED_DATA
#                     when set, else $(SHARED)/data = ../shared/data)
#   QUALITY_CONTENT_CONFIG  the content-only model beside LRMM on MI       (default: pipelines/paper.toml)

COLD_ITEMS ?= 0.2
COLDSTART_CONFIG ?= $(CONFIG)

# --- Item cold start: each seed a whole pipeline whose split holds COLD_ITEMS of the items out of
# training (every test row is then a cold item); FORCE: the recursive makes decide what is stale. ---
$(EXP_DIR)/coldstart.md: FORCE $(BIN)/lrmm-report
	@mkdir -p $(EXP_DIR)
	@for s in $(SEEDS); do $(SUBMAKE) eval NAME=$(NAME)-cold-seed$$s SEED=$$s CONFIG=$(COLDSTART_CONFIG) \
		INGEST_FLAGS="--split-mode cold-items --cold-items $(COLD_ITEMS) $(INGEST_FLAGS)"; done
	$(BIN)/lrmm-report aggregate --title "Item cold start: $(NAME), $(COLD_ITEMS) of the items only in valid/test, seeds $(SEEDS)" \
		--subsets all,cold_item --out $@ $(foreach s,$(SEEDS),build/$(NAME)-cold-seed$(s)/metrics.json)

.PHONY: coldstart quality
coldstart: $(EXP_DIR)/coldstart.md ## item cold start (COLD_ITEMS of the items never in training), mean ± std over SEEDS

# --- Every real-data figure of docs/evaluation.md. Each line is one target on its own build
# names, so a rerun only redoes what changed. ---
SHARED_DATA ?= $(or $(LRMM_SHARED_DATA),$(SHARED)/data)
QUALITY_CONTENT_CONFIG ?= pipelines/paper.toml
MI_REVIEWS := $(SHARED_DATA)/amazon-2014/Musical_Instruments/reviews_Musical_Instruments_5.json.gz
GIFT_DATA := REVIEWS=$(SHARED_DATA)/amazon-2018/Gift_Cards/Gift_Cards_5.json.gz \
	META=$(SHARED_DATA)/amazon-2018/Gift_Cards/meta_Gift_Cards.json.gz
MAGAZINE_DATA := REVIEWS=$(SHARED_DATA)/amazon-2018/Magazine_Subscriptions/Magazine_Subscriptions_5.json.gz \
	META=$(SHARED_DATA)/amazon-2018/Magazine_Subscriptions/meta_Magazine_Subscriptions.json.gz

build/experiments/quality.md: FORCE
	@for f in $(MI_REVIEWS) $(word 1,$(GIFT_DATA)) $(word 1,$(MAGAZINE_DATA)); do f=$${f#REVIEWS=}; test -f $$f || \
		{ echo "make quality: $$f is missing (the real data folder is $(SHARED_DATA); set SHARED_DATA=… or LRMM_SHARED_DATA)" >&2; exit 1; }; done
	$(SUBMAKE) table2 NAME=mi REVIEWS=$(MI_REVIEWS) TABLE2_CONFIG=pipelines/mi.toml SEEDS="$(SEEDS)"
	$(SUBMAKE) table2 NAME=mi-leak REVIEWS=$(MI_REVIEWS) TABLE2_CONFIG=pipelines/mi.toml TRAIN_FLAGS=--leak-target SEEDS="$(SEEDS)"
	$(SUBMAKE) table2 NAME=gift $(GIFT_DATA) TABLE2_CONFIG=pipelines/gift_cards.toml SEEDS="$(SEEDS)"
	$(SUBMAKE) coldstart NAME=gift $(GIFT_DATA) COLDSTART_CONFIG=pipelines/gift_cards.toml SEEDS="$(SEEDS)"
	$(SUBMAKE) table2 NAME=magazine $(MAGAZINE_DATA) TABLE2_CONFIG=pipelines/magazine_subscriptions.toml SEEDS="$(SEEDS)"
	$(SUBMAKE) coldstart NAME=magazine $(MAGAZINE_DATA) COLDSTART_CONFIG=pipelines/magazine_subscriptions.toml SEEDS="$(SEEDS)"
	$(SUBMAKE) table2 NAME=mi-paper REVIEWS=$(MI_REVIEWS) TABLE2_CONFIG=$(QUALITY_CONTENT_CONFIG) SEEDS="$(SEEDS)"
	python3 scripts/quality_table.py --build build --seeds $(SEEDS) --content-config $(QUALITY_CONTENT_CONFIG) \
		--cold-items $(COLD_ITEMS) --out $@

quality: build/experiments/quality.md ## real-data tables (MI, Gift Cards, Magazine Subscriptions; warm and cold items) vs the best simple methods
