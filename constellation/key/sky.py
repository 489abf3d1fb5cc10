"""Clear-sky background: spectral radiance of the sky along a line of sight, and the
background clicks it gives a receiver (numpy only).

Three parts add up (docs/physics.md, docs/references.md §13):

- **Scattered sunlight and moonlight**, with the geometry of Krisciunas & Schaefer (1991,
  PASP 103:1033, Eqs. 15-21): a source of illuminance ``I*`` at zenith distance ``Z_s`` and
  angle ``rho`` from the line of sight (zenith distance ``Z``) gives
  ``B ~ f(rho) I* 10**(-0.4 k X(Z_s)) [1 - 10**(-0.4 k_V X(Z))]`` with
  ``f(rho) = 10**5.36 (1.06 + cos**2 rho) + 10**(6.15 - rho / 40)`` (Rayleigh and aerosol
  terms, carried to the signal wavelength by ``lambda**-4.08`` and ``lambda**-1.3``; rho in
  degrees, taken >= 5 deg) and ``X(Z) = (1 - 0.96 sin**2 Z)**-0.5``. The Moon's illuminance
  falls with its phase angle ``alpha`` (Eq. 20):
  ``I* = 10**(-0.4 (3.84 + 0.026 |alpha| + 4e-9 alpha**4))`` foot-candles; the Sun's is
  127,000 lux. The level at each wavelength is set by ITU-R P.1621-2 (Table 1, "normal
  sunshine" zenith radiance: 42.58 W m^-2 sr^-1 um^-1 at 850 nm, 6.00 at 1,500 nm), taken as
  the zenith with the Sun 45 deg high over the default site (aerosol optical depth 0.15 at
  sea level): K&S gives the shape with the Sun's and Moon's positions, ITU the brightness.
  Moonlight is scaled from sunlight with the Moon's illuminance, so its level is tied to the
  ITU day sky: probably ~2x too bright in the near infrared (review of issue 13), which is
  conservative for moonlit nights.
- **Twilight**: with the Sun below the horizon, its scattered light is that of the Sun at the
  horizon dimmed by ``TWILIGHT_DECLINE``, from the I-band zenith twilight of Patat et al.
  (2006, A&A 455:385, Table 4: ``m = 10.93 + 1.470 dz - 0.062 dz**2`` mag/arcsec^2 with
  ``dz`` the Sun's zenith distance minus 95 deg), extrapolated linearly outside 95-105 deg.
- **Natural night sky** (airglow, zodiacal light, starlight) by photometric band at a dark
  site, brightened by the site's ``night_sky_brightening_mag`` (light pollution).

The model covers 500-1,600 nm (the ITU table spans 530-1,500 nm; it is extended in log at
its end slopes). Clouds, haze beyond the site's aerosol depth, multiple scattering near the
horizon and the Sun's glare within 5 deg of the line of sight are not modelled.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TWILIGHT_DECLINE", "background_click_rate_cps", "itu_day_radiance", "moon_illuminance_fc",
           "night_sky_radiance", "scattered_radiance", "sky_radiance"]

SUN_ILLUMINANCE_FC = 127_000.0 / 10.764        # 127 klx outside the atmosphere, in foot-candles
_H_C = 6.62607015e-34 * 299792458.0             # J m
_RAYLEIGH_EXPONENT = 4.08
_MIE_EXPONENT = 1.3

# ITU-R P.1621-2 Table 1, "normal sunshine" zenith sky radiance (W m^-2 sr^-1 nm^-1).
_ITU_NM = np.array([530.0, 850.0, 965.0, 1060.0, 1500.0])
_ITU_W_M2_SR_NM = np.array([101.6, 42.58, 25.12, 25.32, 6.00]) * 1e-3
# The geometry those values are taken for: zenith view, Sun 45 deg high (assumption: the
# recommendation gives no geometry), over the default site (see scattered_radiance).
_REFERENCE_SUN_ZENITH_DEG = 45.0
# Below 30 deg of depression the twilight term (10**-9.6 of the day sky) is < 0.3 % of the night sky.
SUN_NEGLIGIBLE_BELOW_DEG = 30.0

# Decline of the twilight sky with the Sun's elevation (deg): log10 of the brightness relative
# to the Sun at the horizon; linear in between and beyond the last point (Patat et al. 2006,
# I band, 1.47 mag/deg at 95 deg extrapolated back to the horizon).
TWILIGHT_DECLINE = ((0.0, 0.0), (-5.0, -2.94), (-10.0, -5.26), (-15.0, -6.34))

# Natural dark-sky brightness (Vega mag per arcsec^2) by band: V, R, I (Patat 2008, A&A
# 481:575, Paranal dark time: 21.6, 20.9, 19.7), J, H, Ks (Cuby et al. 2000, ESO Messenger
# 101:2); band centres (nm) and Vega zero points in W m^-2 nm^-1 (Bessell, Castelli & Plez
# 1998, A&A 333:231, Table A2). Ic 19.7 gives 6.3e-9 W m^-2 sr^-1 nm^-1 at 806 nm, 3-6x
# ITU-R P.1621-2's night value ((1-2)e-9), 3.75-7.5x at 850 nm: a conservative (bright) night.
_NIGHT_BANDS_NM = np.array([551.0, 658.0, 806.0, 1220.0, 1630.0, 2190.0])
_NIGHT_MAG_ARCSEC2 = np.array([21.6, 20.9, 19.7, 16.5, 14.4, 13.0])
_VEGA_W_M2_NM = np.array([3.631e-11, 2.177e-11, 1.126e-11, 3.147e-12, 1.138e-12, 3.961e-13])
_ARCSEC2_PER_SR = (180.0 / np.pi * 3600.0) ** 2


def itu_day_radiance(wavelength_nm):
    """ITU-R P.1621-2 "normal sunshine" zenith radiance (W m^-2 sr^-1 nm^-1), log-interpolated."""
    lam = np.asarray(wavelength_nm, dtype=float)
    x, y = np.log(_ITU_NM), np.log(_ITU_W_M2_SR_NM)
    inside = np.interp(np.log(lam), x, y)
    low = y[0] + (y[1] - y[0]) / (x[1] - x[0]) * (np.log(lam) - x[0])
    high = y[-1] + (y[-1] - y[-2]) / (x[-1] - x[-2]) * (np.log(lam) - x[-1])
    return np.exp(np.where(lam < _ITU_NM[0], low, np.where(lam > _ITU_NM[-1], high, inside)))


def moon_illuminance_fc(phase_angle_deg):
    """Illuminance of the Moon outside the atmosphere (foot-candles); 0 deg is full Moon
    (Krisciunas & Schaefer 1991, Eq. 20)."""
    a = np.abs(np.asarray(phase_angle_deg, dtype=float))
    return 10.0 ** (-0.4 * (3.84 + 0.026 * a + 4e-9 * a ** 4))


def _airmass_ks(zenith_deg):
    z = np.radians(np.clip(np.asarray(zenith_deg, dtype=float), 0.0, 90.0))
    return (1.0 - 0.96 * np.sin(z) ** 2) ** -0.5


def _ks_brightness(source_fc, source_zenith_deg, separation_deg, view_zenith_deg, wavelength_nm,
                   extinction_v, extinction):
    """Krisciunas & Schaefer scattered brightness (nanolamberts; the Rayleigh and aerosol
    terms scaled to the wavelength)."""
    rho = np.clip(np.asarray(separation_deg, dtype=float), 5.0, 180.0)
    scale = 550.0 / float(wavelength_nm)
    rayleigh = 10.0 ** 5.36 * (1.06 + np.cos(np.radians(rho)) ** 2) * scale ** _RAYLEIGH_EXPONENT
    mie = 10.0 ** (6.15 - rho / 40.0) * scale ** _MIE_EXPONENT
    dimmed = 10.0 ** (-0.4 * extinction * _airmass_ks(source_zenith_deg))
    scattered = -np.expm1(-0.4 * np.log(10.0) * extinction_v * _airmass_ks(view_zenith_deg))
    return (rayleigh + mie) * source_fc * dimmed * scattered


def scattered_radiance(source_fc, source_zenith_deg, separation_deg, view_zenith_deg, wavelength_nm,
                       extinction_v, extinction, reference_extinction):
    """Spectral radiance (W m^-2 sr^-1 nm^-1) of a source's light scattered into the line of sight.

    ``extinction_v`` and ``extinction`` are the site's extinction coefficients (mag per air
    mass) at 550 nm and at ``wavelength_nm``; ``reference_extinction`` the same pair for the
    sky the ITU value stands for. Broadcasts.
    """
    ref_v, ref = reference_extinction
    reference = _ks_brightness(SUN_ILLUMINANCE_FC, _REFERENCE_SUN_ZENITH_DEG, _REFERENCE_SUN_ZENITH_DEG, 0.0,
                               wavelength_nm, ref_v, ref)
    here = _ks_brightness(source_fc, source_zenith_deg, separation_deg, view_zenith_deg, wavelength_nm,
                          extinction_v, extinction)
    return here / reference * itu_day_radiance(wavelength_nm)


def night_sky_radiance(wavelength_nm, brightening_mag=0.0):
    """Moonless night-sky spectral radiance (W m^-2 sr^-1 nm^-1), interpolated in log between bands."""
    per_band = _VEGA_W_M2_NM * 10.0 ** (-0.4 * _NIGHT_MAG_ARCSEC2) * _ARCSEC2_PER_SR
    value = np.exp(np.interp(float(wavelength_nm), _NIGHT_BANDS_NM, np.log(per_band)))
    return value * 10.0 ** (0.4 * brightening_mag)


def _twilight_log10(sun_elevation_deg):
    points = np.array(TWILIGHT_DECLINE)
    elev, level = points[::-1, 0], points[::-1, 1]          # increasing elevation for interp
    h = np.asarray(sun_elevation_deg, dtype=float)
    slope = (level[1] - level[0]) / (elev[1] - elev[0])
    below = level[0] + slope * (h - elev[0])
    return np.where(h < elev[0], below, np.interp(h, elev, level))


def sky_radiance(wavelength_nm, view_zenith_deg, sun_zenith_deg, sun_separation_deg,
                 moon_zenith_deg, moon_separation_deg, moon_phase_deg, extinction_v, extinction,
                 reference_extinction, brightening_mag=0.0):
    """Clear-sky spectral radiance (W m^-2 sr^-1 nm^-1) along a line of sight: Sun (day or
    twilight) + Moon (above the horizon) + the night sky. Angles in degrees; broadcasts."""
    sun_zenith = np.asarray(sun_zenith_deg, dtype=float)
    moon_zenith = np.asarray(moon_zenith_deg, dtype=float)
    shape = np.broadcast_shapes(sun_zenith.shape, np.shape(sun_separation_deg), moon_zenith.shape,
                                np.shape(moon_separation_deg), np.shape(view_zenith_deg), np.shape(moon_phase_deg))

    def pick(x, where):
        return np.broadcast_to(np.asarray(x, dtype=float), shape)[where]

    sun = np.zeros(shape)
    lit = np.broadcast_to(sun_zenith < 90.0 + SUN_NEGLIGIBLE_BELOW_DEG, shape)
    if lit.any():                       # below -30 deg the Sun adds < 0.3 % to the night sky
        elevation = 90.0 - pick(sun_zenith, lit)
        dim = np.where(elevation > 0.0, 1.0, 10.0 ** _twilight_log10(np.minimum(elevation, 0.0)))
        sun[lit] = dim * scattered_radiance(SUN_ILLUMINANCE_FC, np.minimum(pick(sun_zenith, lit), 90.0),
                                            pick(sun_separation_deg, lit), pick(view_zenith_deg, lit),
                                            wavelength_nm, extinction_v, extinction, reference_extinction)
    moon = np.zeros(shape)
    up = np.broadcast_to(moon_zenith < 90.0, shape)
    if up.any():                        # the Moon's light only where it is above the horizon
        moon[up] = scattered_radiance(moon_illuminance_fc(pick(moon_phase_deg, up)), pick(moon_zenith, up),
                                      pick(moon_separation_deg, up), pick(view_zenith_deg, up), wavelength_nm,
                                      extinction_v, extinction, reference_extinction)
    return sun + moon + night_sky_radiance(wavelength_nm, brightening_mag)


def background_click_rate_cps(radiance, wavelength_nm, aperture_m, field_of_view_urad, filter_width_nm,
                              optics_transmittance, detector_efficiency):
    """Background clicks per second of a whole receiver (all detectors) from sky radiance:
    radiance x field-of-view solid angle x aperture area x filter width / photon energy x
    optics transmittance x detector efficiency. The aperture is a full disc (a central
    obstruction would lower signal and background alike)."""
    half_angle = 0.5 * field_of_view_urad * 1e-6
    solid_angle_sr = 2.0 * np.pi * -np.expm1(np.log(np.cos(half_angle)))
    area_m2 = np.pi * (0.5 * aperture_m) ** 2
    photon_j = _H_C / (wavelength_nm * 1e-9)
    power_w = np.asarray(radiance, dtype=float) * solid_angle_sr * area_m2 * filter_width_nm
    return power_w / photon_j * optics_transmittance * detector_efficiency
