"""The run report: the pictures of a run drawn from its folder (``run_pictures``, with the
drawing in ``drawing``), and the one self-contained HTML page (``run_report``, built with
``html``).

May import: ``aekit.evaluation``, ``aekit.training``, ``aekit.trained``, ``aekit.runs``,
``aekit.models``, ``aekit.options``, ``aekit.nn``, ``aekit.data``, ``aekit.atomic_files``,
``aekit.errors``.
"""
