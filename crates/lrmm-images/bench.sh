#!/usr/bin/env bash
# Images/s of lrmm's candle VGG16 to fc6 beside torchvision's on the same machine, random 224×224
# input, f32, one warm-up pass then STEPS timed passes; the two alternate per batch size so they
# see the same machine load. cpu s/image (user + system time per image) is the figure a shared
# machine cannot distort; images/s is what you get under the load of the moment.
# Called by `make bench-images`: bench.sh BINARY DEVICE STEPS BATCH...
set -euo pipefail
bin=$1 device=$2 steps=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$2"; }
row() { printf '%-36s %-6s %6s %10s %14s\n' "$@"; }

have_torch=$(python3 -c 'import torch, torchvision; print(1)' 2>/dev/null || true)
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
row implementation device batch images/s "cpu s/image"
for b in "$@"; do
  line=$("$bin" bench --device "$device" --batches "$b" --steps "$steps" 2>/dev/null)
  row "$(field impl "$line")" "$device" "$b" "$(field images_per_s "$line")" "$(field cpu_s_per_image "$line")"
  if [[ -n $have_torch ]]; then
    tline=$(python3 "$here/bench_torch.py" --device "$device" --batch "$b" --steps "$steps" 2>/dev/null)
    row "$(field impl "$tline")" "$device" "$b" "$(field images_per_s "$tline")" "$(field cpu_s_per_image "$tline")"
  else
    row "torchvision (not importable)" "$device" "$b" - -
  fi
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
