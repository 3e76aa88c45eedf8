"""The single place the release number lives; ontology version IRIs are checked against it."""

__version__ = "0.1.0"
