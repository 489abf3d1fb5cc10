"""Optical downlink loss per sample (numpy only).

The channel from a satellite's transmitter to the detectors of a ground receiver, as a product
of efficiencies, each reported in dB (Bourgoin et al., NJP 15:023006 (2013); SatQuMA, Sidhu et
al., npj QI 8:18 (2022); docs/physics.md):

- **payload optics**: the transmitter's optics loss and the truncation of the Gaussian by the
  transmit aperture: with a diffraction-limited divergence, the on-axis far-field factor
  ``(1 - exp(-alpha**2))**2`` of Klein & Degnan (1974), ``alpha`` = aperture radius / waist
  (:attr:`LinkParams.truncation_loss_db`; the diffraction term below is the untruncated beam).
- **diffraction**: a Gaussian beam of waist ``w0`` spreads to
  ``w(L) = sqrt(w0**2 + (theta L)**2)``, which is ``w0 sqrt(1 + (L/zR)**2)`` with
  ``zR = pi w0**2 / lambda`` when the beam is diffraction limited (``theta = lambda/(pi w0)``)
  and uses the given 1/e**2 half-angle divergence ``theta`` otherwise. A receiver of radius
  ``aR`` centred on the beam captures ``1 - exp(-2 aR**2 / w**2)``.
- **pointing**: Gaussian jitter of rms ``sigma`` per axis moves the beam centre; averaged over
  the jitter, the mean intensity is that of a beam widened to ``w**2 + 4 (sigma L)**2``
  (exact for a receiver small against the beam). Reported as the capture lost to the widening.
- **turbulence** (the site's, optional): a long-term beam-spread angle added in quadrature.
- **atmosphere**: ``T0 ** airmass(elevation)``, with the site's zenith transmittance at the
  wavelength (given, or from :mod:`constellation.key.atmosphere`) and the Kasten & Young
  (1989) air mass, normalised to exactly 1 at the zenith; finite (~38) at the horizon.
- **receiver optics**: the receiver's transmission from the aperture to the detectors.

The detector efficiency is not a link term here: it belongs to the receiver's detectors and
is applied by the key model, as in the Liao 2017 loss curves digitised by QNET.
Not modelled (docs/physics.md): the truncated beam's off-axis pattern (its main lobe is wider
than the Gaussian's that the pointing term uses: conservative) and its near field,
point-ahead, scintillation fades, beam wander statistics, clouds.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..scenario.receiver_params import ReceiverParams, SiteParams
from ..scenario.terminal_params import LinkParams
from .atmosphere import zenith_transmittance

__all__ = ["LinkLoss", "LinkParams", "airmass_kasten_young", "capture_fraction",
           "link_loss", "transmittance_from_db"]

# Kasten & Young, Applied Optics 28:4735 (1989): AM = 1 / (cos z + a (b - z)**-c), z in degrees.
_KY_A = 0.50572
_KY_B_DEG = 96.07995
_KY_C = 1.6364
_KY_ZENITH_DENOMINATOR = 1.0 + _KY_A * _KY_B_DEG ** -_KY_C   # raw zenith air mass 0.99971


@dataclass(frozen=True)
class LinkLoss:
    """Loss terms (dB, >= 0) of each sample; every array has the broadcast input shape.

    ``loss_db`` is the sum of the others. The turbulence term is 0 when turbulence is off.
    """

    payload_optics_loss_db: np.ndarray
    diffraction_loss_db: np.ndarray
    pointing_loss_db: np.ndarray
    turbulence_loss_db: np.ndarray
    atmosphere_loss_db: np.ndarray
    receiver_optics_loss_db: np.ndarray
    loss_db: np.ndarray

    def as_dict(self) -> dict[str, np.ndarray]:
        """The terms by name, for tables."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def airmass_kasten_young(elevation_deg):
    """Relative optical air mass at ``elevation_deg``, normalised to 1 at the zenith.

    Kasten & Young (1989): ``1 / (cos z + 0.50572 (96.07995 - z)**-1.6364)`` with the zenith
    angle ``z`` in degrees, divided by its zenith value (0.99971) so that the transmittance
    at the zenith is exactly ``zenith_transmittance``. Elevations below 0 are taken as 0
    (about 38 air masses); the caller masks samples below the horizon.

    Parameters
    ----------
    elevation_deg : array_like, any shape

    Returns
    -------
    ndarray, same shape, >= 1
    """
    elevation = np.clip(np.asarray(elevation_deg, dtype=float), 0.0, 90.0)
    zenith_deg = 90.0 - elevation
    cos_z = np.sin(np.radians(elevation))
    return _KY_ZENITH_DENOMINATOR / (cos_z + _KY_A * (_KY_B_DEG - zenith_deg) ** -_KY_C)


