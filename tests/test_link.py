"""Optical downlink loss: physics limits, then the Micius 2016 link (docs/references.md §2c, §2d, §10a)."""

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from constellation.errors import ParameterError
from constellation.key.atmosphere import zenith_transmittance
from constellation.key.link import (LinkParams, airmass_kasten_young, capture_fraction, link_loss,
                                    transmittance_from_db)
from constellation.scenario.presets import PRESETS
from constellation.scenario.receiver_params import ReceiverParams, SiteParams
from constellation.scenario.receivers import RECEIVERS
from constellation.scenario.stations import builtin_station

# The Micius 2016 link: the payload preset, into the Xinglong station's built-in receiver
# (observatory-1m, Liao 2017) under the Xinglong site's atmosphere (890 m, fitted zenith
# transmittance 0.58: constellation/scenario/stations.py).
MICIUS = PRESETS["micius"].link
XINGLONG = builtin_station("Xinglong")
XINGLONG_RX, XINGLONG_SITE = XINGLONG.receiver, XINGLONG.site
# A clear, dark sea-level site with no atmosphere: isolates the geometric terms.
VACUUM = SiteParams(zenith_transmittance=1.0)


def receiver(aperture_m, optics_transmittance=1.0):
    """The observatory-1m receiver with another aperture (and lossless optics by default)."""
    return dataclasses.replace(RECEIVERS["observatory-1m"], aperture_m=aperture_m,
                               optics_transmittance=optics_transmittance)


def micius_loss(range_km, elevation_deg, site=XINGLONG_SITE):
    return link_loss(range_km, elevation_deg, MICIUS, XINGLONG_RX, site)

# QNET digitisation of the Liao 2017 link loss, detector excluded (docs/references.md §2c,
# published code): tests/data/qnet_micius2017_loss.csv, loss against range and the track.
_QNET = np.genfromtxt(Path(__file__).parent / "data" / "qnet_micius2017_loss.csv", delimiter=",",
                      names=True, dtype=None, encoding="utf-8", comments="#")
QNET_LOSS_VS_RANGE = [(float(r), float(l)) for s, r, l in _QNET if s == "range_curve"]
QNET_TRACK = [(float(r), float(l)) for s, r, l in _QNET if s == "track"]
# Range -> elevation of the 19 Dec 2016 pass from the independent SGP4 reconstruction
# (docs/references.md §2d, derived); 1,200 km sits at 19.6/19.2 deg on the two sides: 19.4 deg.
RANGE_ELEVATION = [(645.5, 47.8), (656.0, 46.7), (724.0, 40.4), (857.0, 32.1), (1008.0, 25.2),
                   (1187.0, 19.6), (1197.0, 19.6), (1200.0, 19.4)]


def micius_elevation_deg(range_km):
    rng, el = np.array(RANGE_ELEVATION).T
    return np.interp(range_km, rng, el)


# --- air mass ---------------------------------------------------------------------------

def test_airmass_is_one_at_the_zenith():
    assert airmass_kasten_young(90.0) == pytest.approx(1.0, abs=1e-12)
    assert np.allclose(airmass_kasten_young(np.full((2, 3), 90.0)), 1.0, atol=1e-12)


def test_airmass_follows_kasten_young_at_low_elevation():
    # Kasten & Young, Appl. Opt. 28:4735 (1989): AM = 1/(cos z + 0.50572 (96.07995 - z)^-1.6364),
    # evaluated by hand here, divided by its zenith value 0.99971 (our normalisation, 3e-4).
    def published(z_deg):
        return 1.0 / (math.cos(math.radians(z_deg)) + 0.50572 * (96.07995 - z_deg) ** -1.6364)

    for elevation in [5.0, 10.0, 19.6]:
        expected = published(90.0 - elevation) / published(0.0)
        assert airmass_kasten_young(elevation) == pytest.approx(expected, rel=1e-12)
    # The formula's values: 5.587 at 10 deg, 2.960 at 19.6 deg; 37.92 at the horizon, where the
    # plane-parallel 1/sin(elevation) diverges (KY's own table: 38.09, within 0.5 %).
    assert airmass_kasten_young(10.0) == pytest.approx(5.587, abs=2e-3)
    assert airmass_kasten_young(19.6) == pytest.approx(2.960, abs=2e-3)
    assert airmass_kasten_young(0.0) == pytest.approx(38.09, rel=5e-3)


