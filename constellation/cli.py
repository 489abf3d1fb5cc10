"""Command line: ``constellation run|passes|key|network|coverage|plot|export|size|compare|stations|receivers``.

Each command parses its arguments, calls :mod:`constellation.api` and prints or writes what
it returns. This is the only module that touches argv and exit codes: bad input exits 2
with one line on stderr, never a traceback. The API (0.7 s of imports: numpy, skyfield,
pydantic, shapely) is imported inside the commands, so ``--help`` and usage errors answer
at once.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import click

from . import __version__
from . import interrupts
from .errors import ConstellationError, InputError, printable

DEFAULT_SCENARIO = "micius-2016-xinglong.toml"
FORMATS = click.Choice(["csv", "json", "parquet"])
SIZE_OUTPUTS = ("sweep.jsonl", "designs.csv", "feasible.csv", "pareto.csv", "best_per_family.csv", "size.json",
                "pareto.png", "best.toml")
PLOT_KINDS = click.Choice(["tracks", "sky", "timeline", "key", "coverage", "schedule", "dual", "pareto", "compare"])


def _echo(message: object = "", err: bool = False) -> None:
    """``click.echo`` with control characters escaped: names and paths reach terminals harmless."""
    click.echo(printable(message), err=err)


def default_scenario_path() -> Path:
    """The built-in default scenario shipped inside the package."""
    return Path(str(resources.files("constellation") / "data" / DEFAULT_SCENARIO))


def _table_options(func):
    func = click.option("-o", "--output", default="-", show_default=True, metavar="PATH|-",
                        help="Write the table to PATH (atomically) or '-' for stdout.")(func)
    return click.option("--format", "fmt", type=FORMATS, default="csv", show_default=True,
                        help="Table format (parquet: typed columns, to a file -o PATH; needs pyarrow: "
                             "pip install pyarrow).")(func)


def _check_format(fmt: str, output: str) -> None:
    """Before any work: an output file that can be written; Parquet needs pyarrow, and a file
    (it is binary, not text for stdout)."""
    if output not in (None, "-"):
        from .output.files import check_target

        check_target(output)
    elif fmt != "parquet":
        from .output.tables import open_stdout

        open_stdout()  # refused now, not after the work, when it is closed
    if fmt != "parquet":
        return
    from .output.parquet import require_pyarrow

    require_pyarrow("--format parquet")
    if output in (None, "-"):
        raise InputError("--format parquet", "-o", "a file name (-o FILE.parquet; Parquet is binary, not text for "
                         "standard output)", output or "-")


def _progress():
    """The progress bar on stderr for a command's work (None off a terminal: see output/progress.py)."""
    from .output.progress import progress_bar

    return progress_bar()


def _stage(bar, name: str):
    """``progress(done, total)`` for a kernel, drawn as stage ``name`` of ``bar`` (None: no bar)."""
    return None if bar is None else (lambda done, total: bar(done, total, name))


def _workers_option(func):
    return click.option("--workers", type=click.IntRange(1, 512),
                        help="Processes for the key stage when it is large (default: the CPUs this process may "
                             "use, at most 8; 1 = this process; ~120 MB each); the same keys with any number.")(func)


def _workers(workers) -> int:
    """``--workers``, else the CPUs this process may use (its affinity, which containers and
    ``taskset`` set; not the machine's count), at most 8: each worker holds ~120 MB."""
    import os

    if workers is not None:
        return workers
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        usable = os.cpu_count() or 1
    return max(1, min(usable, 8))


def _scenario_argument(func):
    return click.argument("scenario", required=False, type=click.Path(dir_okay=False))(func)


def _load(path, need_satellites: bool = True):
    from .scenario.build import load_scenario  # not through api: `passes` needs no more than this

    scenario = load_scenario(path or default_scenario_path())
    if need_satellites and not scenario.satellites:
        raise InputError(scenario.source, "satellites", "at least one [[satellites]] entry (this file only has "
                         "[[designs]]: size it with `constellation size`)", "none")
    for warning in scenario.warnings:
        _echo(f"warning: {warning}", err=True)
    return scenario


