/* test_spo2.c - algo/spo2: hand-built desaturation sequences with exact
 * event counts, codi overnight SpO2 smoke test, property test. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spo2.h"
#include "vg_testdata.h"

static int g_fail;

#define CHECK(cond, ...)                                                     \
  do {                                                                       \
    if (!(cond)) {                                                           \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);                            \
      printf(__VA_ARGS__);                                                   \
      printf("\n");                                                          \
      g_fail++;                                                              \
    }                                                                        \
  } while (0)

#define NMAX 40000

static int64_t g_t[NMAX];
static double g_v[NMAX];
static unsigned char g_f[NMAX];

/* Appends LEN seconds of VALUE at 1 Hz. */
static size_t put(size_t n, double value, size_t len)
{
  size_t i;
  for (i = 0; i < len && n < NMAX; i++, n++) {
    g_t[n] = (int64_t)n * 1000;
    g_v[n] = value;
  }
  return n;
}

static void test_hand_built(void)
{
  struct algo_spo2_result r;
  size_t n = 0;
  printf("hand-built sequences (1 Hz)\n");
  n = put(n, 97, 200);
  n = put(n, 93, 15); /* -4 for 15 s: ODI3 and ODI4 event */
  n = put(n, 97, 60);
  n = put(n, 94, 15); /* -3 for 15 s: ODI3 only */
  n = put(n, 97, 60);
  n = put(n, 92, 5); /* -5 for 5 s: too short */
  n = put(n, 97, 60);
  n = put(n, 92, 12); /* -5 for 12 s, 5 s back, 12 s: merged -> 1 */
  n = put(n, 97, 5);
  n = put(n, 92, 12);
  n = put(n, 97, 100);
  n = put(n, 88, 60); /* 60 s below 90: T90, and one more event */
  n = put(n, 97, 100);
  CHECK(algo_spo2_run(NULL, NULL, 0, g_t, g_v, NULL, n, &r) == ALGO_OK,
        "rc");
  printf("  n %zu: desat3 %zu (expected 4) desat4 %zu (expected 3) T90 %.4f"
         " %% (expected %.4f) valid %.0f s sufficient %d\n", n, r.n_desat3,
         r.n_desat4, r.t90_pct, 100.0 * 60 / (double)n,
         (double)r.valid_ms / 1000, r.sufficient);
  CHECK(r.n_desat3 == 4 && r.n_desat4 == 3, "counts");
  CHECK(fabs(r.t90_pct - 100.0 * 60 / (double)n) < 1e-9, "t90");
  CHECK(r.sufficient == 0, "short record insufficient");
  /* Invalid samples inside a dip split nothing into an event: a 15 s dip
   * with 0 (dropout) every 4th second never lasts 10 s unbroken. */
  n = 0;
  n = put(n, 97, 200);
  {
    size_t i, s0 = n;
    n = put(n, 92, 15);
    for (i = s0; i < n; i += 4)
      g_v[i] = 0;
  }
  n = put(n, 97, 50);
  CHECK(algo_spo2_run(NULL, NULL, 0, g_t, g_v, NULL, n, &r) == ALGO_OK &&
            r.n_desat3 == 0 && r.n_invalid == 4, "dropouts: %zu %zu",
        r.n_desat3, r.n_invalid);
  printf("  dip broken by dropouts: desat3 %zu (expected 0), invalid %zu\n",
         r.n_desat3, r.n_invalid);
  /* Flags mark samples invalid the same way. */
  n = 0;
  n = put(n, 97, 200);
  n = put(n, 92, 15);
  n = put(n, 97, 50);
  memset(g_f, 0, n);
  g_f[205] = 1;
  CHECK(algo_spo2_run(NULL, NULL, 0, g_t, g_v, g_f, n, &r) == ALGO_OK &&
            r.n_desat3 == 0 && r.n_invalid == 1, "flag");
  memset(g_f, 0, n);
  CHECK(algo_spo2_run(NULL, NULL, 0, g_t, g_v, g_f, n, &r) == ALGO_OK &&
            r.n_desat3 == 1 && r.n_desat4 == 1, "unflagged");
}

