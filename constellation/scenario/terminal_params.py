"""Payload parameters: the optical transmitter and the decoy-BB84 source and protocol.

:class:`LinkParams` describes the satellite's optical transmitter (a ``[link]`` table),
:class:`QkdParams` its decoy-state source and the protocol's post-processing (a ``[qkd]``
table). The receiver and the site belong to the station
(:mod:`constellation.scenario.receiver_params`); a key pair combines all four in a
:class:`Terminal`. All are value types of a validated scenario (presets and scenarios build
them, the key kernels in :mod:`constellation.key` consume them), so they live with the scenario.

Each checks its values when built and raises :class:`~constellation.errors.ParameterError`
(a ``ValueError``) naming the field, what was expected and what was found; it knows no file.
The scenario edge (:mod:`constellation.scenario.terminals`) turns that into the one-line
``InputError`` naming the user's file and table.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, fields

import numpy as np

from ..errors import ParameterError
from .receiver_params import WAVELENGTH_RANGE_NM, ReceiverParams, SiteParams, unknown_key

__all__ = ["MOVED_KEYS", "LinkParams", "QkdParams", "Terminal"]

# Keys that [link]/[qkd] once held and that now belong to the station: where each lives now.
MOVED_KEYS = {
    "rx_aperture_m": "the station's receiver (stations[].aperture_m or stations[].receiver.aperture_m)",
    "zenith_transmittance": "the station's site (stations[].sky.zenith_transmittance)",
    "turbulence": "the station's site (stations[].sky.turbulence)",
    "turbulence_urad": "the station's site (stations[].sky.turbulence_urad)",
    "extra_loss_db": "the payload's tx_optics_loss_db and the receiver's optics_transmittance",
    "detector_efficiency": "the station's receiver (stations[].receiver.detector_efficiency)",
    "dark_count_probability": "the station's receiver (stations[].receiver.dark_count_cps, per second)",
    "afterpulse_probability": "the station's receiver (stations[].receiver.afterpulse_probability)",
    "gate_width_s": "the station's receiver (stations[].receiver.gate_ns)",
    "background_probability_night": "the sky model (key/sky.py), from the receiver's field of view and filter",
    "background_probability_day": "the sky model (key/sky.py), from the receiver's field of view and filter",
    "background_cps_night": "the sky model (key/sky.py), from the receiver's field of view and filter",
    "background_cps_day": "the sky model (key/sky.py), from the receiver's field of view and filter",
    "aperture_m": "the station's receiver (stations[].aperture_m or stations[].receiver.aperture_m)",
    "aerosol_optical_depth": "the station's site (stations[].sky.aerosol_optical_depth)",
    "night_sky_brightening_mag": "the station's site (stations[].sky.night_sky_brightening_mag)",
}
# Every other receiver field, written in [link] or [qkd], belongs to the station's receiver.
for _name in ("optics_transmittance", "dark_count_cps", "gate_ns", "field_of_view_urad", "filter_width_nm",
              "timing_jitter_ps", "polarisation_error", "detectors"):
    MOVED_KEYS[_name] = f"the station's receiver (stations[].receiver.{_name})"


def _unknown(key, known) -> ParameterError:
    """An unknown key; a key of the other payload table, or a (misspelt) receiver or site
    key, is told where that key lives."""
    for table, cls in (("[link]", LinkParams), ("[qkd]", QkdParams)):
        if isinstance(key, str) and key in {f.name for f in fields(cls)} and key not in known:
            return ParameterError(key, f"a known key (it belongs in {table}, or a satellite's "
                                       f"{table[1:-1]} = {{...}})", key)
    if isinstance(key, str):
        close = difflib.get_close_matches(key, [*known, *MOVED_KEYS], n=1)
        if close and close[0] in MOVED_KEYS and close[0] not in known:
            return ParameterError(key, f"a known key (did you mean {close[0]!r}? it now lives in "
                                       f"{MOVED_KEYS[close[0]]})", key)
    return unknown_key(key, known)


def _moved(key, value) -> ParameterError:
    return ParameterError(key, f"no receiver or site key here: it now lives in {MOVED_KEYS[key]}", value)


@dataclass(frozen=True)
class LinkParams:
    """The payload's optical transmitter (units in the names).

    Parameters
    ----------
    wavelength_nm : float
        Quantum signal wavelength, in the range of the atmosphere and sky models (500-1,600 nm).
    tx_aperture_m : float, optional
        Transmit telescope clear aperture (diameter). It truncates the Gaussian (alone, the
        waist is half of it: truncation at one waist); see :attr:`truncation_loss_db`.
    beam_waist_m : float, optional
        Gaussian 1/e**2 intensity radius at the transmitter.
    beam_divergence_urad : float, optional
        Far-field 1/e**2 half-angle divergence; default: diffraction limited,
        ``lambda / (pi w0)``.
    pointing_jitter_urad : float
        Rms pointing error per axis.
    tx_optics_loss_db : float
        Loss of the payload's optics between the source and the aperture, >= 0.
    terminals : int
        Optical QKD terminals: stations the satellite can serve at once (default 1: Micius
        and Jinan-1 each fly one decoy-BB84 transmitter; Liao 2017, Li 2025).

    Raises
    ------
    ParameterError
        A value out of its range, or neither ``tx_aperture_m`` nor ``beam_waist_m``.
    """

    wavelength_nm: float
    tx_aperture_m: float | None = None
    beam_waist_m: float | None = None
    beam_divergence_urad: float | None = None
    pointing_jitter_urad: float = 0.0
    tx_optics_loss_db: float = 0.0
    terminals: int = 1

    def __post_init__(self):
        if isinstance(self.terminals, bool) or not isinstance(self.terminals, (int, np.integer)) \
                or not 1 <= self.terminals <= 100:
            raise ParameterError("terminals", "an integer from 1 to 100", self.terminals)
        for name, value, low_ok in [
                ("wavelength_nm", self.wavelength_nm, False),
                ("tx_aperture_m", self.tx_aperture_m, False),
                ("beam_waist_m", self.beam_waist_m, False),
                ("beam_divergence_urad", self.beam_divergence_urad, False),
                ("pointing_jitter_urad", self.pointing_jitter_urad, True),
                ("tx_optics_loss_db", self.tx_optics_loss_db, True)]:
            if value is None:
                continue
            if not np.isfinite(value) or value < 0.0 or (value == 0.0 and not low_ok):
                relation = ">= 0" if low_ok else "> 0"
                raise ParameterError(name, f"a finite number {relation}", value)
        low, high = WAVELENGTH_RANGE_NM
        if not low <= self.wavelength_nm <= high:
            raise ParameterError("wavelength_nm", f"a wavelength from {low:g} to {high:g} nm "
                                 "(the range of the atmosphere and sky models)", self.wavelength_nm)
        if self.tx_aperture_m is None and self.beam_waist_m is None:
            raise ParameterError("tx_aperture_m", "tx_aperture_m or beam_waist_m to be set", "neither")

    @property
    def waist_m(self) -> float:
        """Beam waist ``w0`` (m): ``beam_waist_m``, else half the transmit aperture."""
        return self.beam_waist_m if self.beam_waist_m is not None else 0.5 * self.tx_aperture_m

    @property
    def divergence_rad(self) -> float:
        """Far-field 1/e**2 half-angle (rad): the given divergence or ``lambda / (pi w0)``."""
        if self.beam_divergence_urad is not None:
            return self.beam_divergence_urad * 1e-6
        return self.wavelength_nm * 1e-9 / (np.pi * self.waist_m)

    @property
    def truncation_ratio(self) -> float | None:
        """``alpha = a / w0``: the transmit aperture's radius over the beam waist (1 when only
        the aperture is given); ``None`` without an aperture."""
        if self.tx_aperture_m is None:
            return None
        return 0.5 * self.tx_aperture_m / self.waist_m

    @property
    def truncation_loss_db(self) -> float:
        """On-axis far-field loss of the Gaussian truncated by the transmit aperture, in dB.

        With the divergence derived from the waist (``beam_divergence_urad`` not given), the
        link's diffraction term is the on-axis intensity of the untruncated Gaussian of that
        waist; the truncated one has ``(1 - exp(-alpha**2))**2`` of it (Klein & Degnan 1974,
        Appl. Opt. 13:2134, far-field on-axis gain ``(4 pi A / lambda**2) (2 / alpha**2)
        (1 - exp(-alpha**2))**2`` against ``8 pi**2 w0**2 / lambda**2`` untruncated), which
        includes the power outside the aperture: 2.92 dB at the optimum ``alpha = 1.12``,
        3.98 dB at ``alpha = 1`` (aperture only). Valid in the far field (range >> ``pi
        w0**2 / lambda``). With a given (measured) divergence the far field is the given one
        and only the power outside the aperture, ``1 - exp(-2 alpha**2)``, is lost when a waist
        is given too. 0 without an aperture.
        """
        alpha = self.truncation_ratio
        if alpha is None:
            return 0.0
        if self.beam_divergence_urad is None:
            return -20.0 * math.log10(-math.expm1(-alpha ** 2))
        if self.beam_waist_m is None:
            return 0.0
        return -10.0 * math.log10(-math.expm1(-2.0 * alpha ** 2))

    @classmethod
    def from_mapping(cls, mapping) -> "LinkParams":
        """Build from a ``[link]`` table. Raises :class:`~constellation.errors.ParameterError`
        naming the key (a receiver or site key names where it lives now)."""
        known = {f.name for f in fields(cls)}
        values = dict(mapping)
        for key, value in values.items():
            if key in MOVED_KEYS:
                raise _moved(key, value)
            if key not in known:
                raise _unknown(key, known)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ParameterError(key, "a number", value)
        if values.get("wavelength_nm") is None:
            raise ParameterError("wavelength_nm", "a number (required, missing)")
        return cls(**values)


@dataclass(frozen=True)
class QkdParams:
    """The payload's decoy-state BB84 source and the protocol's post-processing.

    Parameters
    ----------
    source_rate_hz : float
        Pulse repetition rate.
    intensities : (float, float, float)
        Mean photon numbers ``(signal, decoy, vacuum)``: ``mu1 > mu2 + mu3``, ``mu2 > mu3 >= 0``.
    probabilities : (float, float, float)
        Probability of sending each intensity; each > 0, summing to 1.
    basis_probability_x : float
        Probability of the X basis at both ends (0.5: standard BB84).
    intrinsic_qber : float
        Probability that a signal click lands in the wrong detector (polarisation contrast of
        source, channel and analyser).
    error_correction_efficiency : float
        ``f_EC >= 1``.
    epsilon_correct, epsilon_secret : float
        Correctness and secrecy parameters of the final key.
    finite_key : bool
        Whether the key a pass delivers is the finite key (True) or the asymptotic one.
    key_from_both_bases : bool
        False: key from X only, Z tests the phase error (Lim et al. 2014). True: symmetric
        BB84, the X and Z keys are distilled separately (each with half of the epsilons,
        the other basis estimating its phase error) and added.

    Raises
    ------
    ParameterError
        A value out of its range (see :func:`_check_params`).
    """

    source_rate_hz: float = 1e8
    intensities: tuple = (0.8, 0.1, 0.0)
    probabilities: tuple = (0.5, 0.25, 0.25)
    basis_probability_x: float = 0.5
    intrinsic_qber: float = 0.01
    error_correction_efficiency: float = 1.16
    epsilon_correct: float = 1e-15
    epsilon_secret: float = 1e-9
    finite_key: bool = True
    key_from_both_bases: bool = False

    def __post_init__(self):
        object.__setattr__(self, "intensities", tuple(float(x) for x in self.intensities))
        object.__setattr__(self, "probabilities", tuple(float(x) for x in self.probabilities))
        _check_params(self)

    @property
    def sifting_fraction(self) -> float:
        """Fraction of detections whose bases match: ``P_X**2 + (1 - P_X)**2``."""
        px = self.basis_probability_x
        return px ** 2 + (1.0 - px) ** 2

    @classmethod
    def from_mapping(cls, mapping) -> "QkdParams":
        """Build from a ``[qkd]`` table (``protocol = "decoy-bb84"`` optional).

        Raises :class:`~constellation.errors.ParameterError` naming the key.
        """
        values = dict(mapping)
        protocol = values.pop("protocol", "decoy-bb84")
        if protocol != "decoy-bb84":
            raise ParameterError("protocol", '"decoy-bb84"', protocol)
        known = {f.name for f in fields(cls)}
        for key, value in values.items():
            if key in MOVED_KEYS:
                raise _moved(key, value)
            if key not in known:
                raise _unknown(key, known)
            if key in ("finite_key", "key_from_both_bases"):
                if not isinstance(value, bool):
                    raise ParameterError(key, "true or false", value)
            elif key in ("intensities", "probabilities"):
                if (not isinstance(value, (list, tuple)) or len(value) != 3
                        or not all(_is_number(x) for x in value)):
                    raise ParameterError(key, "a list of 3 numbers [signal, decoy, vacuum]", value)
            elif value is not None and not _is_number(value):
                raise ParameterError(key, "a number", value)
        return cls(**values)


@dataclass(frozen=True)
class Terminal:
    """Everything the key of one satellite-station pair depends on: the payload's
    transmitter and protocol, the station's receiver and site. Hashable: pairs with equal
    terminals are computed together."""

    link: LinkParams
    qkd: QkdParams
    receiver: ReceiverParams
    site: SiteParams


def _is_number(value) -> bool:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond a float (hundreds of digits)
        return False


def _check_params(q: QkdParams) -> None:
    """Ranges of every QkdParams field; the first violated raises ParameterError."""
    def fail(field, expected, found):
        raise ParameterError(field, expected, found)

    mu1, mu2, mu3 = q.intensities
    if not (len(q.intensities) == 3 and mu3 >= 0.0 and mu2 > mu3 and mu1 > mu2 + mu3):
        fail("intensities", "[signal, decoy, vacuum] with signal > decoy + vacuum, "
             "decoy > vacuum >= 0", list(q.intensities))
    if len(q.probabilities) != 3 or min(q.probabilities) <= 0.0:
        fail("probabilities", "3 probabilities, each > 0", list(q.probabilities))
    if abs(sum(q.probabilities) - 1.0) > 1e-9:
        fail("probabilities", "probabilities summing to 1", list(q.probabilities))
    if not (_is_number(q.basis_probability_x) and 0.0 < q.basis_probability_x < 1.0):
        fail("basis_probability_x", "a number in (0, 1) (both bases are needed: one tests the other)",
             q.basis_probability_x)
    # 1e11 Hz: ten times the fastest QKD sources reported (GHz clocks: Boaron et al. 2018, PRL
    # 121:190502, 2.5 GHz), a bound on typing errors rather than on hardware.
    for field, low, high in [("source_rate_hz", 0.0, 1e11),
                             ("epsilon_correct", 0.0, 1.0), ("epsilon_secret", 0.0, 1.0)]:
        value = getattr(q, field)
        if not (_is_number(value) and low < value and (value <= high)):
            fail(field, f"a number in ({low:g}, {high:g}]", value)
    if not (_is_number(q.intrinsic_qber) and 0.0 <= q.intrinsic_qber < 0.5):
        fail("intrinsic_qber", "a probability in [0, 0.5)", q.intrinsic_qber)
    if not (_is_number(q.error_correction_efficiency) and q.error_correction_efficiency >= 1.0):
        fail("error_correction_efficiency", "a number >= 1", q.error_correction_efficiency)