def test_airmass_tends_to_plane_parallel_high_up_and_stays_below_it_low_down():
    # Earth curvature makes KY 0.26 % below the secant at 30 deg, 0.03 % at 80 deg.
    high = np.array([30.0, 45.0, 60.0, 80.0])
    assert np.allclose(airmass_kasten_young(high), 1.0 / np.sin(np.radians(high)), rtol=3e-3)
    low = np.array([1.0, 3.0, 5.0])
    assert np.all(airmass_kasten_young(low) < 1.0 / np.sin(np.radians(low)))
    assert airmass_kasten_young(-3.0) == airmass_kasten_young(0.0)   # clipped, finite


def test_atmosphere_term_is_zenith_transmittance_times_airmass():
    # The site's given zenith transmittance T0, raised to the Kasten-Young air mass.
    params = LinkParams(wavelength_nm=850.0, tx_aperture_m=0.3)
    site = SiteParams(zenith_transmittance=0.5)
    loss = link_loss(600.0, [90.0, 30.0], params, receiver(1.0), site)
    assert loss.atmosphere_loss_db[0] == pytest.approx(10 * math.log10(2.0), rel=1e-12)
    assert loss.atmosphere_loss_db[1] == pytest.approx(
        10 * math.log10(2.0) * float(airmass_kasten_young(30.0)), rel=1e-12)
    # Xinglong's fitted T0 = 0.58: 2.37 dB at the zenith.
    xinglong = micius_loss(600.0, 90.0)
    assert float(xinglong.atmosphere_loss_db) == pytest.approx(-10 * math.log10(0.58), rel=1e-12)


def test_site_without_a_given_transmittance_uses_the_extinction_model():
    # T0 = exp(-(tau_Rayleigh + tau_aerosol)) at the wavelength (docs/physics.md): at 850 nm
    # 0.44 dB at sea level and 0.13 dB at Tenerife's 2,400 m. By hand: Hansen & Travis
    # tau_R(0.85 um) = 0.0167, Angstrom tau_a = 0.15 (850/550)^-1.3 = 0.0852, total 0.1019 ->
    # 0.443 dB; at 2,400 m 0.0167 exp(-2.4/8.4) + 0.0852 exp(-2.4/1.5) = 0.0298 -> 0.129 dB.
    # Tolerance 0.01 dB (rounding of the hand values).
    params = LinkParams(wavelength_nm=850.0, tx_aperture_m=0.3)
    sea = link_loss(600.0, 90.0, params, receiver(1.0), SiteParams())
    high = link_loss(600.0, 90.0, params, receiver(1.0), builtin_station("Tenerife").site)
    assert float(sea.atmosphere_loss_db) == pytest.approx(0.443, abs=0.01)
    assert float(high.atmosphere_loss_db) == pytest.approx(0.129, abs=0.01)
    assert float(sea.atmosphere_loss_db) == pytest.approx(
        -10 * math.log10(zenith_transmittance(SiteParams(), 850.0)), rel=1e-12)
    # The default site (no site given) is the sea-level model site.
    assert float(link_loss(600.0, 90.0, params, receiver(1.0)).atmosphere_loss_db) == pytest.approx(
        float(sea.atmosphere_loss_db), rel=1e-12)


# --- diffraction ------------------------------------------------------------------------

def test_diffraction_far_field_limit():
    # Far field, small receiver: capture -> 2 aR^2 / (theta L)^2 with theta = lambda/(pi w0),
    # i.e. pi^2 D_T^2 D_R^2 / (8 lambda^2 L^2) (twice the uniform-aperture Friis value).
    # At GEO range with a 0.1 m transmitter the capture is 1.4e-5: first-order error ~1e-5.
    lam, d_t, d_r, rng = 850e-9, 0.1, 1.0, 35786e3
    params = LinkParams(wavelength_nm=850.0, tx_aperture_m=d_t)
    expected = math.pi ** 2 * d_t ** 2 * d_r ** 2 / (8 * lam ** 2 * rng ** 2)
    got = transmittance_from_db(link_loss(rng / 1e3, 90.0, params, receiver(d_r), VACUUM).diffraction_loss_db)
    assert got == pytest.approx(expected, rel=1e-4)