static void test_codi(const char *root)
{
  int subj;
  printf("codi overnight SpO2 (smoke: finite and plausible)\n");
  for (subj = 1; subj <= 2; subj++) {
    char path[4096], line[128];
    struct algo_spo2_result r;
    size_t n = 0;
    FILE *f;
    snprintf(path, sizeof path, "%s/02_ecg_rr_af/codi_rtimes_spo2/%d/sao.csv",
             root, subj);
    f = fopen(path, "r");
    CHECK(f != NULL, "open %s", path);
    if (!f)
      continue;
    while (n < NMAX && fgets(line, sizeof line, f)) {
      char *end;
      double v = strtod(line, &end);
      if (end == line)
        continue; /* header or blank */
      g_t[n] = (int64_t)n * 1000; /* 1 Hz (README) */
      g_v[n] = v;
      n++;
    }
    fclose(f);
    CHECK(algo_spo2_run(NULL, NULL, 0, g_t, g_v, NULL, n, &r) == ALGO_OK,
          "rc");
    printf("  subject %d: %zu samples (%.2f h), valid %.2f h, invalid %zu, "
           "sufficient %d, mean %.2f min %.1f, ODI3 %.2f/h (%zu), ODI4 "
           "%.2f/h (%zu), T90 %.2f %%\n", subj, n, (double)n / 3600,
           (double)r.valid_ms / 3600e3, r.n_invalid, r.sufficient,
           r.mean_spo2, r.min_spo2, r.odi3, r.n_desat3, r.odi4, r.n_desat4,
           r.t90_pct);
    CHECK(isfinite(r.odi3) && isfinite(r.odi4) && isfinite(r.t90_pct),
          "finite");
    /* ODI4 may exceed ODI3: one long 3 % run can hold several 4 % runs
     * (docs/clinical/spo2.md). Plausible: under 120 events/h each. */
    CHECK(r.odi4 >= 0 && r.odi4 < 120 && r.odi3 >= 0 && r.odi3 < 120 &&
              r.t90_pct >= 0 && r.t90_pct <= 100 && r.mean_spo2 > 70 &&
              r.mean_spo2 <= 100, "plausible");
    /* Recordings are 2.6 h and 1.8 h: below the 4 h requirement. */
    CHECK(r.sufficient == 0, "short night flagged insufficient");
  }
}

static void test_properties(void)
{
  static const double weird[] = {0.0, -1.0, 1e300, -1e300, DBL_MIN / 4,
                                 5e-324, 50.0, 100.0, 100.0001, 49.999,
                                 90.0, 89.999, DBL_MAX, 97.0, 85.0};
  size_t nw = sizeof weird / sizeof weird[0], k, i, n;
  unsigned seed = 7u;
  struct algo_spo2_result r;
  printf("property: arbitrary finite input -> error or finite output\n");
  for (k = 0; k < 2000; k++) {
    n = k % 300;
    for (i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      g_t[i] = (i ? g_t[i - 1] : -5000) + 1 + (int64_t)((seed >> 8) % 20000);
      g_v[i] = k % 3 == 0 ? weird[(seed >> 4) % nw]
               : k % 3 == 1 ? 95.0 : 80.0 + (double)(seed % 21);
      g_f[i] = (unsigned char)(((seed >> 5) % 17) == 0);
    }
    CHECK(algo_spo2_run(NULL, NULL, 0, g_t, g_v, k % 2 ? g_f : NULL, n, &r)
              == ALGO_OK, "rc");
    CHECK(isfinite(r.odi3) && isfinite(r.odi4) && isfinite(r.t90_pct) &&
              isfinite(r.mean_spo2) && isfinite(r.min_spo2), "finite");
  }
  g_t[0] = 0;
  g_t[1] = 0;
  g_v[0] = g_v[1] = 95;
  CHECK(algo_spo2_run(NULL, NULL, 0, g_t, g_v, NULL, 2, &r) == ALGO_EORDER,
        "order");
  g_t[1] = 1000;
  g_v[1] = NAN;
  CHECK(algo_spo2_run(NULL, NULL, 0, g_t, g_v, NULL, 2, &r) == ALGO_EINVAL,
        "nan");
  CHECK(algo_spo2_run(NULL, NULL, 0, NULL, g_v, NULL, 2, &r) == ALGO_EINVAL,
        "null");
}

int main(void)
{
  const char *root;
  test_hand_built();
  test_properties();
  root = vg_testdata_require("02_ecg_rr_af");
  test_codi(root);
  printf("%s: %d failure(s)\n", g_fail ? "FAILED" : "PASSED", g_fail);
  return g_fail ? 1 : 0;
}
