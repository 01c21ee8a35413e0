/* ecg.c - single-lead R-peak detector after Pan and Tompkins (IEEE TBME
 * 32:230-236, 1985): 5-15 Hz band-pass, derivative, squaring, 150 ms
 * moving-window integration, adaptive signal/noise thresholds, search-back
 * and T-wave rejection. Filters are Butterworth biquads designed for the
 * actual rate and run forward-backward (zero phase), so no delay has to be
 * compensated when locating the R peak. */
#include "ecg.h"

#include <math.h>
#include <stdint.h>

size_t algo_ecg_scratch_size(size_t n)
{
  if (n == 0 || n > ALGO_ECG_MAX_N)
    return 0;
  return 2 * n * sizeof(double) + n * sizeof(size_t);
}

/* ------------------------------------------------------------ filtering */

struct biquad {
  double b0, b1, b2, a1, a2;
};

/* 2nd-order Butterworth low- or high-pass by the bilinear transform with
 * frequency pre-warping (RBJ audio-EQ cookbook formulas, Q = 1/sqrt 2). */
static struct biquad butter2(double fc, double fs, int high)
{
  struct biquad f;
  double k = tan(3.14159265358979323846 * fc / fs), q = 1.0 / sqrt(2.0);
  double norm = 1.0 / (1.0 + k / q + k * k);
  if (high) {
    f.b0 = norm;
    f.b1 = -2.0 * norm;
  } else {
    f.b0 = k * k * norm;
    f.b1 = 2.0 * f.b0;
  }
  f.b2 = f.b0;
  f.a1 = 2.0 * (k * k - 1.0) * norm;
  f.a2 = (1.0 - k / q + k * k) * norm;
  return f;
}

/* In-place direct form II transposed, forward then backward. */
static void filtfilt(const struct biquad *f, double *y, size_t n)
{
  double z1 = 0, z2 = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    double in = y[i], out = f->b0 * in + z1;
    z1 = f->b1 * in - f->a1 * out + z2;
    z2 = f->b2 * in - f->a2 * out;
    y[i] = out;
  }
  z1 = z2 = 0;
  for (i = n; i-- > 0;) {
    double in = y[i], out = f->b0 * in + z1;
    z1 = f->b1 * in - f->a1 * out + z2;
    z2 = f->b2 * in - f->a2 * out;
    y[i] = out;
  }
}

/* ------------------------------------------------------------ detection */

/* Largest |bp| slope near i: QRS complexes are steeper than T waves. */
static double slope_at(const double *bp, size_t n, size_t i, size_t hw)
{
  size_t a = i > hw ? i - hw : 1, b = i + hw < n - 1 ? i + hw : n - 2, k;
  double m = 0;
  for (k = a; k <= b; k++) {
    double s = fabs(bp[k + 1] - bp[k - 1]);
    if (s > m)
      m = s;
  }
  return m;
}

/* The R peak of a QRS detected at t: the sample of largest |bp| within
 * t +- srch, appended to out_peaks[np] when there is room and it lies at
 * least refr samples after the previous peak. Returns the new count. */
static size_t add_peak(const double *bp, size_t n, size_t t, size_t srch,
                       size_t refr, size_t *out_peaks, size_t np,
                       size_t max_peaks)
{
  size_t a = t > srch ? t - srch : 0, b = t + srch < n ? t + srch : n - 1;
  size_t k, arg = a;
  for (k = a; k <= b; k++)
    if (fabs(bp[k]) > fabs(bp[arg]))
      arg = k;
  if (np < max_peaks && (np == 0 || arg >= out_peaks[np - 1] + refr))
    out_peaks[np++] = arg;
  return np;
}

