# Ingestion: review (+ metadata) files → interactions/users/items/reviews Parquet.
#   INGEST_FLAGS  extra lrmm-ingest flags, e.g. "--k-core 5" or "--split-mode cold-items"

INGEST_FLAGS ?=
INGEST_OUT := $(BUILD)/interactions.parquet $(BUILD)/users.parquet $(BUILD)/items.parquet $(BUILD)/reviews.parquet
INGEST_ARGS := --reviews $(REVIEWS) $(if $(META),--meta $(META)) --seed $(SEED) $(INGEST_FLAGS)

$(BIN)/lrmm-ingest: $(RUST_SOURCES)
	$(CARGO) build --release -p lrmm-ingest

$(BUILD)/.ingest.args: FORCE
	$(call remember,$@,$(INGEST_ARGS))

$(INGEST_OUT) &: $(REVIEWS) $(META) $(BIN)/lrmm-ingest $(BUILD)/.ingest.args
	$(BIN)/lrmm-ingest $(INGEST_ARGS) --out $(BUILD)

.PHONY: ingest smoke download bench-ingest
ingest: $(INGEST_OUT) ## ingest REVIEWS [META] into build/$(NAME)/

ALL_TARGETS += $(INGEST_OUT)

# A CI-sized run of every stage on a sample of a real category:
#   make smoke REVIEWS=path/reviews_Musical_Instruments_5.json.gz [META=…] [SMOKE_USERS=300]
SMOKE_USERS ?= 300
smoke: ## every stage on a seeded sample of SMOKE_USERS users of REVIEWS
	@test -n "$(filter-out $(GENERATED)/%,$(REVIEWS))" || { echo "make smoke needs REVIEWS=<a real review file>"; exit 2; }
	$(MAKE) all NAME=smoke-$(notdir $(basename $(basename $(REVIEWS)))) REVIEWS=$(REVIEWS) META="$(META)" IMAGES="$(IMAGES)" \
		INGEST_FLAGS="--sample-users $(SMOKE_USERS) $(INGEST_FLAGS)" CONFIG=pipelines/default.toml

# Real data for users with a network (never needed by tests):
#   make download CATEGORY=Musical_Instruments [RELEASE=2014|2018]
CATEGORY ?= Musical_Instruments
RELEASE ?= 2014
RAW := data/raw/amazon-$(RELEASE)/$(CATEGORY)
download: ## fetch CATEGORY's 5-core reviews and metadata into data/raw/
	@mkdir -p $(RAW)
ifeq ($(RELEASE),2014)
	curl -fL --retry 3 -o $(RAW)/reviews_$(CATEGORY)_5.json.gz.part http://snap.stanford.edu/data/amazon/productGraph/categoryFiles/reviews_$(CATEGORY)_5.json.gz
	curl -fL --retry 3 -o $(RAW)/meta_$(CATEGORY).json.gz.part http://snap.stanford.edu/data/amazon/productGraph/categoryFiles/meta_$(CATEGORY).json.gz
	mv $(RAW)/reviews_$(CATEGORY)_5.json.gz.part $(RAW)/reviews_$(CATEGORY)_5.json.gz
	mv $(RAW)/meta_$(CATEGORY).json.gz.part $(RAW)/meta_$(CATEGORY).json.gz
else
	curl -fL --retry 3 -o $(RAW)/$(CATEGORY)_5.json.gz.part https://datarepo.eng.ucsd.edu/mcauley_group/data/amazon_v2/categoryFilesSmall/$(CATEGORY)_5.json.gz
	curl -fL --retry 3 -o $(RAW)/meta_$(CATEGORY).json.gz.part https://datarepo.eng.ucsd.edu/mcauley_group/data/amazon_v2/metaFiles2/meta_$(CATEGORY).json.gz
	mv $(RAW)/$(CATEGORY)_5.json.gz.part $(RAW)/$(CATEGORY)_5.json.gz
	mv $(RAW)/meta_$(CATEGORY).json.gz.part $(RAW)/meta_$(CATEGORY).json.gz
endif
	@echo "now: make all NAME=$(CATEGORY) REVIEWS=$$(ls $(RAW)/*_5.json.gz) META=$(RAW)/meta_$(CATEGORY).json.gz"

# Ingest benchmark: the real Musical Instruments reviews copied 160 times with suffixed ids
# (1.64M reviews, 1.2 GB), lrmm-ingest beside Python polars when it is importable.
bench-ingest: $(BIN)/lrmm-ingest ## ingest time and peak memory on a 1.64M-review file (prints a table)
	bash scripts/bench-ingest.sh