def test_diffraction_near_field_and_rayleigh_range():
    # Within the Rayleigh range the beam keeps its waist: all of a 0.3 m beam enters a 1 m
    # receiver; at L = zR the radius is sqrt(2) w0.
    params = LinkParams(wavelength_nm=850.0, tx_aperture_m=0.3)
    assert float(link_loss(1e-3, 90.0, params, receiver(1.0)).diffraction_loss_db) < 1e-6
    w0 = 0.15
    z_r_km = math.pi * w0 ** 2 / 850e-9 / 1e3
    got = transmittance_from_db(link_loss(z_r_km, 90.0, params, receiver(0.02)).diffraction_loss_db)
    assert got == pytest.approx(float(capture_fraction(math.sqrt(2) * w0, 0.02)), rel=1e-9)


def test_given_divergence_is_the_far_field_and_a_derived_one_is_truncated():
    # A given divergence is the measured far field: equal to the diffraction limit of a 0.15 m
    # waist it gives the same loss as that waist alone (no aperture, untruncated). The same
    # waist derived from a 0.3 m aperture is a Gaussian truncated at one waist: Klein & Degnan
    # (1974) on-axis factor (1 - e^-1)^2 = 3.98 dB more, at every far-field range.
    base = LinkParams(wavelength_nm=850.0, tx_aperture_m=0.3)
    same = LinkParams(wavelength_nm=850.0, tx_aperture_m=0.3,
                      beam_divergence_urad=850e-9 / (math.pi * 0.15) * 1e6)
    waist = LinkParams(wavelength_nm=850.0, beam_waist_m=0.15)
    rng = np.linspace(300.0, 3000.0, 7)
    rx = receiver(1.0)
    assert np.allclose(link_loss(rng, 45.0, same, rx).loss_db, link_loss(rng, 45.0, waist, rx).loss_db)
    extra = link_loss(rng, 45.0, base, rx).loss_db - link_loss(rng, 45.0, waist, rx).loss_db
    assert np.allclose(extra, -20 * math.log10(1 - math.exp(-1.0)), rtol=1e-12)
    assert float(extra[0]) == pytest.approx(3.98, abs=0.005)


def _truncated_on_axis_ratio(alpha):
    """Fraunhofer on-axis field of a Gaussian exp(-r^2/w^2) cut at r = a = alpha w, over the
    untruncated one's, squared: by numerical quadrature of the aperture integral."""
    from scipy.integrate import quad

    cut, _ = quad(lambda r: math.exp(-r * r) * r, 0.0, alpha, epsabs=0.0, epsrel=1e-13)
    full, _ = quad(lambda r: math.exp(-r * r) * r, 0.0, np.inf, epsabs=0.0, epsrel=1e-13)
    return (cut / full) ** 2


@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.12, 1.5, 2.5])
def test_truncated_gaussian_far_field_matches_klein_degnan(alpha):
    # Klein & Degnan 1974 (Appl. Opt. 13:2134): far-field on-axis gain of a Gaussian of 1/e^2
    # radius w truncated by an aperture of radius a = alpha w, G = (4 pi A / lambda^2) g(alpha),
    # g = (2 / alpha^2)(1 - exp(-alpha^2))^2, max g = 0.8145 at alpha = 1.12 (their optimum).
    g = 2.0 / alpha ** 2 * (1.0 - math.exp(-alpha ** 2)) ** 2
    # The closed form against an independent quadrature of the Fraunhofer integral (1e-10).
    assert (1.0 - math.exp(-alpha ** 2)) ** 2 == pytest.approx(_truncated_on_axis_ratio(alpha), rel=1e-10)
    # Our link at GEO range (far field: 36,000 km >> pi w0^2 / lambda <= 0.3 km here) into a
    # 1 m receiver: the payload + diffraction terms give the Klein-Degnan gain times the
    # receiver area over 4 pi L^2. Tolerance 0.01 dB (the receiver's 1 - exp(-2 aR^2/w^2)
    # against the on-axis intensity, and w0^2 against (theta L)^2: both < 1e-3 here).
    a, wavelength, range_m = 0.05, 850e-9, 3.6e7
    params = LinkParams(wavelength_nm=850.0, tx_aperture_m=2 * a, beam_waist_m=a / alpha)
    loss = link_loss(range_m / 1e3, 90.0, params, receiver(1.0))
    ours_db = float(loss.payload_optics_loss_db + loss.diffraction_loss_db)
    gain = 4 * math.pi * math.pi * a ** 2 / wavelength ** 2 * g
    expected_db = -10 * math.log10(gain * math.pi * 0.5 ** 2 / (4 * math.pi * range_m ** 2))
    assert ours_db == pytest.approx(expected_db, abs=0.01)
    if alpha == 1.12:
        assert g == pytest.approx(0.8145, abs=5e-4)


