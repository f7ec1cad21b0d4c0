# The CUDA build (../shared/gpu/README.md): the stages that run on a GPU (images, train, eval,
# predict) with `--features cuda` (candle's CUDA backend; the VGG's convolutions on cuDNN), built
# on a machine without a GPU, in a target directory of its own so the default CPU-only build is
# untouched. The other stages have no GPU work and no cuda feature. The toolchain (CUDA 13.0 from
# PyPI wheels and a stub libcuda to link against) is made once under ~/.cache/lrmm-cuda by
# ../shared/gpu/setup-cuda-toolchain.sh; the binaries need the CUDA 13 libraries to start
# (../shared/gpu/run-on-gpu.sh sets them up on the GPU machine).
#   CUDA_TARGET_DIR   where the CUDA build goes (default ~/.cache/lrmm/target-cuda)
CUDA_TARGET_DIR ?= $(HOME)/.cache/lrmm/target-cuda
CUDA_BIN := $(CUDA_TARGET_DIR)/release
CUDA_PACKAGES := lrmm-images lrmm-model lrmm-eval lrmm-predict
CUDA_FEATURES := lrmm-images/cudnn,lrmm-model/cuda,lrmm-eval/cuda,lrmm-predict/cuda
CUDA_TOOLCHAIN := $(SHARED)/gpu/setup-cuda-toolchain.sh

.PHONY: build-cuda
build-cuda: ## the GPU stages' binaries with --features cuda (+ cuDNN) in CUDA_TARGET_DIR; needs no GPU
	@test -f $(CUDA_TOOLCHAIN) || { echo "build-cuda: $(CUDA_TOOLCHAIN) not found (see ../shared/gpu/README.md)" >&2; exit 1; }
	$(CARGO) fetch --quiet
	eval "$$(CUDNN=1 bash $(CUDA_TOOLCHAIN))" && \
		CARGO_TARGET_DIR=$(CUDA_TARGET_DIR) $(CARGO) build --release --bins \
		$(addprefix -p ,$(CUDA_PACKAGES)) --features $(CUDA_FEATURES)
	@ls -l $(addprefix $(CUDA_BIN)/,lrmm-images lrmm-train lrmm-eval lrmm-predict lrmm-bench-train lrmm-lstm-parity)

# One prepared check for a GPU machine (scripts/gpu-check.sh): build-cuda, the default pipeline
# on the CPU for reference, and a pack in build/gpu-check/ (under 64 MiB) whose run-check.sh writes
# $OUT/gpu-check.json within 8 minutes: LSTM and VGG parity CUDA vs CPU, training and VGG speed
# beside PyTorch and torchvision, the pipeline's RMSE on CUDA beside the CPU's. It prints the
# device call. test-gpu-check runs the same steps on the CPU (--dry-run) and checks the JSON.
.PHONY: gpu-check test-gpu-check
gpu-check: ## build-cuda, then pack ONE GPU-machine check into build/gpu-check/ and print its command
	bash scripts/gpu-check.sh

test-gpu-check: $(BIN)/.stamp ## scripts/gpu-check.sh --dry-run on the CPU, checking the JSON it writes (run by test-experiments)
	bash scripts/test-gpu-check.sh
