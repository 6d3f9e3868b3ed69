"""Training: what a ``train`` call trains on (``request``: options and data; ``parts``: the
training rows in memory or streamed), what it builds for the data (``planning``), and the one
loop (``loop.fit``, its parts in ``trainer``, its steps in ``steps``, its state and
checkpoints in ``loop_state`` and ``checkpoints``), on one process or several
(``distributed``), with its progress display (``progress``).

May import: ``aekit.trained``, ``aekit.runs``, ``aekit.models``, ``aekit.options``,
``aekit.nn``, ``aekit.data``, ``aekit.atomic_files``, ``aekit.errors``.
"""