def test_loss_grows_with_range_and_falls_with_elevation():
    rng = np.linspace(400.0, 2500.0, 50)
    total = micius_loss(rng, 30.0).loss_db
    assert np.all(np.diff(total) > 0)
    elevation = np.linspace(5.0, 90.0, 50)
    total = micius_loss(800.0, elevation).loss_db
    assert np.all(np.diff(total) < 0)


def test_larger_receiver_aperture_captures_more():
    # Far field: capture ~ aR^2, so doubling the aperture gains 6 dB (1 m -> 2 m at 1,000 km
    # with w ~ 9 m: second-order correction 2 aR^2/w^2 ~ 2 %, under 0.1 dB).
    one = float(link_loss(1000.0, 60.0, MICIUS, receiver(1.0), XINGLONG_SITE).diffraction_loss_db)
    two = float(link_loss(1000.0, 60.0, MICIUS, receiver(2.0), XINGLONG_SITE).diffraction_loss_db)
    assert one - two == pytest.approx(20 * math.log10(2.0), abs=0.1)


# --- pointing, turbulence, optics, bookkeeping ------------------------------------------

def test_pointing_loss_matches_the_jitter_average_in_the_far_field():
    # Gaussian jitter sigma per axis on a beam of half-angle theta, small receiver: the mean
    # capture falls by 1 / (1 + 4 sigma^2 / theta^2) (exact for a point receiver).
    sigma, theta = 3.0, 10.0
    params = LinkParams(wavelength_nm=850.0, tx_aperture_m=0.1,
                        beam_divergence_urad=theta, pointing_jitter_urad=sigma)
    got = float(link_loss(1000.0, 90.0, params, receiver(0.01)).pointing_loss_db)
    assert got == pytest.approx(10 * math.log10(1 + 4 * sigma ** 2 / theta ** 2), rel=1e-4)
    still = LinkParams(wavelength_nm=850.0, tx_aperture_m=0.1, beam_divergence_urad=theta)
    assert float(link_loss(1000.0, 90.0, still, receiver(0.01)).pointing_loss_db) == 0.0


def test_turbulence_broadening_is_off_by_default_and_costs_when_on():
    off = micius_loss([500.0, 1000.0], 40.0)
    assert XINGLONG_SITE.turbulence_urad is None
    assert np.all(off.turbulence_loss_db == 0.0)
    on = micius_loss([500.0, 1000.0], 40.0, dataclasses.replace(XINGLONG_SITE, turbulence_urad=5.0))
    assert np.all(on.turbulence_loss_db > 0.0)
    assert np.allclose(on.loss_db - off.loss_db, on.turbulence_loss_db)
    # Far field: a spread angle added in quadrature to divergence and jitter, as pointing is:
    # capture falls by (theta^2 + 4 sigma^2) / (theta^2 + 4 sigma^2 + t^2) (point receiver).
    params = LinkParams(wavelength_nm=850.0, tx_aperture_m=0.1, beam_divergence_urad=10.0,
                        pointing_jitter_urad=1.0)
    turbulent = SiteParams(zenith_transmittance=1.0, turbulence_urad=5.0)
    got = float(link_loss(1000.0, 90.0, params, receiver(0.01), turbulent).turbulence_loss_db)
    assert got == pytest.approx(10 * math.log10((100.0 + 4.0 + 25.0) / (100.0 + 4.0)), rel=1e-4)


