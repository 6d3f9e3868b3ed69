"""The run folder: its files, written atomically and read back (``folder``), what its
config.json must hold (``schema``, read off the families' and options' declarations), the check
of its weights (``weights_check``) and the record of the data it trained on (``data_info``).

May import: ``aekit.models``, ``aekit.options``, ``aekit.nn``, ``aekit.data``,
``aekit.atomic_files``, ``aekit.errors``.
"""
