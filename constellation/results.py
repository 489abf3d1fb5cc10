"""Results a user gets back from the API: tables as rows, files as text, figures, and a
folder written in one go.

:class:`RunResult` is a :class:`~constellation.pipeline.Run` (stages computed on demand)
that also knows its output tables and files; :class:`SizeResult` and
:class:`CompareResult` wrap a sizing sweep and a comparison of designs. Each has
``rows(name)``, ``files()`` (name -> text) and ``write(folder)``. Everything is computed
and every figure drawn before the first file is written, so a failure leaves earlier
results as they were; the summary is written last.

Results sit above the stages, output and plots (they draw their own figures); only the
API and the command line use them. matplotlib and cartopy load only when a figure is drawn.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import numpy as np

from .errors import InputError
from .key.entanglement import dual_columns, dual_summary
from .key.per_pass import KEY_COLUMNS, key_columns
from .network.plan import SCHEDULE_COLUMNS, link_rows, schedule_rows, timeline_rows
from .output.exports import footprints_document
from .output.files import write_files
from .output.rounding import tidy
from .output.sizing import design_tables, human_sizing_summary, sizing_outputs
from .output.summary import human_summary, summarise
from .output.tables import (PASS_COLUMNS, columns_from_rows, render_columns, render_table, rows_from_columns,
                            to_json)
from .pipeline import Run, require_stations
from .plots.base import render_figure, station_index
from .plots.coverage import plot_coverage
from .plots.dual import default_dual_window, plot_dual
from .plots.design import compare_table_from_rows, plot_compare, plot_pareto_rows
from .plots.key import longest_window_pass, plot_key
from .plots.maps import plot_tracks, span_of_interest, stations_extent
from .plots.passes import plot_sky, plot_timeline
from .plots.schedule import plot_schedule
from .sizing.compare import column_names, compare_rows
from .sizing.scenario_files import design_scenario_toml

__all__ = ["CompareResult", "RunResult", "SizeResult", "TABLES", "figure_from_results", "folder_record",
           "holds_results_of"]

# Table name -> the file `run` writes it to.
TABLES = {"passes": "passes.csv", "key": "key.csv", "network": "network.csv",
          "network_timeline": "network_timeline.csv", "schedule": "schedule.csv",
          "coverage_points": "coverage_points.csv", "dual": "dual.csv"}
FIGURE_KINDS = ("tracks", "sky", "timeline", "key", "coverage", "schedule", "dual")
STATION_FIGURES_MAX = 10  # sky-STATION.png and key-STATION.png in run's folder: the longest windows first
# Written after everything else: `run` and `size` recognise their folders by these.
_SUMMARIES = ("summary.json", "size.json")


class RunResult(Run):
    """A scenario's results: tables, summary, figures and the output folder of ``run``.

    >>> result = RunResult(load_scenario("scenarios/micius-2016-xinglong.toml"))  # doctest: +SKIP
    >>> result.rows("passes")[1]["min_range_km"]                                  # doctest: +SKIP
    645.368
    """

    def rows(self, name: str) -> list[dict]:
        """Rows of table ``name`` (one of ``TABLES``), computing the stages it needs; built
        once (the files, the summary and the caller share them: do not modify them)."""
        built = self.__dict__.setdefault("_tables", {})
        if name not in built:
            built[name] = rows_from_columns(self.table_columns(name))
        return built[name]

    def table_columns(self, name: str) -> dict[str, list]:
        """Table ``name`` column-wise (column name -> list of values, in table order), built
        once and linear in its rows; what ``render`` and ``rows`` are made from."""
        built = self.__dict__.setdefault("_columns", {})
        if name not in built:
            built[name] = self._build_columns(name)
        return built[name]

    def _build_columns(self, name: str) -> dict[str, list]:
        if name == "passes":
            return self.passes.columns(self.scenario.timebase)
        if name == "key":
            return key_columns(self.table_columns("passes"), self.keys)
        if name == "dual":
            return dual_columns(self.dual, self.dual_keys, self.scenario.timebase)
        if name == "coverage_points":
            return {c: tidy(list(v.tolist() if hasattr(v, "tolist") else v)) for c, v in self.coverage.table().items()}
        if name == "network":
            rows = link_rows(self.network)
        elif name == "network_timeline":
            rows = timeline_rows(self.network)
        elif name == "schedule":
            scn = self.scenario
            rows = schedule_rows(self.network, [s.name for s in scn.satellites], [s.name for s in scn.stations],
                                 timebase=scn.timebase)
            return columns_from_rows(rows, SCHEDULE_COLUMNS)
        else:
            raise ValueError(f"unknown table {name!r}; one of {', '.join(TABLES)}")
        return columns_from_rows(rows, list(rows[0]) if rows else [])

    def columns(self, name: str, rows: list[dict] | None = None) -> list[str]:
        """Column names of table ``name`` (``rows`` if already computed)."""
        if name == "passes":
            return list(PASS_COLUMNS)
        if name == "key":
            return list(KEY_COLUMNS)
        if name == "schedule":
            return list(SCHEDULE_COLUMNS)
        if rows is not None and name != "coverage_points":
            return list(rows[0]) if rows else []
        return list(self.table_columns(name))

    def render(self, name: str, fmt: str = "csv") -> str | bytes:
        """Table ``name`` as CSV or JSON text, or with ``fmt="parquet"`` as the bytes of a
        Parquet file (the same columns, typed; needs pyarrow: :mod:`constellation.output.parquet`)."""
        if name in ("passes", "key"):
            require_stations(self.scenario, f"the {name} table")
        if fmt == "parquet":
            from .output.parquet import parquet_bytes

            return parquet_bytes(self.table_columns(name), self.columns(name))
        return render_columns(self.table_columns(name), self.columns(name), fmt)

    def coverage_summary(self) -> dict:
        """Area-weighted coverage figures with their per-latitude bands (floats to 9 significant
        digits, as written)."""
        return tidy({**self.coverage.summary(), "latitude_bands": self.coverage.latitude_bands()})

    def summary(self) -> dict:
        """The machine-readable summary (``summary.json``) of every stage the scenario asks for."""
        self.complete()
        keys = self.rows("key") if self.has_keys else None
        links = self.rows("network") if self.has_network else None
        summary = summarise(self.scenario, self.passes, self.rows("passes"), keys, links)
        if self.has_coverage:
            summary["coverage"] = {k: v for k, v in self.coverage_summary().items() if k != "latitude_bands"}
        if self.has_dual:
            summary["dual"] = dual_summary(self.dual, self.dual_keys)
        return summary

    def human_summary(self) -> str:
        """A few lines for the terminal."""
        return human_summary(self.summary())

    def files(self) -> dict[str, str]:
        """File name -> text for every table and JSON document of ``run``."""
        self.complete()
        stations = bool(self.scenario.stations)  # a coverage-only scenario has no pass or key table
        names = (["passes"] if stations else []) + (["key"] if self.has_keys and stations else []) + \
            (["network", "network_timeline", "schedule"] if self.has_network else []) + \
            (["coverage_points"] if self.has_coverage else []) + (["dual"] if self.has_dual else [])
        out = {TABLES[name]: self.render(name) for name in names}
        if self.has_coverage:
            out["coverage_summary.json"] = to_json(self.coverage_summary())
            out["footprints.geojson"] = to_json(
                footprints_document(self.scenario, min_elevation_deg=self.coverage.min_elevation_deg))
        out["summary.json"] = to_json(self.summary())
        return out

    def figure(self, kind: str, *, station=None, satellites=None, hours=None, region: bool = False, window=None):
        """One figure: ``tracks``, ``sky``, ``timeline``, ``key`` (along a pass of ``station``,
        default the longest QKD window), ``coverage``, ``schedule`` (the network's scheduled
        contacts per station) or ``dual`` (dual window ``window``, a row of the dual table:
        both stations' skies and the two-arm loss). Returns a matplotlib Figure."""
        if kind not in FIGURE_KINDS:
            raise ValueError(f"unknown figure {kind!r}; one of {', '.join(FIGURE_KINDS)}")
        scn = self.scenario
        if kind == "tracks":
            chosen = [s.strip() for s in satellites.split(",")] if isinstance(satellites, str) else satellites
            if hours is None:  # one orbit around the longest QKD window: the passes the scenario is about
                start_s, end_s, at_s = span_of_interest(scn, self.passes, chosen) if scn.stations else \
                    (0.0, None, 0.0)
            else:
                start_s, end_s, at_s = 0.0, min(hours * 3600.0, scn.duration_s), 0.0
            if region:
                require_stations(scn, "--region (the map zoomed on the stations)")
            extent = stations_extent(scn.stations) if region else None
            return plot_tracks(scn, satellites=chosen, start_s=start_s, end_s=end_s, extent_deg=extent,
                               footprints_at_s=at_s, night_at_s=at_s)
        if kind == "coverage":
            return plot_coverage(self.coverage, stations=scn.stations)
        if kind == "schedule":
            return plot_schedule(scn, self.network)
        if kind == "dual":
            return self._dual_figure(window)
        require_stations(scn, f"a {kind} plot")
        if kind == "timeline":
            return plot_timeline(scn, self.passes)
        if kind == "sky" and station:
            return plot_sky(scn, self.passes, station)
        if kind == "sky" and len(self.passes) and not self.passes.has_window.any():
            # No window anywhere: the sky of the station with the most passes (what was seen).
            busiest = int(np.argmax(np.bincount(self.passes.station, minlength=len(scn.stations))))
            return plot_sky(scn, self.passes, busiest)
        row = self._longest_window(station)
        if kind == "sky":
            return plot_sky(scn, self.passes, self.passes.station_names[self.passes.station[row]])
        return plot_key(scn, self.passes, row, key_slot_s=self.key_slot_s)

    def _dual_figure(self, window=None):
        """Dual window ``window`` (a row of the dual table; default: the most coincidences, or
        without a source the longest): both skies and the two-arm loss."""
        from .pipeline import dual_profile

        dual = self.dual
        keys = self.dual_keys if len(dual) else None
        row = default_dual_window(dual, keys) if window is None and len(dual) else window
        profile = dual_profile(self.scenario, dual, -1 if row is None else row, self.dual_slot_s)
        return plot_dual(self.scenario, self.passes, dual, row, profile, keys)

    def _longest_window(self, station=None) -> int:
        """Row of the longest QKD window (over ``station``, a name or index, if given)."""
        index = None if station is None else station_index(self.scenario, station)
        try:
            return longest_window_pass(self.passes, index)
        except ValueError:
            where = "" if index is None else f" over {self.scenario.stations[index].name}"
            raise InputError(self.scenario.source, "station" if index is not None else "passes",
                             f"a pass with a QKD window{where} to draw", "none in the scenario's span") from None

    def figures(self) -> dict:
        """File name -> Figure for the figures ``run`` draws."""
        windows = bool(self.passes.has_window.any())
        kinds = ["tracks"] + (["timeline"] if self.scenario.stations else []) + (["sky"] if len(self.passes) else []) + \
            (["key"] if self.has_keys and windows else []) + (["coverage"] if self.has_coverage else []) + \
            (["schedule"] if self.has_network else []) + (["dual"] if self.has_dual and len(self.dual) else [])
        out = {f"{kind}.png": self.figure(kind) for kind in kinds}
        if len(self.scenario.stations) > 1:  # with one station, sky.png and key.png are its figures
            sky, key, _ = self._figure_stations()
            slugs = _file_slugs([s.name for s in self.scenario.stations])
            out.update({f"sky-{slugs[name]}.png": self.figure("sky", station=name) for name in sky})
            if self.has_keys:
                out.update({f"key-{slugs[name]}.png": self.figure("key", station=name) for name in key})
        return out

    def _figure_stations(self) -> tuple[list[str], list[str], list[str]]:
        """Stations that get a sky figure (passes), a key figure (a QKD window; at most
        ``STATION_FIGURES_MAX`` of each, longest windows first), and those left out."""
        passes, names = self.passes, [s.name for s in self.scenario.stations]
        longest = {name: float(passes.window_s[passes.station == i].max(initial=0.0)) for i, name in enumerate(names)}
        seen = {names[i] for i in np.unique(passes.station)}
        order = sorted(names, key=lambda name: -longest[name])
        sky = [name for name in order if name in seen][:STATION_FIGURES_MAX]
        key = [name for name in order if longest[name] > 0][:STATION_FIGURES_MAX]
        return sky, key, [name for name in order if name not in sky]

    def figure_notes(self) -> list[str]:
        """Why a station has no sky or key figure in ``run``'s folder (one line each)."""
        if not self.scenario.stations:
            return []
        sky, key, left = self._figure_stations()
        passes, names = self.passes, [s.name for s in self.scenario.stations]
        seen = {names[i] for i in np.unique(passes.station)}
        notes = []
        quiet = [name for name in names if name not in seen]
        if quiet:
            notes.append(f"no sky or key figure for {', '.join(quiet)}: no pass in the span")
        dark = [name for name in sky if name not in key and name in seen]
        if self.has_keys and dark:
            notes.append(f"no key figure for {', '.join(dark)}: no pass with a QKD window")
        more = [name for name in left if name in seen]
        if more:
            notes.append(f"sky and key figures for the {STATION_FIGURES_MAX} stations with the longest QKD windows; "
                         f"`constellation plot sky|key --station NAME` draws the others ({', '.join(more)})")
        return notes

    def write(self, folder, *, figures: bool = True) -> list[Path]:
        """Write every file (and figure) into ``folder``; returns the paths written. Files an
        earlier run of the same scenario file wrote there and this one does not (``key.csv``
        once ``[qkd]`` is gone, figures with ``figures=False``) are removed with them."""
        return _write(folder, self.files(), self.figures() if figures else {}, self.scenario)


def _file_slugs(names) -> dict[str, str]:
    """A file-name part per station name: letters and digits, '-' between, lower case; unique."""
    out, used = {}, set()
    for k, name in enumerate(names):
        slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or f"station-{k + 1}"
        while slug in used:
            slug = f"{slug}-{k + 1}"
        used.add(slug)
        out[name] = slug
    return out



class SizeResult:
    """A finished sizing sweep: the designs, their metrics, the feasible and Pareto sets."""

    def __init__(self, scenario, sizing, runner_name: str, wall_s: float):
        self.scenario, self.sizing, self.runner_name, self.wall_s = scenario, sizing, runner_name, wall_s
        self._files = None

    def files(self) -> dict[str, str]:
        """File name -> text: designs.csv, feasible.csv, pareto.csv, best_per_family.csv,
        best.toml (and best-FAMILY.toml), size.json."""
        if self._files is None:
            self._files = sizing_outputs(self.scenario, self.sizing, self.runner_name, self.wall_s)
        return self._files

    def rows(self, name: str = "designs") -> list[dict]:
        """Rows of ``designs``, ``feasible``, ``pareto`` or ``best_per_family``: one per design,
        with its family, size, cost, metrics, target margins and status."""
        return design_tables(self.sizing)[name]

    def best(self):
        """The cheapest design meeting every target (a Design), or None."""
        return self.sizing.best()

    def best_per_family(self) -> dict:
        """Family name -> its cheapest feasible Design."""
        return self.sizing.best_per_family()

    def design_scenario(self, design=None) -> str:
        """A scenario file (TOML text) running ``design`` (default: the best) over the same
        span, stations and links: ready to ``run`` or ``compare``."""
        design = self.best() if design is None else design
        if design is None:
            raise ValueError("no design meets the targets; pass one of result.sizing.evaluated")
        return design_scenario_toml(self.scenario, design)

    def summary(self) -> dict:
        """The sweep summary (``size.json``)."""
        return json.loads(self.files()["size.json"])

    def human_summary(self) -> str:
        return human_sizing_summary(self.files()["size.json"])

    def figure(self, title: str | None = None, target_key_bits_per_day: float | None = None):
        """The Pareto figure: cost against the weakest link's key and the longest wait for
        fresh key, with the [targets] as lines and the cheapest feasible design starred."""
        best = self.best()
        return plot_pareto_rows(design_tables(self.sizing)["designs"],
                                title=self.scenario.name if title is None else title,
                                target_key_bits_per_day=target_key_bits_per_day, targets=self.scenario.targets,
                                best_id=None if best is None else best.id)

    def write(self, folder, *, figures: bool = True) -> list[Path]:
        return _write(folder, self.files(), {"pareto.png": self.figure()} if figures else {}, self.scenario)


class CompareResult:
    """Designs side by side: one row per metric, one column per scenario."""

    def __init__(self, table: list[dict]):
        self.table = table
        self.names = column_names(table)

    def rows(self) -> list[dict]:
        """``metric, unit, better``, one value per design (floats to 9 significant digits),
        and ``best``/``worst`` column names."""
        return tidy(compare_rows(self.table))

    def columns(self) -> list[str]:
        return ["metric", "unit", "better", *self.names, "best", "worst"]

    def files(self) -> dict[str, str]:
        return {"compare.csv": render_table(self.rows(), self.columns(), "csv")}

    def figure(self):
        """Bars per link and station, one colour per design."""
        return plot_compare([{**d, "name": n} for d, n in zip(self.table, self.names)])

    def write(self, folder, *, figures: bool = True) -> list[Path]:
        return _write(folder, self.files(), {"compare.png": self.figure()} if figures else {})


def _write(folder, files: dict[str, str], figures: dict, scenario=None) -> list[Path]:
    """Every figure drawn first (drawing is what can fail), then every file staged and moved
    into place together, the summary last (:func:`constellation.output.files.write_files`):
    a failure leaves the folder as it was, and a folder whose summary names this scenario
    holds all of its files and no other file of an earlier run.

    The summary (``summary.json``, ``size.json``) of ``scenario``'s file also records
    that file's resolved path (``scenario_file_resolved``) and the files written
    (``outputs``); the files an earlier run of the same scenario file recorded there and this
    one does not write are removed, only those (never a file of the user's)."""
    out = Path(folder)
    source = None if scenario is None else scenario.source
    images = {name: render_figure(fig, Path(name).suffix.lstrip(".") or "png") for name, fig in figures.items()}
    last = [name for name in files if name in _SUMMARIES]
    names = [name for name in files if name not in last] + list(images) + last
    files = {name: _recorded(text, source, names) if name in last else text for name, text in files.items()}
    items = [(out / name, files[name]) for name in files if name not in last]
    items += [(out / name, image) for name, image in images.items()]
    items += [(out / name, files[name]) for name in last]
    stale = sorted({name for marker in last for name in _earlier_outputs(out, marker, scenario)} - set(names))
    return write_files(items, remove=[out / name for name in stale])


def _resolved(source) -> str | None:
    """The scenario file's absolute path, links resolved (None for a scenario not read from a file)."""
    return None if source is None or str(source) == "<memory>" else os.path.realpath(source)


def _recorded(summary_text: str, source, names: list[str]) -> str:
    """The summary with the scenario file's resolved path (after ``scenario_file``) and the
    names of the files written with it (``outputs``, the summary last)."""
    summary = json.loads(summary_text)
    out = {}
    for key, value in summary.items():
        out[key] = value
        if key == "scenario_file":
            out["scenario_file_resolved"] = _resolved(source)
    out["outputs"] = list(names)
    return to_json(out)


def folder_record(folder, marker: str = "summary.json") -> dict | None:
    """The summary (``summary.json`` of ``run``, ``size.json`` of ``size``) an earlier run left
    in ``folder``, or None (none there, or not one of ours)."""
    try:
        record = json.loads((Path(folder) / marker).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def holds_results_of(record: dict | None, source, sha256: str | None = None) -> bool:
    """Whether a folder's summary ``record`` holds results of the scenario file ``source``: the
    same file however its path is spelt (``scenarios/a.toml``, ``/home/u/scenarios/a.toml``,
    ``a.toml`` from inside ``scenarios/``), by its resolved path or, for a file reached another
    way (a hard link, a bind mount), :func:`os.path.samefile`. When the resolved path the record
    keeps is gone (the project moved) or the record is older and has none, the path as it was
    given is tried from the current folder, and only if the file has the recorded bytes
    (``sha256``: the scenario's as loaded, else read from ``source``)."""
    if not record or _resolved(source) is None:
        return False
    resolved, given = record.get("scenario_file_resolved"), record.get("scenario_file")
    earlier = resolved if isinstance(resolved, str) and os.path.exists(resolved) else given
    if not isinstance(earlier, str) or not earlier or earlier == "<memory>":
        return False
    if earlier is given and record.get("scenario_sha256") != (sha256 or _sha256(source)):
        return False  # the path as given, from here, names a file: the same only if its bytes are the recorded ones
    return os.path.realpath(earlier) == _resolved(source) or _same_file(earlier, source)


def _sha256(path) -> str | None:
    import hashlib

    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except (OSError, ValueError):
        return None


def _earlier_outputs(folder: Path, marker: str, scenario) -> list[str]:
    """The files an earlier run of ``scenario``'s file recorded in ``folder``'s summary
    ``marker``: plain names inside the folder only (no path, no hidden name); none when the
    summary is another scenario's, or from a version that kept no record."""
    record = folder_record(folder, marker)
    if scenario is None or not holds_results_of(record, scenario.source, scenario.sha256) \
            or not isinstance(record.get("outputs"), list):
        return []
    names = [name for name in record["outputs"] if isinstance(name, str) and name and name == Path(name).name
             and not name.startswith(".") and "\\" not in name and "\x00" not in name
             and len(name.encode("utf-8", "surrogatepass")) <= 255]
    return [name for name in names if not _same_file(folder / name, scenario.source)]  # never the scenario itself


def _same_file(a, b) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def figure_from_results(kind: str, where):
    """The ``pareto`` or ``compare`` figure from the output folder of ``size`` or ``compare -o``
    (or the CSV in it)."""
    name = "designs.csv" if kind == "pareto" else "compare.csv"
    made_by = "constellation size" if kind == "pareto" else "constellation compare -o DIR"
    path = Path(where)
    path = path / name if path.is_dir() else path
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise InputError(path, "file", f"{name} written by {made_by}", exc.strerror or str(exc)) from None
    needed = "worst_link_key_bits_per_day" if kind == "pareto" else "metric"
    if not rows or needed not in rows[0]:
        raise InputError(path, "columns", f"{name} written by {made_by} (with a {needed} column)",
                         f"columns {', '.join(list(rows[0])[:5]) if rows else 'none'}")
    if kind == "pareto":
        try:  # the targets and the chosen design, from the same folder's size.json
            size = json.loads((path.parent / "size.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            size = {}
        best = size.get("best") if isinstance(size, dict) else None
        return plot_pareto_rows(rows, title=f"Design trade-offs ({path.parent.name})",
                                targets=size.get("targets") if isinstance(size, dict) else None,
                                best_id=best.get("id") if isinstance(best, dict) else None)
    return plot_compare(compare_table_from_rows(rows))