def _run(scenario, progress=None, **options):
    """The RunResult of a scenario (a path, or one already loaded), its stages reported to ``progress``."""
    from .api import run_scenario

    result = run_scenario(scenario if hasattr(scenario, "satellites") else _load(scenario), **options)
    result.progress = progress
    return result


def _warn_passes(result, passes=None) -> None:
    """Once the passes are found: warn (stderr) about satellites that never rise over a station."""
    if passes is not None or "passes" in vars(result):
        from .output.summary import pass_warnings

        scenario = getattr(result, "scenario", result)
        for warning in pass_warnings(scenario, result.passes if passes is None else passes):
            _echo(f"warning: {warning}", err=True)


def _warn_keys(result) -> None:
    """Once the keys are computed: warn (stderr) about windows holding both day and night."""
    if "keys" in vars(result):
        from .output.summary import key_warnings

        keys = result.keys
        for warning in key_warnings(keys.window_s, keys.daylight_s, keys.finite_key_bits):
            _echo(f"warning: {warning}", err=True)


def _emit(text: str | bytes, output: str) -> None:
    """Text to stdout or a file; bytes (a Parquet file) to a file, atomically."""
    if isinstance(text, bytes):
        from .output.files import write_files

        write_files([(output, text)])
        return
    from .output.tables import emit

    emit(text, output)


def _emit_blocks(blocks, columns: list[str], fmt: str, output: str) -> None:
    """A long table given as successive column blocks, written block by block: CSV or JSON to
    stdout or a file, Parquet to a file (one row group a block)."""
    if fmt == "parquet":
        from .output.parquet import write_parquet

        write_parquet(blocks, columns, output)
        return
    from .output.tables import emit_chunks, stream_columns

    emit_chunks(stream_columns(blocks, columns, fmt), output)


def _rows_table(rows: list[dict], columns: list[str], fmt: str) -> str | bytes:
    """Rows as CSV or JSON text, or as the bytes of a Parquet file."""
    if fmt == "parquet":
        from .output.parquet import parquet_bytes
        from .output.tables import columns_from_rows

        return parquet_bytes(columns_from_rows(rows, columns), columns)
    from .output.tables import render_table

    return render_table(rows, columns, fmt)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="constellation")
def cli():
    """Plan QKD satellite constellations: passes, night-time windows and secure key.

    SCENARIO is a TOML scenario file; without one, the built-in Micius 2016 scenario runs.
    """


@cli.command()
@_scenario_argument
@_table_options
def passes(scenario, fmt, output):
    """One row per pass, with its night-time QKD window."""
    # The pipeline's pass stage only (RunResult.render("passes") gives the same text): no
    # results, plots, exports or sizing modules to import.
    # Written 20,000 passes at a time: the rows of a mega-constellation are never all in memory.
    from .output.tables import PASS_COLUMNS
    from .pipeline import find_passes, require_stations

    _check_format(fmt, output)
    scn = _load(scenario)
    require_stations(scn, "the passes table")
    with _progress() as bar:
        table = find_passes(scn, progress=_stage(bar, "passes"))
    _emit_blocks(table.column_blocks(scn.timebase), PASS_COLUMNS, fmt, output)
    _warn_passes(scn, table)


@cli.command()
@_scenario_argument
@click.option("--loss-profile", type=click.Path(dir_okay=False),
              help="CSV with columns t_s,loss_db and optionally background_cps (your own channel). loss_db "
                   "holds every loss but the detector's (the receiver's aperture and optics included), "
                   "background_cps the sky's clicks: of the --qkd [receiver] only the detector fields apply "
                   "(detector_efficiency, dark_count_cps, gate_ns, timing_jitter_ps, afterpulse_probability, "
                   "polarisation_error, detectors, and the band, which must hold the payload's wavelength).")
