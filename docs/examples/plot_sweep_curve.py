"""
A sweep over code sizes
=======================

``aekit.sweep`` trains a run for every setting given and compares each with PCA at its code
size, on the validation part each run held out and on the test split. Here: code sizes from 2
to 32 on the digits.
"""

import tempfile

import matplotlib.pyplot as plt

import aekit

folder = tempfile.mkdtemp()  # the sweep folder: a run folder per setting, sweep.csv, .png, .html
table = aekit.sweep(
    "digits",
    out=folder,
    code_size=[2, 4, 8, 16, 32],
    scale="standard",
    lr=1e-2,
    epochs=30,
    report=False,  # no report per run: the sweep's own table and figure are enough here
)
print(table[["code_size", "epochs", "test_mse", "pca_test_mse", "test_ratio", "best"]])

# %%
# The test error against code size, on a log2 axis, as the sweep's own ``sweep.png`` draws it.

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(table["code_size"], table["test_mse"], "o-", label="aekit")
ax.plot(table["code_size"], table["pca_test_mse"], "s--", label="PCA")
ax.set_xscale("log", base=2)
ax.set_xlabel("code size")
ax.set_ylabel("test MSE")
ax.legend()
plt.show()
