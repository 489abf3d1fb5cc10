"""Ground grids for coverage: points with area weights, and the row index the kernels use.

Functions (each returns a :class:`Grid`, whose weights sum to 1)
    equal_area_grid(resolution_deg)      latitude rows of height ``resolution_deg``, longitude
                                         counts scaled with the row's area (41,252 points at 1 deg)
    target_grid(lat_deg, lon_deg, names) a user list of places, equal weights
    region_grid(region, resolution_deg)  points of the equal-area grid inside a shapely
                                         (Multi)Polygon in lon/lat degrees
    equal_area_rows(resolution_deg)      the rows of the equal-area grid (for drawing its cells)

Latitudes and longitudes are taken as spherical, as by the caps of :mod:`.caps`. Bad
arguments raise :class:`~constellation.errors.ParameterError` (a ``ValueError``).

>>> grid = equal_area_grid(10.0)
>>> grid.size, round(float(grid.weight.sum()), 12)
(412, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError

MIN_RESOLUTION_DEG = 0.1
MAX_RESOLUTION_DEG = 30
_HALF_PI = 0.5 * np.pi
_TWO_PI = 2.0 * np.pi
ROW_KEY = 8.0  # > 2 pi: row index * ROW_KEY + (lon + pi) sorts points by row, then longitude


@dataclass(frozen=True)
class RowIndex:
    """Kernel index of a grid: points sorted by row (equal latitude), then longitude."""

    lat_rad: np.ndarray  # (n_rows,) ascending
    start: np.ndarray  # (n_rows + 1,) offsets into kernel order
    regular: bool  # row b: lon_j = -pi + (j + 0.5) 2 pi / n_b
    key: np.ndarray | None  # (n,) row * ROW_KEY + lon + pi, ascending (irregular rows)
    lon_key: np.ndarray | None  # (n,) lon + pi in [0, 2 pi), ascending within each row
    to_grid: np.ndarray | None  # kernel position of each grid point (None: same order)


@dataclass(frozen=True)
class Grid:
    """Ground points with area weights.

    Attributes
    ----------
    lat_deg, lon_deg : ndarray, shape (n,)
    weight : ndarray, shape (n,)
        Fraction of the grid's area each point stands for; sums to 1.
    names : tuple of str or None
        Target names (``target_grid``), else None.
    resolution_deg : float or None
    row_index : RowIndex
        How the kernels of :mod:`.kernels` walk the points.
    """

    lat_deg: np.ndarray
    lon_deg: np.ndarray
    weight: np.ndarray
    names: tuple | None = None
    resolution_deg: float | None = None
    row_index: RowIndex | None = field(default=None, repr=False, compare=False)

    @property
    def size(self) -> int:
        return int(self.lat_deg.size)

    def unit_vectors(self) -> np.ndarray:
        """Unit vectors of the points (spherical lat/lon), shape ``(n, 3)``."""
        lat = np.radians(self.lat_deg)
        lon = np.radians(self.lon_deg)
        return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def _check_resolution(resolution_deg) -> float:
    try:
        res = float(resolution_deg)
    except (TypeError, ValueError):
        res = float("nan")
    if not MIN_RESOLUTION_DEG <= res <= MAX_RESOLUTION_DEG:
        raise ParameterError("grid resolution_deg",
                             f"a resolution between {MIN_RESOLUTION_DEG} and {MAX_RESOLUTION_DEG} deg "
                             "(1 deg gives ~41,000 points)", resolution_deg)
    return res


def equal_area_rows(resolution_deg: float):
    """Rows of the equal-area grid: ``(lat_rad (n_rows,), counts (n_rows,), area_fraction (n_rows,))``.

    ``round(180 / resolution_deg)`` rows (2 at least) of equal height; a row holds as many
    points as cells of ``resolution_deg`` squared fit in its area, and ``area_fraction`` is
    the row's share of the sphere's area.
    """
    res = float(resolution_deg)
    n_rows = max(2, int(round(180.0 / res)))
    edges = np.linspace(-_HALF_PI, _HALF_PI, n_rows + 1)
    band = np.sin(edges[1:]) - np.sin(edges[:-1])  # band area / (2 pi R^2)
    cell = np.radians(180.0 / n_rows) ** 2
    counts = np.maximum(1, np.rint(_TWO_PI * band / cell)).astype(np.int64)
    lat = 0.5 * (edges[1:] + edges[:-1])
    return lat, counts, band / 2.0


def equal_area_grid(resolution_deg: float = 1.0) -> Grid:
    """Global grid of near-equal-area points, ``resolution_deg`` apart (0.1 to 30 deg).

    Rows of height ``180 / round(180 / resolution_deg)`` deg; a row holds as many equally
    spaced points (offset half a spacing from -180) as cells of ``resolution_deg`` squared
    fit in its area. Weights are the exact row area divided among its points.
    """
    res = _check_resolution(resolution_deg)
    lat, counts, band_fraction = equal_area_rows(res)
    start = np.concatenate([[0], np.cumsum(counts)])
    row = np.repeat(np.arange(lat.size), counts)
    j = np.arange(start[-1]) - start[row]
    lon = -np.pi + (j + 0.5) * _TWO_PI / counts[row]
    weight = (band_fraction / counts)[row]
    rows = RowIndex(lat, start, True, None, None, None)
    return Grid(np.degrees(lat[row]), np.degrees(lon), weight, None, res, rows)


def _irregular_rows(lat_deg, lon_deg) -> RowIndex:
    lat = np.radians(lat_deg)
    lon = np.radians((np.asarray(lon_deg) + 180.0) % 360.0 - 180.0)
    order = np.lexsort((lon, lat))
    row_lat, row_of = np.unique(lat[order], return_inverse=True)
    start = np.searchsorted(row_of, np.arange(row_lat.size + 1))
    lon_key = lon[order] + np.pi
    to_grid = np.empty_like(order)
    to_grid[order] = np.arange(order.size)
    return RowIndex(row_lat, start, False, row_of * ROW_KEY + lon_key, lon_key, to_grid)


def target_grid(lat_deg, lon_deg, names=None) -> Grid:
    """A user list of places (cities, stations): latitudes and longitudes in degrees."""
    lat = np.atleast_1d(np.asarray(lat_deg, dtype=float)).ravel()
    lon = np.atleast_1d(np.asarray(lon_deg, dtype=float)).ravel()
    if lat.size == 0 or lat.shape != lon.shape:
        raise ParameterError("targets", "one or more (latitude, longitude) pairs",
                             f"{lat.size} latitudes and {lon.size} longitudes")
    if not (np.all(np.isfinite(lat)) and np.all(np.abs(lat) <= 90.0) and np.all(np.isfinite(lon))):
        raise ParameterError("targets", "latitudes in [-90, 90] deg and finite longitudes",
                             list(zip(lat.tolist(), lon.tolist())))
    if names is not None:
        names = tuple(str(n) for n in names)
        if len(names) != lat.size:
            raise ParameterError("target names", f"one name per target ({lat.size})", names)
    lon = (lon + 180.0) % 360.0 - 180.0
    return Grid(lat, lon, np.full(lat.size, 1.0 / lat.size), names, None, _irregular_rows(lat, lon))


def region_grid(region, resolution_deg: float = 1.0) -> Grid:
    """Points of the equal-area grid inside ``region``, a shapely (Multi)Polygon in lon/lat degrees.

    Raises ParameterError when the region is empty or holds no grid point (try a finer grid).
    """
    import shapely

    res = _check_resolution(resolution_deg)
    if region is None or getattr(region, "is_empty", True) or region.area <= 0.0:
        raise ParameterError("region", "a non-empty polygon in lon/lat degrees", region)
    full = equal_area_grid(res)
    inside = shapely.contains_xy(region, full.lon_deg, full.lat_deg)
    if not inside.any():
        raise ParameterError("region", f"a polygon holding at least one point of the "
                             f"{res} deg grid (use a finer grid_deg)", region.bounds)
    weight = full.weight[inside] / full.weight[inside].sum()
    lat, lon = full.lat_deg[inside], full.lon_deg[inside]
    return Grid(lat, lon, weight, None, res, _irregular_rows(lat, lon))
