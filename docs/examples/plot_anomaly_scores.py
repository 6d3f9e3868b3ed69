"""
Anomaly scores on a table
=========================

A small synthetic table: normal rows lie near a curved two-dimensional surface in eight
columns, anomalies do not. ``AutoencoderAnomalyDetector`` is fitted without labels on rows
that include a few anomalies, as a detector meets them, and scores rows it has not seen.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from aekit.sklearn import AutoencoderAnomalyDetector

rng = np.random.default_rng(0)


def rows(n_normal: int, n_anomalies: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, is_anomaly): normal rows on the surface, anomalies scattered around it."""
    t = rng.uniform(-2, 2, size=(n_normal, 2))
    surface = np.column_stack([t, t**2, np.sin(2 * t), t[:, :1] * t[:, 1:], np.cos(t.sum(axis=1))])
    normal = surface + 0.05 * rng.normal(size=surface.shape)
    anomalies = rng.normal(size=(n_anomalies, 8)) * surface.std(axis=0) + surface.mean(axis=0)
    return np.vstack([normal, anomalies]), np.r_[np.zeros(n_normal), np.ones(n_anomalies)]


X_train, _ = rows(950, 50)
X_test, is_anomaly = rows(475, 25)

detector = AutoencoderAnomalyDetector(random_state=0).fit(X_train)
scores = detector.pyod_scores(X_test)  # higher = more abnormal
forest = IsolationForest(random_state=0).fit(X_train)

print(f"AUROC, aekit's detector: {roc_auc_score(is_anomaly, scores):.3f}")
print(f"AUROC, IsolationForest:  {roc_auc_score(is_anomaly, -forest.score_samples(X_test)):.3f}")
print(f"rows flagged by predict: {(detector.predict(X_test) == -1).sum()} of {len(X_test)}")

# %%
# The scores of normal rows and of anomalies, and the detector's threshold: ``predict`` flags
# every row whose score lies above it (``contamination="auto"``: 3 robust standard deviations
# above the median training score).

fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
bins = np.geomspace(scores.min(), scores.max(), 40)
ax.hist(scores[is_anomaly == 0], bins=bins, alpha=0.7, label="normal rows")
ax.hist(scores[is_anomaly == 1], bins=bins, alpha=0.7, label="anomalies")
ax.axvline(-detector.offset_, color="black", linestyle="--", label="threshold")
ax.set_xscale("log")
ax.set_xlabel("anomaly score")
ax.set_ylabel("test rows")
ax.legend()
plt.show()
