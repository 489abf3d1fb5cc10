"""Footprints: cap angle, polygon geometry at the antimeridian and the poles, area, GeoJSON."""

import json
import math

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box

from constellation.constants import EARTH_MEAN_RADIUS_KM
from constellation.coverage import caps
from constellation.coverage import footprints as fp
from constellation.errors import ParameterError

R = EARTH_MEAN_RADIUS_KM


@pytest.mark.parametrize("altitude_km, el_deg", [(550.0, 20.0), (500.0, 10.0), (1200.0, 0.0),
                                                 (35786.0, 0.0), (20000.0, 30.0)])
def test_cap_angle_matches_the_nadir_angle_form(altitude_km, el_deg):
    # Independent textbook form (Wertz, Space Mission Analysis and Design, sec. 5.2):
    # nadir angle eta = asin(sin(rho) cos(el)) with sin(rho) = R / (R + h); lambda = 90 - el - eta.
    eta = math.degrees(math.asin(R / (R + altitude_km) * math.cos(math.radians(el_deg))))
    assert caps.cap_angle_deg(altitude_km, el_deg) == pytest.approx(90.0 - el_deg - eta, abs=1e-10)
    # The inverse gives back the mask.
    lam = caps.cap_angle_deg(altitude_km, el_deg)
    assert caps.min_elevation_for_cap_deg(altitude_km, lam) == pytest.approx(el_deg, abs=1e-9)


def test_cap_angle_known_values_and_broadcasting():
    # GEO at the horizon: arccos(R / (R + h)) = 81.3 deg (the classic "81 deg" visibility limit).
    assert caps.cap_angle_deg(35786.0, 0.0) == pytest.approx(81.30, abs=0.01)
    # Zenith-only mask approaches zero; lower masks give larger caps.
    angles = caps.cap_angle_deg(550.0, np.array([0.0, 10.0, 20.0, 40.0, 89.9]))
    assert angles.shape == (5,) and np.all(np.diff(angles) < 0) and angles[-1] < 0.01
    grid = caps.cap_angle_deg(np.array([[400.0], [800.0]]), np.array([10.0, 20.0, 30.0]))
    assert grid.shape == (2, 3) and np.all(grid[1] > grid[0])


@pytest.mark.parametrize("bad", [90.0, 95.0, -1.0, float("nan")])
def test_mask_out_of_range_is_an_input_error(bad):
    with pytest.raises(ParameterError, match="min_elevation_deg: expected an elevation mask in \\[0, 90\\) deg"):
        caps.cap_angle_deg(550.0, bad)


def test_bad_cap_angle_and_altitude():
    with pytest.raises(ParameterError, match="cap angle in \\[0, 90\\)"):
        fp.footprint(0.0, 0.0, 95.0)
    with pytest.raises(ParameterError, match="altitude"):
        caps.cap_angle_deg(-10.0, 20.0)


def test_polygon_area_is_exact_for_a_lon_lat_box():
    # A lon/lat box has area R^2 dlon (sin lat2 - sin lat1) exactly.
    area = fp.polygon_area_km2(box(-30.0, 10.0, 50.0, 60.0))
    assert area == pytest.approx(R**2 * math.radians(80.0) * (math.sin(math.radians(60)) - math.sin(math.radians(10))),
                                 rel=1e-12)


@pytest.mark.parametrize("lat, lon, angle", [(85.0, 40.0, 15.0), (90.0, 0.0, 20.0), (-80.0, -170.0, 25.0),
                                             (0.0, 0.0, 10.115), (30.0, 179.0, 20.0), (5.0, 60.0, 81.3)])
def test_footprint_area_matches_the_spherical_cap(lat, lon, angle):
    # Polar caps (the first three) are closed along the pole edge; area still 2 pi R^2 (1 - cos lambda).
    geom = fp.footprint(lat, lon, angle, n_vertices=180)
    assert fp.polygon_area_km2(geom) == pytest.approx(float(caps.cap_area_km2(angle)), rel=0.01)
    # Inscribed 180-gon: relative area deficit ~ (2 pi / 180)^2 / 6 = 2e-4, far below the 1 % asked.
    assert fp.polygon_area_km2(geom) == pytest.approx(float(caps.cap_area_km2(angle)), rel=3e-4)


CASES = [(0.0, 179.5), (0.0, -179.9), (10.0, 180.0), (-20.0, -180.0), (75.0, 179.0), (89.0, 30.0),
         (-89.0, -120.0), (90.0, 0.0), (-90.0, 45.0), (80.0, -180.0), (84.9, 0.0), (0.0, 0.0)]