def test_payload_and_receiver_optics_are_fixed_terms():
    # Receiver: -10 log10 of its optics transmittance (observatory-1m: 16 %, 7.96 dB; Liao 2017).
    loss = micius_loss([645.5, 1200.0], [47.8, 19.4])
    assert np.allclose(loss.receiver_optics_loss_db, -10 * math.log10(0.16), rtol=1e-12)
    assert np.all(loss.payload_optics_loss_db == 0.0)                 # Micius: no extra loss
    # Payload: its optics loss plus the truncation of the Gaussian by the transmit aperture.
    # high-orbit-60cm: 0.60 m aperture, 0.268 m waist (alpha = 1.12, Klein & Degnan 1974's
    # far-field optimum): on axis (1 - exp(-alpha^2))^2 = 0.511 of the untruncated beam,
    # 2.92 dB (of which the power outside the aperture, exp(-2 alpha^2) = 8.2 %, is 0.37 dB),
    # plus its 0.6 dB optics loss. jinan-1: aperture only, truncated at one waist, 3.98 dB.
    high = PRESETS["high-orbit-60cm"].link
    got = link_loss(20000.0, 60.0, high, receiver(1.0)).payload_optics_loss_db
    optics = high.tx_optics_loss_db
    expected = optics - 20 * math.log10(1 - math.exp(-(0.30 / 0.268) ** 2))
    assert float(got) == pytest.approx(expected, rel=1e-12)
    assert expected - optics == pytest.approx(2.92, abs=0.005)
    jinan = PRESETS["jinan-1"].link
    assert jinan.truncation_loss_db == pytest.approx(-20 * math.log10(1 - math.exp(-1.0)), rel=1e-12)


def test_terms_add_up_broadcast_and_keep_failures_local():
    rng = np.array([[600.0], [900.0], [np.nan]])
    elevation = np.array([60.0, 30.0, 15.0, 10.0])
    loss = micius_loss(rng, elevation)
    assert loss.loss_db.shape == (3, 4)
    parts = (loss.payload_optics_loss_db + loss.diffraction_loss_db + loss.pointing_loss_db
             + loss.turbulence_loss_db + loss.atmosphere_loss_db + loss.receiver_optics_loss_db)
    assert np.allclose(parts[:2], loss.loss_db[:2])
    assert np.all(np.isnan(loss.loss_db[2])) and np.all(np.isfinite(loss.loss_db[:2]))
    assert set(loss.as_dict()) == {"payload_optics_loss_db", "diffraction_loss_db", "pointing_loss_db",
                                   "turbulence_loss_db", "atmosphere_loss_db",
                                   "receiver_optics_loss_db", "loss_db"}
    scalar = micius_loss(700.0, 40.0)
    assert np.ndim(scalar.loss_db) == 0


def test_bad_link_parameters_say_what_is_expected():
    with pytest.raises(ParameterError, match="tx_aperture_m: expected a finite number > 0"):
        LinkParams(wavelength_nm=850.0, tx_aperture_m=-0.3)
    with pytest.raises(ParameterError, match="tx_aperture_m or beam_waist_m"):
        LinkParams(wavelength_nm=850.0)
    with pytest.raises(ParameterError, match="wavelength_nm: expected a wavelength from 500 to 1600 nm"):
        LinkParams(wavelength_nm=400.0, tx_aperture_m=0.3)
    with pytest.raises(ParameterError, match="wavelenght_nm: expected a known key .*'wavelength_nm'"):
        LinkParams.from_mapping({"wavelenght_nm": 850.0})
    # Keys that moved to the station say where they live now.
    with pytest.raises(ParameterError, match=r"^rx_aperture_m: .*station's receiver"):
        LinkParams.from_mapping({"wavelength_nm": 850, "tx_aperture_m": 0.3, "rx_aperture_m": 1.0})
    with pytest.raises(ParameterError, match=r"^zenith_transmittance: .*stations\[\]\.sky"):
        LinkParams.from_mapping({"wavelength_nm": 850, "tx_aperture_m": 0.3, "zenith_transmittance": 0.5})
    with pytest.raises(ParameterError, match=r"^turbulence: .*station's site"):
        LinkParams.from_mapping({"wavelength_nm": 850, "tx_aperture_m": 0.3, "turbulence": "off"})