int algo_ecg_rpeaks(const double *x, size_t n, double fs_hz, void *scratch,
                    size_t scratch_len, size_t *out_peaks, size_t max_peaks,
                    size_t *out_n)
{
  double *bp, *mwi, maxabs = 0, mean = 0, spki, npki, rr_avg;
  double last_slope = 0, rr_hist[8];
  size_t *cand, n_cand = 0, i, win, half, refr, twin, srch, np = 0;
  size_t last_qrs = 0, c, c_after_last = 0, n_rr = 0;
  int have_qrs = 0;

  if (!x || !scratch || !out_n || (max_peaks > 0 && !out_peaks))
    return ALGO_EINVAL;
  *out_n = 0;
  if (!(fs_hz >= ALGO_ECG_FS_MIN && fs_hz <= ALGO_ECG_FS_MAX) || n == 0 ||
      n > ALGO_ECG_MAX_N)
    return ALGO_EINVAL;
  if (scratch_len < algo_ecg_scratch_size(n))
    return ALGO_ESCRATCH;
  for (i = 0; i < n; i++) {
    if (!isfinite(x[i]))
      return ALGO_EINVAL;
    if (fabs(x[i]) > maxabs)
      maxabs = fabs(x[i]);
  }
  if (maxabs == 0 || (double)n < fs_hz)
    return ALGO_OK; /* flat or shorter than 1 s: no verdict */

  bp = scratch;
  mwi = bp + n;
  cand = (size_t *)(mwi + n);

  /* Scale to [-1, 1] first so that huge ADC values cannot overflow when
   * squared; the detector is scale invariant. */
  for (i = 0; i < n; i++)
    mean += x[i] / maxabs / (double)n;
  for (i = 0; i < n; i++)
    bp[i] = x[i] / maxabs - mean;

  /* 5-15 Hz band-pass: the QRS energy band (Pan-Tompkins 1985). */
  {
    struct biquad hp = butter2(5.0, fs_hz, 1), lp = butter2(15.0, fs_hz, 0);
    filtfilt(&hp, bp, n);
    filtfilt(&lp, bp, n);
  }

  /* Centred derivative, squared, integrated over 150 ms (PT 1985). */
  win = (size_t)(0.150 * fs_hz + 0.5);
  half = win / 2;
  {
    double run = 0;
    size_t lo = 0, hi = 0; /* running sum over [lo, hi) */
    for (i = 0; i < n; i++) {
      size_t a = i >= half ? i - half : 0, b = i + half + 1;
      if (b > n)
        b = n;
      while (hi < b) {
        double d = hi > 0 && hi + 1 < n ? (bp[hi + 1] - bp[hi - 1]) : 0;
        run += d * d;
        hi++;
      }
      while (lo < a) {
        double d = lo > 0 && lo + 1 < n ? (bp[lo + 1] - bp[lo - 1]) : 0;
        run -= d * d;
        lo++;
      }
      mwi[i] = run > 0 ? run / (double)(b - a) : 0;
    }
  }

  /* Candidates: local maxima of the integrated signal that dominate a
   * +-100 ms neighbourhood (one candidate per QRS-sized bump). */
  {
    size_t nb = (size_t)(0.100 * fs_hz);
    for (i = 1; i + 1 < n; i++) {
      size_t a, b, k;
      int ok = 1;
      if (!(mwi[i] > mwi[i - 1] && mwi[i] >= mwi[i + 1]))
        continue;
      a = i > nb ? i - nb : 0;
      b = i + nb < n ? i + nb : n - 1;
      for (k = a; k <= b && ok; k++)
        if (mwi[k] > mwi[i])
          ok = 0;
      if (ok && (n_cand == 0 || i - cand[n_cand - 1] > nb))
        cand[n_cand++] = i;
    }
  }

  /* Learning phase: thresholds from the first 2 s (PT 1985). */
  {
    size_t m = (size_t)(2.0 * fs_hz), k;
    double mx = 0, s = 0;
    if (m > n)
      m = n;
    for (k = 0; k < m; k++) {
      if (mwi[k] > mx)
        mx = mwi[k];
      s += mwi[k];
    }
    spki = 0.25 * mx;
    npki = 0.5 * s / (double)m;
  }
  refr = (size_t)(0.200 * fs_hz);  /* refractory period, PT 1985 */
  twin = (size_t)(0.360 * fs_hz);  /* T-wave check window, PT 1985 */
  srch = (size_t)(0.075 * fs_hz);  /* R-peak search half-width */
  rr_avg = fs_hz;                  /* 60 bpm until 8 beats are seen */

  for (c = 0; c < n_cand; c++) {
    size_t t = cand[c];
    double pk = mwi[t], thr1 = npki + 0.25 * (spki - npki);

    /* Search-back: no QRS for 1.66 mean RR, take the largest candidate
     * since the last QRS that clears the lower threshold (PT 1985). */
    if (have_qrs && (double)(t - last_qrs) > 1.66 * rr_avg) {
      size_t best = n_cand, k;
      for (k = c_after_last; k < c; k++)
        if (cand[k] > last_qrs + refr && mwi[cand[k]] > 0.5 * thr1 &&
            (best == n_cand || mwi[cand[k]] > mwi[cand[best]]))
          best = k;
      if (best < n_cand) {
        size_t tb = cand[best];
        spki = 0.25 * mwi[tb] + 0.75 * spki;
        rr_hist[n_rr % 8] = (double)(tb - last_qrs);
        n_rr++;
        last_qrs = tb;
        last_slope = slope_at(bp, n, tb, srch);
        c_after_last = best + 1;
        np = add_peak(bp, n, tb, srch, refr, out_peaks, np, max_peaks);
        thr1 = npki + 0.25 * (spki - npki);
      }
    }

    if (pk > thr1 && (!have_qrs || t >= last_qrs + refr)) {
      double sl = slope_at(bp, n, t, srch);
      if (have_qrs && t < last_qrs + twin && sl < 0.5 * last_slope) {
        npki = 0.125 * pk + 0.875 * npki; /* T wave */
        continue;
      }
      spki = 0.125 * pk + 0.875 * spki;
      if (have_qrs) {
        rr_hist[n_rr % 8] = (double)(t - last_qrs);
        n_rr++;
      }
      last_qrs = t;
      last_slope = sl;
      have_qrs = 1;
      c_after_last = c + 1;
      np = add_peak(bp, n, t, srch, refr, out_peaks, np, max_peaks);
    } else {
      npki = 0.125 * pk + 0.875 * npki;
    }
    if (n_rr > 0) {
      size_t k, m = n_rr < 8 ? n_rr : 8;
      double s = 0;
      for (k = 0; k < m; k++)
        s += rr_hist[k];
      rr_avg = s / (double)m;
    }
  }
  *out_n = np;
  return ALGO_OK;
}
