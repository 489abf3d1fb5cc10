"""Background clicks of a receiver along a pass: the sky model (:mod:`constellation.key.sky`)
seen through the receiver, from the geometry of each slot (numpy only).

Per slot: the line of sight to the satellite, the Sun's and the Moon's directions at the
station and the Moon's phase give the sky's spectral radiance at the payload's wavelength
(with the site's extinction, :mod:`constellation.key.atmosphere`); the receiver's field of
view, aperture, filter, optics and detector efficiency turn it into clicks per second.
"""

from __future__ import annotations

import numpy as np

from ..scenario.receiver_params import SiteParams
from ..scenario.terminal_params import Terminal
from .atmosphere import extinction_mag_per_airmass
from .sky import background_click_rate_cps, sky_radiance

__all__ = ["background_cps", "sky_radiance_along"]

_REFERENCE_SITE = SiteParams()


def _angle_deg(a, b):
    return np.degrees(np.arccos(np.clip(np.einsum("...k,...k->...", a, b), -1.0, 1.0)))


def sky_radiance_along(terminal: Terminal, up, line_of_sight, sun_unit, moon_unit, moon_phase_deg):
    """Sky spectral radiance (W m^-2 sr^-1 nm^-1) in each slot.

    ``up``, ``line_of_sight`` (station to satellite), ``sun_unit`` and ``moon_unit`` are unit
    vectors of shape ``(n, 3)`` in one frame; ``moon_phase_deg`` has shape ``(n,)``.
    """
    lam = terminal.link.wavelength_nm
    site = terminal.site
    extinction = extinction_mag_per_airmass(site, lam, reference_nm=lam)
    extinction_v = extinction_mag_per_airmass(site, 550.0, reference_nm=lam)
    reference = (extinction_mag_per_airmass(_REFERENCE_SITE, 550.0), extinction_mag_per_airmass(_REFERENCE_SITE, lam))
    return sky_radiance(lam, _angle_deg(line_of_sight, up), _angle_deg(sun_unit, up), _angle_deg(sun_unit, line_of_sight),
                        _angle_deg(moon_unit, up), _angle_deg(moon_unit, line_of_sight), moon_phase_deg,
                        extinction_v, extinction, reference, site.night_sky_brightening_mag)


def background_cps(terminal: Terminal, up, line_of_sight, sun_unit, moon_unit, moon_phase_deg):
    """Background click rate of the whole receiver (all detectors) in each slot."""
    r = terminal.receiver
    radiance = sky_radiance_along(terminal, up, line_of_sight, sun_unit, moon_unit, moon_phase_deg)
    return background_click_rate_cps(radiance, terminal.link.wavelength_nm, r.aperture_m, r.field_of_view_urad,
                                     r.filter_width_nm, r.optics_transmittance, r.detector_efficiency)
