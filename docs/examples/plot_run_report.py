"""
A run's report
==============

Trained with a run folder (``out=``), a run ends by evaluating itself against PCA and drawing
its pictures into the folder, with ``report.html``, one self-contained page that holds them
all. ``aekit.report`` writes that page again for any run, and ``RunPictures`` gives the same
pictures as matplotlib figures.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

import aekit
from aekit.reports.run_pictures import RunPictures

run = Path(tempfile.mkdtemp()) / "digits"
aekit.train("digits", code_size=8, scale="standard", lr=1e-2, epochs=30, out=run)
print(sorted(path.name for path in run.iterdir()))

# %%
# The pictures the run drew, as the report shows them: the loss curves, the code map,
# originals above their reconstructions, and new samples.

for name in ["loss", "codes", "reconstructions", "samples"]:
    picture = plt.imread(run / f"{name}.png")
    height, width = picture.shape[:2]
    fig = plt.figure(figsize=(width / 100, height / 100))
    fig.add_axes((0, 0, 1, 1)).imshow(picture)
    fig.axes[0].set_axis_off()
plt.show()

# %%
# Each picture is also a matplotlib figure, to restyle or to save elsewhere:

pictures = RunPictures(run)
print(sorted(pictures.available()))  # the pictures this run can draw
pictures.code_map().savefig(run / "my_code_map.png", dpi=150)
page = aekit.report(run)  # report.html again, from the folder's files only
print(page.name, f"{page.stat().st_size / 1e3:.0f} kB")
