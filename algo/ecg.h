/* ecg.h - single-lead ECG R-peak detector (Pan-Tompkins 1985 structure,
 * zero-phase filters designed for the record's sampling rate). Pure C11,
 * no allocation: size scratch with algo_ecg_scratch_size(). See
 * docs/clinical/ecg.md. */
#ifndef VG_ALGO_ECG_H
#define VG_ALGO_ECG_H

#include <stddef.h>

#include "algo.h"

#define ALGO_ECG_FS_MIN 100.0
#define ALGO_ECG_FS_MAX 1000.0
/* Longest input accepted: 48 h at 1000 Hz. */
#define ALGO_ECG_MAX_N ((size_t)172800000)

/* Bytes of scratch algo_ecg_rpeaks() needs for n samples (0 if n is 0 or
 * above ALGO_ECG_MAX_N). */
size_t algo_ecg_scratch_size(size_t n);

/* Detects R peaks in one ECG lead.
 * x: n samples in any linear unit (ADC counts or mV; the detector is scale
 * invariant), each finite. fs_hz: sampling rate in [100, 1000].
 * scratch: scratch_len >= algo_ecg_scratch_size(n) bytes, aligned for
 * double (borrowed for the call).
 * OUT: out_peaks[0..*out_n) sample indices of R peaks, ascending, at least
 * 200 ms apart; at most max_peaks are written, *out_n is the number
 * written (a 300 bpm rate over the record bounds what is needed:
 * n / (0.2 * fs_hz) + 1).
 * Returns ALGO_OK, ALGO_EINVAL (NULL, n too large, fs out of range,
 * non-finite sample) or ALGO_ESCRATCH. n < 1 s of signal or a flat signal
 * gives *out_n = 0 and ALGO_OK. Reentrant. */
int algo_ecg_rpeaks(const double *x, size_t n, double fs_hz, void *scratch,
                    size_t scratch_len, size_t *out_peaks, size_t max_peaks,
                    size_t *out_n);

#endif
