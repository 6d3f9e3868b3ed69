"""aekit's version, in a module of its own so any module can import it without importing aekit."""

__version__ = "0.1.0"
