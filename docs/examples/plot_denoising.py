"""
Denoising
=========

Trained with ``noise``, an autoencoder sees every training batch corrupted afresh and learns
to give back the clean images. Here the corruption is Gaussian noise of standard deviation
0.3 on pixels in [0, 1].
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA

import aekit
from aekit.data import load_data

denoiser = aekit.train("digits", code_size=16, noise="gaussian:0.3", lr=1e-2, epochs=60)
train, test = load_data("digits:train"), load_data("digits:test")
clean = test.x[:10]
rng = np.random.default_rng(1)
noisy = np.clip(clean + rng.normal(0, 0.3, clean.shape), 0, 1).astype(np.float32)
denoised = denoiser.denoise(noisy)  # shaped like its input

# PCA's answer: project the noisy images on 16 components fitted on clean training images
pca = PCA(16).fit(train.x.reshape(len(train.x), -1))
projected = pca.inverse_transform(pca.transform(noisy.reshape(len(noisy), -1)))

rows = {"noisy": noisy, "aekit": denoised, "PCA-16": projected.reshape(clean.shape), "clean": clean}
fig, axes = plt.subplots(4, 10, figsize=(10, 4.4), layout="compressed")
for row, (title, images) in enumerate(rows.items()):
    for column, image in enumerate(images):
        axes[row, column].imshow(image[0], cmap="gray_r", vmin=0, vmax=1)
        axes[row, column].set_axis_off()
    axes[row, 0].set_title(title, loc="left", fontsize=9)
plt.show()

# %%
# ``evaluate`` with ``noise`` adds the PSNR of the denoised test images (``denoise_psnr``)
# beside PCA's projection of the same noisy images, and notes the noisy input's own PSNR.

print(aekit.evaluate(denoiser, noise="gaussian:0.3").to_table())
