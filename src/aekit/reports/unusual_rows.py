"""The report's table of the rows a table model rebuilds worst, and why: for each, the features
that make up most of its reconstruction error (``evaluation.explanations``), so a reader sees
which columns the model could not rebuild, in the data's units."""

from __future__ import annotations

import numpy as np

from ..evaluation.explanations import explain_samples
from ..evaluation.run_data import HeldOut
from ..trained.autoencoder import Autoencoder
from . import html as html_page

SHOWN_ROWS = 10
SHOWN_FEATURES = 3


def unusual_rows_section(model: Autoencoder, shown: HeldOut) -> str:
    """A section with the ``SHOWN_ROWS`` rows of ``shown`` with the highest reconstruction
    error (``aekit score``'s default score), each with its ``SHOWN_FEATURES`` largest shares."""
    errors = model.anomaly_scores(shown.data.x)
    worst = np.argsort(-errors, kind="stable")[:SHOWN_ROWS]
    rows = shown.rows[worst] if shown.rows is not None else worst
    explained = explain_samples(model, shown.data.x[worst])
    top = explained.top_features(SHOWN_FEATURES)
    cells = []
    for position, row in enumerate(rows):
        features = top[top["row"] == position]
        described = [
            f"{line.feature}: {line.share:.0%} (value {line.value:.4g}, rebuilt "
            f"{line.reconstruction:.4g})"
            for line in features.itertuples()
        ]
        cells.append([int(row), float(explained.reconstruction_error[position]), *described])
    ranks = [f"feature {rank}" for rank in range(1, top["rank"].max() + 1)]
    return html_page.section(
        "Rows the model rebuilds worst",
        html_page.paragraph(
            f"The {len(rows)} rows of {shown.description} with the highest reconstruction error "
            "(mean squared, in the scaled space the model sees: aekit score's anomaly score), "
            f"each with the {SHOWN_FEATURES} features that make up most of it: their share of "
            "the row's error, their value and the model's reconstruction, in the data's units. "
            "aekit score RUN DATA --explain N writes this for every row of any data; "
            "AutoencoderAnomalyDetector.explain(X) gives it in Python."
        ),
        html_page.table(["row", "error", *ranks], cells, css_id="unusual-rows"),
    )
