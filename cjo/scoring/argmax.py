"""P(argmax): the probability with which Thompson sampling picks each offer, computed.

The scorer draws one logit per offer, ``m_c + s_c * Z_c`` with independent standard normal
``Z_c`` (``cjo.scoring.model``), and sends the offer with the largest draw (the sigmoid is
monotone, so the largest logit is the largest probability). The probability that offer ``c``
wins is

    P(c) = integral over z of phi(z) * prod_{j != c} Phi((m_c + s_c z - m_j) / s_j)

computed here, not estimated by draws: two offers have the closed form
``Phi((m_1 - m_2) / sqrt(s_1^2 + s_2^2))``, three a bivariate normal orthant (Owen's T);
more are integrated by Gauss-Hermite quadrature or on a uniform grid over
[-8, 8] (the trapezoid rule converges geometrically for a Gaussian-weighted smooth integrand;
the step shrinks with the sharpest ratio ``s_j / s_c`` so a near-deterministic competitor is
still resolved). The result is the same for a given model on any machine: what the decision logs
is the probability its own draw had, which off-policy evaluation divides by
(docs/decision-quality.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import ndtr, owens_t

_SQRT2 = math.sqrt(2.0)
_SPAN = 8.0  # standard deviations integrated over
_MAX_POINTS = 4_001
_MILD = 0.3  # smallest spread ratio for Gauss-Hermite
_TINY = 1e-12  # a difference of exactly 0 (Owen's formula divides by it; continuous there)


def _hermite_nodes(n: int) -> tuple[tuple[float, float], ...]:
    x, w = np.polynomial.hermite.hermgauss(n)  # for exp(-x^2): z = sqrt(2) x, w / sqrt(pi)
    return tuple((float(a) * math.sqrt(2.0), float(b) / math.sqrt(math.pi))
                 for a, b in zip(x, w, strict=True))


_NODES = _hermite_nodes(24)


def _phi_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / _SQRT2))


def argmax_probabilities(means: Sequence[float], sds: Sequence[float]) -> list[float]:
    """P(offer ``c`` has the largest draw), for draws ``N(means[c], sds[c]**2)``; sums to 1.
    Equal means with zero spread are a tie: the first wins (as ``max`` picks it)."""
    k = len(means)
    if k != len(sds) or k == 0:
        raise ValueError("argmax_probabilities needs as many means as sds, at least one")
    if k == 1:
        return [1.0]
    if all(s <= 0.0 for s in sds):
        best = max(range(k), key=lambda i: means[i])
        return [1.0 if i == best else 0.0 for i in range(k)]
    if k == 2:
        spread = math.hypot(sds[0], sds[1])
        first = _phi_cdf((means[0] - means[1]) / spread)
        return [first, 1.0 - first]
    if k == 3 and min(sds) > 0:
        return _three(means, sds)
    if min(sds) > 0 and min(sds) >= _MILD * max(sds):
        return _hermite(means, sds)
    return _integrated(np.asarray(means, dtype=float), np.asarray(sds, dtype=float))


def _three(m: Sequence[float], s: Sequence[float]) -> list[float]:
    """Three offers, exactly: offer c wins when both differences ``D_j = X_c - X_j`` are
    positive, a bivariate normal orthant with correlation ``s_c^2 / (sd(D_a) sd(D_b))``,
    computed with Owen's T function (Owen 1956):
    ``Phi2(h, k; r) = (Phi(h) + Phi(k)) / 2 - T(h, a_h) - T(k, a_k) - beta``."""
    out = []
    for c in range(2):  # the third is what is left: the formula is exact
        a, b = (j for j in range(3) if j != c)
        sa, sb = math.hypot(s[c], s[a]), math.hypot(s[c], s[b])
        h = (m[c] - m[a]) / sa or _TINY
        k = (m[c] - m[b]) / sb or _TINY
        r = s[c] * s[c] / (sa * sb)
        root = math.sqrt(1.0 - r * r)
        p = (0.5 * (_phi_cdf(h) + _phi_cdf(k)) - float(owens_t(h, (k - r * h) / (h * root)))
             - float(owens_t(k, (h - r * k) / (k * root))) - (0.5 if h * k < 0 else 0.0))
        out.append(min(max(p, 0.0), 1.0))
    third = max(1.0 - out[0] - out[1], 0.0)
    total = out[0] + out[1] + third
    return [out[0] / total, out[1] / total, third / total]


def _hermite(m: Sequence[float], s: Sequence[float]) -> list[float]:
    """Gauss-Hermite quadrature (``_NODES`` points), in plain Python: the common case (spreads
    within a factor of 1/_MILD of each other), where the integrand is smooth on the scale of
    the nodes and a few dozen points are exact to ~1e-6."""
    k = len(m)
    out = []
    for c in range(k):
        mc, sc = m[c], s[c]
        others = [(m[j], s[j] * _SQRT2) for j in range(k) if j != c]
        total = 0.0
        for z, w in _NODES:
            x = mc + sc * z
            product = w
            for mj, sj in others:
                product *= 0.5 * (1.0 + math.erf((x - mj) / sj))
            total += product
        out.append(total)
    norm = sum(out)
    return [v / norm for v in out]


def _integrated(m: np.ndarray, s: np.ndarray) -> list[float]:
    k = len(m)
    if (s <= 0).any():
        return _with_fixed(m, s)
    h = min(0.1, 0.5 * float(s.min()) / float(s.max()))
    n = min(_MAX_POINTS, int(2 * _SPAN / h) + 1)
    z = np.linspace(-_SPAN, _SPAN, n)
    weight = np.exp(-0.5 * z * z) * ((z[1] - z[0]) / math.sqrt(2 * math.pi))
    x = m[:, None] + s[:, None] * z[None, :]  # offer c's draw at each grid point
    below = ndtr((x[:, None, :] - m[None, :, None]) / s[None, :, None])  # [c, j, point]
    below[np.arange(k), np.arange(k), :] = 1.0
    out = below.prod(axis=1) @ weight
    total = float(out.sum())
    return [float(v) / total for v in out] if total > 0 else [1.0 / k] * k


def _with_fixed(m: np.ndarray, s: np.ndarray) -> list[float]:
    """Some offers have no spread (a weight-free context): integrated one offer at a time."""
    k = len(m)
    positive = s[s > 0]  # a fixed competitor is a step in the integrand: a fine grid
    h = min(0.01, 0.5 * float(positive.min()) / float(positive.max()))
    z = np.linspace(-_SPAN, _SPAN, min(_MAX_POINTS, int(2 * _SPAN / h) + 1))
    weight = np.exp(-0.5 * z * z) * ((z[1] - z[0]) / math.sqrt(2 * math.pi))
    safe = np.where(s > 0, s, 1.0)
    out = np.zeros(k)
    for c in range(k):
        x = np.full_like(z, m[c]) if s[c] <= 0 else m[c] + s[c] * z
        below = np.where(s[None, :] > 0, ndtr((x[:, None] - m[None, :]) / safe[None, :]),
                         (x[:, None] > m[None, :]).astype(float))
        below[:, c] = 1.0
        inner = below.prod(axis=1)
        out[c] = float(inner[0]) if s[c] <= 0 else float(weight @ inner)
    total = float(out.sum())
    return [float(v) / total for v in out] if total > 0 else [1.0 / k] * k
