"""GeoJSON (RFC 7946) and CZML exports: geometry rules, antimeridian cuts, intervals vs the pass table."""

import itertools
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from constellation.coverage.tracks import ground_tracks, satellite_footprints, split_antimeridian
from constellation.output import exports
from constellation.output.tables import to_json, write_text_atomic
from constellation.api import find_passes, load_scenario, propagate, scenario_from_dict
from constellation.errors import InputError
from constellation.constants import EARTH_MEAN_RADIUS_KM
from constellation.core.timebase import parse_utc

ROOT = Path(__file__).resolve().parents[1]
WALKER = ROOT / "scenarios" / "walker-66-demo.toml"
MS = 1e-3

DECAYING = """
[scenario]
name = "decay"
start = 2024-01-01T00:00:00Z
end = 2024-01-02T00:00:00Z
[[satellites]]
name = "DRAGGY"          # 250 km with a huge B*: SGP4 reports decay ~6 h in
altitude_km = 250
inclination_deg = 51.6
bstar = 0.05
[[satellites]]
name = "HEALTHY"
altitude_km = 550
inclination_deg = 51.6
[[stations]]
name = "Matera"
min_elevation_deg = 10
"""


@pytest.fixture(scope="module")
def micius(micius_scenario, micius_passes):
    return micius_scenario, micius_passes


# --- an RFC 7946 checker (and a test that it catches what it should) ----------------------

def _ring_area(ring):
    """Signed shoelace area in (lon, lat): > 0 for counter-clockwise."""
    x, y = np.asarray(ring, dtype=float).T
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def _position_problems(p, where):
    if not (isinstance(p, list) and 2 <= len(p) <= 3 and all(isinstance(v, (int, float)) for v in p)):
        return [f"{where}: position must be [lon, lat(, alt)], found {p!r}"]
    lon, lat = p[0], p[1]
    out = []
    if not (-180.0 <= lon <= 180.0):
        out.append(f"{where}: longitude {lon} outside [-180, 180]")
    if not (-90.0 <= lat <= 90.0):
        out.append(f"{where}: latitude {lat} outside [-90, 90] (lon/lat swapped?)")
    return out


def _line_problems(line, where):
    out = [q for k, p in enumerate(line) for q in _position_problems(p, f"{where}[{k}]")]
    if len(line) < 2:
        out.append(f"{where}: a LineString needs >= 2 positions")
    elif not out:
        xy = np.asarray(line, dtype=float)
        jumps = np.abs(np.diff(xy[:, 0]))
        # An edge along latitude +/-90 is the pole itself (a polygon closed over a pole).
        at_pole = (np.abs(xy[:-1, 1]) == 90.0) & (xy[:-1, 1] == xy[1:, 1])
        jumps = np.where(at_pole, 0.0, jumps)
        if np.any(jumps > 180.0):
            out.append(f"{where}: a segment crosses the antimeridian (jump {jumps.max():.1f} deg)")
    return out


def _polygon_problems(rings, where):
    out = []
    for k, ring in enumerate(rings):
        out += _line_problems(ring, f"{where}[{k}]")
        if len(ring) < 4 or ring[0] != ring[-1]:
            out.append(f"{where}[{k}]: a linear ring needs >= 4 positions, first == last")
            continue
        area = _ring_area(ring)
        if k == 0 and area <= 0:
            out.append(f"{where}[0]: exterior ring must be counter-clockwise")
        if k > 0 and area >= 0:
            out.append(f"{where}[{k}]: hole must be clockwise")
    return out


def rfc7946_problems(obj) -> list:
    """Everything in ``obj`` (a FeatureCollection) that breaks RFC 7946; empty when fine."""
    out = []
    if "crs" in obj:
        out.append("'crs' member is not allowed (RFC 7946 4)")
    if obj.get("type") != "FeatureCollection" or not isinstance(obj.get("features"), list):
        return out + ["top level must be a FeatureCollection with a features array"]
    for i, feature in enumerate(obj["features"]):
        where = f"features[{i}]"
        if feature.get("type") != "Feature" or "properties" not in feature or "geometry" not in feature:
            out.append(f"{where}: Feature needs type, properties and geometry members")
            continue
        g = feature["geometry"]
        if g is None:
            continue
        kind, coords = g.get("type"), g.get("coordinates")
        if kind == "LineString":
            out += _line_problems(coords, where)
        elif kind == "MultiLineString":
            out += [q for k, line in enumerate(coords) for q in _line_problems(line, f"{where}[{k}]")]
        elif kind == "Polygon":
            out += _polygon_problems(coords, where)
        elif kind == "MultiPolygon":
            out += [q for k, poly in enumerate(coords) for q in _polygon_problems(poly, f"{where}[{k}]")]
        else:
            out.append(f"{where}: unexpected geometry type {kind}")
    return out


