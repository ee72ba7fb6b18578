"""Batch scoring: the scorer (batch), files (files), Ray Data (ray), Spark (spark), and
exporting a model for serving elsewhere (export)."""

from sentilstm.scoring.batch import BatchScorer, EXTRAS, OUTPUT_COLUMNS, PROB_COLUMNS, read_batches
from sentilstm.scoring.files import ENGINES, score_file
from sentilstm.scoring.ray import score_ray
from sentilstm.scoring.spark import score_spark

__all__ = [
    "BatchScorer", "ENGINES", "EXTRAS", "OUTPUT_COLUMNS", "PROB_COLUMNS", "read_batches",
    "score_file", "score_ray", "score_spark",
]
