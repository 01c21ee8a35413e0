/* test_bp.c - office categories at every threshold edge (ACC/AHA, ESH,
 * China), control predicates, home-BP protocol on the bp_jhs single-subject
 * series and ABPM dipping on HYPNOS, each against an independent reference
 * computation in this file, plus an extreme-input sweep. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bp.h"
#include "vg_check.h"
#include "vg_testdata.h"

/* ======================================================================
 * Office categories: every edge, both sides, from the clinical reference
 * s1.1 table.
 * ==================================================================== */

enum { O = ALGO_BP_CAT_OPTIMAL, N = ALGO_BP_CAT_NORMAL,
       E = ALGO_BP_CAT_ELEVATED, HN = ALGO_BP_CAT_HIGH_NORMAL,
       S1 = ALGO_BP_CAT_STAGE1, S2 = ALGO_BP_CAT_STAGE2,
       G1 = ALGO_BP_CAT_GRADE1, G2 = ALGO_BP_CAT_GRADE2,
       G3 = ALGO_BP_CAT_GRADE3 };

struct cat_case {
  double sbp, dbp;
  int cat;
};

static const struct cat_case acc_cases[] = {
  { 119, 79, N }, { 119.9, 79.9, N }, { 120, 79, E }, { 129, 79, E },
  { 129.9, 79, E }, { 130, 79, S1 }, { 139, 79, S1 }, { 139.9, 60, S1 },
  { 140, 79, S2 }, { 200, 60, S2 },
  { 110, 80, S1 }, { 110, 89, S1 }, { 110, 89.9, S1 }, { 110, 90, S2 },
  { 125, 80, S1 }, /* elevated needs DBP < 80: higher (stage 1) wins */
  { 125, 90, S2 }, { 135, 95, S2 }, { 145, 70, S2 },
};
static const struct cat_case esh_cases[] = {
  { 119, 79, O }, { 120, 79, N }, { 129, 79, N }, { 130, 79, HN },
  { 139, 79, HN }, { 140, 79, G1 }, { 159, 79, G1 }, { 160, 79, G2 },
  { 179, 79, G2 }, { 179.9, 79, G2 }, { 180, 79, G3 },
  { 110, 80, N }, { 110, 84, N }, { 110, 85, HN }, { 110, 89, HN },
  { 110, 90, G1 }, { 110, 99, G1 }, { 110, 100, G2 }, { 110, 109, G2 },
  { 110, 110, G3 }, { 150, 105, G2 }, { 185, 95, G3 }, { 125, 88, HN },
};
static const struct cat_case cn_cases[] = {
  { 119, 79, N }, { 120, 79, HN }, { 139, 79, HN }, { 140, 79, G1 },
  { 159, 79, G1 }, { 160, 79, G2 }, { 179, 79, G2 }, { 180, 79, G3 },
  { 110, 80, HN }, { 110, 89, HN }, { 110, 90, G1 }, { 110, 99, G1 },
  { 110, 100, G2 }, { 110, 109, G2 }, { 110, 110, G3 }, { 145, 101, G2 },
  { 165, 112, G3 }, { 119.99, 79.99, N },
};

static void run_cases(int g, const char *name, const struct cat_case *c,
                      size_t n)
{
  size_t i;
  int ok = 0;
  for (i = 0; i < n; i++) {
    struct algo_bp_office_out o;
    int rc = algo_bp_office_category(g, c[i].sbp, c[i].dbp, &o);
    if (rc == 0 && o.category == c[i].cat)
      ok++;
    else
      printf("  FAIL %s %.2f/%.2f -> %s, want %s\n", name, c[i].sbp,
             c[i].dbp, algo_bp_category_name(g, o.category),
             algo_bp_category_name(g, c[i].cat));
  }
  printf("office %-8s edge cases: %d/%zu\n", name, ok, n);
  check(ok == (int)n, name);
}