@click.option("--qkd", "qkd_file", type=click.Path(dir_okay=False),
              help="TOML file with [qkd] and [receiver] tables (with --loss-profile).")
@click.option("--optimise", is_flag=True,
              help="Choose intensities, their probabilities and the basis bias that maximise the finite key "
                   "of the loss profile (bounds: constellation/key/optimise.py).")
@_workers_option
@_table_options
def key(scenario, loss_profile, qkd_file, optimise, fmt, output, workers):
    """Secure key per pass of SCENARIO, or of one loss profile taken as a single block."""
    if loss_profile or qkd_file:
        if not (loss_profile and qkd_file) or scenario:
            found = ("SCENARIO too" if scenario else
                     "--loss-profile without --qkd" if loss_profile else "--qkd without --loss-profile")
            raise click.UsageError(f"expected --loss-profile PROFILE.csv with --qkd QKD.toml and no SCENARIO, found {found}")
    elif optimise:
        raise click.UsageError("--optimise works on one block: use it with --loss-profile and --qkd")
    _check_format(fmt, output)
    if loss_profile:
        from .api import compute_profile_key
        from .output.tables import to_json

        row = compute_profile_key(loss_profile, qkd_file, optimise=optimise)
        _emit(to_json(row) if fmt == "json" else _rows_table([row], list(row), fmt), output)
        return
    from .key.per_pass import KEY_COLUMNS
    from .pipeline import require_stations

    scn = _load(scenario)
    require_stations(scn, "the key table")
    with _progress() as bar:
        result = _run(scn, bar)
        result.workers = _workers(workers)
        passes, keys = result.passes, result.keys
    # Written 20,000 passes at a time, as `passes`: the rows are never all in memory as text.
    _emit_blocks(keys.column_blocks(passes, scn.timebase), KEY_COLUMNS, fmt, output)
    _warn_passes(result)
    _warn_keys(result)


@cli.command()
@_scenario_argument
@_table_options
def dual(scenario, fmt, output):
    """Dual-downlink windows: one satellite above both stations of a [[links]] pair at once,
    with the two-arm loss and BBM92 key when SCENARIO has a [source]."""
    _check_format(fmt, output)
    scn = _load(scenario)
    with _progress() as bar:
        text = _run(scn, bar).render("dual", fmt)
    _emit(text, output)


@cli.command()
@_scenario_argument
@click.option("--timeline", is_flag=True, help="Write the key delivered per link and day instead.")
@click.option("--schedule", is_flag=True,
              help="Write the schedule instead: one row per scheduled contact, its key and the links it served.")
@_table_options
def network(scenario, timeline, schedule, fmt, output):
    """Key between station pairs through trusted-relay satellites ([[links]] of SCENARIO)."""
    if timeline and schedule:
        raise click.UsageError("--timeline and --schedule are different tables: give one of them")
    table = "network_timeline" if timeline else "schedule" if schedule else "network"
    _check_format(fmt, output)
    scn = _load(scenario)
    with _progress() as bar:
        result = _run(scn, bar)
        text = result.render(table, fmt)
    _emit(text, output)
    _warn_passes(result)


@cli.command()
@_scenario_argument
@click.option("--grid-deg", type=click.FloatRange(0.1, 30.0), help="Equal-area grid spacing (deg).")
@click.option("--min-elevation-deg", type=click.FloatRange(0.0, 90.0, max_open=True), help="Elevation mask (deg).")
@click.option("--night-only", is_flag=True, default=None, help="Count only coverage while the point is dark: the coverage fraction (the "
                   "headline), gaps, passes and response time then count dark, covered time.")
