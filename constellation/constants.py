"""Physical constants and Earth model used across the package (SI-derived, km and s)."""

# WGS84 ellipsoid (NIMA TR8350.2).
WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)

# WGS72 gravity constants, the ones SGP4 is defined with (Vallado et al. 2006, AIAA 2006-6753).
WGS72_MU_KM3_S2 = 398600.8
WGS72_RE_KM = 6378.135
WGS72_J2 = 0.001082616

# Earth's mean rotation rate used with GMST-1982 (rad/s).
EARTH_ROTATION_RAD_S = 7.292115146706979e-5

# Mean Earth radius R1 = (2a + b) / 3 of WGS84 (IUGG), for spherical-Earth geometry:
# great circles, footprint caps and the spherical estimates of the memory budget.
EARTH_MEAN_RADIUS_KM = 6371.0088

# Rate of the mean sun in right ascension: 360 deg per tropical year (for sun-synchronous orbits).
SUN_SYNC_RAAN_RATE_RAD_S = 2.0 * 3.141592653589793 / (365.2421897 * 86400.0)

DAY_S = 86400.0

# Work sizes that bound memory (the budget in core/budget.py estimates with the same numbers).
# Pass finding propagates at most this many coarse states (satellite x sample) at once.
PASS_CHUNK_STATES = 2_000_000
# Coverage propagates and tests at most this many satellite states at once.
COVERAGE_CHUNK_STATES = 60_000
# Key per pass: a window is cut into at most this many slots (longer windows, from MEO/GEO,
# get longer slots), and windows are evaluated in batches of about this many slots.
KEY_MAX_SLOTS = 900
KEY_BATCH_SLOTS = 250_000
# The key integral along a window (key.per_pass.window_nodes): Gauss-Legendre rule of this
# many nodes on segments of at most this length (s), split where the sky model changes its
# law, refined near the Moon and the Sun. Finite key within 3e-5 of 0.05-s slots on 4,000
# LEO windows (benchmarks/bench_key_nodes.py; tests/test_key_nodes.py).
KEY_GAUSS_NODES = 4
KEY_SEGMENT_S = 60.0
# Lowest perigee altitude accepted for a designed orbit (km): below it SGP4 decays within days.
MIN_PERIGEE_ALTITUDE_KM = 100.0
