"""An entangled-photon source on a satellite, and its two downlink transmitters.

:class:`SourceParams` is a scenario's ``[source]`` table (or a payload's, in ``[[designs]]``):
a polarisation-entangled pair source whose photons leave through two transmitters, one to
each of two stations in view at once (Yin et al. 2017, Science 356:1140), and the BBM92
post-processing of the key the two stations share. The transmitter of each arm is a
:class:`~constellation.scenario.terminal_params.LinkParams` at the source's wavelength.

Checked when built (ParameterError naming the field); the scenario edge turns that into a
one-line InputError naming the file and table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from ..errors import Described, ParameterError
from .receiver_params import WAVELENGTH_RANGE_NM, unknown_key
from .terminal_params import LinkParams

__all__ = ["SOURCE_PRESETS", "SourceParams"]


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class SourceParams:
    """An entangled-photon pair source and its two transmitters (units in the names).

    Parameters
    ----------
    pair_rate_hz : float
        Entangled pairs per second leaving the source into the two transmitters (after the
        source's own coupling), in (0, 1e10].
    wavelength_nm : float
        Wavelength of both photons (degenerate source).
    visibility : float
        Two-photon polarisation visibility of the source, in (0, 1]: a coincidence of the
        pair lands in the wrong detector with probability ``(1 - visibility) / 2``.
    coincidence_window_ns : float
        Width of the window in which a click at each station counts as one pair, in (0, 100].
    timing_jitter_ps : float
        Rms timing jitter of a coincidence (both detectors, time taggers and the
        synchronisation of the two stations' clocks), 0 to 10,000 ps: ``erf(window / (2
        sqrt(2) jitter))`` of the true coincidences fall inside the window.
    tx_aperture_m, beam_divergence_urad, pointing_jitter_urad, tx_optics_loss_db : float
        Each arm's transmitter, as in ``[link]`` (both arms alike).
    basis_probability : float
        Probability of one of the two bases at each station (passive 50:50 beam splitter:
        0.5), in (0, 1).
    error_correction_efficiency : float
        ``f_EC >= 1``.
    epsilon_secret, epsilon_correct : float
        Secrecy and correctness of the final key, in (0, 1).
    finite_key : bool
        Whether a link's key is the finite key of its blocks (True) or the asymptotic one.
    block_sifted_bits : float
        A link distils its key in blocks of at least this many sifted bits (default 3,400:
        the block of Yin et al. 2020, 1.1 bit/s over 3,100 s), from 100 to 1e15.
    """

    pair_rate_hz: float
    wavelength_nm: float
    visibility: float
    coincidence_window_ns: float
    timing_jitter_ps: float = 0.0
    tx_aperture_m: float = 0.3
    beam_divergence_urad: float | None = None
    pointing_jitter_urad: float = 0.0
    tx_optics_loss_db: float = 0.0
    basis_probability: float = 0.5
    error_correction_efficiency: float = 1.16
    epsilon_secret: float = 1e-10
    epsilon_correct: float = 1e-10
    finite_key: bool = True
    block_sifted_bits: float = 3400.0

    def __post_init__(self):
        checks = [("pair_rate_hz", 0.0, 1e10, "pairs per second"),
                  ("visibility", 0.0, 1.0, "a visibility"),
                  ("coincidence_window_ns", 0.0, 100.0, "ns"),
                  ("tx_aperture_m", 0.0, 10.0, "m")]
        for name, low, high, what in checks:
            value = getattr(self, name)
            if not (_number(value) and low < value <= high):
                raise ParameterError(name, f"a number in ({low:g}, {high:g}] ({what})", value)
        low, high = WAVELENGTH_RANGE_NM
        if not (_number(self.wavelength_nm) and low <= self.wavelength_nm <= high):
            raise ParameterError("wavelength_nm", f"a wavelength from {low:g} to {high:g} nm", self.wavelength_nm)
        if not (_number(self.timing_jitter_ps) and 0.0 <= self.timing_jitter_ps <= 10_000.0):
            raise ParameterError("timing_jitter_ps", "a number from 0 to 10,000 (ps)", self.timing_jitter_ps)
        if not (_number(self.basis_probability) and 0.0 < self.basis_probability < 1.0):
            raise ParameterError("basis_probability", "a number in (0, 1)", self.basis_probability)
        for name in ("epsilon_secret", "epsilon_correct"):
            value = getattr(self, name)
            if not (_number(value) and 1e-30 <= value < 1.0):
                raise ParameterError(name, "a number from 1e-30 to below 1", value)
        limits = [("pointing_jitter_urad", 1000.0, "urad rms"), ("tx_optics_loss_db", 100.0, "dB")]
        for name, high, unit in limits:
            value = getattr(self, name)
            if not (_number(value) and 0.0 <= value <= high):
                raise ParameterError(name, f"a number from 0 to {high:g} ({unit})", value)
        if self.beam_divergence_urad is not None:
            # A beam leaving an aperture of diameter D spreads at least as a Gaussian of waist
            # D/2: lambda / (pi D/2) (1/e**2 half-angle).
            floor = self.wavelength_nm * 1e-3 / (math.pi * 0.5 * self.tx_aperture_m)
            value = self.beam_divergence_urad
            if not (_number(value) and floor <= value <= 1e4):
                raise ParameterError("beam_divergence_urad", f"a half-angle from the diffraction limit of the "
                                     f"{self.tx_aperture_m:g} m aperture at {self.wavelength_nm:g} nm ({floor:.2f} urad) "
                                     "to 10,000 urad", value)
        if not (_number(self.error_correction_efficiency) and 1.0 <= self.error_correction_efficiency <= 2.0):
            raise ParameterError("error_correction_efficiency", "a number from 1 to 2 (f_EC; practical codes: "
                                 "1.05-1.5)", self.error_correction_efficiency)
        if not (_number(self.block_sifted_bits) and 100.0 <= self.block_sifted_bits <= 1e15):
            raise ParameterError("block_sifted_bits", "a number from 100 to 1e15 (sifted bits)", self.block_sifted_bits)
        # The arm's transmitter checks its own fields (divergence, pointing, optics loss).
        self.arm_link

    @property
    def arm_link(self) -> LinkParams:
        """The transmitter of each arm, as a downlink payload at the source's wavelength."""
        return LinkParams(wavelength_nm=self.wavelength_nm, tx_aperture_m=self.tx_aperture_m,
                          beam_divergence_urad=self.beam_divergence_urad,
                          pointing_jitter_urad=self.pointing_jitter_urad, tx_optics_loss_db=self.tx_optics_loss_db)

    @property
    def intrinsic_error(self) -> float:
        """Probability that a true coincidence is an error: ``(1 - visibility) / 2``."""
        return 0.5 * (1.0 - self.visibility)

    @property
    def window_capture(self) -> float:
        """Fraction of true coincidences inside the coincidence window (Gaussian jitter)."""
        if self.timing_jitter_ps <= 0.0:
            return 1.0
        return math.erf(self.coincidence_window_ns * 1e3 / (2.0 * math.sqrt(2.0) * self.timing_jitter_ps))

    @property
    def sifting_fraction(self) -> float:
        """Fraction of coincidences measured in the same basis at both stations."""
        p = self.basis_probability
        return p ** 2 + (1.0 - p) ** 2

    @classmethod
    def from_mapping(cls, mapping) -> "SourceParams":
        """Build from a ``[source]`` table (``preset`` merged before). Raises ParameterError."""
        known = {f.name for f in fields(cls)}
        values = dict(mapping)
        for key, value in values.items():
            if key not in known:
                raise unknown_key(key, known)
            if key == "finite_key":
                if not isinstance(value, bool):
                    raise ParameterError(key, "true or false", value)
            elif value is not None and not _number(value):
                raise ParameterError(key, "a finite number", value)
        for name in ("pair_rate_hz", "wavelength_nm", "visibility", "coincidence_window_ns"):
            if values.get(name) is None:
                raise ParameterError(name, 'a number (required: start from a preset, e.g. preset = '
                                     '"micius-entanglement", or give it)', Described("nothing"))
        return cls(**values)