@click.option("--stations", "stations_only", is_flag=True, default=None, help="Cover the scenario's stations instead of the globe.")
@click.option("-k", "k", type=click.IntRange(1, 100), help="Satellites needed in view at once (default 1).")
@click.option("--geojson", type=click.Path(dir_okay=False), help="Also write the footprints at the start (GeoJSON).")
@_table_options
def coverage(scenario, grid_deg, min_elevation_deg, night_only, stations_only, k, geojson, fmt, output):
    """Coverage fraction, revisit gaps and response time over a grid (CSV or Parquet per point; JSON summary)."""
    from .api import export_footprints
    from .output.files import write_files
    from .output.tables import to_json

    options = {name: value for name, value in dict(grid_deg=grid_deg, min_elevation_deg=min_elevation_deg,
                                                   night_only=night_only, stations_only=stations_only, k=k).items()
               if value is not None}
    _check_format(fmt, output)
    if geojson and output != "-" and Path(geojson).resolve() == Path(output).resolve():
        raise click.UsageError(f"--geojson and -o are two files (the footprints and the table), "
                               f"found {geojson} for both")
    scn = _load(scenario)
    with _progress() as bar:
        result = _run(scn, bar, coverage_options=options)
        text = to_json(result.coverage_summary()) if fmt == "json" else result.render("coverage_points", fmt)
    if not geojson:
        _emit(text, output)
        return
    # The footprints at the start, above the same mask as the coverage just computed; both
    # files are written or neither.
    footprints = to_json(export_footprints(result.scenario, min_elevation_deg=result.coverage.min_elevation_deg))
    write_files([(geojson, footprints)] + ([] if output == "-" else [(output, text)]))
    if output == "-":
        _emit(text, output)


def _check_output_folder(out: Path, scn, marker: str = "summary.json", own=()) -> None:
    """Refuse to mix results: a non-empty folder must hold an earlier run of the same scenario
    file, however its path is spelt (or, for ``size``, only its own files: an interrupted sweep
    has just its journal)."""
    from .output.files import LOCK_NAME, is_own_temporary
    from .results import folder_record, holds_results_of

    entries = [p for p in out.iterdir() if p.name != LOCK_NAME and not is_own_temporary(p)] if out.is_dir() else []
    if not entries:
        return
    if not (out / marker).exists() and own and all(
            p.name in own or (p.name.startswith(("best-", ".")) and p.is_file()) for p in entries):
        return
    record = folder_record(out, marker)
    if not holds_results_of(record, scn.source, scn.sha256):
        previous = record.get("scenario_file") if record else None
        resolved = record.get("scenario_file_resolved") if record else None
        if isinstance(previous, str) and isinstance(resolved, str) and str(Path(previous).resolve()) != resolved:
            import os  # spelt from another folder: the file it named, as reached from here

            previous = min(resolved, os.path.relpath(resolved), key=len)
        found = f"results of {previous}" if isinstance(previous, str) and previous else \
            "files that are not a constellation run"
        raise InputError(out, "-o", "an empty folder or one holding this scenario's earlier results "
                         "(use --force to write there anyway)", found)


@cli.command()
@click.argument("kind", type=PLOT_KINDS, metavar="KIND")
@click.argument("scenario", required=False, type=click.Path(), metavar="[SCENARIO|RESULTS]")
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False),
              help="Image file (.png, .svg, .pdf); default KIND.png.")
@click.option("--station", help="Station for sky/key plots (default: the one with the longest QKD window).")
@click.option("--satellites", help="Comma-separated satellites for tracks (default: all).")
@click.option("--hours", type=click.FloatRange(min=0.01), help="Length of the tracks from the start (default: one orbit).")
@click.option("--region", is_flag=True, help="Zoom the map on the stations.")
@click.option("--window", type=int, metavar="N",
              help="Dual window to draw: row N of `constellation dual`, 0 first (default: the most coincidences, "
                   "or the longest without a [source]).")
