"""Named terminals: link and decoy-BB84 parameters of known missions, with their sources.

Each number carries a comment saying where it comes from (the sections of docs/references.md cited) or that
it is an assumption; assumptions are chosen, and said to be chosen, to reproduce a published
figure. Reused by scenarios (``preset = "micius"``), docs and tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from .terminal_params import LinkParams, QkdParams

__all__ = ["PRESETS", "Preset"]


@dataclass(frozen=True)
class Preset:
    """A named terminal: link and protocol parameters, with where each number comes from."""

    link: LinkParams
    qkd: QkdParams
    sources: str


PRESETS: dict[str, Preset] = {
    # Micius (Liao et al. 2017, Nature 549:43) over Xinglong; docs/references.md §2b, §2c, §2e, §10a.
    "micius": Preset(
        link=LinkParams(
            wavelength_nm=848.62,          # QNET example-micius2017.py (V-code)
            tx_aperture_m=0.30,            # 300 mm Cassegrain transmitter (unconfirmed, §2e)
            beam_divergence_urad=10.0,     # ~10 urad (MEM; satScripts txDiv = 10e-6); taken as
                                           # the 1/e^2 half-angle (convention unconfirmed)
            pointing_jitter_urad=1.0,      # assumption: ~0.2 dB at 10 urad divergence
            zenith_transmittance=0.5,      # SatOptLink Micius example 0.5, satScripts 0.49 (V-code)
            turbulence_urad=None,          # downlink: turbulence sits at the end of the path
            extra_loss_db=5.0,             # fitted: minimax offset to the QNET loss-vs-distance
                                           # curve (§2c), 645-1,200 km, max error 1.8 dB
            rx_aperture_m=1.0,             # Xinglong 1 m telescope (published, §7)
        ),
        qkd=QkdParams(
            source_rate_hz=100e6,                  # QNET (V-code)
            intensities=(0.8, 0.1, 0.0),           # QNET (V-code)
            probabilities=(0.5, 0.25, 0.25),       # QNET (V-code)
            basis_probability_x=0.5,               # QNET (V-code)
            detector_efficiency=0.5,               # QNET (V-code)
            dark_count_probability=1e-7,           # SatQuMA default extraneous count (assumption)
            intrinsic_qber=0.01,                   # assumption, gives QBER ~1.1 % (unconfirmed, §2e)
            afterpulse_probability=1e-3,           # SatQuMA default (assumption)
            error_correction_efficiency=1.16,      # SatQuMA typical f_EC (assumption)
            epsilon_correct=1e-15,                 # SatQuMA defaults (assumption)
            epsilon_secret=1e-9,
            key_from_both_bases=True,              # symmetric BB84, 0.5/0.5 bases (assumption)
        ),
        sources="Liao et al. 2017 via Baidu QNET example-micius2017.py (source, intensities, "
                "probabilities, detector, wavelength); Xinglong 1 m receiver; 300 mm / ~10 urad "
                "transmitter (unconfirmed); zenith transmittance 0.5 (SatOptLink); extra loss "
                "fitted to the QNET loss curve; dark counts, intrinsic QBER, f_EC, epsilons "
                "are assumptions (SatQuMA defaults).",
    ),
    # Jinan-1 class microsatellite (Li et al. 2025, Nature 640:47; docs/references.md §6).
    # Published: 23 kg payload, ~100 kg portable ground station, "250 million signal photons
    # per second" (wording uncertain), up to 1.07 Mbit in one Stellenbosch pass. Everything
    # else here is an assumption, calibrated so that a near-overhead night pass from a
    # 500 km orbit gives ~1 Mbit of finite key.
    "jinan-1": Preset(
        link=LinkParams(
            wavelength_nm=850.0,           # assumption (typical decoy-BB84 payload band)
            tx_aperture_m=0.10,            # assumption: 10 cm telescope on a 23 kg payload
            beam_divergence_urad=None,     # diffraction limited (5.4 urad half-angle)
            pointing_jitter_urad=1.0,      # assumption
            zenith_transmittance=0.5,      # as for Micius (SatOptLink)
            turbulence_urad=None,
            extra_loss_db=6.0,             # calibrated: a 90 deg pass from 500 km gives ~1.07 Mbit
            rx_aperture_m=0.28,            # assumption: portable ~100 kg OGS, 28 cm telescope
        ),
        qkd=QkdParams(
            source_rate_hz=625e6,          # assumption; with the intensities below sends
            intensities=(0.5, 0.1, 0.0),   # 625e6 * (0.75*0.5 + 0.15*0.1) = 244e6 photons/s,
            probabilities=(0.75, 0.15, 0.10),  # the reported ~250 million per second
            basis_probability_x=0.5,
            detector_efficiency=0.5,       # assumption
            dark_count_probability=1e-7,   # assumption (SatQuMA default)
            intrinsic_qber=0.01,           # assumption
            afterpulse_probability=1e-3,
            error_correction_efficiency=1.16,
            epsilon_correct=1e-15,
            epsilon_secret=1e-9,
            key_from_both_bases=True,
        ),
        sources="Li et al. 2025 (payload 23 kg, portable 100 kg OGS, ~250e6 signal photons/s, "
                "1.07 Mbit best pass); aperture sizes, wavelength, source rate, intensities, "
                "detector and losses are assumptions calibrated to ~1 Mbit per best pass.",
    ),
    # The 2027 high-orbit satellite (docs/references.md §11: "600 mm" telescope, MEO or GEO).
    # Only the aperture is published; everything else is an assumption, chosen as a
    # Micius-class payload scaled to a high orbit.
    "high-orbit-60cm": Preset(
        link=LinkParams(
            wavelength_nm=850.0,           # assumption (as the LEO payloads)
            tx_aperture_m=0.60,            # 600 mm telescope (§11, secondary reports)
            beam_divergence_urad=None,     # assumption: diffraction limited (1.7 urad half-angle)
            pointing_jitter_urad=0.3,      # assumption: a high orbit needs sub-urad pointing
            zenith_transmittance=0.5,      # as for Micius (SatOptLink)
            turbulence_urad=None,
            extra_loss_db=5.0,             # assumption: Micius's fitted optics/coupling loss
            rx_aperture_m=1.0,             # assumption: 1 m class receivers
        ),
        qkd=QkdParams(
            source_rate_hz=1e9,                    # assumption: GHz-class decoy source
            intensities=(0.8, 0.1, 0.0),           # as Micius (QNET)
            probabilities=(0.5, 0.25, 0.25),
            basis_probability_x=0.5,
            detector_efficiency=0.5,
            dark_count_probability=1e-7,
            intrinsic_qber=0.01,
            afterpulse_probability=1e-3,
            error_correction_efficiency=1.16,
            epsilon_correct=1e-15,
            epsilon_secret=1e-9,
            key_from_both_bases=True,
        ),
        sources="600 mm aperture from reports of the 2027 MEO/GEO quantum satellite (docs/references.md §11); "
                "everything else is an assumption (a Micius-class payload with a GHz source and "
                "sub-microradian pointing).",
    ),
}
