// Tail probabilities of the distributions the detectors assume: the normal (to turn k into a false-alarm
// probability), the negative binomial (counts: Poisson when there is no overdispersion) and the binomial (negative
// posts among a window's posts).

/** P(Z > k) for a standard normal Z: 0.00135 for k = 3. */
export function normalUpperTail(k: number): number {
  return 0.5 * erfc(k / Math.SQRT2);
}

// Chebyshev fit from Numerical Recipes (erfcc): relative error below 1.2e-7 everywhere, so the tail at k = 6
// (1e-9) is as exact as the one at k = 3, which the 1.5e-7 absolute error of the shorter fits is not.
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

// Past this many terms a tail is left to the normal approximation: the counts are then so large that their skew no
// longer moves the threshold by a whole post, and the loop would cost more than the whole rest of an evaluation.
const MAX_TERMS = 200_000;

/**
 * The smallest count c with P(X >= c) <= alpha, for X with this mean and variance: Poisson when the variance is
 * the mean, negative binomial (mean + dispersion * mean^2) when it is larger. 0 when the mean is 0 or the tail
 * would take too long to sum (the caller's normal threshold then decides alone).
 */
export function countUpperQuantile(mean: number, variance: number, alpha: number): number {
  if (!(mean > 0)) return 0;
  const dispersion = Math.max(0, (variance - mean) / (mean * mean));
  // r = 1 / dispersion; below 1e-8 the negative binomial is a Poisson to double precision.
  const poisson = dispersion < 1e-8;
  const r = poisson ? 0 : 1 / dispersion;
  const logRatio = poisson ? 0 : Math.log(mean / (r + mean));
  let logP = poisson ? -mean : r * Math.log(r / (r + mean));
  let cdf = 0;
  const target = 1 - alpha;
  for (let x = 0; x < MAX_TERMS; x++) {
    cdf += Math.exp(logP);
    if (cdf >= target) return x + 1;
    logP += poisson ? Math.log(mean / (x + 1)) : Math.log((x + r) / (x + 1)) + logRatio;
  }
  return 0;
}

/** The smallest c with P(X >= c) <= alpha for X ~ Binomial(n, p); n + 1 when even X = n is more likely than alpha. */
export function binomialUpperQuantile(n: number, p: number, alpha: number): number {
  if (p <= 0) return 1;
  if (p >= 1) return n + 1;
  const logRatio = Math.log(p / (1 - p));
  let logP = n * Math.log1p(-p);
  let cdf = 0;
  const target = 1 - alpha;
  for (let x = 0; x <= n; x++) {
    cdf += Math.exp(logP);
    if (cdf >= target) return x + 1;
    logP += Math.log((n - x) / (x + 1)) + logRatio;
  }
  return n + 1;
}