def capture_fraction(beam_radius_m, rx_aperture_m):
    """Fraction ``1 - exp(-2 aR**2 / w**2)`` of a Gaussian beam caught by a centred aperture.

    Parameters
    ----------
    beam_radius_m : array_like
        1/e**2 intensity radius ``w`` at the receiver.
    rx_aperture_m : float or array_like
        Receiver diameter (``aR`` is half of it).
    """
    a_r = 0.5 * np.asarray(rx_aperture_m, dtype=float)
    w = np.asarray(beam_radius_m, dtype=float)
    return -np.expm1(-2.0 * a_r ** 2 / w ** 2)


def transmittance_from_db(loss_db):
    """``10 ** (-loss_db / 10)``; an infinite loss gives 0."""
    return 10.0 ** (-np.asarray(loss_db, dtype=float) / 10.0)


def _db(efficiency):
    with np.errstate(divide="ignore"):
        return -10.0 * np.log10(efficiency)


def _step_db(efficiency, before_db):
    """The loss of ``efficiency`` beyond ``before_db`` (dB): infinite once nothing is left,
    0 when nothing was left before (never ``inf - inf``)."""
    after = _db(efficiency)
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(before_db), 0.0, np.where(np.isinf(after), np.inf, after - before_db))


def link_loss(range_km, elevation_deg, params: LinkParams, receiver: ReceiverParams,
              site: SiteParams | None = None) -> LinkLoss:
    """Loss of the optical downlink for each (range, elevation) sample.

    Parameters
    ----------
    range_km : array_like, any shape
        Slant range satellite - receiver, > 0.
    elevation_deg : array_like, broadcastable with ``range_km``
        Elevation of the satellite seen from the receiver.
    params : LinkParams
        The payload's transmitter.
    receiver : ReceiverParams
        The station's receiver (aperture and optics).
    site : SiteParams, optional
        The station's site (atmosphere, turbulence); default: a sea-level site of the model.

    Returns
    -------
    LinkLoss
        Each term in dB with the broadcast shape. NaN inputs give NaN in that sample only.

    Examples
    --------
    Doubling the range in the far field costs 6 dB:

    >>> from constellation.scenario.receivers import RECEIVERS
    >>> p = LinkParams(wavelength_nm=850.0, beam_divergence_urad=10.0, tx_aperture_m=0.1)
    >>> loss = link_loss([1000.0, 2000.0], 90.0, p, RECEIVERS["observatory-1m"])
    >>> round(float(loss.loss_db[1] - loss.loss_db[0]), 1)
    6.0
    """
    site = site if site is not None else SiteParams()
    range_m = np.asarray(range_km, dtype=float) * 1e3
    elevation = np.asarray(elevation_deg, dtype=float)
    range_m, elevation = np.broadcast_arrays(range_m, elevation)

    # A beam wider than a float holds (absurd jitter or divergence) overflows to an infinite
    # width: nothing captured, an infinite loss (never a warning, never NaN from inf - inf).
    with np.errstate(over="ignore"):
        w2 = params.waist_m ** 2 + (params.divergence_rad * range_m) ** 2
        w2_pointing = w2 + 4.0 * (params.pointing_jitter_urad * 1e-6 * range_m) ** 2
        turbulence_rad = (site.turbulence_urad or 0.0) * 1e-6
        w2_turbulence = w2_pointing + (turbulence_rad * range_m) ** 2

    captured = capture_fraction(np.sqrt(w2), receiver.aperture_m)
    captured_pointing = capture_fraction(np.sqrt(w2_pointing), receiver.aperture_m)
    captured_turbulence = capture_fraction(np.sqrt(w2_turbulence), receiver.aperture_m)

    diffraction = _db(captured)
    pointing = _step_db(captured_pointing, diffraction)
    turbulence = _step_db(captured_turbulence, _db(captured_pointing))
    t0 = zenith_transmittance(site, params.wavelength_nm)
    atmosphere = -10.0 * np.log10(t0) * airmass_kasten_young(elevation)
    payload = np.full(range_m.shape, float(params.tx_optics_loss_db + params.truncation_loss_db))
    rx_optics = np.full(range_m.shape, float(-10.0 * np.log10(receiver.optics_transmittance)))
    total = payload + diffraction + pointing + turbulence + atmosphere + rx_optics
    return LinkLoss(payload, diffraction, pointing, turbulence, atmosphere, rx_optics, total)
