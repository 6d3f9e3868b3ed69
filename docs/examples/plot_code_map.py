"""
A map of the codes
==================

Train an autoencoder whose code has two numbers on scikit-learn's digits, then draw every
test image at its code, coloured by the digit it shows. PCA with two components, fitted on the
same training images, is drawn beside it: the same images, two numbers each.
"""

import matplotlib.pyplot as plt
from sklearn.decomposition import PCA

import aekit
from aekit.data import load_data

# standard scaling: the network starts at PCA's solution and trains from there
model = aekit.train("digits", code_size=2, scale="standard", lr=1e-2, epochs=30)
train, test = load_data("digits:train"), load_data("digits:test")
codes = model.encode(test.x)  # (360, 2)

pca = PCA(2).fit(train.x.reshape(len(train.x), -1))
pca_codes = pca.transform(test.x.reshape(len(test.x), -1))

# %%
# Each point is one test image. How well the digits separate on each map is what a linear
# classifier on the codes can use: ``aekit.evaluate`` reports it as ``probe_accuracy``.

fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), layout="constrained")
for ax, points, title in ((axes[0], codes, "aekit, code of 2"), (axes[1], pca_codes, "PCA-2")):
    dots = ax.scatter(points[:, 0], points[:, 1], c=test.y, cmap="tab10", s=10)
    ax.set_title(title)
fig.colorbar(dots, ax=axes, label="digit")
plt.show()

print(aekit.evaluate(model).to_table())
