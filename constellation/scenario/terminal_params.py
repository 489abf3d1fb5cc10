"""Terminal parameters: the optical link and the decoy-BB84 protocol of a satellite-station pair.

:class:`LinkParams` describes the optical terminals and the channel (a ``[link]`` table),
:class:`QkdParams` the source, the receiver and the post-processing (a ``[qkd]`` table).
Both are value types of a validated scenario (presets and scenarios build them, the key
kernels in :mod:`constellation.key` consume them), so they live with the scenario.

Each checks its values when built and raises :class:`~constellation.errors.ParameterError`
(a ``ValueError``) naming the field, what was expected and what was found; it knows no file.
The scenario edge (:mod:`constellation.scenario.terminals`) turns that into the one-line
``InputError`` naming the user's file and table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from ..errors import ParameterError, did_you_mean

__all__ = ["LinkParams", "QkdParams"]


@dataclass(frozen=True)
class LinkParams:
    """Optical terminal and channel description (units in the names).

    Parameters
    ----------
    wavelength_nm : float
        Quantum signal wavelength.
    rx_aperture_m : float
        Receiver telescope clear aperture (diameter); normally the station's ``aperture_m``.
    tx_aperture_m : float, optional
        Transmit telescope aperture (diameter). The beam waist is half of it unless
        ``beam_waist_m`` is given.
    beam_waist_m : float, optional
        Gaussian 1/e**2 intensity radius at the transmitter.
    beam_divergence_urad : float, optional
        Far-field 1/e**2 half-angle divergence; default: diffraction limited,
        ``lambda / (pi w0)``.
    pointing_jitter_urad : float
        Rms pointing error per axis.
    zenith_transmittance : float
        Atmospheric transmittance towards the zenith, in (0, 1].
    turbulence_urad : float, optional
        Long-term beam-spread angle from turbulence (1/e**2 half-angle), added in quadrature;
        ``None`` switches turbulence broadening off.
    extra_loss_db : float
        Fixed optics losses (both terminals, coupling, filters), >= 0.

    Raises
    ------
    ParameterError
        A value out of its range, or neither ``tx_aperture_m`` nor ``beam_waist_m``.
    """

    wavelength_nm: float
    rx_aperture_m: float
    tx_aperture_m: float | None = None
    beam_waist_m: float | None = None
    beam_divergence_urad: float | None = None
    pointing_jitter_urad: float = 0.0
    zenith_transmittance: float = 1.0
    turbulence_urad: float | None = None
    extra_loss_db: float = 0.0

    def __post_init__(self):
        for name, value, low, low_ok in [
                ("wavelength_nm", self.wavelength_nm, 0.0, False),
                ("rx_aperture_m", self.rx_aperture_m, 0.0, False),
                ("tx_aperture_m", self.tx_aperture_m, 0.0, False),
                ("beam_waist_m", self.beam_waist_m, 0.0, False),
                ("beam_divergence_urad", self.beam_divergence_urad, 0.0, False),
                ("pointing_jitter_urad", self.pointing_jitter_urad, 0.0, True),
                ("turbulence_urad", self.turbulence_urad, 0.0, True),
                ("extra_loss_db", self.extra_loss_db, 0.0, True)]:
            if value is None:
                continue
            if not np.isfinite(value) or value < low or (value == low and not low_ok):
                relation = ">= 0" if low_ok else "> 0"
                raise ParameterError(name, f"a finite number {relation}", value)
        if not 0.0 < self.zenith_transmittance <= 1.0:
            raise ParameterError("zenith_transmittance", "a number in (0, 1]", self.zenith_transmittance)
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

    @classmethod
    def from_mapping(cls, mapping) -> "LinkParams":
        """Build from a ``[link]`` table; ``turbulence = "off"`` or a number (urad) is accepted.

        Raises :class:`~constellation.errors.ParameterError` naming the key.
        """
        known = {f.name for f in fields(cls)}
        values = dict(mapping)
        if "turbulence" in values:
            turbulence = values.pop("turbulence")
            if isinstance(turbulence, str) and turbulence.lower() in ("off", "none"):
                turbulence = None
            elif isinstance(turbulence, bool) or not isinstance(turbulence, (int, float)):
                raise ParameterError("turbulence", '"off" or a broadening angle in urad', turbulence)
            values["turbulence_urad"] = turbulence
        for key, value in values.items():
            if key not in known:
                raise _unknown_key(key, known)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ParameterError(key, "a number", value)
        try:
            return cls(**values)
        except TypeError:
            missing = [k for k in ("wavelength_nm", "rx_aperture_m") if values.get(k) is None]
            raise ParameterError(missing[0], "a number (required, missing)") from None


@dataclass(frozen=True)
class QkdParams:
    """Decoy-state BB84 source, receiver and post-processing parameters.

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
    detector_efficiency : float
        Receiver detection efficiency in (0, 1] (applied on top of the link loss).
    dark_count_probability : float
        Dark click probability per pulse per detector.
    background_probability_night, background_probability_day : float
        Background (sky) click probability per pulse per detector.
    background_cps_night, background_cps_day : float, optional
        Background click rates per detector; with ``gate_width_s`` they replace the
        per-pulse probabilities (``p = cps * gate_width_s``).
    gate_width_s : float, optional
        Detection gate width, needed with the cps form.
    intrinsic_qber : float
        Probability that a signal click lands in the wrong detector (misalignment).
    afterpulse_probability : float
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
    detector_efficiency: float = 0.5
    dark_count_probability: float = 1e-7
    background_probability_night: float = 0.0
    background_probability_day: float = 0.0
    background_cps_night: float | None = None
    background_cps_day: float | None = None
    gate_width_s: float | None = None
    intrinsic_qber: float = 0.01
    afterpulse_probability: float = 1e-3
    error_correction_efficiency: float = 1.16
    epsilon_correct: float = 1e-15
    epsilon_secret: float = 1e-9
    finite_key: bool = True
    key_from_both_bases: bool = False

    def __post_init__(self):
        object.__setattr__(self, "intensities", tuple(float(x) for x in self.intensities))
        object.__setattr__(self, "probabilities", tuple(float(x) for x in self.probabilities))
        _check_params(self)

    def extraneous_probability(self, daylight=False):
        """Dark + background click probability per pulse per detector, shaped like ``daylight``."""
        day = np.asarray(daylight, dtype=bool)
        if self.background_cps_night is not None or self.background_cps_day is not None:
            night_p = (self.background_cps_night or 0.0) * self.gate_width_s
            day_p = (self.background_cps_day or 0.0) * self.gate_width_s
        else:
            night_p, day_p = self.background_probability_night, self.background_probability_day
        return self.dark_count_probability + np.where(day, day_p, night_p)

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
            if key not in known:
                raise _unknown_key(key, known)
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


