"""Shared pieces of the plots: offline map data for cartopy, colours, UTC time axes, saving.

matplotlib and cartopy are imported inside functions, so importing this module stays
cheap and works without them. Cartopy is pointed at the shipped Natural Earth data only
inside :func:`shipped_maps` (a context manager), never for the whole process.
"""

from __future__ import annotations

import contextlib
import io
import functools
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import numpy as np

from ..core.sun import SunTrack
from ..errors import InputError, did_you_mean
from ..output.files import atomic_path

# Colour-blind-safe qualitative palette (Okabe & Ito 2008), then matplotlib's tab10.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8C564B",
           "#7F7F7F", "#BCBD22", "#17BECF"]
WINDOW_COLOUR = "#009E73"
PASS_COLOUR = "#8DA0CB"
NIGHT_COLOUR = "#1B2A49"
LAND_COLOUR = "#EFEBE3"
OCEAN_COLOUR = "#DCE8F2"
COAST_COLOUR = "#5A5A5A"

MAP_RESOLUTION = "110m"  # the only Natural Earth scale shipped
_NE_KEY = ("shapefiles", "natural_earth")


class OfflineMapError(RuntimeError):
    """Cartopy asked for map data that does not ship with constellation."""


def map_data_dir() -> Path:
    """The folder cartopy's ``pre_existing_data_dir`` points at (Natural Earth 110 m inside)."""
    return Path(str(resources.files("constellation") / "data" / "naturalearth"))


@contextlib.contextmanager
def shipped_maps() -> Iterator[Path]:
    """Inside the block, cartopy reads the shipped Natural Earth 110 m data and never downloads.

    Sets ``cartopy.config['pre_existing_data_dir']`` to :func:`map_data_dir` and installs a
    Natural Earth downloader that raises :class:`OfflineMapError` instead of going to the
    network, so asking for a layer or scale we do not ship (say ``resolution="50m"``) fails
    at once with advice rather than hanging on a socket. Both are restored on leaving the
    block; nesting is safe. Yields the data folder.

    Cartopy's own layers are read when the figure is drawn: ask for the shipped scale
    explicitly (``ax.coastlines(resolution="110m")``; without it cartopy picks a scale by
    the map's extent, which may be one we do not ship) and draw or save inside the block
    (:func:`save_figure` enters it). The layers of :func:`shipped_layer` are read at once
    and need no block afterwards; the package's own maps use only those.
    """
    import cartopy

    root = map_data_dir()
    if not (root / "shapefiles" / "natural_earth" / "physical" / "ne_110m_coastline.shp").exists():
        raise OfflineMapError(f"the shipped coastlines are missing from {root}; reinstall constellation "
                              "or run tools/make_naturalearth.py")
    config, downloaders = cartopy.config, cartopy.config["downloaders"]
    saved_dir = config.get("pre_existing_data_dir")
    saved_downloader = downloaders.get(_NE_KEY)
    config["pre_existing_data_dir"] = str(root)
    downloaders[_NE_KEY] = _no_download(root)
    try:
        yield root
    finally:
        config["pre_existing_data_dir"] = saved_dir
        if saved_downloader is None:
            downloaders.pop(_NE_KEY, None)
        else:
            downloaders[_NE_KEY] = saved_downloader


def _no_download(root: Path):
    """A Natural Earth downloader that finds the shipped files and refuses to download others."""
    from cartopy.io.shapereader import NEShpDownloader

    class _NoDownload(NEShpDownloader):
        def acquire_resource(self, target_path, format_dict):
            raise OfflineMapError(
                f"map layer ne_{format_dict['resolution']}_{format_dict['name']} is not shipped "
                f"with constellation (only Natural Earth 110 m coastline and land, in {root}); "
                "use resolution='110m'")

    template = NEShpDownloader.default_downloader()
    return _NoDownload(target_path_template=template.target_path_template,
                       pre_downloaded_path_template=template.pre_downloaded_path_template)


def shipped_layer(name: str):
    """The shipped Natural Earth 110 m physical layer ``name`` (``"land"`` or ``"coastline"``)
    as a cartopy feature holding its shapes, so a figure drawing it reads no file later.

    The shapes are in PlateCarree (edges straight in longitude/latitude, as Natural Earth
    draws them). Read once per process; another layer raises :class:`OfflineMapError`.
    """
    import cartopy.crs as ccrs
    import cartopy.feature as cfeature

    return cfeature.ShapelyFeature(_read_shipped_layer(name), ccrs.PlateCarree())


