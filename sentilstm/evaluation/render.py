"""The :class:`Report` (JSON, text, Markdown, HTML) and its rendering helpers."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sentilstm import metrics as M
from sentilstm.evaluation.plots import PLOTTERS
from sentilstm.fileio import atomic_directory, atomic_write_bytes, atomic_write_text, check_output
from sentilstm.labels import LABELS

__all__ = ["Report", "load_report", "SCHEMA", "SCHEMA_VERSION"]


SCHEMA = "sentilstm-report"


SCHEMA_VERSION = 1


REPORT_JSON, REPORT_MD, REPORT_HTML = "report.json", "report.md", "report.html"


PLOTS = {
    "confusion": "confusion.png",
    "reliability": "reliability.png",
    "confidence": "confidence.png",
}


METRIC_NAMES = M.HEADLINE_NAMES


def _ci(d: dict[str, float], digits: int = 4) -> str:
    return f"{d['value']:.{digits}f} [{d['low']:.{digits}f}, {d['high']:.{digits}f}]"


def shorten(text: str, width: int) -> str:
    one = " ".join(str(text).split())
    return one if len(one) <= width else one[: width - 1] + "…"


def text_table(rows: list[list[str]], right: Sequence[bool], indent: str = "  ") -> list[str]:
    """Aligned plain-text table; ``right[i]`` right-aligns column i."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(c.rjust(w) if right[i] else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
            .rstrip() for r in rows]


def _md_cell(text: Any) -> str:
    return html.escape(" ".join(str(text).split()), quote=False).replace("|", "\\|")