@pytest.mark.parametrize("lat, lon", CASES)
def test_footprints_are_valid_ccw_and_hold_the_subsatellite_point(lat, lon):
    angle = 15.0
    geom = fp.footprint(lat, lon, angle)
    assert geom.is_valid and not geom.is_empty
    lon_w = (lon + 180.0) % 360.0 - 180.0
    centre = Point(lon_w, lat)
    # A centre exactly on +/-180 lies on the cut edge: covered, not strictly inside.
    assert geom.covers(centre)
    if abs(lon_w) < 179.95 and abs(lat) < 90.0:
        assert geom.contains(centre)
    minx, miny, maxx, maxy = geom.bounds
    assert -180.0 <= minx and maxx <= 180.0 and -90.0 <= miny and maxy <= 90.0
    parts = list(getattr(geom, "geoms", [geom]))
    assert all(shapely.is_ccw(p.exterior) for p in parts)  # RFC 7946 exteriors
    polar = abs(lat) + angle > 90.0
    crosses = not polar and abs(lon_w) + np.degrees(np.arcsin(np.sin(np.radians(angle)) / np.cos(np.radians(lat)))) > 180.0
    if polar:
        assert geom.geom_type == "Polygon" and (maxy == 90.0 if lat > 0 else miny == -90.0)
        assert (minx, maxx) == (-180.0, 180.0)
    elif crosses:
        assert geom.geom_type == "MultiPolygon" and len(parts) == 2
        assert minx == -180.0 and maxx == 180.0
    else:
        assert geom.geom_type == "Polygon"


def test_boundary_vertices_lie_at_the_cap_angle():
    lat0, lon0, angle = 50.0, 170.0, 20.0
    geom = fp.footprint(lat0, lon0, angle, n_vertices=90)
    centre = np.array([np.cos(np.radians(lat0)) * np.cos(np.radians(lon0)),
                       np.cos(np.radians(lat0)) * np.sin(np.radians(lon0)), np.sin(np.radians(lat0))])
    for part in geom.geoms:
        lon, lat = np.radians(np.asarray(part.exterior.coords).T)
        on_cut = np.isclose(np.abs(np.degrees(lon)), 180.0)
        xyz = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)
        dist = np.degrees(np.arccos(np.clip(xyz @ centre, -1, 1)))
        assert np.allclose(dist[~on_cut], angle, atol=1e-9)
        assert np.all(dist[on_cut] <= angle + 1e-9)  # cut vertices are inside the cap


def test_footprints_vectorised_and_from_positions():
    lat = np.array([0.0, 45.0, 88.0, -60.0])
    lon = np.array([10.0, 179.0, -20.0, -179.0])
    geoms = fp.footprints(lat, lon, 12.0)
    assert len(geoms) == 4 and all(g.is_valid for g in geoms)
    assert [g.geom_type for g in geoms] == ["Polygon", "MultiPolygon", "Polygon", "MultiPolygon"]
    # A satellite 550 km above (lat 0, lon 0): footprint centred there, half-width = cap angle.
    r = np.array([[R + 550.0, 0.0, 0.0]])
    (g,) = fp.footprints_from_positions(r, 20.0)
    half = float(caps.cap_angle_deg(550.0, 20.0))
    assert g.bounds == pytest.approx((-half, -half, half, half), abs=1e-6)
    assert fp.footprints(0.0, 0.0, 0.0)[0].is_empty


def test_geojson_feature_collection():
    geoms = fp.footprints([0.0, 89.0], [179.0, 0.0], 15.0)
    fc = fp.footprints_geojson(geoms, [{"satellite": "A"}, {"satellite": "B"}])
    text = json.dumps(fc)  # serialisable as is
    back = json.loads(text)
    assert back["type"] == "FeatureCollection" and len(back["features"]) == 2
    first, second = back["features"]
    assert first["geometry"]["type"] == "MultiPolygon" and first["properties"] == {"satellite": "A"}
    assert second["geometry"]["type"] == "Polygon"
    ring = np.asarray(second["geometry"]["coordinates"][0])
    assert shapely.is_ccw(shapely.LinearRing(ring))
    assert ring[:, 1].max() == 90.0
    with pytest.raises(ParameterError, match="one dict per geometry"):
        fp.footprints_geojson(geoms, [{}])
