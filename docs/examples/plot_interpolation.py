"""
Walking between two digits
==========================

``interpolate`` encodes two samples and decodes points on a path between their codes. A VAE
walks along a great circle, since its prior's mass lies near a shell; a plain autoencoder walks
a straight line.
"""

import matplotlib.pyplot as plt
import numpy as np

import aekit
from aekit.data import load_data

vae = aekit.train("digits", model="vae", loss="bce", code_size=8, epochs=100)
plain = aekit.train("digits", code_size=8, scale="standard", lr=1e-2, epochs=30)
test = load_data("digits:test")
start = int(np.flatnonzero(test.y == 0)[0])  # the first 0 and the first 1 of the test split
end = int(np.flatnonzero(test.y == 1)[0])

strips = {
    "VAE (spherical)": vae.interpolate(test.x[start], test.x[end], steps=10),
    "plain autoencoder (straight)": plain.interpolate(test.x[start], test.x[end], steps=10),
}

fig, axes = plt.subplots(2, 10, figsize=(10, 2.2), layout="compressed")
for row, (title, images) in enumerate(strips.items()):
    for column, image in enumerate(images):  # (10, 1, 8, 8), both ends included
        axes[row, column].imshow(image[0], cmap="gray_r", vmin=0, vmax=1)
        axes[row, column].set_axis_off()
    axes[row, 0].set_title(title, loc="left", fontsize=9)
plt.show()
