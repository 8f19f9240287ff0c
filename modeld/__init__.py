"""modeld: keeps a large collection of local AI model files in order."""

__version__ = "0.1.0"
