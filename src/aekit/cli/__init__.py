"""The ``aekit`` command line: the parser (``parser``, its option flags derived in ``flags``)
and the commands (``commands``), which call the library's entry points and print.

May import every other part of aekit: it is the top.
"""

from .commands import main

__all__ = ["main"]
