#!/usr/bin/env bash
# The GPU check's entry point, run from the folder scripts/gpu-check.sh packs (build/gpu-check/
# by default): unpacks the compressed binaries into a temporary folder, then runs run_check.py,
# which writes OUT/gpu-check.json and OUT/logs/ within the manifest's deadline (8 minutes on a GPU).
# On a GPU machine the run goes through run-on-gpu.sh, which puts the CUDA 13 libraries of the
# PyTorch venv on LD_LIBRARY_PATH; a --dry-run pack (device cpu) runs directly.
#
#   bash build/gpu-check/run-check.sh [--out DIR] [--deadline SECONDS]   (DIR: $OUT, else PACK/out)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/out}
extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --deadline) extra+=(--deadline "$2"); shift 2 ;;
    *) echo "run-check: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=$(mktemp -d "${TMPDIR:-/tmp}/lrmm-gpu-check.XXXXXX")
trap 'rm -rf "$bin"' EXIT
start=$SECONDS
for f in "$here"/bin/*.xz; do
  name=$(basename "$f" .xz)
  if command -v xz >/dev/null; then
    xz -dc -T0 "$f" > "$bin/$name"
  else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$f" "$bin/$name"
  fi
  chmod +x "$bin/$name"
done
echo "run-check: unpacked $(ls "$bin" | wc -l) binaries in $((SECONDS - start)) s" >&2
device=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["device"])' "$here/manifest.json")
wrap=()
if [ "$device" != cpu ]; then
  wrap=(bash "$here/run-on-gpu.sh")
fi
"${wrap[@]}" python3 "$here/run_check.py" --pack "$here" --bin "$bin" --out "$out" "${extra[@]}"
