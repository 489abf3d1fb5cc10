"""Coverage: how often, and how long between, each place on Earth has a satellite in view.

Modules, from the geometry up
-----------------------------
``caps``        the spherical cap a satellite sees above an elevation mask (numpy only)
``grid``        ground points with area weights: equal-area, a list of places, a region
``kernels``     satellites in view of each grid point at each time (numpy or numba)
``statistics``  coverage over a time span: per-point statistics and ``CoverageResult``
``footprints``  the caps as shapely polygons and GeoJSON
``tracks``      ground tracks and footprints of a scenario's satellites (for maps and exports)

``caps``, ``grid``, ``kernels`` and ``statistics`` load neither shapely nor cartopy
(``region_grid`` imports shapely when called) and raise
:class:`~constellation.errors.ParameterError` (a ``ValueError``); the pipeline
(:mod:`constellation.pipeline`) turns it into the user's one-line ``InputError``.
"""