def _collection(geometry):
    return {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": geometry}]}


def test_the_rfc7946_checker_catches_bad_geometry():
    cw = [[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]
    assert any("counter-clockwise" in p for p in rfc7946_problems(_collection({"type": "Polygon", "coordinates": [cw]})))
    assert rfc7946_problems(_collection({"type": "Polygon", "coordinates": [cw[::-1]]})) == []
    swapped = {"type": "LineString", "coordinates": [[40.0, 117.0], [41.0, 118.0]]}
    assert any("swapped" in p for p in rfc7946_problems(_collection(swapped)))
    crossing = {"type": "LineString", "coordinates": [[179.0, 0.0], [-179.0, 1.0]]}
    assert any("antimeridian" in p for p in rfc7946_problems(_collection(crossing)))
    assert rfc7946_problems({**_collection(crossing), "crs": {}})[0].startswith("'crs'")


# --- antimeridian splitting -----------------------------------------------------------------

def test_split_eastward_and_westward_crossings_meet_at_the_interpolated_latitude():
    east = split_antimeridian([170.0, -170.0], [0.0, 10.0])
    assert [p.tolist() for p in east] == [[[170.0, 0.0], [180.0, 5.0]], [[-180.0, 5.0], [-170.0, 10.0]]]
    west = split_antimeridian([-175.0, 165.0], [-20.0, -40.0])  # 20 deg west: 5 then 15
    assert west[0][-1].tolist() == [-180.0, -25.0]
    assert west[1][0].tolist() == [180.0, -25.0]


def test_split_leaves_gaps_at_invalid_samples_and_drops_lone_points():
    lon = np.array([0.0, 10.0, 20.0, 30.0, np.nan, 50.0, 60.0])
    valid = np.array([True, True, False, True, True, True, True])
    pieces = split_antimeridian(lon, np.zeros(7), valid)
    assert [p[:, 0].tolist() for p in pieces] == [[0.0, 10.0], [50.0, 60.0]]
    assert split_antimeridian([], []) == []


def test_split_wraps_longitudes_and_handles_several_crossings():
    lon = np.array([350.0, 10.0, 170.0, 190.0, 200.0])   # 350 = -10; 190 = -170
    pieces = split_antimeridian(lon, np.arange(5.0))
    assert len(pieces) == 2
    assert all(np.all(np.abs(np.diff(p[:, 0])) <= 180.0) for p in pieces)
    assert pieces[0][0, 0] == -10.0 and pieces[0][-1, 0] == 180.0 and pieces[1][0, 0] == -180.0


# --- GeoJSON of tracks and footprints -------------------------------------------------------

def test_track_geojson_follows_rfc7946_and_is_cut_at_the_antimeridian(micius):
    scenario, _ = micius
    tracks = ground_tracks(scenario, end_s=3 * 5700.0, step_s=30.0)
    doc = exports.tracks_geojson(tracks, scenario.timebase)
    assert rfc7946_problems(doc) == []
    parts = doc["features"][0]["geometry"]["coordinates"]
    assert len(parts) >= 3  # three orbits cross the antimeridian at least twice
    for before, after in itertools.pairwise(parts):
        assert abs(before[-1][0]) == 180.0 and after[0][0] == -before[-1][0]
        assert after[0][1] == before[-1][1]
    props = doc["features"][0]["properties"]
    assert props["satellite"] == "MICIUS" and props["start_utc"] == "2016-12-19T00:00:00.000Z"
    # Sun-synchronous at 97.37 deg: the track turns at latitude 180 - 97.37 = 82.6 deg (geodetic ~82.7).
    lat = np.concatenate([np.asarray(p)[:, 1] for p in parts])
    assert 82.3 < lat.max() < 83.0 and -83.0 < lat.min() < -82.3
    json.dumps(doc, allow_nan=False)


def test_walker_tracks_all_valid_geojson():
    scenario = load_scenario(WALKER)
    doc = exports.tracks_geojson(ground_tracks(scenario, end_s=6000.0, step_s=60.0))
    assert len(doc["features"]) == 66
    assert rfc7946_problems(doc) == []


def _cap_angle_deg(h_km, el_deg, re_km=EARTH_MEAN_RADIUS_KM):
    el = np.radians(el_deg)
    return np.degrees(np.arccos(re_km * np.cos(el) / (re_km + h_km)) - el)


def test_footprints_are_counter_clockwise_caps_cut_at_the_antimeridian_and_closed_at_the_pole(micius):
    scenario, _ = micius
    tracks = ground_tracks(scenario, end_s=6000.0, step_s=10.0)
    lon, lat = tracks.longitude_deg[0], tracks.latitude_deg[0]
    near_180 = tracks.t_s[np.argmax(np.where(np.abs(lat) < 60, np.abs(lon), 0.0))]
    near_pole = tracks.t_s[np.argmax(lat)]
    for at_s, kind in ((near_180, "MultiPolygon"), (near_pole, "Polygon"), (1234.0, None)):
        feet = satellite_footprints(scenario, at_s)
        doc = exports.footprints_geojson(feet, scenario.timebase)
        assert rfc7946_problems(doc) == []
        geometry = doc["features"][0]["geometry"]
        if kind:
            assert geometry["type"] == kind
        radius = np.linalg.norm(propagate(scenario, [at_s]).r_km[0, 0])
        assert feet.cap_angle_deg[0] == pytest.approx(_cap_angle_deg(radius - EARTH_MEAN_RADIUS_KM, 10.0), abs=1e-9)
        assert doc["features"][0]["properties"]["min_elevation_deg"] == 10.0
    pole = exports.footprints_geojson(satellite_footprints(scenario, near_pole))["features"][0]
    assert max(p[1] for p in pole["geometry"]["coordinates"][0]) == 90.0
    cut = exports.footprints_geojson(satellite_footprints(scenario, near_180))["features"][0]
    edges = [p[0] for poly in cut["geometry"]["coordinates"] for p in poly[0]]
    assert 180.0 in edges and -180.0 in edges


def test_footprint_of_a_decayed_satellite_is_null(tmp_path):
    scenario = scenario_from_dict(tomllib.loads(DECAYING))
    feet = satellite_footprints(scenario, 20 * 3600.0)
    doc = exports.footprints_geojson(feet)
    assert doc["features"][0]["geometry"] is None          # DRAGGY decayed ~6 h in
    assert doc["features"][1]["geometry"]["type"] == "Polygon"
    assert rfc7946_problems(doc) == []
    path = tmp_path / "feet.geojson"
    write_text_atomic(path, to_json(doc))
    assert json.loads(path.read_text()) == doc


def test_unknown_satellite_is_an_input_error_with_a_hint(micius):
    scenario, _ = micius
    with pytest.raises(InputError, match="did you mean 'MICIUS'"):
        ground_tracks(scenario, satellites=["MICIU"])


# --- CZML -------------------------------------------------------------------------------------

def _t_s(scenario, iso):
    return float(scenario.timebase.t_s(parse_utc(iso)))


def _intervals(scenario, availability):
    items = [availability] if isinstance(availability, str) else availability
    return [tuple(_t_s(scenario, x) for x in item.split("/")) for item in items]


def test_czml_parses_and_its_intervals_match_the_pass_table(micius):
    scenario, passes = micius
    doc = json.loads(json.dumps(exports.czml_document(scenario, passes), allow_nan=False))
    ids = [p["id"] for p in doc]
    assert ids[0] == "document" and doc[0]["version"] == "1.0" and len(set(ids)) == len(ids)
    assert doc[0]["clock"]["interval"] == "2016-12-19T00:00:00.000Z/2016-12-21T00:00:00.000Z"
    by_id = {p["id"]: p for p in doc}
    for st, station in enumerate(scenario.stations):
        rows = np.flatnonzero(passes.station == st)
        access = _intervals(scenario, by_id[f"access/MICIUS/{station.name}"]["availability"])
        np.testing.assert_allclose(access, np.column_stack([passes.aos_s[rows], passes.los_s[rows]]), atol=MS)
        win = rows[passes.has_window[rows]]
        windows = _intervals(scenario, by_id[f"qkd-window/MICIUS/{station.name}"]["availability"])
        np.testing.assert_allclose(windows, np.column_stack([passes.window_start_s[win], passes.window_end_s[win]]),
                                   atol=MS)
        refs = by_id[f"access/MICIUS/{station.name}"]["polyline"]["positions"]["references"]
        assert [r.split("#")[0] for r in refs] == ["satellite/MICIUS", f"station/{station.name}"]
        assert by_id[f"station/{station.name}"]["position"]["cartographicDegrees"] == [
            station.longitude_deg, station.latitude_deg, station.elevation_m]


def test_czml_positions_are_the_earth_fixed_sgp4_states_in_metres(micius):
    scenario, _ = micius
    sat = next(p for p in exports.czml_document(scenario, step_s=120.0) if p["id"] == "satellite/MICIUS")
    position = sat["position"]
    assert position["referenceFrame"] == "FIXED" and position["epoch"] == "2016-12-19T00:00:00.000Z"
    samples = np.asarray(position["cartesian"]).reshape(-1, 4)
    assert np.all(np.diff(samples[:, 0]) > 0) and samples[0, 0] == 0.0
    assert samples[-1, 0] == pytest.approx(scenario.duration_s)
    expected = propagate(scenario, samples[:, 0]).r_km[0] * 1000.0
    np.testing.assert_allclose(samples[:, 1:], expected, atol=1e-3)
    assert _intervals(scenario, sat["availability"]) == [(0.0, pytest.approx(scenario.duration_s, abs=MS))]


def test_czml_availability_stops_where_propagation_fails():
    scenario = scenario_from_dict(tomllib.loads(DECAYING))
    passes = find_passes(scenario)
    doc = exports.czml_document(scenario, passes, start_s=-100.0, end_s=1e9, step_s=60.0)
    by_id = {p["id"]: p for p in doc}
    first_bad = 60.0 * np.flatnonzero(~propagate(scenario, np.arange(0, scenario.duration_s, 60.0)).valid[0])[0]
    draggy = _intervals(scenario, by_id["satellite/DRAGGY"]["availability"])
    assert len(draggy) == 1 and draggy[0][0] == 0.0 and draggy[0][1] < first_bad
    times = np.asarray(by_id["satellite/DRAGGY"]["position"]["cartesian"]).reshape(-1, 4)[:, 0]
    assert times.max() <= draggy[0][1] + MS
    healthy = _intervals(scenario, by_id["satellite/HEALTHY"]["availability"])
    assert healthy == [(0.0, pytest.approx(scenario.duration_s, abs=MS))]  # clipped to the scenario
    for packet in doc:
        if packet["id"].startswith(("access/DRAGGY", "qkd-window/DRAGGY")):
            assert all(b <= draggy[0][1] + MS for _, b in _intervals(scenario, packet["availability"]))


def test_czml_span_and_ids_with_hashes_are_escaped():
    text = DECAYING.replace('name = "HEALTHY"', 'name = "SAT#2"')
    scenario = scenario_from_dict(tomllib.loads(text))
    passes = find_passes(scenario)
    doc = exports.czml_document(scenario, passes, satellites=["SAT#2"], start_s=3600.0, end_s=7200.0)
    assert [p["id"] for p in doc if p["id"].startswith("satellite/")] == ["satellite/SAT#2"]
    assert doc[0]["clock"]["interval"] == "2024-01-01T01:00:00.000Z/2024-01-01T02:00:00.000Z"
    for packet in doc:
        if "polyline" in packet:
            assert packet["polyline"]["positions"]["references"][0] == "satellite/SAT\\#2#position"
            for a, b in _intervals(scenario, packet["availability"]):
                assert 3600.0 - MS <= a < b <= 7200.0 + MS
