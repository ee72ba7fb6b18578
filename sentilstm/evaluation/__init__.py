"""Evaluation reports: build (report), the Report and its text/Markdown/HTML renderings
(render), plots, and comparing two reports (compare)."""

from sentilstm.evaluation.compare import compare, format_comparison
from sentilstm.evaluation.plots import plot_confidence, plot_confusion, plot_reliability
from sentilstm.evaluation.render import (
    PLOTS, REPORT_HTML, REPORT_JSON, REPORT_MD, Report, SCHEMA, SCHEMA_VERSION, load_report,
)
from sentilstm.evaluation.report import build_report, evaluate

__all__ = [
    "PLOTS", "REPORT_HTML", "REPORT_JSON", "REPORT_MD", "Report", "SCHEMA", "SCHEMA_VERSION",
    "build_report", "compare", "evaluate", "format_comparison", "load_report", "plot_confidence",
    "plot_confusion", "plot_reliability",
]
