"""
New samples
===========

A variational autoencoder (``model="vae"``) decodes draws from its prior N(0, I); a plain
autoencoder decodes draws from a Gaussian mixture fitted on its training codes. Both give new
digits that are in no dataset.
"""

import matplotlib.pyplot as plt

import aekit

vae = aekit.train("digits", model="vae", loss="bce", code_size=8, epochs=100)
plain = aekit.train("digits", code_size=8, scale="standard", lr=1e-2, epochs=30)

samples = {
    "VAE: draws from N(0, I)": vae.sample(16, seed=0),  # (16, 1, 8, 8)
    "plain autoencoder: draws from its code density": plain.sample(16, seed=0),
}

# a row each, titled as a whole: a title on the first image would widen its column
fig = plt.figure(figsize=(10, 2.0), layout="compressed")
for row, (title, images) in zip(fig.subfigures(2, 1), samples.items(), strict=True):
    for ax, image in zip(row.subplots(1, 16), images, strict=True):
        ax.imshow(image[0], cmap="gray_r", vmin=0, vmax=1)
        ax.set_axis_off()
    row.suptitle(title, x=0.01, ha="left", fontsize=9)
plt.show()

# %%
# The same seed gives the same samples:

assert (vae.sample(16, seed=0) == samples["VAE: draws from N(0, I)"]).all()

# %%
# A VAE's evaluation adds its test ELBO and importance-weighted NLL, in nats per sample.

print(aekit.evaluate(vae, iw_images=200).to_table())
