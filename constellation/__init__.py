"""constellation: a planner for quantum-key-distribution satellite constellations.

Importing the package is cheap; the public API lives in :mod:`constellation.api`.
"""

__version__ = "0.1.0"
