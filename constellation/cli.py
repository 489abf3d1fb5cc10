"""Command line: ``constellation passes|run|stations``. The only module that touches argv
and exit codes: bad input exits 2 with one line on stderr, never a traceback."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import click

from . import __version__
from .errors import ConstellationError

DEFAULT_SCENARIO = "micius-2016-xinglong.toml"
FORMATS = click.Choice(["csv", "json"])


def default_scenario_path() -> Path:
    """The built-in default scenario shipped inside the package."""
    return Path(str(resources.files("constellation") / "data" / DEFAULT_SCENARIO))


def _table_options(func):
    func = click.option("-o", "--output", default="-", show_default=True, metavar="PATH|-",
                        help="Write the table to PATH (atomically) or '-' for stdout.")(func)
    return click.option("--format", "fmt", type=FORMATS, default="csv", show_default=True,
                        help="Table format.")(func)


def _scenario_argument(func):
    return click.argument("scenario", required=False, type=click.Path(dir_okay=False))(func)


def _load(path, need_satellites: bool = True):
    from .errors import InputError
    from .scenario.build import load_scenario

    scenario = load_scenario(path or default_scenario_path())
    if need_satellites and not scenario.satellites:
        raise InputError(scenario.source, "satellites", "at least one [[satellites]] entry (this file only has "
                         "[[designs]]: size it with `constellation size`)", "none")
    for warning in scenario.warnings:
        click.echo(f"warning: {warning}", err=True)
    return scenario


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
    from .api import find_passes
    from .output.tables import PASS_COLUMNS, emit, render_table

    scn = _load(scenario)
    table = find_passes(scn)
    emit(render_table(table.rows(scn.timebase), PASS_COLUMNS, fmt), output)


def _scenario_keys(scn, table, rows):
    from .api import compute_keys
    from .key.per_pass import key_rows

    keys = compute_keys(scn, table)
    return keys, key_rows(rows, keys)


@cli.command()
@_scenario_argument
@click.option("--loss-profile", type=click.Path(dir_okay=False), help="CSV with columns t_s,loss_db (your own channel).")
@click.option("--qkd", "qkd_file", type=click.Path(dir_okay=False), help="TOML file with a [qkd] table (with --loss-profile).")
@click.option("--daylight", is_flag=True, help="Use the day background for the loss profile.")
@click.option("--optimise", is_flag=True,
              help="Choose intensities, their probabilities and the basis bias that maximise the finite key "
                   "of the loss profile (bounds: constellation/optimise.py).")
@_table_options
def key(scenario, loss_profile, qkd_file, daylight, optimise, fmt, output):
    """Secure key per pass of SCENARIO, or of one loss profile taken as a single block."""
    from .output.tables import emit, render_table, to_json

    if loss_profile or qkd_file:
        if not (loss_profile and qkd_file) or scenario:
            found = ("SCENARIO too" if scenario else
                     "--loss-profile without --qkd" if loss_profile else "--qkd without --loss-profile")
            raise click.UsageError(f"expected --loss-profile PROFILE.csv with --qkd QKD.toml and no SCENARIO, found {found}")
    elif optimise:
        raise click.UsageError("--optimise works on one block: use it with --loss-profile and --qkd")
    if loss_profile:
        from .scenario.profile import read_loss_profile, read_qkd_file
        from .key.decoy_bb84 import key_for_profile

        params = read_qkd_file(qkd_file)
        loss_db, slot_s = read_loss_profile(loss_profile)
        settings = {}
        if optimise:
            from .key.optimise import optimise_protocol

            params = optimise_protocol(loss_db, slot_s, params, daylight=daylight).params
            settings = {"mu_signal": round(params.intensities[0], 4), "mu_decoy": round(params.intensities[1], 4),
                        "p_signal": round(params.probabilities[0], 4), "p_decoy": round(params.probabilities[1], 4),
                        "basis_probability_x": round(params.basis_probability_x, 4)}
        result = key_for_profile(loss_db, slot_s, params, daylight=daylight)
        row = {"slots": int(loss_db.size), "duration_s": round(float(slot_s.sum()), 6),
               "finite_key_bits": int(result.finite_key_bits), "asymptotic_key_bits": int(result.asymptotic_key_bits),
               "qber": round(result.qber, 6), "sifted_bits": int(result.sifted_bits), **settings}
        emit(to_json(row) if fmt == "json" else render_table([row], list(row), "csv"), output)
        return
    from .api import find_passes
    from .key.per_pass import KEY_COLUMNS

    scn = _load(scenario)
    table = find_passes(scn)
    _, rows = _scenario_keys(scn, table, table.rows(scn.timebase))
    emit(render_table(rows, KEY_COLUMNS, fmt), output)


@cli.command()
@_scenario_argument
@click.option("--timeline", is_flag=True, help="Write the key delivered per link and day instead.")
@_table_options
def network(scenario, timeline, fmt, output):
    """Key between station pairs through trusted-relay satellites ([[links]] of SCENARIO)."""
    from .api import find_passes, plan_network
    from .errors import InputError
    from .network.plan import link_rows, timeline_rows
    from .output.tables import emit, render_table

    scn = _load(scenario)
    if not scn.links:
        raise InputError(scn.source, "links", "at least one [[links]] entry (a, b)", "none")
    table = find_passes(scn)
    keys, _ = _scenario_keys(scn, table, table.rows(scn.timebase))
    plan = plan_network(scn, table, keys)
    rows = timeline_rows(plan) if timeline else link_rows(plan)
    emit(render_table(rows, list(rows[0]) if rows else [], fmt), output)


@cli.command()
@_scenario_argument
@click.option("--grid-deg", type=click.FloatRange(0.1, 30.0), help="Equal-area grid spacing (deg).")
@click.option("--min-elevation-deg", type=click.FloatRange(0.0, 90.0, max_open=True), help="Elevation mask (deg).")
@click.option("--night-only", is_flag=True, default=None, help="Count only coverage while the point is dark.")
@click.option("--stations", "stations_only", is_flag=True, default=None, help="Cover the scenario's stations instead of the globe.")
@click.option("-k", "k", type=click.IntRange(1, 100), help="Satellites needed in view at once (default 1).")
@click.option("--geojson", type=click.Path(dir_okay=False), help="Also write the footprints at the start (GeoJSON).")
@_table_options
def coverage(scenario, grid_deg, min_elevation_deg, night_only, stations_only, k, geojson, fmt, output):
    """Coverage fraction, revisit gaps and response time over a grid (CSV per point; JSON summary)."""
    from .api import compute_coverage
    from .output.tables import emit, render_table, to_json, write_text_atomic

    scn = _load(scenario)
    result = compute_coverage(scn, grid_deg=grid_deg, min_elevation_deg=min_elevation_deg,
                              night_only=night_only, stations_only=stations_only, k=k)
    shapes = _start_footprints(scn, min_elevation_deg)
    if fmt == "json":
        emit(to_json({**result.summary(), "latitude_bands": result.latitude_bands()}), output)
    else:
        emit(render_table(_columns_to_rows(result.table()), list(result.table()), "csv"), output)
    if geojson:
        write_text_atomic(geojson, to_json(shapes))


def _start_footprints(scn, min_elevation_deg):
    from .coverage.footprints import footprints_from_positions, footprints_geojson
    from .pipeline import propagator_for
    from .scenario.build import CoverageSpec

    min_el = (scn.coverage or CoverageSpec()).min_elevation_deg if min_elevation_deg is None else min_elevation_deg
    first = propagator_for(scn).states([0.0])
    shapes = footprints_from_positions(first.r_km[:, 0], min_elevation_deg=min_el)
    return footprints_geojson(shapes, [{"satellite": s.name, "time_utc": scn.timebase.utc_iso(0.0)[0],
                                        "min_elevation_deg": min_el} for s in scn.satellites])


def _columns_to_rows(columns: dict) -> list[dict]:
    names = list(columns)
    values = [list(v.tolist() if hasattr(v, "tolist") else v) for v in columns.values()]
    return [dict(zip(names, row)) for row in zip(*values)]


SIZE_OUTPUTS = ("sweep.jsonl", "designs.csv", "feasible.csv", "pareto.csv", "best_per_family.csv", "size.json",
                "pareto.png", "best.toml")


def _check_output_folder(out: Path, scn, marker: str = "summary.json", own=()) -> None:
    """Refuse to mix results: a non-empty folder must hold an earlier run of the same scenario
    (or, for ``size``, only its own files: an interrupted sweep has just its journal)."""
    import json

    from .errors import InputError

    if not out.exists() or not any(out.iterdir()):
        return
    if not (out / marker).exists() and own and all(
            p.name in own or (p.name.startswith(("best-", ".")) and p.is_file()) for p in out.iterdir()):
        return
    try:
        previous = json.loads((out / marker).read_text()).get("scenario_file")
    except (OSError, ValueError, AttributeError):
        previous = None
    if previous != scn.source:
        found = f"results of {previous}" if previous else "files that are not a constellation run"
        raise InputError(out, "-o", "an empty folder or one holding this scenario's earlier results "
                         "(use --force to write there anyway)", found)


PLOT_KINDS = click.Choice(["tracks", "sky", "timeline", "key", "coverage", "pareto", "compare"])


@cli.command()
@click.argument("kind", type=PLOT_KINDS, metavar="KIND")
@click.argument("scenario", required=False, type=click.Path(), metavar="[SCENARIO|RESULTS]")
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False),
              help="Image file (.png, .svg, .pdf); default KIND.png.")
@click.option("--station", help="Station for sky/key plots (default: the one with the longest QKD window).")
@click.option("--satellites", help="Comma-separated satellites for tracks (default: all).")
@click.option("--hours", type=click.FloatRange(min=0.01), help="Length of the tracks from the start (default: one orbit).")
@click.option("--region", is_flag=True, help="Zoom the map on the stations.")
def plot(kind, scenario, output, station, satellites, hours, region):
    """Draw KIND: ground tracks, a sky plot, the pass timeline, link and key along a pass, or coverage;
    or, from the output folder of `size` / `compare -o`, the Pareto front / the comparison."""
    from .plots import facade as plots
    from .api import find_passes

    path = output or f"{kind}.png"
    if kind in ("pareto", "compare"):
        plots.save_figure(_results_figure(kind, scenario), path)
        click.echo(f"wrote {path}")
        return
    scn = _load(scenario)
    if kind == "coverage":
        from .api import compute_coverage

        fig = plots.plot_coverage(compute_coverage(scn), stations=scn.stations)
    else:
        fig = _figure(plots, kind, scn, find_passes(scn), station, satellites, hours, region)
    plots.save_figure(fig, path)
    click.echo(f"wrote {path}")


def _results_figure(kind, where):
    """Pareto or comparison figure from a results folder (or its CSV)."""
    import csv

    from .errors import InputError
    from .plots.design import compare_table_from_rows, plot_compare, plot_pareto_rows

    name = "designs.csv" if kind == "pareto" else "compare.csv"
    made_by = "constellation size" if kind == "pareto" else "constellation compare -o DIR"
    if where is None:
        raise InputError("plot " + kind, "FOLDER", f"the output folder of {made_by} (or its {name})", "nothing")
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
        return plot_pareto_rows(rows, title=f"Design trade-offs ({path.parent.name})")
    return plot_compare(compare_table_from_rows(rows))


def _figure(plots, kind, scn, passes, station=None, satellites=None, hours=None, region=False):
    if kind == "tracks":
        chosen = [s.strip() for s in satellites.split(",")] if satellites else None
        end_s = None if hours is None else min(hours * 3600.0, scn.duration_s)
        extent = plots.stations_extent(scn.stations) if region else None
        return plots.plot_tracks(scn, satellites=chosen, end_s=end_s, extent_deg=extent, footprints_at_s=0.0,
                                 night_at_s=0.0)
    if kind == "timeline":
        return plots.plot_timeline(scn, passes)
    if kind == "sky" and station:
        return plots.plot_sky(scn, passes, station)
    row = plots.longest_window_pass(passes, station)
    if kind == "sky":
        return plots.plot_sky(scn, passes, passes.station_names[passes.station[row]])
    return plots.plot_key(scn, passes, row)


@cli.command()
@click.argument("kind", type=click.Choice(["geojson", "footprints", "czml"]), metavar="KIND")
@_scenario_argument
@click.option("-o", "--output", default="-", show_default=True, metavar="PATH|-", help="Output file or '-'.")
def export(kind, scenario, output):
    """Export ground tracks or footprints (GeoJSON, RFC 7946) or a Cesium CZML document."""
    from .output import exports
    from .api import find_passes
    from .output.tables import emit, to_json

    scn = _load(scenario)
    if kind == "geojson":
        document = exports.tracks_geojson(exports.ground_tracks(scn), scn.timebase)
    elif kind == "footprints":
        document = exports.footprints_geojson(exports.satellite_footprints(scn, 0.0), scn.timebase)
    else:
        document = exports.czml_document(scn, find_passes(scn))
    emit(to_json(document), output)


@cli.command()
@_scenario_argument
@click.option("--no-plots", is_flag=True, help="Skip the figures.")
@click.option("-o", "--output", "outdir", default="out", show_default=True, type=click.Path(file_okay=False),
              help="Output folder for passes.csv and summary.json.")
@click.option("--force", is_flag=True, help="Write into a folder that holds another scenario's results.")
def run(scenario, no_plots, outdir, force):
    """Run the whole job on SCENARIO and write its results to an output folder."""
    from .api import find_passes
    from .output.tables import PASS_COLUMNS, render_table, to_json, write_text_atomic
    from .output.summary import human_summary, summarise

    scn = _load(scenario)
    if not force:
        _check_output_folder(Path(outdir), scn)
    table = find_passes(scn)
    rows = table.rows(scn.timebase)
    outputs = {"passes.csv": render_table(rows, PASS_COLUMNS, "csv")}
    keys = None
    if scn.has_key_model:
        from .key.per_pass import KEY_COLUMNS

        pass_keys, keys = _scenario_keys(scn, table, rows)
        outputs["key.csv"] = render_table(keys, KEY_COLUMNS, "csv")
    links = None
    if scn.links:
        from .api import plan_network
        from .network.plan import link_rows, timeline_rows

        plan = plan_network(scn, table, pass_keys)
        links, days = link_rows(plan), timeline_rows(plan)
        outputs["network.csv"] = render_table(links, list(links[0]), "csv")
        outputs["network_timeline.csv"] = render_table(days, list(days[0]) if days else [], "csv")
    coverage_summary = None
    if scn.coverage is not None:
        from .api import compute_coverage

        coverage_result = compute_coverage(scn)
        shapes = _start_footprints(scn, None)
        coverage_summary = {**coverage_result.summary(), "latitude_bands": coverage_result.latitude_bands()}
        columns = coverage_result.table()
        outputs["coverage_points.csv"] = render_table(_columns_to_rows(columns), list(columns), "csv")
        outputs["coverage_summary.json"] = to_json(coverage_summary)
        outputs["footprints.geojson"] = to_json(shapes)
    summary = summarise(scn, table, rows, keys, links)
    if coverage_summary is not None:
        summary["coverage"] = {k: v for k, v in coverage_summary.items() if k != "latitude_bands"}
    outputs["summary.json"] = to_json(summary)
    figures = {}
    if not no_plots:
        from .plots import facade as plots

        kinds = ["tracks", "timeline"] + (["sky"] if table.has_window.any() else []) + \
            (["key"] if keys is not None and table.has_window.any() else [])
        figures = {f"{kind}.png": _figure(plots, kind, scn, table) for kind in kinds}
        if coverage_summary is not None:
            figures["coverage.png"] = plots.plot_coverage(coverage_result, stations=scn.stations)
    # Everything is computed before anything is written: a failure leaves old results as they were.
    out = Path(outdir)
    for name, text in outputs.items():
        write_text_atomic(out / name, text)
    for name, fig in figures.items():
        plots.save_figure(fig, out / name)
        outputs[name] = None
    click.echo(human_summary(summary))
    click.echo(f"wrote {', '.join(str(out / name) for name in outputs)}")


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "outdir", default="size-out", show_default=True, type=click.Path(file_okay=False),
              help="Output folder (its sweep.jsonl lets an interrupted sweep resume).")
@click.option("--workers", type=click.IntRange(1, 512), help="Local worker processes (default: CPU count; 1 = this process).")
@click.option("--scheduler", metavar="tcp://HOST:PORT",
              help="Run on this Dask scheduler instead (default: $CONSTELLATION_SCHEDULER).")
@click.option("--no-plots", is_flag=True, help="Skip the Pareto figure.")
@click.option("--fresh", is_flag=True, help="Ignore results saved by an earlier run in the folder.")
@click.option("--force", is_flag=True, help="Write into a folder that holds another scenario's results.")
def size(scenario, outdir, workers, scheduler, no_plots, fresh, force):
    """Search the [[designs]] of SCENARIO for the cheapest constellations meeting its [targets]."""
    import time

    from .errors import InputError
    from .sizing.search import size as run_sizing
    from .output.tables import write_text_atomic
    from .sizing.outputs import human_sizing_summary, problem_base, sizing_outputs
    from .sizing.runners import Journal, Problem, make_runner

    scn = _load(scenario, need_satellites=False)
    if not scn.designs:
        raise InputError(scn.source, "designs", "[[designs]] families to size (see scenarios/2027-global.toml)", "none")
    out = Path(outdir)
    if not force:
        _check_output_folder(out, scn, marker="size.json", own=SIZE_OUTPUTS)
    problem = Problem(problem_base(scn), scn.source, scn.sweep.key_slot_s, tuple(scn.targets.regions))
    journal = Journal(out / "sweep.jsonl", problem.fingerprint)
    if fresh and journal.path.exists():
        journal.path.unlink()
    started = time.perf_counter()
    runner = make_runner(problem, workers=workers, scheduler=scheduler)
    click.echo(f"sizing {len(scn.designs)} families on {runner.name}", err=True)

    def progress(done, total, message):
        click.echo(f"[{done}/{total}] {message}", err=True)

    try:
        result = run_sizing(scn, runner, journal, progress=progress)
    finally:
        runner.close()
    outputs = sizing_outputs(scn, result, runner.name, time.perf_counter() - started)
    figure = None
    if not no_plots:
        from .plots import design as plots_design

        figure = plots_design.plot_pareto(result, title=scn.name)
    for name, text in outputs.items():
        write_text_atomic(out / name, text)
    if figure is not None:
        from .plots.facade import save_figure

        save_figure(figure, out / "pareto.png")
        outputs["pareto.png"] = None
    click.echo(human_sizing_summary(outputs["size.json"]))
    click.echo(f"wrote {', '.join(str(out / name) for name in outputs)}")


@cli.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False),
              help="Also write compare.csv and compare.png into this folder.")
@click.option("--no-plots", is_flag=True, help="Skip the figure.")
def compare(scenarios, outdir, no_plots):
    """Put designs side by side: satellites, cost, key per link, latency, coverage, revisit."""
    from rich.console import Console
    from rich.table import Table

    from .sizing.compare import column_names, compare_designs, compare_rows
    from .output.tables import render_table, write_text_atomic

    loaded = [_load(path) for path in scenarios]
    table = compare_designs(loaded)
    rows = compare_rows(table)
    names = column_names(table)
    view = Table(title="designs compared (▲ best, ▼ worst)", show_lines=False)
    view.add_column("metric", no_wrap=True)
    view.add_column("unit")
    for name in names:
        view.add_column(name, justify="right", min_width=13)
    for row in rows:
        cells = []
        for name in names:
            text = _cell(row[name])
            if row.get("best") == name:
                text = f"[bold green]▲ {text}[/]"
            elif row.get("worst") == name:
                text = f"[red]▼ {text}[/]"
            cells.append(text)
        view.add_row(row["metric"], row["unit"], *cells)
    Console(width=max(100, 60 + 16 * len(names))).print(view)
    if outdir:
        out = Path(outdir)
        write_text_atomic(out / "compare.csv", render_table(rows, ["metric", "unit", "better", *names, "best", "worst"], "csv"))
        written = [out / "compare.csv"]
        if not no_plots:
            from .plots.facade import save_figure
            from .plots.design import plot_compare

            save_figure(plot_compare([{**d, "name": n} for d, n in zip(table, names)]), out / "compare.png")
            written.append(out / "compare.png")
        click.echo(f"wrote {', '.join(map(str, written))}")


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
    from .output.tables import emit, render_table
    from .scenario.stations import builtin_station, catalogue_names

    columns = ["name", "latitude_deg", "longitude_deg", "elevation_m", "aperture_m", "source"]
    rows = []
    for name in catalogue_names():
        s = builtin_station(name)
        rows.append(dict(name=s.name, latitude_deg=round(s.latitude_deg, 6), longitude_deg=round(s.longitude_deg, 6),
                         elevation_m=s.elevation_m, aperture_m=s.aperture_m, source=s.note))
    emit(render_table(rows, columns, fmt), output)


def main(argv=None) -> int:
    """Console entry point; returns the exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args:
        with click.Context(cli, info_name="constellation") as ctx:
            click.echo(cli.get_help(ctx))
        return 0
    try:
        cli.main(args=args, prog_name="constellation", standalone_mode=False)
    except ConstellationError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except click.UsageError as exc:
        where = f" ({exc.ctx.command_path})" if exc.ctx else ""
        click.echo(f"error{where}: {exc.format_message()}", err=True)
        return 2
    except click.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