@functools.lru_cache(maxsize=None)
def _read_shipped_layer(name: str) -> tuple:
    """The geometries of a shipped Natural Earth 110 m physical layer."""
    from cartopy.io import shapereader

    with shipped_maps():
        path = shapereader.natural_earth(resolution=MAP_RESOLUTION, category="physical", name=name)
    reader = shapereader.Reader(path)
    try:
        return tuple(reader.geometries())
    finally:
        reader.close()


def new_figure(width_in: float, height_in: float):
    """A matplotlib Figure outside pyplot (no global state; Agg renders it headless)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def colour(k: int) -> str:
    return PALETTE[k % len(PALETTE)]


def utc_datetimes(timebase, t_s) -> list:
    """Timezone-aware UTC datetimes of ``t_s`` (seconds since the time base start)."""
    t_s = np.atleast_1d(np.asarray(t_s, dtype=float))
    if t_s.size == 0:
        return []
    moments = timebase.time(t_s).utc_datetime()
    return list(np.atleast_1d(moments))


def date_numbers(timebase, t_s) -> np.ndarray:
    """matplotlib date numbers (days) of ``t_s``, precise to ~10 microseconds."""
    from matplotlib import dates

    return np.asarray(dates.date2num(utc_datetimes(timebase, t_s)), dtype=float)


def utc_axis(axis, span_s: float) -> None:
    """Concise UTC date ticks on a matplotlib x or y ``axis`` (pass ``ax.xaxis``)."""
    from matplotlib import dates

    locator = dates.AutoDateLocator(minticks=4, maxticks=10)
    formatter = dates.ConciseDateFormatter(locator, tz="UTC", show_offset=False)
    if span_s <= 3 * 3600:
        formatter.formats[3:5] = ["%H:%M", "%H:%M:%S"]
    axis.set_major_locator(locator)
    axis.set_major_formatter(formatter)


def station_index(scenario, station) -> int:
    """Index of a station given by name or index; InputError naming the known ones."""
    names = [s.name for s in scenario.stations]
    if isinstance(station, (int, np.integer)) and 0 <= station < len(names):
        return int(station)
    if station in names:
        return names.index(station)
    folded = [name.casefold() for name in names]
    if isinstance(station, str) and folded.count(station.strip().casefold()) == 1:
        return folded.index(station.strip().casefold())  # as scenario files match built-in names
    hint = did_you_mean(station, names, fallback=True)
    raise InputError(scenario.source, "station", f"a station of the scenario{hint}", station)


def sun_elevation_deg(scenario, station_indices, t_s) -> np.ndarray:
    """Geometric Sun elevation (deg) at each station, shape ``(n_station, n_time)``."""
    t_s = np.atleast_1d(np.asarray(t_s, dtype=float))
    sun = SunTrack(scenario.timebase, float(t_s.min()), float(t_s.max()))
    up = np.array([scenario.stations[i].enu[2] for i in station_indices]).reshape(-1, 3)
    return np.degrees(np.arcsin(np.clip(up @ sun.unit_ecef(t_s).T, -1.0, 1.0)))


def save_figure(fig, path, dpi: int = 150) -> Path:
    """Write ``fig`` to ``path`` (PNG, SVG or PDF by suffix); returns the path.

    Written atomically (:func:`constellation.output.files.atomic_path`), so a reader never
    sees half a PNG. A figure with maps is drawn inside :func:`shipped_maps`.
    """
    path = Path(path)
    image = render_figure(fig, path.suffix.lstrip(".").lower() or "png", dpi)
    with atomic_path(path) as tmp:
        tmp.write_bytes(image)
    return path


def render_figure(fig, fmt: str = "png", dpi: int = 150) -> bytes:
    """``fig`` drawn as an image file in memory (``fmt``: png, svg or pdf), maps from the
    shipped data: drawing is where a figure can fail, so draw before writing anything."""
    buffer = io.BytesIO()
    with shipped_maps() if _has_maps(fig) else contextlib.nullcontext():
        fig.savefig(buffer, dpi=dpi, bbox_inches="tight", format=fmt)
    return buffer.getvalue()


def _has_maps(fig) -> bool:
    """True when ``fig`` has a cartopy map (which may read map data when drawn)."""
    return any(type(ax).__module__.startswith("cartopy.") for ax in fig.axes)


def timeline_axes(ax, scenario, chosen, start_s: float, end_s: float) -> None:
    """Station names down the y axis, UTC across the x axis, light grid, no top/right frame."""
    ax.set_yticks(range(len(chosen)), [scenario.stations[s].name for s in chosen])
    ax.set_ylim(len(chosen) - 0.5, -0.5)
    ax.set_xlim(date_numbers(scenario.timebase, [start_s, end_s]))
    utc_axis(ax.xaxis, end_s - start_s)
    ax.set_xlabel("UTC")
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
