"""Ground stations: the :class:`Station` record and the built-in catalogue.

Coordinates are WGS84 geodetic. Each catalogue entry cites where its numbers come from
(see also ``docs/references.md`` §7). Entries marked *approximate* are
town or campus coordinates for portable ground stations whose exact sites are not
published; they are good to ~10 km, which moves pass times by ~1 s.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ..core.geometry import enu_basis, geodetic_to_ecef
from .receiver_params import ReceiverParams, SiteParams
from .receivers import RECEIVERS


@dataclass(frozen=True)
class Station:
    """An optical ground station.

    ``horizon_mask`` is a sequence of ``(azimuth_deg, elevation_deg)`` points, linear in
    azimuth and periodic; the station sees a satellite where its elevation is above both
    ``min_elevation_deg`` and the mask. ``receiver`` is the QKD receiver behind the telescope
    (None: the station cannot receive key), ``sky`` the site's atmosphere and night sky
    (its ``elevation_m`` is the station's: see :attr:`site`).
    """

    name: str
    latitude_deg: float
    longitude_deg: float
    elevation_m: float = 0.0
    min_elevation_deg: float = 10.0
    horizon_mask: tuple[tuple[float, float], ...] = ()
    aperture_m: float | None = None
    note: str = field(default="", compare=False)
    receiver: ReceiverParams | None = None
    sky: SiteParams = SiteParams()

    @property
    def site(self) -> SiteParams:
        """The site parameters, at the station's altitude."""
        return dataclasses.replace(self.sky, elevation_m=float(self.elevation_m))

    @property
    def position_km(self) -> np.ndarray:
        """Earth-fixed position, shape (3,)."""
        return geodetic_to_ecef(self.latitude_deg, self.longitude_deg, self.elevation_m)

    @property
    def enu(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """East, north, up unit vectors, each shape (3,)."""
        return enu_basis(self.latitude_deg, self.longitude_deg)

    def mask_arrays_deg(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The horizon mask as sorted ``(azimuth_deg, elevation_deg)`` arrays, or None."""
        if not self.horizon_mask:
            return None
        points = np.array(sorted((az % 360.0, el) for az, el in self.horizon_mask), dtype=float)
        return points[:, 0], points[:, 1]

    def lowest_elevation_deg(self) -> float:
        """The lowest elevation at which this station can see anything."""
        mask = self.mask_arrays_deg()
        if mask is None:
            return self.min_elevation_deg
        return max(self.min_elevation_deg, float(mask[1].min()))


def _dms(degrees: float, minutes: float, seconds: float) -> float:
    return degrees + minutes / 60.0 + seconds / 3600.0


# name -> (latitude_deg, longitude_deg, elevation_m, aperture_m, source)
_CATALOGUE: dict[str, tuple[float, float, float, float | None, str]] = {
    # Liao et al. 2017 downlink station; coordinates as coded in matteoschiav/satScripts
    # satMiciusNature.py; 1 m telescope per NAOC news, Sep 2016.
    "Xinglong": (40.39587, 117.57746, 890.0, 1.0, "NAOC Xinglong; satScripts coordinates"),
    # Xinjiang Astronomical Observatory, near Urumqi; satScripts satMiciusCompDelft.py.
    "Nanshan": (_dms(43, 28, 31.66), _dms(87, 10, 36.07), 2028.0, 1.2, "XAO Nanshan; satScripts; 1.2 m (Yin 2020)"),
    # Qinghai; USTC release coordinates, altitude from satScripts.
    "Delingha": (_dms(37, 22, 44.43), _dms(97, 43, 37.01), 3153.0, 1.2, "USTC release; satScripts; 1.2 m (Yin 2020)"),
    # Gaomeigu site, Yunnan; USTC release, Xinhua 2001 (3,193 m).
    "Lijiang": (_dms(26, 41, 38.15), _dms(100, 1, 45.55), 3193.0, 1.8, "USTC release; Xinhua 2001; 1.8 m (unconfirmed)"),
    # Ali, Tibet: teleportation uplink site; USTC release, 5,100 m per kzwr.com.
    "Ngari": (_dms(32, 19, 30.07), _dms(80, 1, 34.18), 5100.0, None, "USTC release"),
    # Jinan-1 portable stations (Li et al. 2025): sites not published; approximate city
    # coordinates, ~100 kg portable receiver.
    "Jinan": (36.651, 117.120, 50.0, 0.28, "approximate: city of Jinan; portable"),
    "Hefei": (31.839, 117.264, 30.0, 0.28, "approximate: USTC campus, Hefei; portable"),
    "Beijing": (39.90, 116.40, 50.0, 0.28, "approximate: Beijing centre (docs/references.md §6); portable"),
    # ILRS site log 7839 GRZL, Graz Lustbuehel; 0.5 m receive telescope.
    "Graz": (47.0671, 15.4933, 539.4, 0.5, "ILRS site log 7839 GRZL"),
    # Videoconference endpoint of Liao 2018 (Austrian Academy of Sciences), not an OGS.
    "Vienna": (48.2087, 16.3772, 180.0, None, "approximate: Austrian Academy of Sciences"),
    # INASAN Zvenigorod observatory, Moscow region; station of the China-Russia link is
    # recalled, not confirmed (docs/references.md §5).
    "Zvenigorod": (55.70, 36.76, 200.0, 0.6, "approximate: INASAN Zvenigorod; 600 mm (Khmelev 2024)"),
    # Jinan-1 portable receiver on the Engineering building, Stellenbosch University.
    "Stellenbosch": (-33.93, 18.86, 110.0, 0.28, "approximate: Stellenbosch University; portable"),
    # ILRS MATM, Matera Laser Ranging Observatory; 1.5 m primary.
    "Matera": (40.6486, 16.7046, 536.9, 1.5, "ILRS MATM station page"),
    # ESA Optical Ground Station, Izana, Tenerife; 1 m Zeiss telescope (ESA, IAC).
    "Tenerife": (28.30096, -16.51182, 2400.0, 1.0, "ESA OGS Izana; ESA and IAC pages"),
    # MeO laser station, Calern plateau (Observatoire de la Cote d'Azur), ILRS 7845 GRSM;
    # position of the Calern GNSS pillar GRAS (IGS site log 2023: 43 45'17.06" N, 6 55'14.07" E,
    # 1,319 m ellipsoidal), ~100 m from the 1.54 m MeO telescope (aperture: OCA; secondary).
    "Calern": (_dms(43, 45, 17.06), _dms(6, 55, 14.07), 1319.0, 1.54, "IGS GRAS site log (Calern); MeO 1.54 m"),
    # JPL Optical Communications Telescope Laboratory, Table Mountain, Wrightwood CA;
    # ILRS site log 7040 OCTL: 34.382 N, 117.683 W, 2,200 m, 1 m Ritchey-Chretien receive telescope.
    "Table Mountain": (34.382, -117.683, 2200.0, 1.0, "ILRS site log 7040 OCTL (JPL)"),
    # NICT Koganei, Tokyo: the 1 m OGS of the SOTA quantum-limited downlink (Takenaka et al. 2017,
    # Nat. Photonics 11:502); position of the Koganei GNSS station KGN0 on the NICT campus
    # (IGS site log: 35 42'24.48" N, 139 29'18.60" E, 128.5 m), a few hundred metres away.
    "Koganei": (_dms(35, 42, 24.48), _dms(139, 29, 18.60), 128.5, 1.0, "IGS KGN0 site log (NICT campus); 1 m OGS (Takenaka 2017)"),
    # Announced: SES-SpeQtral interoperable QKD OGS in Singapore (MoU, March 2025); site and
    # telescope not published. Approximate: Centre for Quantum Technologies, NUS campus.
    "Singapore": (1.2966, 103.7764, 20.0, None, "approximate: CQT/NUS campus; announced OGS (SES-SpeQtral 2025)"),
    # Announced: QEYSSat Optical Quantum Ground Station at the Canadian Space Agency headquarters,
    # St-Hubert, Quebec (CSA, SmallSat 2025 abstract); approximate: John H. Chapman Space Centre.
    "St-Hubert": (45.5206, -73.3940, 30.0, None, "approximate: CSA headquarters; QEYSSat OQGS (announced)"),
    # Mount Stromlo, Canberra: ILRS site log 7825 STL3 (35.3161 S, 149.0099 E, 805 m); the ANU
    # Quantum Optical Ground Station on the same mountain has a 0.7 m telescope with adaptive
    # optics (Birch et al. 2022, ICSOS, doi:10.1109/ICSOS53063.2022.9749736).
    "Mount Stromlo": (-35.31614, 149.00988, 805.0, 0.7, "ILRS site log 7825 STL3; ANU QOGS 0.7 m (Birch 2022)"),
    # Chinese-Argentine SLR station 7406 SJUL at the Felix Aguilar Observatory (NAOC and OAFA):
    # 31 30'31.05" S, 68 37'23.38" W, 727 m, 60 cm Cassegrain (Podesta et al., IAU GA 2009;
    # Liu et al., ILRS workshop). An SLR site, not a QKD station: a receiver is an assumption.
    "San Juan": (-_dms(31, 30, 31.050), -_dms(68, 37, 23.377), 727.0, 0.6, "NAOC-OAFA SLR 7406; 60 cm (Podesta 2009)"),
}

# name -> (receiver preset, site overrides, source of both). Stations without a receiver here
# cannot receive key unless the scenario gives one (stations[].receiver).
_RECEIVERS: dict[str, tuple[str | None, dict, str]] = {
    # Liao 2017's receiver; the zenith transmittance is fitted with the Micius payload to the
    # sifted and final key of Liao 2017's pass and the ends of its loss curve (docs/validation.md,
    # which also states how far the fit sits from the middle of the curve): 3.2 dB of atmosphere
    # at 645 km and 7.0 dB at 1,200 km, inside the paper's 3-8 dB, in the haze of December 2016.
    # It also absorbs whatever else the pass lost (turbulence, coupling), which sites without a
    # fitted value do not get: their clean-air model (0.90 at sea level, 0.97 at Tenerife, 850 nm)
    # is optimistic by up to ~2 dB per air mass (docs/physics.md).
    "Xinglong": ("observatory-1m", {"zenith_transmittance": 0.58}, "Liao 2017 receiver; zenith transmittance fitted"),
    # Yin et al. 2020: new 1.2 m telescopes at Delingha and Nanshan.
    "Nanshan": ("observatory-1m", {}, "1.2 m telescope (Yin 2020); receiver as Xinglong's (assumption)"),
    # Zenith transmittance fitted to the slope of Yin et al. 2017 PRL 119:200501's Delingha
    # downlink (29 dB at 530 km, 36 dB at 1,000 km: 7 dB, of which 5.5 dB is geometry).
    "Delingha": ("observatory-1m", {"zenith_transmittance": 0.75},
                 "1.2 m telescope (Yin 2020); receiver as Xinglong's (assumption); zenith transmittance "
                 "fitted to Yin 2017 PRL's attenuation slope"),
    # Micius receivers "of 1 m, 1.2 m and 1.8 m" (Bedington et al. 2017 review); 1.8 m at Lijiang (MEM).
    "Lijiang": ("observatory-1m", {}, "1.8 m telescope (unconfirmed); receiver as Xinglong's (assumption)"),
    "Graz": ("observatory-1m", {}, "0.5 m SLR telescope (ILRS); receiver as Xinglong's (assumption)"),
    "Matera": ("observatory-1m", {}, "1.5 m MLRO telescope (ILRS); receiver as Xinglong's (assumption)"),
    "Tenerife": ("observatory-1m", {}, "ESA OGS 1 m; receiver as Xinglong's (assumption)"),
    "Zvenigorod": ("telescope-0.6m", {}, "600 mm station (Khmelev et al. 2024)"),
    # Assumption: the urban portable sites (Stellenbosch, Jinan, Hefei, Beijing) keep the
    # default night_sky_brightening_mag = 0, a natural dark sky; a city sky is brighter by
    # magnitudes (light pollution not published for these campaigns; docs/physics.md).
    "Stellenbosch": ("portable-0.28m", {}, "Jinan-1 portable station (Li et al. 2025)"),
    "Jinan": ("portable-0.28m", {}, "Jinan-1 portable station (Li et al. 2025)"),
    "Hefei": ("portable-0.28m", {}, "Jinan-1 portable station (Li et al. 2025)"),
    "Beijing": ("portable-0.28m", {}, "Jinan-1 portable station (Li et al. 2025)"),
    "Calern": ("observatory-1m", {}, "1.54 m MeO telescope (OCA); receiver as Xinglong's (assumption)"),
    "Table Mountain": ("observatory-1m", {}, "1 m OCTL telescope (ILRS 7040); receiver as Xinglong's (assumption)"),
    "Koganei": ("observatory-1m", {}, "1 m NICT OGS (Takenaka 2017); receiver as Xinglong's (assumption)"),
    "Mount Stromlo": ("telescope-0.6m", {}, "0.7 m ANU QOGS (Birch 2022); receiver as Zvenigorod's class (assumption)"),
    "San Juan": ("telescope-0.6m", {}, "60 cm SLR telescope (NAOC-OAFA); QKD receiver is an assumption"),
    "Singapore": ("telescope-0.6m", {}, "announced OGS, telescope unpublished: 0.6 m class (assumption)"),
    "St-Hubert": ("telescope-0.6m", {}, "QEYSSat OQGS, telescope unpublished: 0.6 m class (assumption)"),
}

_ALIASES = {"tenerife ogs": "Tenerife", "esa ogs": "Tenerife", "graz lustbuehel": "Graz", "moscow": "Zvenigorod",
            "meo": "Calern", "grasse": "Calern", "octl": "Table Mountain", "wrightwood": "Table Mountain",
            "nict": "Koganei", "stromlo": "Mount Stromlo", "mt stromlo": "Mount Stromlo",
            "qeyssat": "St-Hubert", "saint-hubert": "St-Hubert", "felix aguilar": "San Juan"}


# Places people name for a site that is in the catalogue under another name (the error for an
# unknown station points to it): city or region -> the built-in station there or nearest.
_NEAR = {"urumqi": "Nanshan", "ürümqi": "Nanshan", "xinjiang": "Nanshan", "xining": "Delingha",
         "qinghai": "Delingha", "kunming": "Lijiang", "yunnan": "Lijiang", "gaomeigu": "Lijiang", "tibet": "Ngari",
         "ali": "Ngari", "chengde": "Xinglong", "hebei": "Xinglong", "cape town": "Stellenbosch",
         "canberra": "Mount Stromlo", "tokyo": "Koganei", "montreal": "St-Hubert", "nice": "Calern",
         "los angeles": "Table Mountain", "pasadena": "Table Mountain", "izana": "Tenerife",
         "canary islands": "Tenerife", "hefei ustc": "Hefei", "ustc": "Hefei"}


def station_hint(name: str) -> str:
    """A hint for a name that is no built-in station: the near spelling, the built-in
    station near that place, or the list of built-in names."""
    from ..errors import did_you_mean

    hint = did_you_mean(name, catalogue_names())
    if hint:
        return hint
    near = _NEAR.get(str(name).strip().casefold())
    if near:
        return f" ({near} is the built-in station near {str(name).strip()})"
    return f" (built-in: {', '.join(catalogue_names())}; `constellation stations` lists them)"


def catalogue_names() -> list[str]:
    """Names of the built-in stations."""
    return sorted(_CATALOGUE)


def lookup(name: str) -> str | None:
    """The catalogue key for ``name`` (case-insensitive, a few aliases), or None."""
    key = name.strip().lower()
    for known in _CATALOGUE:
        if known.lower() == key:
            return known
    return _ALIASES.get(key)


def builtin_station(name: str, **overrides) -> Station:
    """A catalogue station; ``overrides`` replace fields (e.g. ``min_elevation_deg``).

    Raises KeyError for an unknown name.
    """
    key = lookup(name)
    if key is None:
        raise KeyError(name)
    lat, lon, elevation_m, aperture_m, source = _CATALOGUE[key]
    preset, sky, _ = _RECEIVERS.get(key, (None, {}, ""))
    fields = dict(name=key, latitude_deg=lat, longitude_deg=lon, elevation_m=elevation_m,
                  aperture_m=aperture_m, note=source, receiver=RECEIVERS[preset] if preset else None,
                  sky=SiteParams(**sky))
    fields.update({k: v for k, v in overrides.items() if v is not None})
    if fields["receiver"] is not None and fields["aperture_m"] is not None:
        fields["receiver"] = dataclasses.replace(fields["receiver"], aperture_m=fields["aperture_m"])
    return Station(**fields)


def builtin_receiver(name: str) -> tuple[str | None, str]:
    """``(receiver preset, source)`` of a built-in station (``(None, "")`` when it has none)."""
    key = lookup(name)
    preset, _, source = _RECEIVERS.get(key, (None, {}, ""))
    return preset, source
