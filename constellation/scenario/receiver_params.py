"""The ground side of a downlink: the station's receiver and its site's sky and atmosphere.

:class:`ReceiverParams` is the hardware behind the telescope (a station's ``receiver``):
aperture, optics, detectors, time gate, field of view and spectral filter.
:class:`SiteParams` is what the site adds (a station's ``sky``): altitude, the zenith
transmittance at the signal wavelength (given, or from the extinction model in
:mod:`constellation.key.atmosphere`), turbulence and how much brighter than a natural dark sky
its nights are.

Both are value types of a validated scenario: they check their values when built and raise
:class:`~constellation.errors.ParameterError` naming the field; the scenario edge turns that
into a one-line InputError naming the file and table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from ..errors import Described, ParameterError, did_you_mean

__all__ = ["ReceiverParams", "SiteParams", "WAVELENGTH_RANGE_NM"]

# The wavelengths the atmosphere and sky models cover (key/atmosphere.py, key/sky.py).
WAVELENGTH_RANGE_NM = (500.0, 1600.0)
# Largest turbulence beam spread a site may state: 100 urad (20 arcsec) is four times the
# worst astronomical seeing (~5 arcsec); downlink beam spread from turbulence is a few urad.
MAX_TURBULENCE_URAD = 100.0


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class ReceiverParams:
    """A ground receiver: telescope, optics and single-photon detectors (units in the names).

    Parameters
    ----------
    aperture_m : float
        Telescope clear aperture (diameter).
    optics_transmittance : float
        Transmission from the telescope aperture to the detectors (mirrors, relay optics,
        polarisation analysis, filter peak, fibre coupling), in (0, 1]; detector excluded.
    detector_efficiency : float
        Single-photon detection efficiency at the signal wavelength, in (0, 1].
    dark_count_cps : float
        Dark counts per second of each detector, 0 to 1e7 (detectors saturate near 1e7/s).
    gate_ns : float
        Time window per pulse in which a click counts (gate or coincidence window), up to
        100 ns; a gate longer than the source's pulse period counts as one period.
    field_of_view_urad : float
        Full angle of the receiver's field of view on the sky.
    filter_width_nm : float
        Bandwidth of the spectral filter in front of the detectors.
    timing_jitter_ps : float
        Rms timing jitter of detection (detector and time tagger), up to 10,000 ps; signal
        clicks outside the gate are lost: ``erf(gate / (2 sqrt(2) jitter))`` of them are kept.
    afterpulse_probability : float
        Probability that a click is followed by an afterpulse, in [0, 0.5).
    polarisation_error : float
        Probability that the receiver's own analysis (and polarisation compensation) sends a
        signal photon to the wrong detector; adds to the payload's ``intrinsic_qber``.
    detectors : int
        Detectors of the receiver, all live on every pulse (4 for passive-basis BB84): each
        adds its dark counts, and they share the background light.
    wavelength_min_nm, wavelength_max_nm : float
        The band the detectors work in; a payload outside it cannot use this receiver.

    Raises
    ------
    ParameterError
        A value out of its range.
    """

    aperture_m: float
    optics_transmittance: float
    detector_efficiency: float
    dark_count_cps: float
    gate_ns: float
    field_of_view_urad: float
    filter_width_nm: float
    timing_jitter_ps: float = 0.0
    afterpulse_probability: float = 0.0
    polarisation_error: float = 0.0
    detectors: int = 4
    wavelength_min_nm: float = 500.0
    wavelength_max_nm: float = 1000.0

    def __post_init__(self):
        checks = [("aperture_m", 0.0, 50.0, False), ("optics_transmittance", 0.0, 1.0, False),
                  ("detector_efficiency", 0.0, 1.0, False), ("field_of_view_urad", 0.0, 1e5, False),
                  ("filter_width_nm", 0.0, 1000.0, False)]
        for name, low, high, low_ok in checks:
            value = getattr(self, name)
            if not (_number(value) and (value > low or (low_ok and value == low)) and value <= high):
                raise ParameterError(name, f"a number in ({low:g}, {high:g}]", value)
        for name, high, interval in _PHYSICAL_LIMITS:
            value = getattr(self, name)
            zero_ok = name != "gate_ns"
            if not (_number(value) and (value > 0.0 or (zero_ok and value == 0.0)) and value <= high):
                raise ParameterError(name, interval, value)
        if not (_number(self.afterpulse_probability) and 0.0 <= self.afterpulse_probability < 0.5):
            raise ParameterError("afterpulse_probability", "a probability in [0, 0.5)", self.afterpulse_probability)
        if not (_number(self.polarisation_error) and 0.0 <= self.polarisation_error < 0.5):
            raise ParameterError("polarisation_error", "a probability in [0, 0.5)", self.polarisation_error)
        if not (isinstance(self.detectors, int) and not isinstance(self.detectors, bool) and 1 <= self.detectors <= 64):
            raise ParameterError("detectors", "a whole number from 1 to 64", self.detectors)
        low, high = WAVELENGTH_RANGE_NM
        for name in ("wavelength_min_nm", "wavelength_max_nm"):
            value = getattr(self, name)
            if not (_number(value) and low <= value <= high):
                raise ParameterError(name, f"a wavelength from {low:g} to {high:g} nm", value)
        if self.wavelength_max_nm <= self.wavelength_min_nm:
            raise ParameterError("wavelength_max_nm", f"a wavelength above wavelength_min_nm "
                                 f"({self.wavelength_min_nm:g} nm)", self.wavelength_max_nm)

    @property
    def gate_s(self) -> float:
        return self.gate_ns * 1e-9

    @property
    def gate_capture(self) -> float:
        """Fraction of signal clicks inside the gate, for Gaussian timing jitter."""
        if self.timing_jitter_ps <= 0.0:
            return 1.0
        return math.erf(self.gate_ns * 1e3 / (2.0 * math.sqrt(2.0) * self.timing_jitter_ps))

    @property
    def signal_efficiency(self) -> float:
        """Detector efficiency times the gate capture: what multiplies the link transmittance."""
        return self.detector_efficiency * self.gate_capture

    def noise_cps(self, background_cps=0.0):
        """Noise click rate of the whole receiver while its gate is open (clicks/s):
        ``detectors x dark_count_cps + background_cps``.

        Every detector is live on every pulse (passive basis choice), so each adds its dark
        counts; ``background_cps`` is the sky's click rate of the whole receiver (all
        detectors, after the detector efficiency).
        """
        import numpy as np

        return self.detectors * self.dark_count_cps + np.asarray(background_cps, dtype=float)

    def noise_probability(self, background_cps=0.0, source_rate_hz=None):
        """Probability of a noise click in any detector within one pulse's gate, before sifting:
        ``1 - exp(-noise_cps x gate)`` (Poisson noise; ``~ (detectors x dark + background) x
        gate`` when small). This is the vacuum yield ``Y0`` of :mod:`constellation.key.decoy_bb84`.

        With ``source_rate_hz``, a gate longer than the pulse period counts as one period: a
        click belongs to one pulse's time bin, so the detectors' noise is not counted twice
        (a 2 ns gate behind a 1 GHz source).
        """
        import numpy as np

        gate_s = self.gate_s if source_rate_hz is None else min(self.gate_s, 1.0 / source_rate_hz)
        return -np.expm1(-self.noise_cps(background_cps) * gate_s)

    def extraneous_probability(self, background_cps=0.0):
        """Dark + background click probability per pulse of ONE detector (the sky shared
        equally): ``(dark_count_cps + background_cps / detectors) x gate``.

        Kept for per-detector comparisons; the key model uses the whole receiver's
        :meth:`noise_probability` (all detectors click on noise before sifting).
        """
        import numpy as np

        background = np.asarray(background_cps, dtype=float)
        return (self.dark_count_cps + background / self.detectors) * self.gate_s

    @classmethod
    def from_mapping(cls, mapping) -> "ReceiverParams":
        """Build from a receiver table (no ``preset``: merged before). Raises ParameterError."""
        known = {f.name for f in fields(cls)}
        values = dict(mapping)
        for key, value in values.items():
            if key not in known:
                raise unknown_key(key, known)
            if key == "detectors":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ParameterError(key, "a whole number", value)
            elif not _number(value):
                raise ParameterError(key, "a finite number", value)
        missing = [name for name in _REQUIRED if name not in values]
        if missing:
            raise ParameterError(missing[0], "a number (required: start from a receiver preset, "
                                 'e.g. preset = "observatory-1m", or give every field)', Described("nothing"))
        return cls(**values)


# Upper limits of the receiver's timing and noise, with the physics that sets them.
MAX_DARK_COUNT_CPS = 1e7
MAX_GATE_NS = 100.0
MAX_TIMING_JITTER_PS = 10_000.0
_PHYSICAL_LIMITS = (
    ("dark_count_cps", MAX_DARK_COUNT_CPS,
     "a number >= 0 and at most 1e7 (per detector: single-photon detectors saturate near 1e7 counts/s)"),
    ("gate_ns", MAX_GATE_NS, "a number in (0, 100] (ns: the pulse period of a 10 MHz source; a gate "
                             "longer than the source's period counts as one period)"),
    ("timing_jitter_ps", MAX_TIMING_JITTER_PS,
     "a number >= 0 and at most 10000 (ps rms: 10 ns, 100x that of QKD detectors)"),
)

_REQUIRED = ("aperture_m", "optics_transmittance", "detector_efficiency", "dark_count_cps", "gate_ns",
             "field_of_view_urad", "filter_width_nm")


@dataclass(frozen=True)
class SiteParams:
    """The site of a station: its altitude, atmosphere and night sky.

    Parameters
    ----------
    elevation_m : float
        Site altitude above the ellipsoid (from the station).
    zenith_transmittance : float, optional
        Transmittance of the atmosphere towards the zenith at the signal wavelength, in
        (0, 1]; a given value is used as it is at every payload wavelength (Xinglong's 0.58
        was fitted at Micius's 848 nm: give another for another wavelength). ``None``: from
        the extinction model (Rayleigh + aerosol, scaled with the
        site altitude; :mod:`constellation.key.atmosphere`).
    aerosol_optical_depth : float
        Aerosol optical depth at 550 nm of a column from sea level (the model scales it to
        the site altitude and the wavelength).
    turbulence_urad : float, optional
        Long-term beam spread from turbulence (1/e**2 half-angle), 0 to 100 urad; ``None``:
        off. A station's ``sky`` table may call it ``turbulence`` (urad, or ``"off"``).
    night_sky_brightening_mag : float
        How much brighter than a natural dark sky the site's moonless night is (light
        pollution), in magnitudes; 0 for a dark site.
    """

    elevation_m: float = 0.0
    zenith_transmittance: float | None = None
    aerosol_optical_depth: float = 0.15
    turbulence_urad: float | None = None
    night_sky_brightening_mag: float = 0.0

    def __post_init__(self):
        if not (_number(self.elevation_m) and -500.0 <= self.elevation_m <= 9000.0):
            raise ParameterError("elevation_m", "an altitude from -500 to 9,000 m", self.elevation_m)
        if self.zenith_transmittance is not None and not (
                _number(self.zenith_transmittance) and 0.0 < self.zenith_transmittance <= 1.0):
            raise ParameterError("zenith_transmittance", "a number in (0, 1]", self.zenith_transmittance)
        if not (_number(self.aerosol_optical_depth) and 0.0 <= self.aerosol_optical_depth <= 5.0):
            raise ParameterError("aerosol_optical_depth", "a number from 0 to 5", self.aerosol_optical_depth)
        if self.turbulence_urad is not None and not (
                _number(self.turbulence_urad) and 0.0 <= self.turbulence_urad <= MAX_TURBULENCE_URAD):
            raise ParameterError("turbulence_urad", f"a number >= 0 and at most {MAX_TURBULENCE_URAD:g} (urad of "
                                 "beam spread; 20 arcsec: 4x the worst astronomical seeing)", self.turbulence_urad)
        if not (_number(self.night_sky_brightening_mag) and 0.0 <= self.night_sky_brightening_mag <= 10.0):
            raise ParameterError("night_sky_brightening_mag", "a number from 0 to 10 (magnitudes)",
                                 self.night_sky_brightening_mag)

    @classmethod
    def from_mapping(cls, mapping) -> "SiteParams":
        """Build from a station's ``sky`` table (``turbulence = "off"`` accepted; ``turbulence``
        and ``turbulence_urad`` are two names of one field: give one)."""
        known = {f.name for f in fields(cls)} - {"elevation_m"}
        values = dict(mapping)
        if "turbulence" in values and "turbulence_urad" in values:
            raise ParameterError("turbulence", "one of turbulence and turbulence_urad (two names of one field)",
                                 Described("both"))
        if "turbulence" in values:
            turbulence = values.pop("turbulence")
            if isinstance(turbulence, str) and turbulence.lower() in ("off", "none"):
                turbulence = None
            elif not _number(turbulence):
                raise ParameterError("turbulence", '"off" or a broadening angle in urad', turbulence)
            values["turbulence_urad"] = turbulence
            try:
                SiteParams(turbulence_urad=turbulence)
            except ParameterError as exc:  # name the key the table used
                raise ParameterError("turbulence", exc.expected, exc.found) from None
        for key, value in values.items():
            if key not in known:
                raise unknown_key(key, known | {"turbulence"})
            if value is not None and not _number(value):
                raise ParameterError(key, "a finite number", value)
        return cls(**values)


def unknown_key(key, known) -> ParameterError:
    """An unknown key: the closest known one, else the list of every known key."""
    names = sorted(known)
    hint = did_you_mean(key, names) if isinstance(key, str) else ""
    expected = f"a known key{hint}" if hint else "one of " + ", ".join(names)
    return ParameterError(key, expected, key)
