"""Named payloads: the optical transmitter and decoy-BB84 source of known missions, with sources.

A payload preset describes the satellite side only (``[link]`` and ``[qkd]``); the receiver and
the sky belong to the station (:mod:`constellation.scenario.receivers`,
:mod:`constellation.scenario.stations`). Each number carries a comment saying where it comes
from (the sections of docs/references.md cited) or that it is an assumption; a number fitted
to a published figure says so, and which figure. Reused by scenarios (``preset = "micius"``),
docs and tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from .terminal_params import LinkParams, QkdParams

__all__ = ["PRESETS", "Preset"]


@dataclass(frozen=True)
class Preset:
    """A named payload: transmitter and protocol parameters, with where each number comes from."""

    link: LinkParams
    qkd: QkdParams
    sources: str


_PROTOCOL = dict(                      # post-processing shared by the presets
    error_correction_efficiency=1.16,  # SatQuMA typical f_EC (assumption; Liao 2017 used a
                                       # Hamming code, efficiency not published)
    epsilon_correct=1e-15,             # SatQuMA default (assumption)
    epsilon_secret=1e-9,               # Liao 2017: "statistical failure probability 1e-9"
    key_from_both_bases=True,          # symmetric BB84, 0.5/0.5 bases (assumption)
)

PRESETS: dict[str, Preset] = {
    # Micius (Liao et al. 2017, Nature 549:43; docs/references.md §2).
    "micius": Preset(
        link=LinkParams(
            wavelength_nm=848.62,          # Liao 2017 (848.6 nm), QNET example-micius2017.py
            tx_aperture_m=0.30,            # Liao 2017: 300 mm Cassegrain transmitter
            beam_divergence_urad=9.0,      # fitted (with Xinglong's zenith transmittance 0.58) to the sifted
                                           # and final key of the Liao 2017 pass (docs/validation.md: the fit
                                           # sits 0.7 dB above the loss curve); Liao 2017 gives ~10 urad
            pointing_jitter_urad=1.2,      # Liao 2017: tracking accuracy ~1.2 urad (taken as rms per axis)
            tx_optics_loss_db=0.0,         # with the divergence and Xinglong's zenith transmittance fitted
                                           # to the key of the Liao 2017 pass: no extra loss needed
        ),
        qkd=QkdParams(
            source_rate_hz=100e6,                  # Liao 2017: 100 MHz
            intensities=(0.8, 0.1, 0.0),           # Liao 2017
            probabilities=(0.5, 0.25, 0.25),       # Liao 2017
            basis_probability_x=0.5,               # Liao 2017 (passive 50/50 basis choice)
            intrinsic_qber=0.0036,                 # Liao 2017: polarisation contrast 280:1 -> 1/281
            **_PROTOCOL,
        ),
        sources="Liao et al. 2017 (wavelength, 100 MHz source, intensities and probabilities, "
                "300 mm / ~10 urad transmitter, ~1.2 urad tracking, 280:1 polarisation contrast); "
                "divergence (9.0 urad) fitted with the Xinglong site's zenith transmittance to the "
                "sifted and final key of the 2016-12-19 pass; "
                "f_EC and epsilon_correct are assumptions (SatQuMA defaults).",
    ),
    # Jinan-1 class microsatellite (Li et al. 2025, Nature 640:47; docs/references.md §6).
    # Published: 23 kg payload, ~100 kg portable ground station, "250 million signal photons
    # per second" (wording uncertain), up to 1.07 Mbit in one Stellenbosch pass. The rest is
    # an assumption; the payload optics loss is fitted so that the best Stellenbosch night pass
    # of scenarios/jinan-1-stellenbosch-2025.toml, into the portable receiver, gives ~1.07 Mbit.
    "jinan-1": Preset(
        link=LinkParams(
            wavelength_nm=850.0,           # assumption (typical decoy-BB84 payload band)
            tx_aperture_m=0.10,            # assumption: 10 cm telescope on a 23 kg payload
            beam_divergence_urad=None,     # diffraction limited: lambda/(pi w0) = 5.4 urad half-angle; the
                                           # Gaussian fills the aperture (w0 = 5 cm, truncated at one waist:
                                           # 3.98 dB on axis, Klein & Degnan 1974, in the payload term)
            pointing_jitter_urad=1.0,      # assumption
            tx_optics_loss_db=0.6,         # fitted: 1.07 Mbit best pass at Stellenbosch (docs/validation.md);
                                           # 4.5 dB before the truncation was counted (issue 13 review)
        ),
        qkd=QkdParams(
            source_rate_hz=625e6,          # assumption; with the intensities below sends
            intensities=(0.5, 0.1, 0.0),   # 625e6 * (0.75*0.5 + 0.15*0.1) = 244e6 photons/s,
            probabilities=(0.75, 0.15, 0.10),  # the reported ~250 million per second
            basis_probability_x=0.5,
            intrinsic_qber=0.0036,         # assumption: Micius-class polarisation contrast
            **_PROTOCOL,
        ),
        sources="Li et al. 2025 (payload 23 kg, portable 100 kg OGS, ~250e6 signal photons/s, "
                "1.07 Mbit best pass); aperture, wavelength, source rate, intensities and "
                "contrast are assumptions; payload optics loss fitted to the best pass.",
    ),
    # Micius after its 2020 upgrade (Chen et al. 2021, Nature 589:214; docs/references.md §4):
    # 47.8 kbit/s average secret-key rate over a typical pass, ">40 times" 2017's. The paper's
    # hardware numbers could not be read here; a secondary summary credits a higher clock rate.
    # Assumption: Micius's telescope and pointing with a 1 GHz source (10x) and the intensities
    # the finite key prefers at that block size; the rest of the gain comes from the upgraded
    # ground receivers (receiver preset "observatory-1m-2020").
    "micius-2020": Preset(
        link=LinkParams(
            wavelength_nm=848.62,          # as Micius
            tx_aperture_m=0.30,            # as Micius
            beam_divergence_urad=10.0,     # Liao 2017's published ~10 urad (the micius preset's 9.0 is
                                           # fitted to the 2016 pass)
            pointing_jitter_urad=1.2,      # as Micius
            tx_optics_loss_db=0.0,         # as Micius
        ),
        qkd=QkdParams(
            source_rate_hz=1e9,                    # assumption: "higher clock rate", GHz class
            intensities=(0.8, 0.1, 0.0),           # as Micius
            probabilities=(0.5, 0.25, 0.25),       # as Micius
            basis_probability_x=0.5,
            intrinsic_qber=0.0036,                 # as Micius
            **_PROTOCOL,
        ),
        sources="Chen et al. 2021 (47.8 kbit/s average per typical pass); the upgrade's hardware "
                "is an assumption (1 GHz source on the Micius telescope), calibrated with the "
                "observatory-1m-2020 receiver to that figure (docs/validation.md).",
    ),
    # The 2027 high-orbit satellite (docs/references.md §11: "600 mm" telescope, MEO or GEO).
    # Only the aperture is published; everything else is an assumption, chosen as a
    # Micius-class payload scaled to a high orbit.
    "high-orbit-60cm": Preset(
        link=LinkParams(
            wavelength_nm=850.0,           # assumption (as the LEO payloads)
            tx_aperture_m=0.60,            # 600 mm telescope (§11, secondary reports)
            beam_waist_m=0.268,            # assumption: the Gaussian truncated at 1.12 waists, the
                                           # far-field optimum (Klein & Degnan 1974): 2.92 dB on axis
                                           # against the untruncated beam (0.37 dB of it the power outside
                                           # the aperture); divergence lambda/(pi w0) = 1.01 urad half-angle
            beam_divergence_urad=None,
            pointing_jitter_urad=0.3,      # assumption: a high orbit needs sub-urad pointing
            tx_optics_loss_db=0.6,         # assumption: as the Jinan-1 payload's fitted optics loss (4.5 dB while
                                           # that fit absorbed Jinan-1's truncation); decides GEO at 850 nm:
                                           # docs/physics.md
        ),
        qkd=QkdParams(
            source_rate_hz=1e9,                    # assumption: GHz-class decoy source
            intensities=(0.8, 0.1, 0.0),           # as Micius
            probabilities=(0.5, 0.25, 0.25),
            basis_probability_x=0.5,
            intrinsic_qber=0.0036,
            **_PROTOCOL,
        ),
        sources="600 mm aperture from reports of the 2027 MEO/GEO quantum satellite (docs/references.md §11); "
                "everything else is an assumption (a Micius-class payload with a GHz source and "
                "sub-microradian pointing).",
    ),
    # A daylight-capable payload for the same 600 mm high-orbit telescope: 1550 nm, where the
    # day sky is ~7x darker than at 850 nm (ITU-R P.1621-2) and the Sun's spectrum weaker, as in
    # the daylight free-space QKD literature (Liao et al. 2017 Nat. Photonics 11:509: 1550 nm,
    # single-mode-fibre coupling, 53 km in daylight; Avesani et al. 2021 npj QI 7:93: 1550 nm
    # all day). Its receiver is the station's "daylight-1550" preset (narrow field and filter).
    "high-orbit-60cm-1550": Preset(
        link=LinkParams(
            wavelength_nm=1550.0,          # daylight QKD band (Liao 2017 NatPhoton; Avesani 2021)
            tx_aperture_m=0.60,            # as high-orbit-60cm
            beam_waist_m=0.268,            # as high-orbit-60cm: 1.84 urad half-angle at 1550 nm
            beam_divergence_urad=None,
            pointing_jitter_urad=0.3,      # assumption, as high-orbit-60cm
            tx_optics_loss_db=0.6,         # assumption, as high-orbit-60cm
        ),
        qkd=QkdParams(
            source_rate_hz=1e9,                    # assumption: GHz-class decoy source
            intensities=(0.8, 0.1, 0.0),
            probabilities=(0.5, 0.25, 0.25),
            basis_probability_x=0.5,
            intrinsic_qber=0.005,                  # assumption (Avesani 2021: QBER ~0.5 % in daylight)
            **_PROTOCOL,
        ),
        sources="600 mm high-orbit telescope (as high-orbit-60cm) at 1550 nm, the band of the "
                "daylight QKD experiments (Liao et al. 2017 Nat. Photonics; Avesani et al. 2021); "
                "everything else is an assumption.",
    ),
}
