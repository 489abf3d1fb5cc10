"""Named ground receivers: telescope, optics and detectors of known classes, with sources.

A station's ``receiver`` names one of these (``receiver = "observatory-1m"``) or a table that
starts from one and overrides fields (``receiver = { preset = "observatory-1m",
detector_efficiency = 0.6 }``). Built-in stations carry the receiver the literature gives them
(:mod:`constellation.scenario.stations`). Each number says where it comes from or that it is
an assumption; numbers fitted to a published figure say which.
"""

from __future__ import annotations

from .receiver_params import ReceiverParams

__all__ = ["RECEIVERS", "RECEIVER_SOURCES"]

_SI_APD = dict(wavelength_min_nm=500.0, wavelength_max_nm=1000.0)   # silicon single-photon APDs
_INGAAS = dict(wavelength_min_nm=1000.0, wavelength_max_nm=1600.0)  # InGaAs / superconducting detectors

RECEIVERS: dict[str, ReceiverParams] = {
    # Xinglong's 1 m QKD receiver for Micius (Liao et al. 2017, Nature 549:43; docs/references.md §2).
    "observatory-1m": ReceiverParams(
        aperture_m=1.0,                # Liao 2017: 1 m Ritchey-Chretien telescope
        optics_transmittance=0.16,     # Liao 2017: ~16 % optical efficiency (telescope and coupling)
        detector_efficiency=0.5,       # Liao 2017: 50 %
        dark_count_cps=25.0,           # Liao 2017: < 25 counts/s per detector (upper value taken)
        gate_ns=2.0,                   # Liao 2017: 2 ns time window
        timing_jitter_ps=150.0,        # Liao 2017: 350 ps, taken as FWHM (rms 150 ps)
        field_of_view_urad=100.0,      # assumption: ~100 urad, typical of 1 m QKD receivers
        filter_width_nm=1.0,           # assumption: nm-class interference filter
        afterpulse_probability=1e-3,   # assumption (SatQuMA default)
        polarisation_error=0.0058,     # fitted: 1.1 % QBER of the 2016-12-19 pass (Liao 2017)
        detectors=4,                   # Liao 2017: four detectors, passive basis choice
        **_SI_APD,
    ),
    # The same class after the 2018-2020 upgrades behind Chen et al. 2021 (47.8 kbit/s per typical
    # pass). The hardware numbers could not be read (docs/references.md §4); assumption: better
    # coupling optics, fitted with the micius-2020 payload to that figure (docs/validation.md).
    "observatory-1m-2020": ReceiverParams(
        aperture_m=1.0,
        optics_transmittance=0.30,     # fitted (see above): about twice 2017's 16 %
        detector_efficiency=0.6,       # assumption: newer silicon SPADs
        dark_count_cps=25.0,
        gate_ns=1.0,                   # assumption: narrower window at the higher clock rate
        timing_jitter_ps=150.0,
        field_of_view_urad=100.0,
        filter_width_nm=1.0,
        afterpulse_probability=1e-3,
        polarisation_error=0.0058,     # as observatory-1m
        detectors=4,
        **_SI_APD,
    ),
    # A 0.6 m telescope receiver (Zvenigorod's 600 mm station of the China-Russia link,
    # Khmelev et al. 2024, Optics Express); the rest as observatory-1m (assumption).
    "telescope-0.6m": ReceiverParams(
        aperture_m=0.6,                # Khmelev et al. 2024: 600 mm ground station
        optics_transmittance=0.16,     # assumption: as observatory-1m
        detector_efficiency=0.5,
        dark_count_cps=25.0,
        gate_ns=2.0,
        timing_jitter_ps=150.0,
        field_of_view_urad=100.0,
        filter_width_nm=1.0,
        afterpulse_probability=1e-3,
        polarisation_error=0.0058,
        detectors=4,
        **_SI_APD,
    ),
    # The ~100 kg portable station of the Jinan-1 campaign (Li et al. 2025, Nature 640:47).
    # Only its mass is published; the telescope and detectors are assumptions.
    "portable-0.28m": ReceiverParams(
        aperture_m=0.28,               # assumption: 28 cm telescope on a ~100 kg station
        optics_transmittance=0.30,     # assumption: short optical train of a compact receiver
        detector_efficiency=0.5,       # assumption: silicon SPADs
        dark_count_cps=25.0,           # assumption
        gate_ns=1.0,                   # assumption
        timing_jitter_ps=150.0,        # assumption
        field_of_view_urad=150.0,      # assumption: wider field for a small mount's tracking
        filter_width_nm=1.0,           # assumption
        afterpulse_probability=1e-3,
        polarisation_error=0.0058,     # assumption: as observatory-1m
        detectors=4,
        **_SI_APD,
    ),
    # A daylight receiver at 1550 nm: single-mode-fibre coupling behind adaptive optics gives a
    # field of view near the diffraction limit and a 0.1 nm filter rejects the day sky (Liao et
    # al. 2017 Nat. Photonics 11:509; Avesani et al. 2021; Gruneisen et al. 2021 Phys. Rev.
    # Applied 16:014067). Every number is an assumption of that class.
    "daylight-1550": ReceiverParams(
        aperture_m=1.0,                # assumption: a 1 m observatory telescope
        optics_transmittance=0.20,     # assumption: telescope + AO + single-mode coupling (~30 %)
        detector_efficiency=0.8,       # assumption: superconducting nanowire detectors
        dark_count_cps=100.0,          # assumption
        gate_ns=0.5,                   # assumption
        timing_jitter_ps=30.0,         # assumption (SNSPD)
        field_of_view_urad=10.0,       # assumption: a few lambda/D behind adaptive optics
        filter_width_nm=0.1,           # assumption: DWDM-class filter
        afterpulse_probability=0.0,    # SNSPDs do not afterpulse
        polarisation_error=0.0,
        detectors=4,
        **_INGAAS,
    ),
}

RECEIVER_SOURCES = {
    "observatory-1m": "Liao et al. 2017 (Xinglong: 1 m, ~16 % optics, 50 % detectors, <25 cps dark, "
                      "2 ns window); field of view and filter are assumptions; polarisation error fitted",
    "observatory-1m-2020": "observatory-1m upgraded (assumption), fitted to Chen et al. 2021's 47.8 kbit/s",
    "telescope-0.6m": "600 mm station (Khmelev et al. 2024); the rest as observatory-1m (assumption)",
    "portable-0.28m": "Jinan-1 portable ~100 kg station (Li et al. 2025); hardware is an assumption",
    "daylight-1550": "1550 nm daylight receiver class (Liao 2017 Nat. Photonics, Avesani 2021); assumptions",
}
