# The paper's experiments, one target each (docs/evaluation.md); tables and figures go to
# build/experiments/$(NAME)/. On the default dataset they are CI-sized; on a real category pass
# REVIEWS/META/IMAGES as for `make all`:
#   make table2 NAME=mi REVIEWS=…/reviews_Musical_Instruments_5.json.gz META=… SEEDS="1 2 3"
#
# Table 2 varies the split with the seed, so each seed is a whole pipeline under its own NAME
# (build/$(NAME)-seed<S>/, a recursive `make eval`). Table 3 and Figures 5 and 6 change only the
# model: they train variants on build/$(NAME)'s artifacts into build/experiments/$(NAME)/<variant>/.
#   SEEDS          seeds of Table 2 (splits) and Table 3 (training)   (default: 1 2 3)
#   TABLE2_CONFIG  config of Table 2                                  (default: pipelines/table2.toml)
#   TABLE3_CONFIG  config of Table 3, p_m = 0.5                       (default: pipelines/table3.toml)
#   FIG6_CONFIG    config of Figure 6, trained with --set data.max_len=L (default: pipelines/table2.toml)
#   FIG6_LENGTHS   text lengths L of Figure 6                         (default: 25 50 100 200)
#   FIG5_ROWS      test rows in Figure 5's t-SNE                      (default: 100)
#   FIG4_CAPS      training reviews kept per item in Figure 4         (default: 5 1 0)
#   FIG4_CONFIG    config of Figure 4's pipelines                     (default: CONFIG)
# Table 4 (cross-domain) trains on one dataset and tests on another, each a whole pipeline:
#   SOURCE_REVIEWS SOURCE_META SOURCE_IMAGES   the training category     (default: the default dataset)
#   TARGET_REVIEWS TARGET_META TARGET_IMAGES   the test category         (default: data/generated/xdomain, seed 2)
#   TABLE4_SOURCE TABLE4_TARGET                their build/ names        (default: xdomain-source, xdomain-target)
#   TABLE4_CONFIG                              config of the source model (default: CONFIG)

SEEDS ?= 1 2 3
TABLE2_CONFIG ?= pipelines/table2.toml
TABLE3_CONFIG ?= pipelines/table3.toml
FIG6_CONFIG ?= pipelines/table2.toml
FIG6_LENGTHS ?= 25 50 100 200
FIG5_ROWS ?= 100
EXP_DIR := build/experiments/$(NAME)
SUBMAKE := $(MAKE) --no-print-directory

.PHONY: table2 table3 table4 fig4 fig5 fig6 experiments

# --- Table 2: one pipeline per seed. FORCE: the recursive makes decide what is stale. ---
$(EXP_DIR)/table2.md: FORCE $(BIN)/lrmm-report
	@mkdir -p $(EXP_DIR)
	@for s in $(SEEDS); do $(SUBMAKE) eval NAME=$(NAME)-seed$$s SEED=$$s CONFIG=$(TABLE2_CONFIG); done
	$(BIN)/lrmm-report aggregate --title "Table 2: $(NAME), LRMM and baselines, splits and models of seeds $(SEEDS)" \
		--out $@ $(foreach s,$(SEEDS),build/$(NAME)-seed$(s)/metrics.json)

table2: $(EXP_DIR)/table2.md ## Table 2: LRMM (+F/-U/-O/-M/-V) vs baselines, mean ± std over SEEDS

# --- Model variants on build/$(NAME)'s artifacts: $(call model_variant,NAME,CONFIG,SEED[,OVERRIDES]),
# OVERRIDES being SECTION.KEY=VALUE words passed as --set after TRAIN_SET's (so they win). ---
define model_variant
$(EXP_DIR)/$(1)/model/model.safetensors: $(TRAIN_INPUTS) $(call config_files,$(2)) $(BIN)/lrmm-train
	$(BIN)/lrmm-train --data $(BUILD) --out $(EXP_DIR)/$(1)/model --config $(2) $(foreach s,$(TRAIN_SET) $(4),--set $(s)) \
		--seed $(3) --device $(DEVICE) $(TRAIN_FLAGS)