static void test_office(void)
{
  struct algo_bp_office_out o;
  int c1, c2, c3, c4;
  run_cases(ALGO_BP_ACC_AHA_2017, "ACC/AHA", acc_cases,
            sizeof acc_cases / sizeof acc_cases[0]);
  run_cases(ALGO_BP_ESH_2023, "ESH", esh_cases,
            sizeof esh_cases / sizeof esh_cases[0]);
  run_cases(ALGO_BP_CHINA_2018, "China", cn_cases,
            sizeof cn_cases / sizeof cn_cases[0]);
  /* Crisis > 180 and/or > 120; ISH >= 140 with < 90. */
  algo_bp_office_category(ALGO_BP_ESH_2023, 180, 120, &o);
  c1 = o.crisis;
  algo_bp_office_category(ALGO_BP_ESH_2023, 180.1, 70, &o);
  c2 = o.crisis;
  algo_bp_office_category(ALGO_BP_ACC_AHA_2017, 150, 120.5, &o);
  c3 = o.crisis;
  algo_bp_office_category(ALGO_BP_CHINA_2018, 140, 89.9, &o);
  c4 = o.isolated_systolic;
  algo_bp_office_category(ALGO_BP_CHINA_2018, 140, 90, &o);
  printf("crisis 180/120=%d 180.1/70=%d 150/120.5=%d; ISH 140/89.9=%d "
         "140/90=%d\n", c1, c2, c3, c4, o.isolated_systolic);
  check(!c1 && c2 && c3 && c4 && !o.isolated_systolic, "crisis/ISH edges");
  check(algo_bp_office_category(3, 120, 80, &o) == ALGO_EINVAL, "bad g");
  check(algo_bp_office_category(0, NAN, 80, &o) == ALGO_EINVAL, "NaN");
}

static void test_control(void)
{
  static const struct {
    double s, d;
    int hearts, cn_std, cn_80, cn_int;
  } v[] = {
    { 139.9, 89.9, 1, 1, 1, 0 }, { 140, 80, 0, 0, 1, 0 },
    { 130, 90, 0, 0, 0, 0 },     { 149.9, 89, 0, 0, 1, 0 },
    { 150, 70, 0, 0, 0, 0 },     { 129.9, 79.9, 1, 1, 1, 1 },
    { 130, 79, 1, 1, 1, 0 },     { 120, 80, 1, 1, 1, 0 },
  };
  size_t i;
  int ok = 0;
  for (i = 0; i < sizeof v / sizeof v[0]; i++) {
    int h = -1, a = -1, b = -1, c = -1;
    algo_bp_hearts_controlled(v[i].s, v[i].d, &h);
    algo_bp_china_controlled(ALGO_BP_CN_STANDARD, v[i].s, v[i].d, &a);
    algo_bp_china_controlled(ALGO_BP_CN_AGE80, v[i].s, v[i].d, &b);
    algo_bp_china_controlled(ALGO_BP_CN_INTENSIVE, v[i].s, v[i].d, &c);
    ok += h == v[i].hearts && a == v[i].cn_std && b == v[i].cn_80 &&
          c == v[i].cn_int;
  }
  printf("control predicates (HEARTS, China <140/90, <150/90, <130/80) "
         "at edges: %d/%zu\n", ok, sizeof v / sizeof v[0]);
  check(ok == (int)(sizeof v / sizeof v[0]), "control predicates");
}

/* ======================================================================
 * Synthetic protocol edges
 * ==================================================================== */

/* 2024-01-01T00:00:00Z */
#define T0 1704067200LL

