"""Reading data into aekit: files, arrays, DataFrames and built-in datasets, all as a Dataset;
files too large to hold, a block of rows at a time; the scaling fitted on training data.

``load_data`` is the one way in; ``save_array`` writes codes and reconstructions back out.

May import: ``aekit.atomic_files``, ``aekit.errors``.
"""

from .builtin import builtin_datasets
from .columns import Columns
from .dataset import Dataset
from .loading import load_data
from .writing import save_array

__all__ = ["Columns", "Dataset", "builtin_datasets", "load_data", "save_array"]
