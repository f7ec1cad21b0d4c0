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
#   FIG6_LENGTHS   text lengths L of Figure 6                         (default: 25 50 100 200)
#   FIG5_ROWS      test rows in Figure 5's t-SNE                      (default: 100)

SEEDS ?= 1 2 3
TABLE2_CONFIG ?= pipelines/table2.toml
TABLE3_CONFIG ?= pipelines/table3.toml
FIG6_CONFIG ?= pipelines/fig6.toml
FIG6_LENGTHS ?= 25 50 100 200
FIG5_ROWS ?= 100
EXP_DIR := build/experiments/$(NAME)
SUBMAKE := $(MAKE) --no-print-directory

.PHONY: table2 table3 fig5 fig6 experiments

# --- Table 2: one pipeline per seed. FORCE: the recursive makes decide what is stale. ---
$(EXP_DIR)/table2.md: FORCE $(BIN)/lrmm-report
	@mkdir -p $(EXP_DIR)
	@for s in $(SEEDS); do $(SUBMAKE) eval NAME=$(NAME)-seed$$s SEED=$$s CONFIG=$(TABLE2_CONFIG); done
	$(BIN)/lrmm-report aggregate --title "Table 2: $(NAME), LRMM and baselines, splits and models of seeds $(SEEDS)" \
		--out $@ $(foreach s,$(SEEDS),build/$(NAME)-seed$(s)/metrics.json)

table2: $(EXP_DIR)/table2.md ## Table 2: LRMM (+F/-U/-O/-M/-V) vs baselines, mean ± std over SEEDS

# --- Model variants on build/$(NAME)'s artifacts: $(call model_variant,NAME,CONFIG,SEED) ---
define model_variant
$(EXP_DIR)/$(1)/model/model.safetensors: $(TRAIN_INPUTS) $(2) $(BIN)/lrmm-train
	$(BIN)/lrmm-train --data $(BUILD) --out $(EXP_DIR)/$(1)/model --config $(2) --seed $(3) --device $(DEVICE) $(TRAIN_FLAGS)
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

# --- Figure 6: text length L, fig6.toml with [data] max_len replaced. ---
$(EXP_DIR)/fig6/L%.toml: $(FIG6_CONFIG)
	@mkdir -p $(dir $@)
	sed -E 's/^max_len *= *[0-9]+/max_len = $*/' $< > $@.tmp && mv $@.tmp $@

$(foreach l,$(FIG6_LENGTHS),$(eval $(call model_variant,L$(l),$(EXP_DIR)/fig6/L$(l).toml,$(SEED))))
FIG6_METRICS := $(foreach l,$(FIG6_LENGTHS),$(EXP_DIR)/L$(l)/metrics.json)

$(EXP_DIR)/fig6.png: $(FIG6_METRICS) $(BIN)/lrmm-report
	$(BIN)/lrmm-report sweep --title "Figure 6: text length, $(NAME)" --x-label "L (tokens per document)" \
		--series lrmm:+F,lrmm:-U,lrmm:-O,baseline:svdpp --out $@ \
		$(foreach l,$(FIG6_LENGTHS),$(l)=$(EXP_DIR)/L$(l)/metrics.json)

fig6: $(EXP_DIR)/fig6.png ## Figure 6: RMSE against text length L (FIG6_LENGTHS), PNG + Markdown table

experiments: table2 table3 fig5 fig6 ## every experiment above on $(NAME)
