"""Audio playground for OpenAI's speech APIs, with an embedded offline backend."""

__version__ = "0.1.0"
__all__ = ["__version__"]