def test_bad_site_parameters_say_what_is_expected():
    with pytest.raises(ParameterError, match=r"zenith_transmittance: expected a number in \(0, 1\]"):
        SiteParams(zenith_transmittance=1.5)
    with pytest.raises(ParameterError, match="elevation_m: expected an altitude"):
        SiteParams(elevation_m=1e5)
    with pytest.raises(ParameterError, match="turbulence_urad: expected a number >= 0"):
        SiteParams(turbulence_urad=-1.0)
    with pytest.raises(ParameterError, match='^turbulence: expected "off" or a broadening angle'):
        SiteParams.from_mapping({"turbulence": "strong"})
    assert SiteParams.from_mapping({"turbulence": "off"}).turbulence_urad is None
    assert SiteParams.from_mapping({"turbulence": 2.0}).turbulence_urad == 2.0


@pytest.mark.parametrize("field, value, expected", [
    ("aperture_m", -1.0, r"aperture_m: expected a number in \(0, 50\]"),
    ("aperture_m", 0.0, r"aperture_m: expected a number in \(0, 50\]"),
    ("optics_transmittance", 1.2, r"optics_transmittance: expected a number in \(0, 1\]"),
    ("optics_transmittance", math.nan, r"optics_transmittance: expected a number in \(0, 1\]"),
    ("detector_efficiency", 1.5, r"detector_efficiency: expected a number in \(0, 1\]"),
    ("detector_efficiency", 0.0, r"detector_efficiency: expected a number in \(0, 1\]"),
    ("gate_ns", 0.0, r"gate_ns: expected a number in \(0, 100\]"),
    ("field_of_view_urad", -5.0, r"field_of_view_urad: expected a number in \(0,"),
    ("filter_width_nm", 0.0, r"filter_width_nm: expected a number in \(0,"),
    ("dark_count_cps", -1.0, "dark_count_cps: expected a number >= 0"),
    ("timing_jitter_ps", math.inf, "timing_jitter_ps: expected a number >= 0"),
    ("afterpulse_probability", 0.5, r"afterpulse_probability: expected a probability in \[0, 0.5\)"),
    ("polarisation_error", 0.6, r"polarisation_error: expected a probability in \[0, 0.5\)"),
    ("detectors", 0, "detectors: expected a whole number from 1 to 64"),
    ("detectors", 2.0, "detectors: expected a whole number from 1 to 64"),
    ("wavelength_max_nm", 400.0, "wavelength_max_nm: expected a wavelength from 500 to 1600 nm"),
    ("wavelength_min_nm", 1200.0, r"wavelength_max_nm: expected a wavelength above wavelength_min_nm \(1200 nm\)"),
])
def test_bad_receiver_parameters_fail_with_a_value_error_naming_the_field(field, value, expected):
    # ParameterError is a ValueError: kernels and the scenario edge both catch it as one.
    with pytest.raises(ValueError, match=f"^{expected}"):
        dataclasses.replace(RECEIVERS["observatory-1m"], **{field: value})


def test_receiver_tables_name_the_missing_or_unknown_key():
    with pytest.raises(ParameterError, match=r"^optics_transmittance: expected a number \(required: start "
                                             r"from a receiver preset"):
        ReceiverParams.from_mapping({"aperture_m": 1.0})
    with pytest.raises(ParameterError,
                       match=r"^aperture_mm: expected a known key \(did you mean 'aperture_m'\?\)"):
        ReceiverParams.from_mapping({"aperture_mm": 1.0})
    with pytest.raises(ParameterError, match="^detectors: expected a whole number"):
        ReceiverParams.from_mapping({**dataclasses.asdict(RECEIVERS["observatory-1m"]), "detectors": 2.5})
    with pytest.raises(ParameterError, match="^gate_ns: expected a finite number"):
        ReceiverParams.from_mapping({**dataclasses.asdict(RECEIVERS["observatory-1m"]), "gate_ns": "2 ns"})
    full = dataclasses.asdict(RECEIVERS["observatory-1m"])
    assert ReceiverParams.from_mapping(full) == RECEIVERS["observatory-1m"]