static void test_home_rules(void)
{
  struct algo_bp_reading r[40];
  struct algo_bp_home_cfg cfg;
  struct algo_bp_home_out o;
  size_t n = 0;
  int d, rc;
  /* China windows at +08:00. Day 1 (discarded) then days 2..4 with four
   * readings each at 06:00, 08:59, 18:00, 20:59 local, plus excluded
   * readings at 05:59, 09:00, 17:59, 21:00 local. */
  algo_bp_home_default_cfg(ALGO_BP_HOME_CHINA, ALGO_BP_CHINA_2018, 480,
                           &cfg);
  for (d = 0; d < 4; d++) {
    static const int mins[] = { 359, 360, 539, 540, 1079, 1080, 1259,
                                1260 };
    int k;
    for (k = 0; k < 8; k++) {
      /* local midnight of day d is T0 - 8 h + d days */
      r[n].t_utc_s = T0 - 8 * 3600 + d * 86400LL + mins[k] * 60LL;
      r[n].sbp_mmhg = 130 + d;
      r[n].dbp_mmhg = 80;
      n++;
    }
  }
  rc = algo_bp_home_average(&cfg, r, n, &o);
  printf("home China windows: used %d (want 12), outside %d (want 12), "
         "day1 %d (want 8), days %d, mean %.2f/%.2f, verdict %d\n",
         o.n_used, o.n_outside, o.n_day1, o.n_days_used, o.sbp_mmhg,
         o.dbp_mmhg, o.verdict);
  check(rc == 0 && o.n_used == 12 && o.n_outside == 12 && o.n_day1 == 8 &&
            o.n_days_used == 3 && fabs(o.sbp_mmhg - 132.0) < 1e-12 &&
            o.verdict == ALGO_BP_BELOW,
        "home windows and 12-reading rule");
  /* Drop one used reading: 11 readings -> insufficient. */
  r[n - 2].sbp_mmhg = 400; /* implausible: skipped, counted invalid */
  rc = algo_bp_home_average(&cfg, r, n, &o);
  check(rc == 0 && o.n_used == 11 && o.n_invalid == 1 &&
            o.verdict == ALGO_BP_INSUFFICIENT,
        "11 readings insufficient");
  /* 12 readings on only 2 days -> insufficient (ESH protocol, all). */
  algo_bp_home_default_cfg(ALGO_BP_HOME_ESH, ALGO_BP_ESH_2023, 0, &cfg);
  for (n = 0; n < 13; n++) {
    r[n].t_utc_s = T0 + (n == 0 ? 0 : (n <= 6 ? 86400 : 2 * 86400)) +
                   (int64_t)n * 60;
    r[n].sbp_mmhg = 136;
    r[n].dbp_mmhg = 70;
  }
  rc = algo_bp_home_average(&cfg, r, n, &o);
  check(rc == 0 && o.n_used == 12 && o.n_days_used == 2 &&
            o.verdict == ALGO_BP_INSUFFICIENT,
        "12 readings on 2 days insufficient");
  cfg.min_days = 2;
  rc = algo_bp_home_average(&cfg, r, n, &o);
  check(rc == 0 && o.verdict == ALGO_BP_HIGH, "136 >= 135 is high");
  r[3].t_utc_s = r[2].t_utc_s - 1;
  check(algo_bp_home_average(&cfg, r, n, &o) == ALGO_EORDER, "EORDER");
  printf("home minimum-data rule and ordering checks done\n");
}

static void test_dip_edges(void)
{
  static const struct {
    double night;
    int cls;
  } v[] = {
    { 100.1, ALGO_BP_DIP_REVERSE },  { 100, ALGO_BP_DIP_NON_DIPPER },
    { 90.1, ALGO_BP_DIP_NON_DIPPER }, { 90, ALGO_BP_DIP_DIPPER },
    { 80, ALGO_BP_DIP_DIPPER },       { 79.9, ALGO_BP_DIP_EXTREME },
  };
  struct algo_bp_abpm_cfg cfg;
  struct algo_bp_reading r[3];
  unsigned char awake[3] = { 1, 1, 0 };
  size_t i;
  int ok = 0;
  algo_bp_abpm_default_cfg(ALGO_BP_ESH_2023, ALGO_BP_DIARY, 0, &cfg);
  for (i = 0; i < sizeof v / sizeof v[0]; i++) {
    struct algo_bp_abpm_out o;
    r[0] = (struct algo_bp_reading){ T0, 95, 60 };
    r[1] = (struct algo_bp_reading){ T0 + 3600, 105, 60 };
    r[2] = (struct algo_bp_reading){ T0 + 7200, v[i].night, 50 };
    if (algo_bp_abpm(&cfg, r, awake, 3, &o) == 0 && o.dipping == v[i].cls)
      ok++;
    else
      printf("  FAIL night %.1f -> %s (fall %.6f)\n", v[i].night,
             algo_bp_dipping_name(o.dipping), o.sbp_fall_pct);
  }
  printf("dipping class edges (0, 10, 20 %%): %d/%zu\n", ok,
         sizeof v / sizeof v[0]);
  check(ok == (int)(sizeof v / sizeof v[0]), "dipping edges");
}

/* ======================================================================
 * bp_jhs home series vs an independent reference computation
 * ==================================================================== */

struct row {
  int64_t t;
  double s, d;
};

static int cmp_row(const void *a, const void *b)
{
  const struct row *x = a, *y = b;
  return (x->t > y->t) - (x->t < y->t);
}

/* Reference: local date and clock from libc (gmtime_r of shifted time),
 * days counted by date strings, not by the library's arithmetic. */
struct ref_out {
  int n_used, n_days, verdict;
  double s, d;
};