def plot(kind, scenario, output, station, satellites, hours, region, window):
    """Draw KIND: ground tracks, a sky plot, the pass timeline, link and key along a pass, coverage, the
    network schedule (a Gantt chart per station), or a dual-downlink window (both stations' skies and the
    two-arm loss); or, from the output folder of `size` / `compare -o`, the Pareto front / the comparison."""
    from .api import figure_from_results, save_figure

    if window is not None and kind != "dual":
        raise click.UsageError(f"--window picks the window of `plot dual`, found it with `plot {kind}`")
    path = output or f"{kind}.png"
    special = Path(path).exists() and not Path(path).is_file() and not Path(path).is_dir()  # /dev/stdout: PNG
    if Path(path).suffix.lower() not in (".png", ".svg", ".pdf") and not special:
        raise InputError(path, "-o", "an image file name ending in .png, .svg or .pdf",
                         Path(path).suffix or "no extension")
    if kind in ("pareto", "compare"):
        if scenario is None:
            made_by = "constellation size" if kind == "pareto" else "constellation compare -o DIR"
            name = "designs.csv" if kind == "pareto" else "compare.csv"
            raise InputError("plot " + kind, "FOLDER", f"the output folder of {made_by} (or its {name})", "nothing")
        figure = figure_from_results(kind, scenario)
    else:
        figure = _run(scenario).figure(kind, station=station, satellites=satellites, hours=hours, region=region,
                                       window=window)
    save_figure(figure, path)
    _echo(f"wrote {path}")


@cli.command()
@click.argument("kind", type=click.Choice(["geojson", "footprints", "czml"]), metavar="KIND")
@_scenario_argument
@click.option("-o", "--output", default="-", show_default=True, metavar="PATH|-", help="Output file or '-'.")
def export(kind, scenario, output):
    """Export ground tracks or footprints (GeoJSON, RFC 7946) or a Cesium CZML document."""
    from .api import export_czml, export_footprints, export_tracks
    from .output.tables import to_json

    scn = _load(scenario)
    document = {"geojson": export_tracks, "footprints": export_footprints, "czml": export_czml}[kind](scn)
    _emit(to_json(document), output)
    if output != "-":  # as plot does: the document went to a file, say which
        _echo(f"wrote {output}")


@cli.command()
@_scenario_argument
@click.option("--no-plots", is_flag=True, help="Skip the figures (a rerun into the folder removes the earlier run's).")
@click.option("-o", "--output", "outdir", default="out", show_default=True, type=click.Path(file_okay=False),
              help="Output folder: tables, summary.json and figures.")
@click.option("--force", is_flag=True, help="Write into a folder that holds another scenario's results.")
@_workers_option
def run(scenario, no_plots, outdir, force, workers):
    """Run the whole job on SCENARIO and write its results to an output folder."""
    from .api import run_scenario
    from .output.files import output_folder

    scn = _load(scenario)
    with output_folder(outdir):  # locked against a second writer until every file is in place
        if not force:
            _check_output_folder(Path(outdir), scn)
        with _progress() as bar:
            result = run_scenario(scn)
            result.progress = bar
            result.workers = _workers(workers)
            result.complete()
            if bar is not None:
                bar(0, None, "tables" if no_plots else "tables and figures")
            written = result.write(outdir, figures=not no_plots)
    _echo(result.human_summary())
    _echo(f"wrote {', '.join(map(str, written))}")
    for note in ([] if no_plots else result.figure_notes()):
        _echo(f"note: {note}")
    if any(link.relayed for link in scn.links) and not scn.has_key_model:
        _echo("note: no network: the [[links]] are relayed (mode = \"relay\") and relayed key needs [link] "
                   "and [qkd]; `constellation dual` gives the windows in which a satellite sees both ends")
    _warn_passes(result)
    _warn_keys(result)


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "outdir", default="size-out", show_default=True, type=click.Path(file_okay=False),
              help="Output folder (its sweep.jsonl lets an interrupted sweep resume).")
