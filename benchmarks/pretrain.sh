#!/usr/bin/env bash
# Pretrain the shipped encoder (sentilstm/assets/encoder) and print its time and size.
#   bash benchmarks/pretrain.sh [OUT_DIR] [CONFIG]  (defaults: sentilstm/assets/encoder, benchmarks/pretrain_config.json)
# Data: $SENTILSTM_TWEETS or ../shared/data/tweets (sentiment140.jsonl, emoji.jsonl, unlabelled.jsonl; read
# its README for their terms) and the SemEval training texts ($SENTILSTM_DATA or ../shared/data/semeval2017,
# texts only: vocabulary). novak2015.jsonl and the SemEval dev set are never read.
# Then `bash benchmarks/train_default.sh` fine-tunes the shipped default model from it.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-sentilstm/assets/encoder}"
CONFIG="${2:-benchmarks/pretrain_config.json}"
TWEETS="${SENTILSTM_TWEETS:-../shared/data/tweets}"  # relative: the bundle records these paths
DATA="${SENTILSTM_DATA:-../shared/data/semeval2017}"
start=$(date +%s)
sentilstm pretrain --config "$CONFIG" --quiet --out "$OUT" \
  --task "$TWEETS/sentiment140.jsonl:label" --task "$TWEETS/emoji.jsonl:emoji" \
  --texts "$TWEETS/unlabelled.jsonl" --texts "$DATA/train.jsonl"
end=$(date +%s)
echo "== wall time: $((end - start)) s"
echo "== encoder bundle size: $(du -sh "$OUT" | cut -f1)"
