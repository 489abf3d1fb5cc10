"""Secret key length of one block of decoy-state BB84 (numpy only).

Lim, Curty, Walenta, Xu & Zbinden, PRA 89:022307 (2014), "Concise security bounds for
practical decoy-state QKD": three intensities ``mu1 > mu2 + mu3``, ``mu2 > mu3 >= 0``; the key
comes from the basis called "key" here, the phase error is estimated from the other ("test")
basis. With the fluctuation terms switched off the same formulas give the asymptotic key of
the block. That is not the Lo-Ma-Chen (PRL 94:230504, 2005) signal-only GLLP rate of
:func:`constellation.key.decoy_bb84.asymptotic_key_rate`: Lim's bound also credits the vacuum
events ``s0`` and the single photons sent at every intensity in the key basis (``tau_1`` sums
over the three), where GLLP counts the signal pulses only, so on the same block it is higher
(496,571 against 434,449 bits on the 2016 Micius headline pass, before the receiver model).

Formulas (``k`` = 0, 1, 2 for ``mu1, mu2, mu3``; ``eps1 = eps_s / 21``):

- ``n_k^(+/-) = exp(mu_k) / p_k * (n_k +/- sqrt(n / 2 * ln(1 / eps1)))`` (Hoeffding; ``n``
  is the total over intensities), likewise for the error counts ``m_k``;
- ``tau_j = sum_k p_k exp(-mu_k) mu_k**j / j!``;
- ``s0 >= tau_0 (mu2 n_3^- - mu3 n_2^+) / (mu2 - mu3)``;
- ``s1 >= tau_1 mu1 [n_2^- - n_3^+ - (mu2**2 - mu3**2) / mu1**2 (n_1^+ - s0 / tau_0)]
  / [mu1 (mu2 - mu3) - mu2**2 + mu3**2]``;
- ``v1 <= tau_1 (m_2^+ - m_3^-) / (mu2 - mu3)`` in the test basis;
- ``phi <= v1 / s1_test + gamma(eps_s, v1 / s1_test, s1_test, s1_key)`` with
  ``gamma(a, b, c, d) = sqrt((c + d) (1 - b) b / (c d ln 2)
  * log2((c + d) 21**2 / (c d (1 - b) b a**2)))``;
- ``l = floor(s0 + s1 (1 - h(phi)) - f_EC n h(Q) - 6 log2(21 / eps_s) - log2(2 / eps_c))``.

Every bound is clipped into its physical range (counts >= 0, ``phi <= 1/2``), and the key
length is clipped at 0, so a block too small for the statistics gives 0, never a negative
number or NaN. Unlike SatQuMA (which we read for reference), the error counts per intensity
are the modelled ones (a vacuum pulse errs half the time), not the average QBER spread over
the intensities, and the ``s0`` bound uses ``n_2^+`` as in the paper (equal when ``mu3 = 0``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["BlockKey", "binary_entropy", "block_key", "gamma_correction", "tau"]

_LN2 = math.log(2.0)
_TINY = 1e-12


def binary_entropy(x):
    """``h(x) = -x log2 x - (1 - x) log2 (1 - x)``, ``h(0) = h(1) = 0``; x clipped to [0, 1]."""
    x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -x * np.log2(x) - (1.0 - x) * np.log2(1.0 - x)
    return np.where((x > 0.0) & (x < 1.0), out, 0.0)


def tau(photons: int, intensities, probabilities) -> float:
    """Probability that a pulse holds ``photons`` photons: ``sum_k p_k e^-mu_k mu_k**n / n!``."""
    mu = np.asarray(intensities, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    return float(np.sum(p * np.exp(-mu) * mu ** photons) / math.factorial(photons))


def gamma_correction(epsilon, ratio, test_count, key_count):
    """Serfling-type correction to the phase-error ratio (Lim et al. 2014, after Eq. 5).

    The ratio is clipped into [1e-12, 1/2] and the counts to >= 1e-12, so the result is
    finite (and tends to 0 with the ratio, as the formula does).
    """
    b = np.clip(ratio, _TINY, 0.5)
    c = np.maximum(test_count, _TINY)
    d = np.maximum(key_count, _TINY)
    spread = (c + d) * (1.0 - b) * b / (c * d * _LN2)
    argument = (c + d) / (c * d * (1.0 - b) * b) * 21.0 ** 2 / epsilon ** 2
    return np.sqrt(spread * np.log2(np.maximum(argument, 1.0)))


@dataclass(frozen=True)
class BlockKey:
    """Key of one basis for a block; arrays of the batch shape.

    Attributes: ``vacuum_bits`` (s0) and ``single_photon_bits`` (s1) in the key basis,
    ``phase_error`` (phi), ``ec_leak_bits`` (lambda_EC), ``key_bits`` (l, >= 0, whole bits).
    """

    vacuum_bits: np.ndarray
    single_photon_bits: np.ndarray
    phase_error: np.ndarray
    ec_leak_bits: np.ndarray
    key_bits: np.ndarray


def _bounds(counts, total, intensities, probabilities, delta_eps):
    """Bounds on ``exp(mu_k)/p_k * counts_k`` (Hoeffding); ``delta_eps=None``: no fluctuation."""
    scale = np.exp(intensities) / probabilities
    if delta_eps is None:
        centre = scale * counts
        return centre, centre
    delta = np.sqrt(0.5 * np.maximum(total, 0.0) * math.log(1.0 / delta_eps))[..., None]
    return scale * (counts - delta), scale * (counts + delta)


def _s0_s1(n_lo, n_hi, mu, t0, t1):
    mu1, mu2, mu3 = mu
    s0 = np.maximum(t0 * (mu2 * n_lo[..., 2] - mu3 * n_hi[..., 1]) / (mu2 - mu3), 0.0)
    numerator = (n_lo[..., 1] - n_hi[..., 2]
                 - (mu2 ** 2 - mu3 ** 2) / mu1 ** 2 * (n_hi[..., 0] - s0 / t0))
    s1 = t1 * mu1 * numerator / (mu1 * (mu2 - mu3) - mu2 ** 2 + mu3 ** 2)
    return s0, np.maximum(s1, 0.0)


def block_key(n_key, m_key, n_test, m_test, intensities, probabilities, *,
              error_correction_efficiency: float, epsilon_secret: float,
              epsilon_correct: float, finite: bool = True) -> BlockKey:
    """Secret key length from the sifted counts of one block.

    Parameters
    ----------
    n_key, m_key : array_like, shape (..., 3)
        Sifted detections and errors per intensity in the key basis (expected counts).
    n_test, m_test : array_like, shape (..., 3)
        The same in the test basis (phase-error estimation).
    intensities, probabilities : sequence of 3 floats
        ``(mu1, mu2, mu3)`` with ``mu1 > mu2 + mu3``, ``mu2 > mu3 >= 0``, and their
        probabilities (each > 0).
    error_correction_efficiency : float
        ``f_EC >= 1``; the leak is ``f_EC n h(Q)``.
    epsilon_secret, epsilon_correct : float
        Security parameters of this key.
    finite : bool
        False drops the fluctuation terms and the security overhead (asymptotic key).

    Returns
    -------
    BlockKey
        Arrays of shape ``(...)``.
    """
    mu = tuple(float(x) for x in intensities)
    p = np.asarray(probabilities, dtype=float)
    mu_arr = np.asarray(mu)
    n_key = np.asarray(n_key, dtype=float)
    m_key = np.asarray(m_key, dtype=float)
    n_test = np.asarray(n_test, dtype=float)
    m_test = np.asarray(m_test, dtype=float)
    t0, t1 = tau(0, mu, p), tau(1, mu, p)
    eps1 = epsilon_secret / 21.0 if finite else None

    n_key_total = n_key.sum(axis=-1)
    lo, hi = _bounds(n_key, n_key_total, mu_arr, p, eps1)
    s0, s1 = _s0_s1(lo, hi, mu, t0, t1)
    lo, hi = _bounds(n_test, n_test.sum(axis=-1), mu_arr, p, eps1)
    _, s1_test = _s0_s1(lo, hi, mu, t0, t1)
    m_lo, m_hi = _bounds(m_test, m_test.sum(axis=-1), mu_arr, p, eps1)
    v1 = np.maximum(t1 * (m_hi[..., 1] - m_lo[..., 2]) / (mu[1] - mu[2]), 0.0)

    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(s1_test > 0.0, v1 / s1_test, 0.5)
        qber = np.where(n_key_total > 0.0, m_key.sum(axis=-1) / n_key_total, 0.0)
    ratio = np.clip(ratio, 0.0, 0.5)
    if finite:
        phase = np.minimum(ratio + gamma_correction(epsilon_secret, ratio, s1_test, s1), 0.5)
        overhead = 6.0 * math.log2(21.0 / epsilon_secret) + math.log2(2.0 / epsilon_correct)
    else:
        phase, overhead = ratio, 0.0
    leak = error_correction_efficiency * n_key_total * binary_entropy(qber)
    raw = s0 + s1 * (1.0 - binary_entropy(phase)) - leak - overhead
    key = np.where(s1 > 0.0, np.floor(np.maximum(raw, 0.0)), 0.0)
    return BlockKey(s0, s1, phase, leak, key)
