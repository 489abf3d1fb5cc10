"""Key network: station scheduling, trusted-relay key between station pairs, fibre tails, weather.

Times are ``t_s`` (seconds since the scenario start), key in bits. Stations and satellites
are indices (the PassTable's); links, cities and fibre are named in :mod:`.plan`. This
docstring states the model once; the modules below point here.

Modules, in the order data flows through them
----------------------------------------------
``contacts``
    ``contacts_from_passes(table, key_bits) -> Contacts``: the passes with a QKD window
    and positive key (``key_bits`` aligned with the table, e.g. ``PassKeys.key_bits``).
    ``make_contacts(satellite, station, start_s, end_s, key_bits, pass_index=None)``.
``schedule``
    ``schedule(contacts, telescopes=1, satellite_terminals=None) -> Schedule``.
    ``schedule_fcfs(...) -> ndarray``: the baseline (earliest window start first).
    ``max_concurrency(start_s, end_s, group, n_groups) -> ndarray``: for checks.
``relay``
    ``relay_key(contacts, chosen, link_pairs, duration_s, ...) -> RelayResult``: clear sky,
    with every delivery, its latency, the limiting side and the per-satellite ledger.
``weather``
    ``station_nights(contacts, longitude_deg, clear_sky_probability, start_utc)``:
    the station-night of every contact and each night's clear-sky probability;
    ``night_table(..., clear_sky_persistence) -> Nights`` adds each night's station, day
    and persistence. ``clear_nights(probability, runs, rng, station=, day=, persistence=)``:
    the Markov draw. ``relay_weather(..., night_id, night_probability, runs=1000, seed=0,
    nights=None) -> WeatherResult``.
    ``expected_pair_relay_bits(key_a_bits, key_b_bits, p_a, p_b)``: analytic mean.
``plan``
    ``plan_relay(contacts, stations, links, duration_s, ...) -> NetworkPlan``: everything
    at once, then ``link_rows(plan)`` and ``timeline_rows(plan)`` for tables.

Rules (the model, stated once)
------------------------------
Scheduling. A contact occupies its station's telescope and its satellite's optical terminal
over its QKD window ``[start_s, end_s)`` plus ``retarget_s`` of re-pointing, except when the
next contact of that telescope and terminal is the next 15-minute piece of the same track
(a MEO or GEO window is flown as consecutive pieces, with no re-pointing between them);
pieces (contacts) shorter than ``min_contact_s`` are not flown; a station tracks at most ``telescopes``
satellites at once and a satellite serves at most ``terminals`` stations at once (the
payload's ``terminals``, default 1). With relay channels the objective is link-aware: the
smallest share of demand met over the channels first, then the key relayed in total, by the
mixed-integer programme of :mod:`.milp` (HiGHS through ``scipy.optimize.milp``), solved
within ``time_limit_s``; when HiGHS cannot prove optimality in time, the best of its
incumbent, an LP rounding and three greedy fills (key order, per-station optimum first,
FCFS) is kept, with the gap to the programme's bound. The programme relays key as a flow
over the span (it ignores the order of contacts), so it bounds what the chronological relay
delivers; the relay follows its plan (below). Without channels, with one telescope per
station and no satellite limit, each station is solved exactly by weighted interval
scheduling (sort by end, O(n log n) dynamic programme). So the result is never worse than
the FCFS baseline by the programme's measure.

Relay (Liao et al. 2018 PRL 120:030501). Each satellite keeps one pool per station of
unspent key shared with it. Events are the scheduled contacts at link stations, in order
of window end (key is ready when the window closes). At a contact of satellite S with
station X, the new key joins pool X, and every link (X, Y) takes
``d = min(pool X share, pool Y)`` bits: the satellite announces the XOR of d bits from
each pool, so d bits leave pool X and d leave pool Y. With a schedule's plan
(``planned_bits``, the programme's split of each satellite's key between channels) the
new key at X is set aside per link in those proportions and a link spends only its own
share at each end (the operator tells each satellite which link each bit is for); without
one, links at X compete for pool X by weighted water-filling (max-min fair in proportion to
their weights, each capped by its own partner pool). Delivering at every contact is
chronological, with no look-ahead. Pools are spent oldest key first. Key left
over stays in the pool; with a finite ``key_store_bits`` the satellite keeps only what
fits (its total over pools is capped) and the rest of the new key is discarded
(``overflow_bits``). Ledger per satellite, exact up to rounding:
``acquired = 2 * relayed + remaining + overflow``. No key is created, spent twice or
negative. Latency of a delivery = its time minus the window end of the oldest
contributing contact. The limiting station of a link is the end whose shared key ran
out: the one with less key left unspent at the end on the satellites that delivered to
the link (ties: the end whose share was emptied at more of the delivered bits; no
delivery: the end that acquired less key).

Links and weights (``plan_relay``). A link weighs its ``required_key_bits_per_day``;
links without a demand weigh as the mean stated demand (all 1 when none is stated).
Links whose ends reach the same two gateway stations form one relay channel of the
summed weight, and split its key in proportion to their weights.

Fibre. A link endpoint that is a city (not a satellite station) reaches the network
through one ``Fibre(city, station, key_rate_bps)`` tail (the fastest if several; one
hop; fibre between two satellite stations is not used). The end-to-end key by time t
is ``min(R(t), rate * t)`` over the link's relayed key R and each of its tails (key is
storable at the trusted gateway), evaluated at day boundaries. A link whose two ends
share a gateway is fibre only. Stations in no link take no part in the relay.

Weather. One cloud state per station per local night (noon to noon in local mean solar
time); a cloudy night loses the key of all that station's contacts that night. Each
station's nights are a two-state Markov chain: its marginal is the night's clear-sky
probability p (annual or per calendar month) and its lag-1 correlation the station's
persistence rho in [0, 1]. A night k nights after the station's previous drawn night
(nights without contacts count) is clear with p + rho**k (1 - p) after a clear night and
p (1 - rho**k) after a cloudy one, p being the current night's (after a change of month
the marginal relaxes to the new p as rho**k); a station's first night is clear with p.
rho = 0 is one independent draw per night (the same draws, seed for seed, as before
persistence existed); rho = 1 keeps the first night's state for the whole span. Stations
are independent of each other (no spatial correlation). Persistence makes runs of
cloudy nights likelier, so it lowers P10 and, because the relay takes about the smaller
of the two ends' clear-night key, the expected key of a link too. A built-in station
without a stated probability or persistence takes its climatology
(:mod:`constellation.scenario.climate`, each value with its source); other stations
without values are always clear. The schedule is fixed in advance (clouds are not
forecast). ``runs`` seeded realisations give the expected key per day, its standard
error and the 10th percentile (P10) over runs; latency and limiting station come from
the clear-sky relay.

Entanglement (``entangled.py``). A link with ``mode = "entanglement"`` (or ``"both"``)
takes key from dual-downlink windows: one satellite's pair source sends a photon to each
station at once, so no satellite holds key and no node is trusted. A link flies only the
windows that add key (ordered by QBER, the best pooled prefix). Dual windows are scheduled
before the relay, greedily by expected key, each holding the satellite's source and a
telescope at both stations for the window plus the re-pointing time; relay contacts they
overlap (same satellite, or either station) are not flown. A link served both ways keeps
the plan without its dual windows when that gives it more key. A window delivers when both
stations are clear that night (drawn apart from the relay's draws, seed for seed). A link's
sifted bits are distilled in BBM92 blocks of ``block_sifted_bits`` (finite key unless
``[source]`` or ``[qkd]`` says ``finite_key = false``); a block's key is delivered when it
closes (latency: close minus each window's end), the span's remainder at its last window.
``network.csv`` gives ``relay_key_bits``, ``entanglement_key_bits`` and ``trusted_nodes``
(satellites that held the link's relayed key, and gateway stations of fibre tails).

Errors: every function here raises ``ValueError`` (the scenario has checked user input).
"""
