"""Figures planners look at: ground tracks, sky plots, pass timelines, key along a pass.

Every function takes explicit inputs (a validated :class:`~constellation.scenario.Scenario`,
a :class:`~constellation.passes.PassTable`, choices) and returns a matplotlib ``Figure``
built outside pyplot, so it renders headless (Agg) and leaves no global state; save it with
:func:`save_figure` (or ``fig.savefig``). matplotlib and cartopy are imported only when a
function runs. Maps never download: cartopy reads the Natural Earth 110 m coastline and
land shipped in ``constellation/data/naturalearth`` (see :func:`use_shipped_maps`).

>>> from constellation.api import load_scenario, find_scenario_passes      # doctest: +SKIP
>>> from constellation import plots                                          # doctest: +SKIP
>>> scenario = load_scenario("scenarios/micius-2016-xinglong.toml")          # doctest: +SKIP
>>> passes = find_scenario_passes(scenario)                                  # doctest: +SKIP
>>> plots.save_figure(plots.plot_sky(scenario, passes, "Xinglong"), "sky.png")  # doctest: +SKIP

API
---
plot_tracks(scenario, *, satellites=None, start_s=0.0, end_s=None, step_s=20.0,
            footprints_at_s=None, footprint_min_elevation_deg=None, night_at_s=None,
            extent_deg=None, stations=True, title=None, ax=None)          kind ``tracks``
stations_extent(stations, margin_deg=12.0)       (west, east, south, north) for a regional zoom
plot_sky(scenario, passes, station, rows=None, *, step_s=2.0, title=None, ax=None)    ``sky``
plot_timeline(scenario, passes, *, start_s=0.0, end_s=None, stations=None, title=None,
              ax=None)                                                     kind ``timeline``
plot_key(scenario, passes, row=None, *, slot_s=1.0, title=None)           kind ``key``
plot_coverage(result, *, quantity="coverage_fraction", title=None, stations=None,
              band_width_deg=None)                                        kind ``coverage``
key_profile(scenario, passes, row, slot_s=1.0) -> KeyProfile              the arrays behind it
plot_key_profile(profile, timebase=None, *, title=None)                   plot your own arrays
longest_window_pass(passes, station=None) -> int                          a default pass
pass_track(scenario, passes, row, step_s=2.0)    (t_s, azimuth_deg, elevation_deg, range_km, valid)
save_figure(fig, path, dpi=150) -> Path                                   atomic PNG/SVG/PDF
use_shipped_maps()                               point cartopy at the shipped maps; no downloads

Times ``*_s`` are seconds since the scenario start; pass ``row`` numbers index the PassTable.
"""

from .base import OfflineMapError, map_data_dir, save_figure, use_shipped_maps
from .coverage import plot_coverage
from .key import KeyProfile, key_profile, longest_window_pass, plot_key, plot_key_profile
from .maps import footprint_outline, plot_tracks, stations_extent
from .passes import pass_track, plot_sky, plot_timeline

__all__ = ["KeyProfile", "OfflineMapError", "footprint_outline", "key_profile", "longest_window_pass",
           "map_data_dir", "pass_track", "plot_coverage", "plot_key", "plot_key_profile", "plot_sky", "plot_timeline",
           "plot_tracks", "save_figure", "stations_extent", "use_shipped_maps"]
