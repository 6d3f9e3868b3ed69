"""
Reconstructions beside PCA's
============================

Squeeze each 8x8 digit through a code of 8 numbers and back, with an autoencoder and with PCA
at the same size, and compare the pictures and the errors.
"""

import matplotlib.pyplot as plt
from sklearn.decomposition import PCA

import aekit
from aekit.data import load_data

model = aekit.train("digits", code_size=8, scale="standard", lr=1e-2, epochs=30)
train, test = load_data("digits:train"), load_data("digits:test")
x = test.x[:10]  # (10, 1, 8, 8), pixels in [0, 1]

rebuilt = model.reconstruct(x)  # shaped like x, in the data's own units
flat = train.x.reshape(len(train.x), -1)
pca = PCA(8).fit(flat)
pca_rebuilt = pca.inverse_transform(pca.transform(x.reshape(len(x), -1))).reshape(x.shape)

# %%
# Originals on top, then the autoencoder's reconstructions, then PCA's.

fig, axes = plt.subplots(3, 10, figsize=(10, 3.4), layout="compressed")
for row, (images, name) in enumerate(((x, "original"), (rebuilt, "aekit"), (pca_rebuilt, "PCA-8"))):
    for column, image in enumerate(images):
        axes[row, column].imshow(image[0], cmap="gray_r", vmin=0, vmax=1)
        axes[row, column].set_axis_off()
    axes[row, 0].set_title(name, loc="left", fontsize=9)
plt.show()

# %%
# The same comparison on the whole test split, as ``aekit evaluate`` prints it.

print(aekit.evaluate(model).to_table())
