"""axspa-kg reasoner: load the knowledge base, validate patient records, classify, apply the
guideline rules and explain the advice."""

from .version import __version__

__all__ = ["__version__"]