def _unknown_key(key, known) -> ParameterError:
    """An unknown key: the closest known one, else the list of every known key."""
    names = sorted(known)
    hint = did_you_mean(key, names) if isinstance(key, str) else ""
    expected = f"a known key{hint}" if hint else "one of " + ", ".join(names)
    return ParameterError(key, expected, key)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


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
    for field, low, high in [("source_rate_hz", 0.0, math.inf),
                             ("basis_probability_x", 0.0, 1.0),
                             ("detector_efficiency", 0.0, 1.0),
                             ("epsilon_correct", 0.0, 1.0), ("epsilon_secret", 0.0, 1.0)]:
        value = getattr(q, field)
        if not (_is_number(value) and low < value and (value <= high)):
            fail(field, f"a number in ({low:g}, {high:g}]", value)
    for field in ["dark_count_probability", "background_probability_night",
                  "background_probability_day", "intrinsic_qber", "afterpulse_probability"]:
        value = getattr(q, field)
        if not (_is_number(value) and 0.0 <= value < 0.5):
            fail(field, "a probability in [0, 0.5)", value)
    if not (_is_number(q.error_correction_efficiency) and q.error_correction_efficiency >= 1.0):
        fail("error_correction_efficiency", "a number >= 1", q.error_correction_efficiency)
    for field in ["background_cps_night", "background_cps_day"]:
        value = getattr(q, field)
        if value is not None:
            if not (_is_number(value) and value >= 0.0):
                fail(field, "a rate >= 0 (counts per second)", value)
            if q.gate_width_s is None or not (_is_number(q.gate_width_s) and q.gate_width_s > 0):
                fail("gate_width_s", f"a gate width > 0 (s) to go with {field}", q.gate_width_s)