# --- Micius 2016 (docs/references.md §2c) ------------------------------------------------

def test_micius_loss_at_645_and_1200_km():
    # QNET: 29.75 dB at 645 km and 40.34 dB at 1,200 km without the detector (32.8 / 43.3 dB
    # with its 3 dB). Our link: the Micius payload into Xinglong's observatory-1m receiver
    # (16 % optics, Liao 2017) under its fitted zenith transmittance; tolerance 2 dB
    # (docs/validation.md). Liao 2017 puts the atmosphere at 3-8 dB over the window.
    near_loss = micius_loss(645.5, 47.8)
    far_loss = micius_loss(1200.0, 19.4)
    near, far = float(near_loss.loss_db), float(far_loss.loss_db)
    assert near == pytest.approx(29.75, abs=2.0)
    assert far == pytest.approx(40.34, abs=2.0)
    detector_db = -10 * math.log10(XINGLONG_RX.detector_efficiency)
    assert detector_db == pytest.approx(10 * math.log10(2.0))      # Liao 2017: 50 %
    assert near + detector_db == pytest.approx(32.8, abs=2.0)
    assert far + detector_db == pytest.approx(43.3, abs=2.0)
    for term in (near_loss, far_loss):
        assert 3.0 <= float(term.atmosphere_loss_db) <= 8.0


def test_micius_loss_rise_from_645_to_1200_km_needs_no_fitting():
    # The rise (10.6 dB in QNET) depends only on geometry and the zenith transmittance: in
    # the far field (w ~ 6-11 m against a 1 m receiver) diffraction rises by 20 log10(1200/645.5)
    # = 5.39 dB, pointing is a constant fraction, and the atmosphere adds
    # -10 log10(T0) (AM(19.4) - AM(47.8)). With T0 = 0.5 (SatOptLink's value, independent of
    # any fit) we get 10.3 dB; tolerance 1 dB.
    satoptlink = SiteParams(elevation_m=890.0, zenith_transmittance=0.5)
    rise = micius_loss([645.5, 1200.0], [47.8, 19.4], satoptlink).loss_db
    assert rise[1] - rise[0] == pytest.approx(40.34 - 29.75, abs=1.0)
    # And the decomposition itself, for any site (Xinglong's fitted T0 here): to 0.05 dB (the
    # near-field correction of the capture, 2 aR^2 / w^2 < 1 %).
    loss = micius_loss([645.5, 1200.0], [47.8, 19.4])
    airmass = airmass_kasten_young([47.8, 19.4])
    expected = (20 * math.log10(1200.0 / 645.5)
                - 10 * math.log10(XINGLONG_SITE.zenith_transmittance) * (airmass[1] - airmass[0]))
    assert loss.loss_db[1] - loss.loss_db[0] == pytest.approx(expected, abs=0.05)


def test_micius_loss_follows_the_qnet_curve_on_average():
    # The 22 QNET samples (645-1,200 km) scatter by ~1 dB between neighbours (886.1 km: 31.80,
    # 900 km: 32.28, 864.1 km: 32.10), so a smooth model is held to the curve's level and
    # spread: mean error within 1 dB and rms within 1.2 dB (the bound of the earlier fit to
    # the curve alone). The ends are held to the 2 dB (test above). Known and stated
    # in docs/validation.md: Micius is fitted end to end to Liao 2017's sifted and final key,
    # which puts the model 0.7 dB above the curve on average and 2.5 dB above it at 967 km;
    # fitting the curve exactly (divergence 7.75 urad, zenith transmittance 0.55) would give
    # ~18 % more sifted key than Liao measured.
    rng, qnet = np.array(QNET_LOSS_VS_RANGE + QNET_TRACK).T
    model = micius_loss(rng, micius_elevation_deg(rng)).loss_db
    error = model - qnet
    assert abs(np.mean(error)) < 1.0
    assert np.sqrt(np.mean(error ** 2)) < 1.2