$(EXP_DIR)/$(1)/metrics.json: $(EXP_DIR)/$(1)/model/model.safetensors $(BUILD)/interactions.parquet $(BIN)/lrmm-eval
	$(BIN)/lrmm-eval --data $(BUILD) --model $(EXP_DIR)/$(1)/model --out $(EXP_DIR)/$(1) --seed $(3) --k $(K) $(EVAL_FLAGS)
endef

# --- Table 3: trained with p_m = 0.5, one model per training seed on the same split. ---
$(foreach s,$(SEEDS),$(eval $(call model_variant,pm05-seed$(s),$(TABLE3_CONFIG),$(s))))
TABLE3_METRICS := $(foreach s,$(SEEDS),$(EXP_DIR)/pm05-seed$(s)/metrics.json)

$(EXP_DIR)/table3.md: $(TABLE3_METRICS) $(BIN)/lrmm-report
	$(BIN)/lrmm-report aggregate --title "Table 3: $(NAME), LRMM trained with p_m = 0.5, training seeds $(SEEDS)" \
		--subsets all,warm,cold_item,cold_user --out $@ $(TABLE3_METRICS)

table3: $(EXP_DIR)/table3.md ## Table 3: LRMM trained with missing modalities (p_m = 0.5), mean ± std over SEEDS

# --- Figure 5: t-SNE of the first Table 3 model's embeddings and reconstructions. ---
FIG5_MODEL := $(EXP_DIR)/pm05-seed$(firstword $(SEEDS))/model
$(EXP_DIR)/fig5.png: $(FIG5_MODEL)/model.safetensors $(BIN)/lrmm-eval
	$(BIN)/lrmm-eval --data $(BUILD) --model $(FIG5_MODEL) --out $(EXP_DIR)/fig5 --baselines none \
		--tsne $(FIG5_ROWS) --seed $(firstword $(SEEDS))
	cp $(EXP_DIR)/fig5/embeddings_tsne.png $@.tmp && mv $@.tmp $@

fig5: $(EXP_DIR)/fig5.png ## Figure 5: t-SNE of each modality's embeddings and reconstructions (p_m = 0.5 model)

# --- Figure 6: text length L, FIG6_CONFIG trained with --set data.max_len=L per L. ---
$(foreach l,$(FIG6_LENGTHS),$(eval $(call model_variant,L$(l),$(FIG6_CONFIG),$(SEED),data.max_len=$(l))))
FIG6_METRICS := $(foreach l,$(FIG6_LENGTHS),$(EXP_DIR)/L$(l)/metrics.json)

$(EXP_DIR)/fig6.png: $(FIG6_METRICS) $(BIN)/lrmm-report
	$(BIN)/lrmm-report sweep --title "Figure 6: text length, $(NAME)" --x-label "L (tokens per document)" \
		--series lrmm:+F,lrmm:-U,lrmm:-O,baseline:svdpp --out $@ \
		$(foreach l,$(FIG6_LENGTHS),$(l)=$(EXP_DIR)/L$(l)/metrics.json)

fig6: $(EXP_DIR)/fig6.png ## Figure 6: RMSE against text length L (FIG6_LENGTHS), PNG + Markdown table

# --- Figure 4: item cold start. Each cap N is a whole pipeline (the cap changes the ingested
# split) under build/$(NAME)-fig4-n<N>/; FORCE: the recursive makes decide what is stale. ---
FIG4_CAPS ?= 5 1 0
FIG4_CONFIG ?= $(CONFIG)
$(EXP_DIR)/fig4.png: FORCE $(BIN)/lrmm-report
	@mkdir -p $(EXP_DIR)
	@for n in $(FIG4_CAPS); do $(SUBMAKE) eval NAME=$(NAME)-fig4-n$$n CONFIG=$(FIG4_CONFIG) \
		INGEST_FLAGS="--max-train-per-item $$n $(INGEST_FLAGS)"; done
	$(BIN)/lrmm-report sweep --title "Figure 4: item cold start, $(NAME)" --x-label "training reviews per item (N)" \
		--series lrmm:+F,lrmm:-O,baseline:svdpp --out $@ \
		$(foreach n,$(FIG4_CAPS),$(n)=build/$(NAME)-fig4-n$(n)/metrics.json)

fig4: $(EXP_DIR)/fig4.png ## Figure 4: LRMM vs SVD++ RMSE with each item's training reviews cut to FIG4_CAPS

