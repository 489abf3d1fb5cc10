"""Clear-sky extinction of a site at a wavelength (numpy only).

The vertical optical depth is Rayleigh scattering plus aerosol, each scaled to the site's
altitude (docs/physics.md, docs/references.md §13):

- Rayleigh: Hansen & Travis (1974, Space Sci. Rev. 16:527, Eq. 2.29) at sea level,
  ``tau_R = 0.008569 lambda**-4 (1 + 0.0113 lambda**-2 + 0.00013 lambda**-4)`` with lambda in
  micrometres, times the pressure ratio ``exp(-h / 8.4 km)`` (scale height of the US
  Standard Atmosphere 1976 near the ground).
- Aerosol: Angstrom's law ``tau_a = tau_550 (lambda / 550 nm)**-1.3`` (alpha = 1.3, the
  classic continental value, Angstrom 1964), times ``exp(-h / 1.5 km)`` (assumption: the
  aerosol lives in a boundary layer of 1-2 km, so high sites sit above most of it).
- Molecular absorption lines (O2 A band at 760 nm, water vapour at 940, 1,130, 1,380 nm)
  are not modelled: QKD payloads use the windows near 800-850 nm and 1,550 nm.

The zenith transmittance is ``exp(-tau)``, unless the site gives its own (a measured or
fitted value, as for Xinglong); an extinction coefficient in magnitudes per air mass is
``2.5 log10(e) tau``.
"""

from __future__ import annotations

import numpy as np

from ..scenario.receiver_params import SiteParams

__all__ = ["ANGSTROM_EXPONENT", "aerosol_optical_depth", "extinction_mag_per_airmass", "optical_depth",
           "rayleigh_optical_depth", "zenith_transmittance"]

RAYLEIGH_SCALE_HEIGHT_M = 8400.0
AEROSOL_SCALE_HEIGHT_M = 1500.0
ANGSTROM_EXPONENT = 1.3
_MAG_PER_NEPER = 2.5 * np.log10(np.e)   # 1.0857 mag per unit optical depth


def rayleigh_optical_depth(wavelength_nm, elevation_m=0.0):
    """Vertical Rayleigh optical depth from a site at ``elevation_m`` (Hansen & Travis 1974)."""
    lam = np.asarray(wavelength_nm, dtype=float) * 1e-3
    sea_level = 0.008569 * lam ** -4 * (1.0 + 0.0113 * lam ** -2 + 0.00013 * lam ** -4)
    return sea_level * np.exp(-np.asarray(elevation_m, dtype=float) / RAYLEIGH_SCALE_HEIGHT_M)


def aerosol_optical_depth(wavelength_nm, aod_550, elevation_m=0.0):
    """Vertical aerosol optical depth at ``wavelength_nm`` above ``elevation_m`` (Angstrom)."""
    lam = np.asarray(wavelength_nm, dtype=float)
    return (aod_550 * (lam / 550.0) ** -ANGSTROM_EXPONENT
            * np.exp(-np.asarray(elevation_m, dtype=float) / AEROSOL_SCALE_HEIGHT_M))


def optical_depth(site: SiteParams, wavelength_nm):
    """Vertical optical depth of the model at the site and wavelength: Rayleigh plus aerosol,
    both scaled to the site's altitude. A site's given ``zenith_transmittance`` is not used
    here (:func:`zenith_transmittance` returns it as given)."""
    model = (rayleigh_optical_depth(wavelength_nm, site.elevation_m)
             + aerosol_optical_depth(wavelength_nm, site.aerosol_optical_depth, site.elevation_m))
    return model


def zenith_transmittance(site: SiteParams, wavelength_nm: float) -> float:
    """Transmittance towards the zenith: the site's given value, else ``exp(-tau)``."""
    if site.zenith_transmittance is not None:
        return float(site.zenith_transmittance)
    return float(np.exp(-optical_depth(site, wavelength_nm)))


def extinction_mag_per_airmass(site: SiteParams, wavelength_nm: float, reference_nm: float | None = None) -> float:
    """Extinction coefficient ``k`` (mag per air mass) at ``wavelength_nm``.

    A site with a given zenith transmittance ``T0`` (at ``reference_nm``, the signal
    wavelength) has ``k = -2.5 log10 T0`` there, and the model's spectral shape elsewhere.
    """
    if site.zenith_transmittance is None:
        return float(_MAG_PER_NEPER * optical_depth(site, wavelength_nm))
    given = -2.5 * np.log10(site.zenith_transmittance)
    if reference_nm is None or reference_nm == wavelength_nm:
        return float(given)
    ratio = optical_depth(site, wavelength_nm) / optical_depth(site, reference_nm)
    return float(given * ratio)
