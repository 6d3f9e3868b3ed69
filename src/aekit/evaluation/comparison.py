"""The evaluation report: the model beside PCA as a table for people and a dict for JSON."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Order of rows in the table; metrics where lower is better are shown as a ratio, the others
# (PSNR, probe accuracy) as a difference, since a ratio of dB or of accuracies reads badly.
_METRIC_ORDER = (
    "mse",
    "mae",
    "psnr",
    "bce",
    "probe_accuracy",
    "denoise_psnr",
    "near_zero_codes",
    "sample_fd",
    "sample_precision",
    "sample_recall",
    "sample_density",
    "sample_coverage",
)
_LOWER_IS_BETTER = {"mse", "mae", "bce", "sample_fd"}
_FRACTIONS = {"probe_accuracy", "sample_precision", "sample_recall", "sample_coverage"}


@dataclass
class Comparison:
    """The model beside PCA on the same held-out data, as printed by ``aekit evaluate``.

    Attributes
    ----------
    rows : dict
        ``{"aekit": metrics, "pca": metrics}``, each from ``reconstruction_metrics`` plus
        ``"probe_accuracy"`` when labels were given.
    n_test : int
        Number of test samples scored.
    n_train : int
        Number of training samples PCA (and the probe) were fitted on.
    code_size : int
        Code size k of both the model and PCA.
    dataset : str
        Name shown in the header.
    notes : list of str
        Lines printed under the table.
    space : str
        The units the reconstruction metrics are in: ``"data units"`` (the data's own, for
        images and one-unit tables) or ``"standardised units"`` (mixed tables: each column
        divided by its training std; see ``evaluation.evaluation_space``).
    detection : dict
        With labelled outliers, ``{detector: {"auroc", "average_precision"}}`` for "aekit",
        "aekit_both", "pca" and "isolation_forest" (``aekit.evaluation.detection``).
    """

    rows: dict[str, dict[str, float]]
    n_test: int
    n_train: int
    code_size: int
    dataset: str
    notes: list[str] = field(default_factory=list)
    space: str = "data units"
    detection: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready copy; non-finite floats become the strings ``"inf"``, ``"-inf"``, ``"nan"``.

        Strings rather than ``None`` so that a perfect reconstruction (PSNR ``inf``) stays
        distinguishable from a missing value; ``float("inf")`` reads them back.
        """
        return {
            "dataset": self.dataset,
            "n_train": int(self.n_train),
            "n_test": int(self.n_test),
            "code_size": int(self.code_size),
            "space": self.space,
            "rows": {
                name: {key: _json_float(value) for key, value in metrics.items()}
                for name, metrics in self.rows.items()
            },
            "notes": list(self.notes),
            **({"detection": self.detection} if self.detection else {}),
        }

    @classmethod
    def from_dict(cls, saved: dict) -> Comparison:
        """The comparison ``to_dict`` gave (as read back from JSON: "inf", "nan" as strings)."""
        return cls(
            rows={
                name: {key: float(value) for key, value in metrics.items()}
                for name, metrics in saved["rows"].items()
            },
            n_test=saved["n_test"],
            n_train=saved["n_train"],
            code_size=saved["code_size"],
            dataset=saved["dataset"],
            notes=list(saved.get("notes", [])),
            space=saved.get("space", "data units"),
            detection=saved.get("detection", {}),
        )

    def metric_rows(self) -> list[tuple[str, float | None, float | None, str]]:
        """(metric, aekit's value, PCA's value, aekit vs PCA in words), in the table's order."""
        model, pca = self.rows.get("aekit", {}), self.rows.get("pca", {})
        present = set(model) | set(pca)
        metrics = [m for m in _METRIC_ORDER if m in present]
        metrics += sorted(present - set(_METRIC_ORDER))
        return [
            (
                name,
                model.get(name),
                pca.get(name),
                _format_versus(name, model.get(name), pca.get(name)),
            )
            for name in metrics
        ]

    def to_table(self) -> str:
        """Plain-text table: one row per metric, columns aekit | PCA-k | ratio or difference."""
        header = ["metric", "aekit", f"PCA-{self.code_size}", "aekit vs PCA"]
        body = [
            [name, _format_value(name, ours), _format_value(name, theirs), versus]
            for name, ours, theirs, versus in self.metric_rows()
        ]
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

        def line(cells: list[str]) -> str:
            first = cells[0].ljust(widths[0])
            rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
            return "   ".join([first, *rest]).rstrip()

        rule = "-" * len(line(header))
        lines = [
            f"dataset: {self.dataset}   n_test: {self.n_test}   n_train: {self.n_train}   "
            f"code size: {self.code_size}   errors in {self.space}",
            rule,
            line(header),
            rule,
            *(line(row) for row in body),
            rule,
            "ratio < 1x: aekit lower (better); difference > 0: aekit higher (better)",
            *self._detection_lines(),
            *self.notes,
        ]
        return "\n".join(lines)

    def _detection_lines(self) -> list[str]:
        """The labelled-outlier table: AUROC and average precision per detector."""
        if not self.detection:
            return []
        names = {"aekit": "aekit residual", "aekit_both": "aekit residual x code distance"}
        names["pca"] = f"PCA-{self.code_size} residual"
        names["isolation_forest"] = "IsolationForest"
        width = max(len(names.get(name, name)) for name in self.detection)
        lines = ["", f"{'anomaly detector'.ljust(width)}    AUROC   average precision"]
        for name, row in self.detection.items():
            lines.append(
                f"{names.get(name, name).ljust(width)}   {row['auroc']:6.3f}   "
                f"{row['average_precision']:17.3f}"
            )
        return [*lines, ""]


def _json_float(value: float) -> float | str:
    """A float, or its name as a string when JSON cannot hold it."""
    value = float(value)
    return value if math.isfinite(value) else str(value)


def _format_value(metric: str, value: float | None) -> str:
    """One cell of the table, with a precision that suits the metric."""
    if value is None:
        return "-"
    if not math.isfinite(value):
        return str(value)
    if metric.endswith("psnr"):
        return f"{value:.2f} dB"
    if metric in _FRACTIONS or metric == "sample_density":
        return f"{value:.4f}"
    if value != 0 and not 1e-4 <= abs(value) < 1e5:
        return f"{value:.3e}"
    return f"{value:.5f}"


def _format_versus(metric: str, model: float | None, pca: float | None) -> str:
    """Ratio model/PCA for lower-is-better metrics, else the difference model - PCA."""
    if model is None or pca is None:
        return "-"
    if metric in _LOWER_IS_BETTER:
        if pca == 0:
            return "1.00x" if model == 0 else "infx"
        return f"{model / pca:.2f}x"
    difference = model - pca
    if math.isnan(difference):  # both inf (two exact reconstructions) or a nan probe
        return "n/a"
    if metric.endswith("psnr"):
        return f"{difference:+.2f} dB"
    return f"{difference:+.4f}"
