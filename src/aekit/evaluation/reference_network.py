"""The reference network sample quality is measured in (``sample_quality``): a small classifier
trained on the run's training data, never downloaded, whose last hidden layer (128 features) is
the space the Frechet distance and the nearest-neighbour figures are computed in, as the
Inception network's pool features are for FID (Heusel et al. 2017), but learned on the data at
hand: an ImageNet network says little about 8x8 digits or a table.

Images of 16x16 and up get two 3x3 convolution stages (16 and 32 channels, each followed by 2x2
max pooling) and a 128-unit layer; smaller images and vectors an MLP d-256-128 (as
``backbone="auto"`` chooses: on 8x8 digits the MLP is as accurate, 0.97, in a fraction of the
time). It learns the run's classes where the training
data has labels (2 to ``MAX_CLASSES`` of them); without labels it learns the ``PSEUDO_CLASSES``
clusters k-means finds in the data (as DeepCluster does, Caron et al. 2018): features that tell
the data's main modes apart, which is what a sample-quality measure needs to see, and which no
autoencoder being measured was trained on. Its recipe (architecture, seed, steps) is fixed, so
the same training data gives the same network and figures compare across runs of one dataset.
On Fashion-MNIST it reaches 0.89-0.90 test accuracy in about 40 s on 2 CPU cores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from torch import nn

FEATURES = 128
REFERENCE_SEED = 0
# Optimiser steps: two epochs of the data, at least MIN_STEPS (small data needs many epochs)
# and at most MAX_STEPS (Fashion-MNIST: 844 steps, 2 epochs)
MIN_STEPS, MAX_STEPS, EPOCHS = 300, 1000, 2
BATCH = 128
LR = 2e-3
MAX_CLASSES = 100
PSEUDO_CLASSES = 10
MIN_CONV_SIDE = 16
# The convolution stages end at most this large (adaptive average pooling): the 128-unit layer
# stays small for large images
MAX_GRID = 7
INFERENCE_BATCH = 1024


@dataclass
class ReferenceNetwork:
    """A trained reference classifier; ``features(x)`` gives (n, 128) for samples x.

    Attributes:
        net: features then the classifier head, ``net[0]`` the features.
        mean, spread: the training data's normalisation (one number for images, one per feature
            for vectors).
        classes: the class of each output, or None for k-means clusters.
    """

    net: nn.Sequential
    mean: np.ndarray
    spread: np.ndarray
    classes: np.ndarray | None

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray | None) -> ReferenceNetwork:
        """Train on samples ``x`` (n, C, H, W) images or (n, d) vectors in the data's units,
        with class labels ``y`` (n,) or None (k-means clusters stand in)."""
        x = np.asarray(x, dtype=np.float32)
        images = x.ndim == 4  # normalised over all values at once, as aekit scales images
        axes = None if images else 0
        mean = np.asarray(x.mean(axis=axes), dtype=np.float32)
        spread = np.asarray(x.std(axis=axes), dtype=np.float32)
        spread = np.where(spread > 1e-8 * max(float(spread.max()), 1e-30), spread, 1.0)
        normalised = (x - mean) / spread
        classes, targets = _targets(normalised, y)
        width = len(classes) if classes is not None else int(targets.max()) + 1
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(REFERENCE_SEED)
            conv = images and min(x.shape[2:]) >= MIN_CONV_SIDE
            features = _conv_features(x.shape[1:]) if conv else _mlp_features(x[0].size)
            net = nn.Sequential(features, nn.Linear(FEATURES, max(width, 2)))
            _train(net, torch.from_numpy(normalised), torch.from_numpy(targets))
        return cls(net.eval(), mean, spread, classes)

    @torch.no_grad()
    def features(self, x: np.ndarray) -> np.ndarray:
        """(n, 128) float64: the last hidden layer's activations for samples x."""
        normalised = (np.asarray(x, dtype=np.float32) - self.mean) / self.spread
        tensor = torch.from_numpy(np.ascontiguousarray(normalised, dtype=np.float32))
        parts = [
            self.net[0](tensor[i : i + INFERENCE_BATCH])
            for i in range(0, len(tensor), INFERENCE_BATCH)
        ]
        return torch.cat(parts).double().numpy()

    @torch.no_grad()
    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        """The share of samples x whose class ``y`` the network predicts (labels only)."""
        if self.classes is None:
            raise ValueError("a reference network trained on k-means clusters has no classes")
        head = self.net[1]
        logits = head(torch.from_numpy(self.features(x)).float())
        predicted = self.classes[logits.argmax(1).numpy()]
        return float(np.mean(predicted == np.asarray(y)))

    def description(self) -> str:
        kind = "a CNN" if isinstance(self.net[0][0], nn.Conv2d) else "an MLP"
        if self.classes is not None:
            return f"{kind} classifier of the {len(self.classes)} classes"
        return f"{kind} classifier of {PSEUDO_CLASSES} k-means clusters (the data has no labels)"


def _targets(normalised: np.ndarray, y: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
    """(the classes, each sample's class index): the labels where they make 2 to MAX_CLASSES
    classes, else k-means clusters of the data (classes None)."""
    if y is not None:
        classes, index = np.unique(np.asarray(y), return_inverse=True)
        if 2 <= len(classes) <= MAX_CLASSES:
            return classes, index.astype(np.int64)
    flat = normalised.reshape(len(normalised), -1)
    k = min(PSEUDO_CLASSES, len(flat))
    reduced = PCA(min(32, *flat.shape), random_state=REFERENCE_SEED).fit_transform(flat)
    kmeans = KMeans(k, n_init=1, random_state=REFERENCE_SEED).fit(reduced)
    return None, kmeans.labels_.astype(np.int64)


def _conv_features(shape: tuple[int, ...]) -> nn.Sequential:
    channels, height, width = shape
    grid = (min(math.ceil(height / 4), MAX_GRID), min(math.ceil(width / 4), MAX_GRID))
    return nn.Sequential(
        nn.Conv2d(channels, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2, ceil_mode=True),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2, ceil_mode=True),
        nn.AdaptiveAvgPool2d(grid),
        nn.Flatten(),
        nn.Linear(32 * grid[0] * grid[1], FEATURES),
        nn.ReLU(),
    )


def _mlp_features(width: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Flatten(), nn.Linear(width, 256), nn.ReLU(), nn.Linear(256, FEATURES), nn.ReLU()
    )  # fmt: skip


def _train(net: nn.Sequential, x: torch.Tensor, targets: torch.Tensor) -> None:
    """Adam with a learning rate falling linearly to 0 over the fixed number of steps."""
    n = len(x)
    batch = min(BATCH, n)
    steps = min(MAX_STEPS, max(MIN_STEPS, EPOCHS * math.ceil(n / batch)))
    optimiser = torch.optim.Adam(net.parameters(), lr=LR)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1.0 - step / steps)
    rng = np.random.default_rng(REFERENCE_SEED)
    order, position = rng.permutation(n), 0
    net.train()
    for _ in range(steps):
        if position + batch > n:
            order, position = rng.permutation(n), 0
        rows = torch.from_numpy(order[position : position + batch])
        position += batch
        loss = nn.functional.cross_entropy(net(x[rows]), targets[rows])
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
    net.eval()
