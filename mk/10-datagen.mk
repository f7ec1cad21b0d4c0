# The generated default dataset (docs/datagen.md). It always uses seed 1: the pipeline's SEED
# is for splits and training, so `make all SEED=2` reruns those on the same data.
#
# The generator leaves files whose bytes would not change untouched, and a stamp records when it
# last ran: a rebuilt binary reruns it (a second or so), but the stages downstream rerun only if
# the data really changed.

DATAGEN_BIN := $(BIN)/lrmm-datagen
DATAGEN_STAMP := $(GENERATED)/.datagen.stamp
DATAGEN_OUTPUTS := $(GENERATED)/reviews_Synthetic_5.json.gz $(GENERATED)/meta_Synthetic.json.gz \
	$(GENERATED)/images \
	$(GENERATED)/planted.json
DATAGEN_SOURCES := Cargo.toml $(wildcard Cargo.lock) \
	$(shell find crates/lrmm-datagen crates/lrmm-core -name '*.rs' -o -name Cargo.toml 2>/dev/null)

.PHONY: datagen
datagen: $(DATAGEN_OUTPUTS) ## generate the default dataset (seed 1) into data/generated/default

$(DATAGEN_STAMP): $(DATAGEN_SOURCES)
	$(CARGO) build --release -p lrmm-datagen
	$(DATAGEN_BIN) --out $(GENERATED) --seed 1
	@touch $@

# Deleted by hand after the stamp was made: regenerate.
$(DATAGEN_OUTPUTS): $(DATAGEN_STAMP)
	@test -e $@ || $(DATAGEN_BIN) --out $(GENERATED) --seed 1

# `make all` with the default REVIEWS needs the dataset even before any stage reads it.
ifeq ($(REVIEWS),$(GENERATED)/reviews_Synthetic_5.json.gz)
ALL_TARGETS += $(DATAGEN_OUTPUTS)
endif
