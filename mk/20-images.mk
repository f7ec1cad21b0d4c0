# Images: items + a folder of images named by asin → image_features.safetensors (one 4096-d VGG16
# fc6 feature per item with an image) and image_status.parquet (ok / missing / corrupt), docs/images.md.
#   VGG_WEIGHTS       torchvision VGG16 state_dict as safetensors   (default: seeded random init, logged)
#   MCAULEY_FEATURES  McAuley's image_features_<Category>.b: import it instead of running the network
#   IMAGES_FLAGS      extra lrmm-images flags, e.g. "--batch-size 64", "--layer fc7", "--device cuda"

MCAULEY_FEATURES ?=
IMAGES_FLAGS ?=
IMAGES_OUT := $(BUILD)/image_features.safetensors $(BUILD)/image_status.parquet
ifneq ($(MCAULEY_FEATURES),)
IMAGES_ARGS := --mcauley $(MCAULEY_FEATURES) $(IMAGES_FLAGS)
IMAGES_INPUTS := $(MCAULEY_FEATURES)
else
# No IMAGES (a real category without photos): an empty folder, so every item's image is
# "missing" — a missing modality, which the model handles — and the DAG stays the same.
IMAGES_DIR := $(if $(IMAGES),$(IMAGES),$(BUILD)/no-images)
IMAGES_ARGS := --images $(IMAGES_DIR) $(if $(VGG_WEIGHTS),--weights $(VGG_WEIGHTS)) --seed $(SEED) $(IMAGES_FLAGS)
# The folder (its mtime changes when files come or go) and every file in it; a generated folder
# appears together with $(REVIEWS), which items.parquet already waits for.
IMAGES_INPUTS := $(wildcard $(IMAGES) $(IMAGES)/*) $(VGG_WEIGHTS)
endif

$(BIN)/lrmm-images: $(RUST_SOURCES)
	$(CARGO) build --release -p lrmm-images

$(BUILD)/.images.args: FORCE
	$(call remember,$@,$(IMAGES_ARGS))

# The features file is written last, so it is the target; the status table comes with it.
$(BUILD)/image_features.safetensors: $(BUILD)/items.parquet $(IMAGES_INPUTS) $(BIN)/lrmm-images $(BUILD)/.images.args
	$(if $(IMAGES),,@mkdir -p $(BUILD)/no-images)
	$(BIN)/lrmm-images --data $(BUILD) $(IMAGES_ARGS)
$(BUILD)/image_status.parquet: $(BUILD)/image_features.safetensors

.PHONY: images bench-images
images: $(IMAGES_OUT) ## image features of build/$(NAME)/ from IMAGES [VGG_WEIGHTS] (or MCAULEY_FEATURES)

ALL_TARGETS += $(BUILD)/image_features.safetensors

# Throughput of our VGG16 to fc6 beside torchvision's, same machine, random 224×224 input.
BENCH_IMAGES_BATCHES ?= 32 128
BENCH_IMAGES_STEPS ?= 2
BENCH_IMAGES_DEVICE ?= cpu
bench-images: $(BIN)/lrmm-images ## images/s, VGG16 to fc6 at batch 32 and 128, lrmm beside torchvision (prints a table)
	@bash crates/lrmm-images/bench.sh "$(BIN)/lrmm-images" "$(BENCH_IMAGES_DEVICE)" "$(BENCH_IMAGES_STEPS)" $(BENCH_IMAGES_BATCHES)
