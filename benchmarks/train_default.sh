#!/usr/bin/env bash
# Retrain the shipped default model from scratch and print its dev figures, time and size.
#   bash benchmarks/train_default.sh [OUT_DIR]      (default OUT_DIR: sentilstm/assets/default)
# Data: $SENTILSTM_DATA or ../shared/data/semeval2017 (train.jsonl, dev.jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${SENTILSTM_DATA:-$(cd .. && pwd)/shared/data/semeval2017}"
OUT="${1:-sentilstm/assets/default}"
start=$(date +%s)
sentilstm train --train "$DATA/train.jsonl" --dev "$DATA/dev.jsonl" \
  --config benchmarks/default_config.json --out "$OUT" --quiet
end=$(date +%s)
echo "== training wall time: $((end - start)) s (2-core CPU)"
echo "== bundle size: $(du -sh "$OUT" | cut -f1)"
sentilstm evaluate --model "$OUT" --data "$DATA/dev.jsonl"