def _md_table(header: list[str], rows: list[list[Any]], align: str) -> list[str]:
    sep = ["---:" if a == "r" else ":---" for a in align]
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |",
            *("| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows)]


# -- the report ------------------------------------------------------------------------------------
class Report:
    """An evaluation report: ``data`` (JSON-able dict) and its renderings.

    ``summary()`` (terminal), ``to_json()``, ``to_markdown()``, ``to_html()`` (self-contained),
    ``plots()`` (PNG bytes), ``save(dir)`` (all of them, atomically), ``_repr_html_`` (notebooks).
    """

    def __init__(self, data: dict[str, Any]) -> None:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"not a sentilstm report (schema {data.get('schema')!r}, expected {SCHEMA!r})")
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"report schema version {data.get('schema_version')!r} is not supported "
                             f"(this sentilstm reads version {SCHEMA_VERSION})")
        self.data = data
        self._plots: dict[str, bytes] | None = None

    # -- access ----------------------------------------------------------------------------------
    @property
    def headline(self) -> dict[str, dict[str, float]]:
        """``{metric: {"value", "low", "high"}}`` for AvgRec, F1PN, macro-F1, accuracy."""
        return self.data["headline"]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __repr__(self) -> str:
        h = self.headline["avg_recall"]
        return (f"<Report: {self.data['n']} texts, AvgRec {h['value']:.4f} "
                f"[{h['low']:.4f}, {h['high']:.4f}], model {self.data['model'].get('path', '?')}>")

    def __str__(self) -> str:
        return self.summary()

    @classmethod
    def from_json(cls, text: str) -> "Report":
        return cls(json.loads(text))

    @classmethod
    def load(cls, path: str | Path) -> "Report":
        """Load ``report.json`` (or a report directory containing it)."""
        path = Path(path)
        if path.is_dir():
            path = path / REPORT_JSON
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: no such report file") from None
        try:
            return cls.from_json(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not valid JSON ({e})") from None
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None

    # -- JSON ------------------------------------------------------------------------------------
    def to_dict(self, examples: bool = True) -> dict[str, Any]:
        return self.data if examples else {k: v for k, v in self.data.items() if k != "examples"}

    def to_json(self, examples: bool = True) -> str:
        """The report as JSON: indented, except the per-example columns (one line each)."""
        text = json.dumps(self.to_dict(examples=False), indent=2, ensure_ascii=False, allow_nan=False)
        if examples and "examples" in self.data:
            cols = ",\n".join(f"    {json.dumps(k)}: "
                              + json.dumps(v, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
                              for k, v in self.data["examples"].items())
            text = text[:-2] + ',\n  "examples": {\n' + cols + "\n  }\n}"
        return text + "\n"

    # -- text ------------------------------------------------------------------------------------
    def _provenance_lines(self) -> list[tuple[str, str]]:
        d = self.data
        m, ds, tm = d["model"], d["dataset"], d["timing"]
        out = []
        if m:
            desc = str(m.get("description", ""))
            if desc.startswith("SentimentClassifier("):
                desc = desc[desc.find("(") + 1: -1].replace(", fitted", "")
            out.append(("model", f"{m.get('path')}  ({desc}; config {str(m.get('config_sha256', ''))[:12]})"))
            tr = m.get("training") or {}
            train = tr.get("train") or {}
            if m.get("created") or train:
                rows = f" on {train['rows']:,} rows" if train.get("rows") else ""
                src = f" of {train['source']}" if train.get("source") else ""
                out.append(("trained", f"{m.get('created') or '?'}{rows}{src}"))
        sha = ds.get("file_sha256") or ds.get("content_sha256") or ""
        out.append(("data", f"{ds.get('path') or ds.get('name') or '(in memory)'}  {d['n']:,} rows  sha256 {sha[:12]}"))
        parts = []
        if tm.get("predict_s") is not None:
            parts.append(f"predict {tm['predict_s']:.2f} s ({tm.get('texts_per_s') or 0:,.0f} texts/s)")
        if tm.get("report_s") is not None:
            parts.append(f"report {tm['report_s']:.2f} s")
        if parts:
            out.append(("time", "   ".join(parts)))
        env = d.get("environment", {})
        out.append(("env", f"sentilstm {env.get('sentilstm', '?')}, numpy {env.get('numpy', '?')}, "
                           f"python {env.get('python', '?')}; {d.get('created', '')}"))
        return out

    def summary(self, width: int = 60) -> str:
        """A compact, aligned plain-text summary for the terminal."""
        d = self.data
        b = d["bootstrap"]
        lines = [f"Evaluation report: {d['n']:,} texts"]
        lines += text_table([[k, v] for k, v in self._provenance_lines()], [False, False])
        lines.append("")
        rows = [["metric", "value", f"{b['confidence']:.0%} CI ({b['n_resamples']} bootstrap resamples)"]]
        for k in M.HEADLINE:
            h = d["headline"][k]
            rows.append([METRIC_NAMES[k], f"{h['value']:.4f}", f"{h['low']:.4f} - {h['high']:.4f}"])
        lines += text_table(rows, [False, True, False])
        lines.append("")
        rows = [["class", "precision", "recall", "f1", "support", "predicted"]]
        for lab in LABELS:
            pc = d["per_class"][lab]
            rows.append([lab, f"{pc['precision']:.4f}", f"{pc['recall']:.4f}", f"{pc['f1']:.4f}",
                         f"{pc['support']:,}", f"{pc['predicted']:,}"])
        lines += text_table(rows, [False] + [True] * 5)
        lines.append("")
        cm = d["confusion"]["counts"]
        rows = [["gold \\ predicted", *LABELS]] + [[lab, *(f"{v:,}" for v in r)] for lab, r in zip(LABELS, cm)]
        lines += text_table(rows, [False, True, True, True])
        c = d["calibration"]
        lines += ["", f"  calibration  ECE {c['ece']:.4f} ({c['n_bins']} bins)  MCE {c['mce']:.4f}  "
                      f"Brier {c['brier']:.4f}  log-loss {c['log_loss']:.4f}",
                  f"               mean confidence {c['mean_confidence']:.4f} vs accuracy {c['accuracy']:.4f}", ""]
        rows = [["slice", "group", "n", "AvgRec", "95% CI", "accuracy", "ECE"]]
        for s in d["slices"]:
            for i, g in enumerate(s["groups"]):
                h = g["headline"]["avg_recall"]
                rows.append([s["name"] if i == 0 else "", shorten(g["value"], 28), f"{g['n']:,}", f"{h['value']:.4f}",
                             f"{h['low']:.3f} - {h['high']:.3f}", f"{g['headline']['accuracy']['value']:.4f}",
                             f"{g['ece']:.3f}"])
        lines += text_table(rows, [False, False, True, True, False, True, True])
        lines.append("")
        rows = [["gold -> predicted", "count", "top conf.", "most confident error"]]
        for e in d["errors"]:
            top = e["examples"][0] if e["examples"] else None
            rows.append([f"{e['true']} -> {e['predicted']}", f"{e['count']:,}",
                         f"{top['confidence']:.3f}" if top else "", shorten(top["text"], width) if top else ""])
        lines += text_table(rows, [False, True, True, False])
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The report as Markdown; plots are linked as the PNG files written next to it."""
        d = self.data
        b = d["bootstrap"]
        out = [f"# Evaluation report: {d['n']:,} texts", ""]
        out += [f"- **{k}**: {_md_cell(v)}" for k, v in self._provenance_lines()]
        out += ["", "## Headline", "",
                *_md_table(["metric", "value", f"{b['confidence']:.0%} CI"],
                           [[METRIC_NAMES[k], f"{d['headline'][k]['value']:.4f}",
                             f"{d['headline'][k]['low']:.4f} – {d['headline'][k]['high']:.4f}"] for k in M.HEADLINE],
                           "lrr"),
                "", f"Percentile bootstrap, {b['n_resamples']} resamples, seed {b['seed']}.", "",
                "## Per class", "",
                *_md_table(["class", "precision", "recall", "F1", "support", "predicted", "gold %", "predicted %"],
                           [[lab, f"{pc['precision']:.4f}", f"{pc['recall']:.4f}", f"{pc['f1']:.4f}", pc["support"],
                             pc["predicted"], f"{pc['support'] / d['n']:.1%}", f"{pc['predicted'] / d['n']:.1%}"]
                            for lab, pc in d["per_class"].items()], "lrrrrrrr"),
                "", "## Confusion matrix", "", "Rows are gold labels, columns predictions (count, row %).", "",
                *_md_table(["gold \\ predicted", *LABELS],
                           [[lab, *(f"{c} ({r:.0%})" for c, r in zip(cr, rr))] for lab, cr, rr in
                            zip(LABELS, d["confusion"]["counts"], d["confusion"]["row_normalised"])], "lrrr"),
                "", f"![confusion matrix]({PLOTS['confusion']})", ""]
        c = d["calibration"]
        out += ["## Calibration", "",
                f"ECE **{c['ece']:.4f}** ({c['n_bins']} equal-width bins), MCE {c['mce']:.4f}, Brier {c['brier']:.4f}, "
                f"log-loss {c['log_loss']:.4f}; mean confidence {c['mean_confidence']:.4f} vs accuracy "
                f"{c['accuracy']:.4f}.", "",
                f"![reliability diagram]({PLOTS['reliability']})", "",
                f"![confidence histogram]({PLOTS['confidence']})", "", "## Slices", ""]
        for s in d["slices"]:
            out += [f"### {s['name']}", "", f"By {s['description']}.", "",
                    *_md_table(["group", "n", "AvgRec (95% CI)", "F1PN", "macro-F1", "accuracy", "ECE"],
                               [[g["value"], g["n"], _ci(g["headline"]["avg_recall"]),
                                 f"{g['headline']['f1_pn']['value']:.4f}", f"{g['headline']['macro_f1']['value']:.4f}",
                                 f"{g['headline']['accuracy']['value']:.4f}", f"{g['ece']:.4f}"]
                                for g in s["groups"]], "lrrrrrr"), ""]
        out += ["## Most confident errors", ""]
        for e in d["errors"]:
            out += [f"### gold {e['true']}, predicted {e['predicted']} ({e['count']:,})", ""]
            if e["examples"]:
                out += [*_md_table(["#", "conf.", *(f"p({lab[:3]})" for lab in LABELS), "text"],
                                   [[x.get("id", x["index"]), f"{x['confidence']:.3f}",
                                     *(f"{x['probabilities'][lab]:.3f}" for lab in LABELS), x["text"]]
                                    for x in e["examples"]], "lrrrrl"), ""]
        out += ["## Provenance", "", "```json",
                json.dumps({k: d[k] for k in ("model", "dataset", "environment", "timing", "bootstrap")},
                           indent=2, ensure_ascii=False), "```", ""]
        return "\n".join(out)

    # -- HTML ------------------------------------------------------------------------------------
    def plots(self, renderer: Any = None) -> dict[str, bytes]:
        """PNG bytes of each plot, by file name (rendered once, then cached).

        ``renderer``: a :class:`~sentilstm.evaluation.plot_worker.PlotRenderer` to draw them in (same bytes)."""
        if self._plots is None:
            if renderer is not None:
                self._plots = renderer.render(self.data)
            else:
                self._plots = {PLOTS[k]: fn(self.data) for k, fn in PLOTTERS.items()}
        return self._plots

    def _html_fragment(self) -> str:
        d = self.data
        e = html.escape
        pngs = self.plots()

        def img(key: str, alt: str) -> str:
            return (f'<img alt="{e(alt)}" src="data:image/png;base64,'
                    f'{base64.b64encode(pngs[PLOTS[key]]).decode("ascii")}">')

        def table(header: list[str], rows: list[list[Any]], left: int = 1, cls: str = "") -> str:
            th = "".join(f'<th{" class=l" if i < left else ""}>{e(str(h))}</th>' for i, h in enumerate(header))
            body = "".join("<tr>" + "".join(f'<td{" class=l" if i < left else ""}>{e(str(c))}</td>'
                                             for i, c in enumerate(r)) + "</tr>" for r in rows)
            attr = f" class={cls}" if cls else ""
            return f"<div class=tw><table{attr}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>"

        b = d["bootstrap"]
        parts = [f"<h1>Evaluation report <small>{d['n']:,} texts</small></h1>", "<dl>"]
        parts += [f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in self._provenance_lines()]
        parts.append("</dl><div class=cards>")
        for k in M.HEADLINE:
            h = d["headline"][k]
            parts.append(f"<div class=card><div class=m>{e(METRIC_NAMES[k])}</div><div class=v>{h['value']:.4f}</div>"
                         f"<div class=ci>{b['confidence']:.0%} CI {h['low']:.4f} – {h['high']:.4f}</div></div>")
        parts.append(f"</div><p class=note>Percentile bootstrap, {b['n_resamples']} resamples, seed {b['seed']}.</p>")
        parts.append("<h2>Per class</h2>")
        parts.append(table(["class", "precision", "recall", "F1", "support", "predicted", "gold %", "pred. %"],
                           [[lab, f"{pc['precision']:.4f}", f"{pc['recall']:.4f}", f"{pc['f1']:.4f}",
                             f"{pc['support']:,}", f"{pc['predicted']:,}", f"{pc['support'] / d['n']:.1%}",
                             f"{pc['predicted'] / d['n']:.1%}"] for lab, pc in d["per_class"].items()]))
        parts.append("<h2>Confusion matrix</h2><p class=note>Rows are gold labels, columns predictions.</p>")
        parts.append(table(["gold \\ predicted", *LABELS],
                           [[lab, *(f"{c:,} ({r:.0%})" for c, r in zip(cr, rr))] for lab, cr, rr in
                            zip(LABELS, d["confusion"]["counts"], d["confusion"]["row_normalised"])]))
        parts.append(img("confusion", "confusion matrix heat maps"))
        c = d["calibration"]
        parts.append(f"<h2>Calibration</h2><p>ECE <b>{c['ece']:.4f}</b> ({c['n_bins']} equal-width bins), "
                     f"MCE {c['mce']:.4f}, Brier {c['brier']:.4f}, log-loss {c['log_loss']:.4f}; mean confidence "
                     f"{c['mean_confidence']:.4f} vs accuracy {c['accuracy']:.4f}.</p>")
        parts.append(f'<div class=plots>{img("reliability", "reliability diagram")}'
                     f'{img("confidence", "confidence histogram")}</div>')
        parts.append("<h2>Slices</h2>")
        for s in d["slices"]:
            parts.append(f"<h3>{e(s['name'])}</h3><p class=note>By {e(s['description'])}.</p>")
            parts.append(table(["group", "n", "AvgRec (95% CI)", "F1PN", "macro-F1", "accuracy", "ECE"],
                               [[g["value"], f"{g['n']:,}", _ci(g["headline"]["avg_recall"]),
                                 f"{g['headline']['f1_pn']['value']:.4f}",
                                 f"{g['headline']['macro_f1']['value']:.4f}",
                                 f"{g['headline']['accuracy']['value']:.4f}", f"{g['ece']:.4f}"]
                                for g in s["groups"]]))
        parts.append("<h2>Most confident errors</h2>")
        biggest = max(x["count"] for x in d["errors"])
        for er in d["errors"]:
            parts.append(f"<details{' open' if er['examples'] and er['count'] == biggest else ''}>"
                         f"<summary>gold <b>{e(er['true'])}</b>, predicted <b>{e(er['predicted'])}</b>: "
                         f"{er['count']:,}</summary>")
            if er["examples"]:
                parts.append(table(["text", "conf.", *(f"p({lab[:3]})" for lab in LABELS), "#"],
                                   [[x["text"], f"{x['confidence']:.3f}",
                                     *(f"{x['probabilities'][lab]:.3f}" for lab in LABELS), x.get("id", x["index"])]
                                    for x in er["examples"]], cls="err"))
            parts.append("</details>")
        prov = json.dumps({k: d[k] for k in ("model", "dataset", "environment", "timing", "bootstrap")},
                          indent=2, ensure_ascii=False)
        parts.append(f"<h2>Provenance</h2><details><summary>model, data, environment, timing</summary>"
                     f"<pre>{e(prov)}</pre></details>")
        return f"<style>{_CSS}</style><div class=sentilstm-report>" + "\n".join(parts) + "</div>"

    def to_html(self) -> str:
        """A self-contained HTML page: inline CSS, plots embedded as base64 PNG, no external assets."""
        return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>sentilstm evaluation report</title></head><body>\n{self._html_fragment()}\n</body></html>\n")

    def _repr_html_(self) -> str:
        return self._html_fragment()

    # -- saving ----------------------------------------------------------------------------------
    def save(self, path: str | Path, renderer: Any = None, overwrite: bool = False, inputs: Any = ()) -> Path:
        """Write report.json, report.md, report.html and the PNGs to directory ``path``, atomically.

        The files are written to a temporary sibling directory that then replaces ``path`` in one
        step, so a crash leaves the previous report intact.  An existing ``path`` must be empty or
        a sentilstm report (so a typo cannot replace an unrelated directory), unless ``overwrite``;
        never a directory holding one of ``inputs``.  ``renderer``: see :meth:`plots`.
        """
        path = Path(path)
        check_output(path, "report", overwrite=overwrite, inputs=inputs)
        pngs = self.plots(renderer)
        md, page, doc = self.to_markdown(), self.to_html(), self.to_json()
        with atomic_directory(path, "report", overwrite=overwrite, inputs=inputs) as tmp:
            for name, data in pngs.items():
                atomic_write_bytes(tmp / name, data)
            atomic_write_text(tmp / REPORT_MD, md)
            atomic_write_text(tmp / REPORT_HTML, page)
            atomic_write_text(tmp / REPORT_JSON, doc)
        return path


_CSS = """
.sentilstm-report{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.45;color:#1d1d1f;
max-width:62rem;margin:0 auto;padding:.75rem;box-sizing:border-box}
.sentilstm-report h1{font-size:1.5rem;margin:.2rem 0 .6rem}.sentilstm-report h1 small{font-weight:400;color:#666}
.sentilstm-report h2{font-size:1.2rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #ddd}
.sentilstm-report h3{font-size:1rem;margin:1rem 0 .3rem}
.sentilstm-report dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;font-size:.85rem;margin:0}
.sentilstm-report dt{color:#666}.sentilstm-report dd{margin:0;overflow-wrap:anywhere}
.sentilstm-report .cards{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.8rem}
.sentilstm-report .card{flex:1 1 9rem;border:1px solid #ddd;border-radius:.5rem;padding:.5rem .7rem}
.sentilstm-report .m{color:#666;font-size:.85rem}.sentilstm-report .v{font-size:1.5rem;font-weight:600}
.sentilstm-report .ci,.sentilstm-report .note{color:#666;font-size:.8rem}
.sentilstm-report .tw{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.3rem 0}
.sentilstm-report table{border-collapse:collapse;font-size:.85rem;font-variant-numeric:tabular-nums}
.sentilstm-report th,.sentilstm-report td{padding:.25rem .5rem;border-bottom:1px solid #e5e5e5;text-align:right;
white-space:nowrap;vertical-align:top}
.sentilstm-report .l{text-align:left}
.sentilstm-report table.err td.l{white-space:normal;overflow-wrap:anywhere;min-width:14rem;max-width:40rem}
.sentilstm-report img{max-width:100%;height:auto;display:block;margin:.5rem 0}
.sentilstm-report .plots{display:flex;flex-wrap:wrap;gap:.5rem}.sentilstm-report .plots img{flex:1 1 18rem;min-width:0}
.sentilstm-report details{margin:.3rem 0}.sentilstm-report summary{cursor:pointer}
.sentilstm-report pre{font-size:.75rem;overflow-x:auto;background:#f6f6f6;padding:.5rem}
""".strip()


def load_report(path: str | Path) -> Report:
    """Load a report from ``report.json`` or a report directory."""
    return Report.load(path)