static void ref_home(const struct row *r, int n, int offset_min, int china,
                     int thr_s, int thr_d, struct ref_out *o)
{
  char day1[16], seen[8][16];
  int n_seen = 0, i, j;
  double ss = 0, sd = 0;
  struct tm tm;
  time_t tt;
  memset(o, 0, sizeof *o);
  for (i = 0; i < n; i++) {
    char date[16];
    int hhmm, k, dup = 0;
    struct tm d1;
    tt = (time_t)(r[i].t + offset_min * 60);
    gmtime_r(&tt, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    if (i == 0)
      memcpy(day1, date, sizeof date);
    if (strcmp(date, day1) == 0)
      continue;
    /* day index by calendar: midnight of this date minus midnight of
     * day 1, through timegm */
    memset(&d1, 0, sizeof d1);
    sscanf(day1, "%d-%d-%d", &d1.tm_year, &d1.tm_mon, &d1.tm_mday);
    d1.tm_year -= 1900;
    d1.tm_mon -= 1;
    {
      struct tm cur = tm;
      cur.tm_hour = cur.tm_min = cur.tm_sec = 0;
      k = (int)((timegm(&cur) - timegm(&d1)) / 86400);
    }
    if (k >= 7)
      continue;
    hhmm = tm.tm_hour * 100 + tm.tm_min;
    if (china && !((hhmm >= 600 && hhmm < 900) ||
                   (hhmm >= 1800 && hhmm < 2100)))
      continue;
    if (r[i].s < 50 || r[i].s > 300 || r[i].d < 20 || r[i].d > 200 ||
        r[i].s <= r[i].d)
      continue;
    ss += r[i].s;
    sd += r[i].d;
    o->n_used++;
    for (j = 0; j < n_seen; j++)
      dup |= strcmp(seen[j], date) == 0;
    if (!dup && n_seen < 8)
      memcpy(seen[n_seen++], date, sizeof date);
  }
  o->n_days = n_seen;
  if (o->n_used) {
    o->s = ss / o->n_used;
    o->d = sd / o->n_used;
  }
  o->verdict = (o->n_used >= 12 && n_seen >= 3)
                   ? ((o->s >= thr_s || o->d >= thr_d) ? 2 : 1)
                   : 0;
}

static int load_jhs(const char *root, struct row *rows, int max)
{
  char path[4096], line[512];
  FILE *fp;
  int n = 0;
  snprintf(path, sizeof path,
           "%s/04_bp_home_abpm/converted_from_rda/bp_jhs.csv", root);
  fp = fopen(path, "r");
  check(fp != NULL, "open bp_jhs.csv");
  if (!fp)
    return 0;
  if (!fgets(line, sizeof line, fp))
    line[0] = '\0';
  while (n < max && fgets(line, sizeof line, fp)) {
    struct tm tm;
    char *c;
    int i;
    double s, d;
    memset(&tm, 0, sizeof tm);
    if (sscanf(line, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
      continue;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    /* columns 8 and 9: Sys.mmHg., Dias.mmHg. */
    c = line;
    for (i = 0; i < 7 && c; i++) {
      c = strchr(c, ',');
      if (c)
        c++;
    }
    if (!c)
      continue;
    s = strtod(c, &c);
    if (*c != ',')
      continue;
    d = strtod(c + 1, NULL);
    rows[n].t = (int64_t)timegm(&tm);
    rows[n].s = s;
    rows[n].d = d;
    n++;
  }
  fclose(fp);
  qsort(rows, (size_t)n, sizeof rows[0], cmp_row);
  return n;
}

static void test_jhs(const char *root)
{
  static struct row rows[400];
  static struct algo_bp_reading rd[400];
  static const int offsets[] = { -300, 0 };
  int n = load_jhs(root, rows, 400), oi, p;
  printf("bp_jhs: %d readings loaded (sorted ascending)\n", n);
  check(n == 222, "bp_jhs row count");
  for (oi = 0; oi < 2; oi++)
    for (p = 0; p < 2; p++) {
      int china = p == 0, start = 0, week = 0, agree = 0, weeks = 0;
      int verdicts[3] = { 0, 0, 0 };
      struct algo_bp_home_cfg cfg;
      algo_bp_home_default_cfg(china ? ALGO_BP_HOME_CHINA : ALGO_BP_HOME_ESH,
                               china ? ALGO_BP_CHINA_2018 : ALGO_BP_ESH_2023,
                               offsets[oi], &cfg);
      printf("  offset %+d min, %s protocol:\n", offsets[oi],
             china ? "China" : "ESH");
      /* Consecutive protocol periods: each starts at the first reading not
       * yet covered and spans 7 local days. */
      while (start < n) {
        struct algo_bp_home_out o;
        struct ref_out ref;
        int end = start, i, rc, same;
        time_t t0 = (time_t)(rows[start].t + offsets[oi] * 60);
        struct tm tm;
        gmtime_r(&t0, &tm);
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        t0 = timegm(&tm) + 7 * 86400 - offsets[oi] * 60;
        while (end < n && rows[end].t < (int64_t)t0)
          end++;
        for (i = start; i < end; i++)
          rd[i - start] = (struct algo_bp_reading){ rows[i].t, rows[i].s,
                                                    rows[i].d };
        rc = algo_bp_home_average(&cfg, rd, (size_t)(end - start), &o);
        ref_home(rows + start, end - start, offsets[oi], china,
                 o.thr_sbp_mmhg, o.thr_dbp_mmhg, &ref);
        same = rc == 0 && o.n_used == ref.n_used &&
               o.n_days_used == ref.n_days && o.verdict == ref.verdict &&
               fabs(o.sbp_mmhg - ref.s) < 1e-9 &&
               fabs(o.dbp_mmhg - ref.d) < 1e-9;
        agree += same;
        weeks++;
        verdicts[o.verdict]++;
        if (oi == 0)
          printf("    wk %2d: %2d rdg; algo n=%2d days=%d %6.2f/%5.2f "
                 "%-12s | ref n=%2d days=%d %6.2f/%5.2f %s\n",
                 ++week, end - start, o.n_used, o.n_days_used, o.sbp_mmhg,
                 o.dbp_mmhg,
                 o.verdict == 0 ? "insufficient"
                 : o.verdict == 1 ? "below" : "HIGH",
                 ref.n_used, ref.n_days, ref.s, ref.d, same ? "=" : "DIFF");
        start = end;
      }
      printf("    periods %d, algo==ref %d/%d; verdicts insufficient %d, "
             "below %d, high %d\n", weeks, agree, weeks, verdicts[0],
             verdicts[1], verdicts[2]);
      check(weeks > 0 && agree == weeks, "jhs home protocol vs reference");
    }
}

/* ======================================================================
 * HYPNOS ABPM vs an independent reference computation
 * ==================================================================== */

struct hyp {
  int64_t t;
  double s, d;
  int wake, minute_of_day, id, visit;
};

static void test_hypnos(const char *root)
{
  static struct hyp h[400];
  static struct algo_bp_reading rd[400];
  static unsigned char aw[400];
  char path[4096], line[512];
  FILE *fp;
  int n = 0, i, start, subj = 0, agree = 0, agree_fixed = 0;
  int cls_count[5] = { 0 };
  snprintf(path, sizeof path,
           "%s/04_bp_home_abpm/converted_from_rda/bp_hypnos.csv", root);
  fp = fopen(path, "r");
  check(fp != NULL, "open bp_hypnos.csv");
  if (!fp)
    return;
  if (!fgets(line, sizeof line, fp))
    line[0] = '\0';
  /* NR.,DATE.TIME,SYST,MAP,DIAST,HR,PP,RPP,WAKE,ID,VISIT,DATE */
  while (n < 400 && fgets(line, sizeof line, fp)) {
    struct tm tm;
    int nr, map, hr, pp, rpp;
    double s, d;
    memset(&tm, 0, sizeof tm);
    if (sscanf(line, "%d,%d-%d-%d %d:%d:%d,%lf,%d,%lf,%d,%d,%d,%d,%d,%d",
               &nr, &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &s, &map, &d, &hr, &pp, &rpp,
               &h[n].wake, &h[n].id, &h[n].visit) != 16)
      continue;
    h[n].minute_of_day = tm.tm_hour * 60 + tm.tm_min;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    h[n].t = (int64_t)timegm(&tm); /* naive local time, offset 0 */
    h[n].s = s;
    h[n].d = d;
    n++;
  }
  fclose(fp);
  printf("HYPNOS: %d ABPM rows\n", n);
  check(n == 250, "hypnos row count");
  printf("  %-5s %-3s %3s %3s | diary: day %6s/%5s night %6s/%5s 24h "
         "%6s/%5s fall%% class       | fixed 09-21/01-06: n d/n fall%% "
         "class\n", "id", "vis", "nD", "nN", "SBP", "DBP", "SBP", "DBP",
         "SBP", "DBP");
  for (start = 0; start < n; subj++) {
    struct algo_bp_abpm_cfg cfg;
    struct algo_bp_abpm_out o, of;
    double rs[2] = { 0, 0 }, rdb[2] = { 0, 0 }, fs[2] = { 0, 0 };
    int rn[2] = { 0, 0 }, fn[2] = { 0, 0 }, end = start, rc, rcf;
    int ref_cls, ref_fcls, ok, okf;
    double ratio, fratio;
    while (end < n && h[end].id == h[start].id &&
           h[end].visit == h[start].visit)
      end++;
    for (i = start; i < end; i++) {
      int m = h[i].minute_of_day;
      rd[i - start] = (struct algo_bp_reading){ h[i].t, h[i].s, h[i].d };
      aw[i - start] = (unsigned char)h[i].wake;
      /* reference: sums keyed directly by the WAKE column */
      rs[h[i].wake] += h[i].s;
      rdb[h[i].wake] += h[i].d;
      rn[h[i].wake]++;
      /* reference fixed windows from the clock string's hour:minute */
      if (m >= 540 && m < 1260) {
        fs[1] += h[i].s;
        fn[1]++;
      } else if (m >= 60 && m < 360) {
        fs[0] += h[i].s;
        fn[0]++;
      }
    }
    algo_bp_abpm_default_cfg(ALGO_BP_ESH_2023, ALGO_BP_DIARY, 0, &cfg);
    rc = algo_bp_abpm(&cfg, rd, aw, (size_t)(end - start), &o);
    algo_bp_abpm_default_cfg(ALGO_BP_ESH_2023, ALGO_BP_FIXED, 0, &cfg);
    rcf = algo_bp_abpm(&cfg, rd, NULL, (size_t)(end - start), &of);
    /* reference class from the night/day ratio */
    ratio = (rs[0] / rn[0]) / (rs[1] / rn[1]);
    ref_cls = ratio > 1.0 ? ALGO_BP_DIP_REVERSE
              : ratio > 0.9 ? ALGO_BP_DIP_NON_DIPPER
              : ratio >= 0.8 ? ALGO_BP_DIP_DIPPER : ALGO_BP_DIP_EXTREME;
    fratio = (fs[0] / fn[0]) / (fs[1] / fn[1]);
    ref_fcls = fratio > 1.0 ? ALGO_BP_DIP_REVERSE
               : fratio > 0.9 ? ALGO_BP_DIP_NON_DIPPER
               : fratio >= 0.8 ? ALGO_BP_DIP_DIPPER : ALGO_BP_DIP_EXTREME;
    ok = rc == 0 && o.n_day == rn[1] && o.n_night == rn[0] &&
         fabs(o.day_sbp_mmhg - rs[1] / rn[1]) < 1e-9 &&
         fabs(o.night_sbp_mmhg - rs[0] / rn[0]) < 1e-9 &&
         fabs(o.day_dbp_mmhg - rdb[1] / rn[1]) < 1e-9 &&
         fabs(o.night_dbp_mmhg - rdb[0] / rn[0]) < 1e-9 &&
         fabs(o.all_sbp_mmhg - (rs[0] + rs[1]) / (rn[0] + rn[1])) < 1e-9 &&
         fabs(o.sbp_fall_pct - 100.0 * (1.0 - ratio)) < 1e-9 &&
         o.dipping == ref_cls;
    okf = rcf == 0 && of.n_day == fn[1] && of.n_night == fn[0] &&
          fabs(of.day_sbp_mmhg - fs[1] / fn[1]) < 1e-9 &&
          fabs(of.night_sbp_mmhg - fs[0] / fn[0]) < 1e-9 &&
          of.dipping == ref_fcls;
    agree += ok;
    agree_fixed += okf;
    cls_count[o.dipping]++;
    printf("  %-5d %-3d %3d %3d | %6.1f/%5.1f %6.1f/%5.1f %6.1f/%5.1f "
           "%5.1f %-11s %s | %2d/%d %5.1f %-11s %s%s\n",
           h[start].id, h[start].visit, o.n_day, o.n_night, o.day_sbp_mmhg,
           o.day_dbp_mmhg, o.night_sbp_mmhg, o.night_dbp_mmhg,
           o.all_sbp_mmhg, o.all_dbp_mmhg, o.sbp_fall_pct,
           algo_bp_dipping_name(o.dipping), ok ? "=ref" : "DIFF",
           of.n_day, of.n_night, of.sbp_fall_pct,
           algo_bp_dipping_name(of.dipping), okf ? "=ref" : "DIFF",
           o.sufficient ? "" : " (below ESH 20/7 minimum)");
    start = end;
  }
  printf("HYPNOS recordings %d: diary algo==ref %d/%d, fixed algo==ref "
         "%d/%d; diary classes reverse %d non-dipper %d dipper %d "
         "extreme %d\n", subj, agree, subj, agree_fixed, subj, cls_count[1],
         cls_count[2], cls_count[3], cls_count[4]);
  check(subj == 10 && agree == subj && agree_fixed == subj,
        "hypnos vs reference");
}

/* ======================================================================
 * Fuzz-safety
 * ==================================================================== */

static void test_extremes(void)
{
  static const double x[] = { 0.0, -0.0, -1.0, -1e300, 1e300, DBL_MIN,
                              DBL_MIN / 4, 4.9e-324, DBL_MAX, 120.0, 80.0,
                              180.0 };
  static const int64_t ts[] = { 0, -1, 10000000000000LL,
                                -10000000000000LL, INT64_MAX, INT64_MIN };
  size_t nx = sizeof x / sizeof x[0], i, j, k;
  long n = 0, bad = 0;
  int g, v;
  for (i = 0; i < nx; i++)
    for (j = 0; j < nx; j++) {
      for (g = -1; g <= 3; g++) {
        struct algo_bp_office_out o;
        n++;
        if (algo_bp_office_category(g, x[i], x[j], &o) == 0 &&
            (o.category < 0 || o.category > ALGO_BP_CAT_GRADE3))
          bad++;
        if (algo_bp_china_controlled(g, x[i], x[j], &v) == 0 && v != !!v)
          bad++;
      }
      if (algo_bp_hearts_controlled(x[i], x[j], &v) == 0 && v != !!v)
        bad++;
      for (k = 0; k < sizeof ts / sizeof ts[0]; k++) {
        struct algo_bp_reading r[3] = { { ts[k], x[i], x[j] },
                                        { ts[k], x[j], x[i] },
                                        { ts[k], x[i], x[i] } };
        unsigned char aw[3] = { 1, 0, 1 };
        struct algo_bp_home_cfg hc;
        struct algo_bp_abpm_cfg ac;
        struct algo_bp_home_out ho;
        struct algo_bp_abpm_out ao;
        algo_bp_home_default_cfg(ALGO_BP_HOME_CHINA, ALGO_BP_CHINA_2018,
                                 (int)(k * 300) - 840, &hc);
        hc.min_readings = 1;
        hc.min_days = 1;
        algo_bp_abpm_default_cfg(ALGO_BP_ACC_AHA_2017, (int)(k & 1),
                                 (int)(k * 300) - 840, &ac);
        n += 2;
        if (algo_bp_home_average(&hc, r, 3, &ho) == 0 &&
            (!isfinite(ho.sbp_mmhg) || !isfinite(ho.dbp_mmhg) ||
             !isfinite(ho.am_sbp_mmhg) || !isfinite(ho.pm_sbp_mmhg)))
          bad++;
        if (algo_bp_abpm(&ac, r, aw, 3, &ao) == 0 &&
            (!isfinite(ao.day_sbp_mmhg) || !isfinite(ao.night_sbp_mmhg) ||
             !isfinite(ao.all_sbp_mmhg) || !isfinite(ao.sbp_fall_pct) ||
             !isfinite(ao.dbp_fall_pct)))
          bad++;
      }
    }
  printf("extreme-input sweep: %ld calls, %ld non-finite/invalid results\n",
         n, bad);
  check(bad == 0, "extreme inputs");
}

int main(void)
{
  const char *root = vg_testdata_require("04_bp_home_abpm");
  test_office();
  test_control();
  test_home_rules();
  test_dip_edges();
  test_jhs(root);
  test_hypnos(root);
  test_extremes();
  printf("%d checks, %d failed\n", g_checks, g_fail);
  return g_fail != 0;
}