@click.option("--workers", type=click.IntRange(1, 512), help="Local worker processes (default: CPU count; 1 = this process).")
@click.option("--scheduler", metavar="tcp://HOST:PORT", envvar="CONSTELLATION_SCHEDULER",
              help="Run on this Dask scheduler instead (default: $CONSTELLATION_SCHEDULER).")
@click.option("--no-plots", is_flag=True, help="Skip the Pareto figure.")
@click.option("--fresh", is_flag=True, help="Ignore results saved by an earlier run in the folder.")
@click.option("--force", is_flag=True, help="Write into a folder that holds another scenario's results.")
def size(scenario, outdir, workers, scheduler, no_plots, fresh, force):
    """Search the [[designs]] of SCENARIO for the cheapest constellations meeting its [targets]."""
    from .api import SchedulerUnreachable, size_scenario
    from .output.files import output_folder

    scn = _load(scenario, need_satellites=False)
    if not scn.designs:  # before looking at the output folder
        raise InputError(scn.source, "designs", "[[designs]] families to size (see scenarios/2027-global.toml)", "none")

    with output_folder(outdir):  # locked against a second writer for the whole sweep
        if not force:
            _check_output_folder(Path(outdir), scn, marker="size.json", own=SIZE_OUTPUTS)
        with _progress() as bar:
            try:
                result = size_scenario(scn, folder=outdir, workers=workers, scheduler=scheduler or None, fresh=fresh,
                                       progress=_size_progress(bar))
            except SchedulerUnreachable as exc:
                raise InputError("--scheduler", "address", "a reachable Dask scheduler (tcp://HOST:PORT)",
                                 str(exc)) from None
        written = result.write(outdir, figures=not no_plots)
    _echo(result.human_summary())
    _echo(f"wrote {', '.join(map(str, written))}")


def _size_progress(bar):
    """``progress(done, total, message)`` of the sweep: a ``[done/total] message`` line on stderr
    per design, as always; on a terminal (``bar``) the same lines above a bar of the designs done."""
    def progress(done, total, message):
        line = f"[{done}/{total}] {message}" if done else message
        if bar is None:
            _echo(line, err=True)
        else:
            bar.print(printable(line))
            bar(done, total, "designs")

    return progress


@cli.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False),
              help="Also write compare.csv and compare.png into this folder.")
@click.option("--no-plots", is_flag=True, help="Skip the figure.")
def compare(scenarios, outdir, no_plots):
    """Put designs side by side: satellites, cost, key per link, latency, coverage, revisit."""
    from .api import compare_scenarios

    result = compare_scenarios([_load(path) for path in scenarios])
    _print_comparison(result.rows(), result.names)
    if outdir:
        from .output.files import output_folder

        with output_folder(outdir):
            written = result.write(outdir, figures=not no_plots)
        _echo(f"wrote {', '.join(map(str, written))}")


