#!/usr/bin/env bash
# Retrain the shipped default model from scratch and print its dev figures, time, memory and size.
#   bash benchmarks/train_default.sh [OUT_DIR]      (default OUT_DIR: sentilstm/assets/default)
# Data: $SENTILSTM_DATA or ../shared/data/semeval2017 (train.jsonl, dev.jsonl).
# The figures are also written to benchmarks/out/accuracy.json (see benchmarks/accuracy.py).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-sentilstm/assets/default}"
DATA="${SENTILSTM_DATA:-$(cd .. && pwd)/shared/data/semeval2017}"
start=$(date +%s)
python benchmarks/accuracy.py --config benchmarks/default_config.json --save "$OUT" --quiet
end=$(date +%s)
echo "== wall time of this script (training, evaluation, throughput): $((end - start)) s"
echo "== bundle size: $(du -sh "$OUT" | cut -f1)"
sentilstm evaluate --model "$OUT" --data "$DATA/dev.jsonl"