# Named entangled-photon payloads. Each number says where it comes from (docs/references.md §14).
SOURCE_PRESETS: dict[str, SourceParams] = {
    # Micius's entanglement payload (Yin et al. 2017 Science 356:1140; Yin et al. 2020 Nature
    # 582:501, the 2020 configuration with its improved ground optics).
    "micius-entanglement": SourceParams(
        pair_rate_hz=6.3e6,             # fitted: Yin 2020's average two-photon count rate, 2.2 Hz, over the
                                        # Delingha-Nanshan windows of scenarios/micius-2018-bbm92-delingha-nanshan.toml
                                        # (secondary material quotes 5.9e6 pairs/s, not read in the papers)
        wavelength_nm=810.0,            # Yin 2020: 405 nm pump, 810 nm pairs
        visibility=0.997,               # fitted: Yin 2020's QBER, ~4.5 % (with the noise below and both
                                        # receivers' polarisation error)
        coincidence_window_ns=9.7,      # fitted: Yin 2020's signal-to-noise ratio, 15:1; it stands for every
                                        # accidental our noise model lacks (the real window is not in the
                                        # text we could read)
        timing_jitter_ps=500.0,         # assumption: detectors, taggers and the two stations' clock sync
        tx_aperture_m=0.18,             # assumption (aperture not read; the divergence below decides)
        beam_divergence_urad=10.0,      # Yin 2020: "near-diffraction-limited far-field divergence of about
                                        # 10 urad" (taken as the 1/e**2 half-angle, as Micius's BB84 ~10 urad)
        pointing_jitter_urad=1.2,       # Liao 2017: Micius tracking ~1.2 urad
        tx_optics_loss_db=0.0,          # with the pair rate fitted, no further loss is needed
        error_correction_efficiency=1.19,   # Yin 2020: Hamming code, inefficiency 1.19
        epsilon_secret=1e-10,           # Yin 2020: failure probability 1e-10
        epsilon_correct=1e-10,          # assumption (Yin 2020 states one epsilon)
    ),
}
# Yin 2020: "the brightness of the entangled-photon source can be increased by about two
# orders of magnitude", giving "tens of bits per second" (p. 504): the Micius payload with a
# source 100 times brighter (a prospect, not flown hardware). Accidental coincidences of
# multiple pairs grow as pair rate x window, so the window must shrink as the source brightens:
# 100 ps with 30 ps rms jitter (assumption: superconducting detectors and picosecond
# synchronisation); everything else as micius-entanglement.
SOURCE_PRESETS["micius-entanglement-bright"] = SourceParams(
    **{**{f.name: getattr(SOURCE_PRESETS["micius-entanglement"], f.name) for f in fields(SourceParams)},
       "pair_rate_hz": 6.3e8, "coincidence_window_ns": 0.1, "timing_jitter_ps": 30.0})
