"""The ontology's Turtle files, shipped with the install.

``path("indicators.ttl")`` gives the file's location whether the project runs
from a checkout or from an installed wheel.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

FILES = ("indicators.ttl", "categories.ttl", "similarity.ttl", "shapes.ttl")


def triples(name: str) -> list:
    """The file's triples as pyoxigraph terms (its Turtle parser: milliseconds, where
    rdflib's takes a few hundred)."""
    import pyoxigraph as ox

    return list(ox.parse(path=str(path(name)), format=ox.RdfFormat.TURTLE))


def path(name: str) -> Path:
    if name not in FILES:
        raise ValueError(f"unknown ontology file {name!r}; expected one of {FILES}")
    return Path(str(resources.files(__package__).joinpath(name)))