def _print_comparison(rows: list[dict], names: list[str]) -> None:
    """The comparison as a terminal table, best and worst marked by symbol and colour."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    def plain(text) -> str:  # a name is text, never markup or terminal control
        return escape(printable(text))

    view = Table(title="designs compared (▲ best, ▼ worst)", show_lines=False)
    view.add_column("metric", no_wrap=True)
    view.add_column("unit")
    for name in names:
        view.add_column(plain(name), justify="right", min_width=13)
    for row in rows:
        cells = []
        for name in names:
            text = plain(_cell(row[name]))
            if row.get("best") == name:
                text = f"[bold green]▲ {text}[/]"
            elif row.get("worst") == name:
                text = f"[red]▼ {text}[/]"
            cells.append(text)
        view.add_row(plain(row["metric"]), plain(row["unit"]), *cells)
    Console(width=max(100, 60 + 16 * len(names))).print(view)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


@cli.command()
@_table_options
def stations(fmt, output):
    """List the built-in ground stations."""
    from .api import builtin_station, catalogue_names
    from .scenario.climate import climatology
    from .scenario.stations import builtin_receiver

    columns = ["name", "latitude_deg", "longitude_deg", "elevation_m", "aperture_m", "receiver",
               "zenith_transmittance", "source", "receiver_source", "clear_sky_mean", "clear_sky_persistence",
               "climate_source"]
    rows = []
    for name in catalogue_names():
        s = builtin_station(name)
        preset, receiver_source = builtin_receiver(name)
        climate = climatology(name)
        rows.append(dict(name=s.name, latitude_deg=round(s.latitude_deg, 6), longitude_deg=round(s.longitude_deg, 6),
                         elevation_m=s.elevation_m, aperture_m=s.aperture_m, receiver=preset,
                         zenith_transmittance=s.sky.zenith_transmittance, source=s.note,
                         receiver_source=receiver_source,
                         clear_sky_mean=round(climate.mean, 3) if climate else None,
                         clear_sky_persistence=climate.persistence if climate else None,
                         climate_source=climate.source if climate else None))
    _check_format(fmt, output)
    _emit(_rows_table(rows, columns, fmt), output)


@cli.command()
@_table_options
def receivers(fmt, output):
    """List the receiver presets: every field, and the source or assumption behind them."""
    import dataclasses

    from .scenario.receivers import RECEIVER_SOURCES, RECEIVERS

    _check_format(fmt, output)
    fields = [f.name for f in dataclasses.fields(next(iter(RECEIVERS.values())))]
    rows = [dict(name=name, **dataclasses.asdict(rx), source=RECEIVER_SOURCES.get(name, ""))
            for name, rx in RECEIVERS.items()]
    _emit(_rows_table(rows, ["name", *fields, "source"], fmt), output)


def main(argv=None) -> int:
    """Console entry point; returns the exit code."""
    import signal

    args = sys.argv[1:] if argv is None else list(argv)
    if not args:
        with click.Context(cli, info_name="constellation") as ctx:
            click.echo(cli.get_help(ctx))
        return 0
    handlers = {signal.SIGTERM: interrupts.on_sigterm, signal.SIGINT: interrupts.on_sigint}
    previous = {}
    interrupts.reset()
    try:
        for number, handler in handlers.items():
            previous[number] = signal.signal(number, handler)
    except ValueError:  # not the main thread: leave the signals alone
        pass
    try:
        return _main(args)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        interrupts.reset()


def _main(args) -> int:
    try:
        return _outcome(args)
    except Exception:
        # A signal's exception that went through a library's bare ``except:`` (skyfield's
        # import fallbacks) comes back as another error: the command was still stopped.
        stopped = interrupts.noted()
        if stopped is None:
            raise
        _echo("terminated" if stopped is interrupts.Terminated else "aborted", err=True)
        return 143 if stopped is interrupts.Terminated else 130


def _outcome(args) -> int:
    try:
        cli.main(args=args, prog_name="constellation", standalone_mode=False)
        interrupts.check()  # a signal whose exception Python dropped still ends the run as one
    except ConstellationError as exc:
        if interrupts.noted():
            raise  # a stopped command's own error, from the exception a library turned it into
        _echo(f"error: {exc}", err=True)
        return 2
    except click.UsageError as exc:
        where = f" ({exc.ctx.command_path})" if exc.ctx else ""
        _echo(f"error{where}: {exc.format_message()}", err=True)
        return 2
    except (click.Abort, KeyboardInterrupt):
        _echo("aborted", err=True)
        return 130
    except interrupts.Terminated:
        _echo("terminated", err=True)
        return 143
    except click.ClickException as exc:
        _echo(f"error: {exc.format_message()}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        # The reader went away (| head): no more output, and none at exit either (Python docs, "SIGPIPE").
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # an I/O failure no command turned into an input error: still one line
        where = f"{exc.filename}: " if exc.filename else ""
        _echo(f"error: {where}{exc.strerror or exc}", err=True)
        return 2
    except MemoryError:
        _echo("error: out of memory (the scenario needs more memory than this process may use)", err=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
