"""Built-in weather climatology of the catalogue stations: monthly clear-night fractions and
night-to-night persistence, each with its source.

A scenario station taken from the catalogue (named, no position given) that states no
``clear_sky_probability`` uses :func:`climatology` here; one without ``clear_sky_persistence``
uses the climatology's persistence. The claim is physical: a night at a built-in station is
clear (a QKD pass is not blocked by cloud) with the station's monthly probability, and
consecutive nights share weather with the stated lag-1 correlation (the Markov chain of
:func:`constellation.network.weather.clear_nights`). A scenario that wants the old
"always clear" states ``clear_sky_probability = 1.0``.

What a value means. ``monthly`` is the probability that a night of that calendar month
(January first) is clear enough for a pass. Sources measure different things and the
``source`` says which: the fraction of *spectroscopic* or *observable* nights of an
observatory (usable through thin or partial cloud, the nearest match to "a pass gets
through"), a satellite cloud-free-night fraction, or, where no night statistic was found,
the *relative sunshine duration* (sunshine hours / astronomical day length) of a nearby
climate station: the daytime fraction of time the sun is not behind cloud, used as a proxy
of the night's (assumption: nights are as cloudy as days; at coastal and monsoon sites
nights can be clearer). Where a source gives only an annual value or the two extremes, the
monthly shape is an assumption and says so. Every value carries ``source``; values with
no source at all say ``assumption: ...``.

Persistence. Ground-observed cloud cover decorrelates exponentially in time with
half-lives of 5 to 40 h (Jones 1992, J. Appl. Meteor. 31, 732-741), i.e. a lag of one day
(24 h) keeps a correlation of 2**(-24/5) = 0.04 to 2**(-24/40) = 0.66. No per-site value
was found for these stations; all use 0.4 (half-life ~18 h, the middle of Jones's range),
an assumption stated in ``persistence_source``. The correlation of a clear/cloudy state
is not that of cloud fraction; the value sets the scale, not a measurement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .stations import lookup


@dataclass(frozen=True)
class Climatology:
    """Weather of one built-in station.

    ``monthly`` are 12 clear-night probabilities (January first), ``persistence`` the lag-1
    correlation of the clear/cloudy state between consecutive nights; ``source`` and
    ``persistence_source`` say where each comes from (``assumption: ...`` when nowhere).
    ``annual`` is the cited annual fraction the monthly values average to (None when the
    source gives none)."""

    monthly: tuple[float, ...]
    persistence: float
    source: str
    persistence_source: str
    annual: float | None = None

    @property
    def mean(self) -> float:
        """Mean of the monthly values (each month weighted equally)."""
        return float(np.mean(self.monthly))


PERSISTENCE = 0.4
PERSISTENCE_SOURCE = ("assumption: 0.4, inside the lag-24 h cloud-cover correlation 0.04-0.66 implied by the "
                      "5-40 h exponential half-lives of Jones 1992 (J. Appl. Meteor. 31, 732)")


def _relative_sunshine(sunshine_h, latitude_deg: float) -> tuple[float, ...]:
    """Monthly sunshine hours per day over the astronomical day length at mid-month
    (solar declination 23.44 deg sin(2 pi (284 + n) / 365), sunrise at the geometric horizon)."""
    day_of_year = np.array([15, 46, 75, 106, 136, 167, 197, 228, 259, 289, 320, 350])
    dec = np.radians(23.44) * np.sin(2.0 * np.pi * (284 + day_of_year) / 365.0)
    cos_h = np.clip(-np.tan(np.radians(latitude_deg)) * np.tan(dec), -1.0, 1.0)
    day_h = 24.0 / np.pi * np.arccos(cos_h)
    return tuple(float(round(x, 3)) for x in np.clip(np.asarray(sunshine_h, float) / day_h, 0.0, 1.0))


_VIENNA = (0.25, 0.33, 0.42, 0.47, 0.50, 0.52, 0.55, 0.56, 0.50, 0.42, 0.27, 0.22)
_BEIJING = (0.65, 0.65, 0.62, 0.60, 0.60, 0.53, 0.47, 0.52, 0.60, 0.62, 0.60, 0.62)

_CLIMATE: dict[str, Climatology] = {
    "Xinglong": Climatology(
        (0.80, 0.75, 0.70, 0.65, 0.60, 0.50, 0.35, 0.40, 0.60, 0.75, 0.78, 0.80), PERSISTENCE,
        "annual 0.63 = spectroscopic nights 2007-2014 (Zhang et al. 2015, PASP 127, 1292; photometric 0.32); "
        "monthly shape assumption after its summer minimum and Yao et al. 2012 (RAA 12, 772: ~8 operable h "
        "per night in December, 1-2 h in July-August)", PERSISTENCE_SOURCE, annual=0.63),
    "Nanshan": Climatology(
        (0.77,) * 12, PERSISTENCE,
        "annual 0.77 = ~280 observable nights per year at XAO Nanshan (Xingming Observatory site page, "
        "xjltp.china-vo.org); flat monthly values: assumption, no monthly statistic found",
        PERSISTENCE_SOURCE, annual=0.77),
    "Delingha": Climatology(
        (0.80, 0.78, 0.72, 0.68, 0.62, 0.50, 0.45, 0.48, 0.60, 0.75, 0.80, 0.82), PERSISTENCE,
        "assumption: no clear-night statistic found for PMO Delingha (site tests since 2010, plots only, "
        "song.bao.ac.cn); dry Qaidam basin at 3,200 m, summer-monsoon minimum as at Ngari", PERSISTENCE_SOURCE),
    "Lijiang": Climatology(
        (0.88, 0.88, 0.85, 0.80, 0.70, 0.45, 0.35, 0.38, 0.50, 0.70, 0.85, 0.88), PERSISTENCE,
        "annual 0.70 = 254 clear nights per year at Gaomeigu (People's Daily, 7 Mar 2005; Xinhua 2001); "
        "monthly shape assumption: dry season November-April, south-west monsoon June-September",
        PERSISTENCE_SOURCE, annual=0.70),
    "Ngari": Climatology(
        (0.85, 0.82, 0.78, 0.75, 0.72, 0.60, 0.45, 0.45, 0.68, 0.85, 0.88, 0.87), PERSISTENCE,
        "annual ~0.72: nights with cloud cover below 40 % 'more than 70 %' per year, worse in July-August "
        "(Qian et al. 2024, MNRAS, doi:10.1093/mnras/stae582, Ali 2016-2018); photometric 0.57 from CFSR "
        "(Ye et al. 2016, MNRAS Letters, arXiv:1512.01099); monthly shape assumption after Qian's seasons",
        PERSISTENCE_SOURCE, annual=0.72),
    "Jinan": Climatology(
        tuple(round(x - 0.05, 2) for x in _BEIJING), PERSISTENCE,
        "assumption: Beijing's relative sunshine less 0.05 (same North China Plain monsoon climate, "
        "hazier); no station statistic found", PERSISTENCE_SOURCE),
    "Hefei": Climatology(
        (0.40, 0.38, 0.40, 0.45, 0.48, 0.38, 0.52, 0.55, 0.50, 0.52, 0.48, 0.45), PERSISTENCE,
        "assumption: Yangtze-basin climate, cloudy winters and plum-rain June, clearer July-October; "
        "no station statistic found", PERSISTENCE_SOURCE),
    "Beijing": Climatology(
        _BEIJING, PERSISTENCE,
        "relative sunshine 0.65 in January-February to 0.47 in July (CMA 1971-2000 normals, 2,671 h per "
        "year, as quoted for Beijing's climate); months between the extremes: assumption",
        PERSISTENCE_SOURCE),
    "Graz": Climatology(
        _VIENNA, PERSISTENCE,
        "assumption: Vienna's relative sunshine (below) for Graz, south-east of the Alps (winter fog "
        "may make Graz cloudier in November-January)", PERSISTENCE_SOURCE),
    "Vienna": Climatology(
        _VIENNA, PERSISTENCE,
        "relative sunshine: ~2 h per day in January (of 8.5 h day length) and ~8 h in summer (of ~15.5 h), "
        "tourist-climate summaries of the ZAMG normals (rove.me, rhinocarhire.com); other months: assumption",
        PERSISTENCE_SOURCE),
    "Zvenigorod": Climatology(
        (0.17, 0.27, 0.35, 0.42, 0.52, 0.52, 0.52, 0.52, 0.38, 0.24, 0.12, 0.08), PERSISTENCE,
        "Moscow relative sunshine: 8 % of possible in December, 52 % May-August (1,731 h per year; "
        "Climate of Moscow, Roshydromet normals); other months: assumption", PERSISTENCE_SOURCE),
    "Stellenbosch": Climatology(
        _relative_sunshine((11, 10, 10, 8, 7, 6, 6, 7, 8, 9, 10, 11), -33.93), PERSISTENCE,
        "Cape Town mean daily sunshine hours by month (Met Office holiday-weather climate page) over the "
        "astronomical day length at 33.9 S: relative sunshine as a proxy for clear nights",
        PERSISTENCE_SOURCE),
    "Matera": Climatology(
        (0.45, 0.48, 0.52, 0.58, 0.65, 0.75, 0.82, 0.80, 0.68, 0.58, 0.48, 0.43), PERSISTENCE,
        "assumption: Mediterranean climate of Basilicata, wet winters and dry summers; no clear-night "
        "statistic found for MLRO", PERSISTENCE_SOURCE),
    "Tenerife": Climatology(
        (0.55, 0.58, 0.62, 0.68, 0.75, 0.82, 0.85, 0.82, 0.72, 0.65, 0.58, 0.56), PERSISTENCE,
        "annual 0.686 = cloud-free nights at Izana from GOES-12, 2008-2009 (Cavazzani & Zitelli 2013, MNRAS, "
        "arXiv:1211.1520); monthly shape assumption: winter Atlantic storms, summer trade-wind inversion "
        "below the site", PERSISTENCE_SOURCE, annual=0.686),
}


def climatology(name: str) -> Climatology | None:
    """The built-in climatology of a catalogue station (case-insensitive, aliases), or None."""
    key = lookup(name)
    return _CLIMATE.get(key) if key is not None else None


def climatology_names() -> list[str]:
    """Catalogue stations that have a climatology."""
    return sorted(_CLIMATE)