# --- Table 4: cross-domain. The source is a whole pipeline; the target is ingested, its images
# extracted, and encoded with the SOURCE's tokenizer.json (lrmm-vocab --tokenizer), then the
# source model is evaluated on the target's test split. The baselines in the table are trained
# on the target's own training split (in-domain references); the source's in-domain metrics go
# beside it. On the default dataset the target is a second generated dataset (seed 2). ---
XDOMAIN := data/generated/xdomain
ifeq ($(origin SOURCE_REVIEWS),undefined)
SOURCE_REVIEWS := $(GENERATED)/reviews_Synthetic_5.json.gz
SOURCE_META ?= $(GENERATED)/meta_Synthetic.json.gz
SOURCE_IMAGES ?= $(GENERATED)/images
else
SOURCE_META ?=
SOURCE_IMAGES ?=
endif
ifeq ($(origin TARGET_REVIEWS),undefined)
TARGET_REVIEWS := $(XDOMAIN)/reviews_Synthetic_5.json.gz
TARGET_META ?= $(XDOMAIN)/meta_Synthetic.json.gz
TARGET_IMAGES ?= $(XDOMAIN)/images
else
TARGET_META ?=
TARGET_IMAGES ?=
endif
TABLE4_SOURCE ?= xdomain-source
TABLE4_TARGET ?= xdomain-target
TABLE4_CONFIG ?= $(CONFIG)
TABLE4_DIR := build/experiments/$(TABLE4_SOURCE)-to-$(TABLE4_TARGET)

# The generator leaves unchanged files untouched, so a stamp records its last run (as for the default).
$(XDOMAIN)/.datagen.stamp: $(DATAGEN_STAMP)
	$(DATAGEN_BIN) --out $(XDOMAIN) --seed 2
	@touch $@
$(XDOMAIN)/reviews_Synthetic_5.json.gz: $(XDOMAIN)/.datagen.stamp
	@test -e $@ || $(DATAGEN_BIN) --out $(XDOMAIN) --seed 2

$(TABLE4_DIR)/table4.md: FORCE $(SOURCE_REVIEWS) $(TARGET_REVIEWS) $(BIN)/lrmm-eval
	@mkdir -p $(TABLE4_DIR)
	$(SUBMAKE) eval NAME=$(TABLE4_SOURCE) REVIEWS=$(SOURCE_REVIEWS) META="$(SOURCE_META)" IMAGES="$(SOURCE_IMAGES)" \
		CONFIG=$(TABLE4_CONFIG)
	$(SUBMAKE) images NAME=$(TABLE4_TARGET) REVIEWS=$(TARGET_REVIEWS) META="$(TARGET_META)" IMAGES="$(TARGET_IMAGES)"
	$(SUBMAKE) vocab NAME=$(TABLE4_TARGET) REVIEWS=$(TARGET_REVIEWS) META="$(TARGET_META)" IMAGES="$(TARGET_IMAGES)" \
		VOCAB_FLAGS="--tokenizer build/$(TABLE4_SOURCE)/tokenizer.json"
	$(BIN)/lrmm-eval --data build/$(TABLE4_TARGET) --model build/$(TABLE4_SOURCE)/model --out $(TABLE4_DIR) \
		--seed $(SEED) --k $(K) $(EVAL_FLAGS)
	{ echo "# Table 4: cross-domain, LRMM trained on $(TABLE4_SOURCE), tested on $(TABLE4_TARGET)"; echo; \
	  echo "Source vocabulary coverage of the target's training text: $$(python3 -c 'import json, sys; print("{:.2f}%".format(100 * json.load(open(sys.argv[1]))["coverage"]))' build/$(TABLE4_TARGET)/vocab_stats.json)"; echo; \
	  echo "## Cross-domain: source model on the target's test split (baselines trained on the target)"; echo; \
	  cat $(TABLE4_DIR)/metrics.md; echo; \
	  echo "## In-domain reference: source model on the source's test split"; echo; \
	  cat build/$(TABLE4_SOURCE)/metrics.md; } > $@.tmp && mv $@.tmp $@

table4: $(TABLE4_DIR)/table4.md ## Table 4: cross-domain, LRMM trained on SOURCE_* and tested on TARGET_*

experiments: table2 table3 table4 fig4 fig5 fig6 ## every experiment above on $(NAME)
