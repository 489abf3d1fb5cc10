"""Derive the shipped Natural Earth 110 m ``land`` and ``coastline`` layers, offline.

Cartopy's ``ax.coastlines(resolution="110m")`` reads
``<pre_existing_data_dir>/shapefiles/natural_earth/physical/ne_110m_coastline.shp``; the
cartopy wheel ships no such file and would download it. This script builds that file and
``ne_110m_land.shp`` from the public-domain ``naturalearth_lowres`` layer (Natural Earth
1:110m admin-0 countries) that ships inside the ``geopandas<1`` wheel
(``geopandas/datasets/naturalearth_lowres``) and, as a copy, the ``pyogrio`` wheel
(``pyogrio/tests/fixtures/naturalearth_lowres``):

- land = union of all country polygons (``shapely.union_all``); the only hole left is the
  Caspian Sea;
- coastline = every ring of the land, cut where it runs along the antimeridian
  (lon = +/-180) or along the south-pole edge (lat = -90) of Antarctica, which are
  edges of the map and not shores.

Usage (no network needed once the wheel is on disk)::

    pip download "geopandas<1" --no-deps -d /tmp/wheels
    python tools/make_naturalearth.py /tmp/wheels/geopandas-0.14.4-py3-none-any.whl

The source may be a wheel (``.whl``), a ``naturalearth_lowres.shp`` path, or omitted, in
which case an installed ``geopandas<1`` or ``pyogrio`` package is used. Needs only
``pyshp`` and ``shapely`` (both installed with cartopy).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np
import shapefile
import shapely
from shapely.geometry import LineString, shape
from shapely.geometry.polygon import orient

OUT = (Path(__file__).resolve().parents[1] / "constellation" / "data" / "naturalearth"
       / "shapefiles" / "natural_earth" / "physical")
LAYER = "naturalearth_lowres"
MEMBERS = ("geopandas/datasets/naturalearth_lowres/naturalearth_lowres",
           "pyogrio/tests/fixtures/naturalearth_lowres/naturalearth_lowres")
WGS84_PRJ = ('GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,'
             '298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]')
EDGE_TOL_DEG = 1e-6


def read_countries(source: str | None):
    """Country geometries (shapely) and a description of where they came from."""
    if source is None:
        for module in ("geopandas", "pyogrio"):
            try:
                root = Path(__import__(module).__file__).parent
            except ImportError:
                continue
            for member in MEMBERS:
                candidate = root.parent / (member + ".shp")
                if candidate.exists():
                    return read_countries(str(candidate))
        sys.exit("no source given and neither geopandas<1 nor pyogrio is installed; "
                 'run: pip download "geopandas<1" --no-deps -d /tmp/wheels, then pass the wheel')
    path = Path(source)
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            names = set(wheel.namelist())
            member = next((m for m in MEMBERS if m + ".shp" in names), None)
            if member is None:
                sys.exit(f"{path}: no {LAYER} layer inside (expected one of {MEMBERS})")
            parts = {ext: io.BytesIO(wheel.read(f"{member}.{ext}")) for ext in ("shp", "shx", "dbf")}
        origin = f"{path.name}:{member}.shp"
    else:
        parts = {ext: io.BytesIO(path.with_suffix(f".{ext}").read_bytes()) for ext in ("shp", "shx", "dbf")}
        origin = str(path)
    digest = hashlib.sha256(parts["shp"].getvalue()).hexdigest()
    reader = shapefile.Reader(shp=parts["shp"], shx=parts["shx"], dbf=parts["dbf"])
    geometries = [shape(s.__geo_interface__) for s in reader.shapes()]
    return geometries, f"{origin} (sha256 of .shp {digest[:16]}...)"


def _clamp(coords):
    """Longitudes into [-180, 180], latitudes into [-90, 90] (the source has 180.0000000001)."""
    return np.clip(coords, [-180.0, -90.0], [180.0, 90.0])


def land_polygons(countries) -> list:
    """The union of the countries as a list of Polygons (largest first)."""
    land = shapely.union_all([shapely.transform(c, _clamp) for c in countries])
    polygons = list(getattr(land, "geoms", [land]))
    return sorted(polygons, key=lambda p: -p.area)


def _artificial(a, b) -> bool:
    """True for a ring edge that lies on the map border (antimeridian or south pole)."""
    on_meridian = abs(abs(a[0]) - 180.0) < EDGE_TOL_DEG and abs(a[0] - b[0]) < EDGE_TOL_DEG
    on_pole = a[1] < -90.0 + EDGE_TOL_DEG and b[1] < -90.0 + EDGE_TOL_DEG
    return on_meridian or on_pole


def coastlines(polygons) -> list:
    """Shore lines: the land rings cut at edges that lie on the map border."""
    lines = []
    for polygon in polygons:
        for ring in [polygon.exterior, *polygon.interiors]:
            coords = np.asarray(ring.coords)
            keep = [not _artificial(coords[k], coords[k + 1]) for k in range(len(coords) - 1)]
            if all(keep):
                lines.append(LineString(coords))
                continue
            # Rotate the closed ring so it starts at a cut, then collect the runs of kept edges.
            first_cut = keep.index(False)
            n = len(keep)
            order = [(first_cut + 1 + k) % n for k in range(n)]
            run = []
            for edge in order:
                if keep[edge]:
                    if not run:
                        run.append(coords[edge])
                    run.append(coords[edge + 1])
                elif run:
                    lines.append(LineString(run))
                    run = []
            if run:
                lines.append(LineString(run))
    return [line for line in lines if line.length > 0.0]


def write(polygons, lines, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with shapefile.Writer(str(out / "ne_110m_land"), shapeType=shapefile.POLYGON) as w:
        w.field("featurecla", "C", size=16)
        for polygon in polygons:
            # ESRI shapefile rings: exteriors clockwise, holes counter-clockwise.
            p = orient(polygon, sign=-1.0)
            w.poly([list(p.exterior.coords)] + [list(h.coords) for h in p.interiors])
            w.record("Land")
    with shapefile.Writer(str(out / "ne_110m_coastline"), shapeType=shapefile.POLYLINE) as w:
        w.field("featurecla", "C", size=16)
        for line in lines:
            w.line([list(line.coords)])
            w.record("Coastline")
    for name in ("ne_110m_land", "ne_110m_coastline"):
        (out / f"{name}.prj").write_text(WGS84_PRJ)
        (out / f"{name}.cpg").write_text("UTF-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", help="geopandas<1 / pyogrio wheel or naturalearth_lowres.shp")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    args = parser.parse_args(argv)
    countries, origin = read_countries(args.source)
    polygons = land_polygons(countries)
    lines = coastlines(polygons)
    write(polygons, lines, args.out)
    size = sum(p.stat().st_size for p in args.out.iterdir())
    print(f"{len(countries)} countries from {origin}\n"
          f"-> {len(polygons)} land polygons, {len(lines)} coastlines, {size / 1024:.0f} KiB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
