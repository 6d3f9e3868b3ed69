"""The run folder: its files (``files``), written atomically and read back (``folder``), what
its config.json must hold (``schema``, read off the families' and options' declarations), the
check of its weights (``weights_check``) and the record of the data it trained on
(``data_info``); one writer at a time (``lock``), each save replacing the folder's files all
together (``saving``, with the ``manifest`` that tells a whole run from a mix of two), and a
run trained beside the one saved there until it is saved itself (``training_place``).

May import: ``aekit.models``, ``aekit.options``, ``aekit.nn``, ``aekit.data``,
``aekit.atomic_files``, ``aekit.errors``.
"""
