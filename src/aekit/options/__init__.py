"""Options: how an option is declared once (``declaring``), the options every family shares
(``train_config``), what aekit picks for options left open and why (``defaults``), reading them
from a TOML file (``config_file``), and what a value saved in a run's files may be
(``saved_values``). A family declares its own options in its file under ``aekit.models``.

May import: ``aekit.nn``, ``aekit.data``, ``aekit.errors``.
"""
