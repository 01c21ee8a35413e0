/* report_indicators.h - population indicators of an organisation subtree
 * over a month or quarter: WHO HEARTS (BP controlled / uncontrolled / visit
 * without BP / missed visits / lost to follow-up) and the China programme
 * indicators (规范管理率, BP and glucose control, contract coverage overall
 * and for priority groups), the tier distribution and alert response
 * times, each with numerator and denominator, summed
 * over the subtree and per direct child, and the patient list behind any
 * number. Definitions: docs/care.md "Population reports". */
#ifndef VG_REPORT_INDICATORS_H
#define VG_REPORT_INDICATORS_H

#include <stddef.h>
#include <stdint.h>

struct vg_txn;

enum report_ind {
  RI_HEARTS_CONTROLLED = 0,
  RI_HEARTS_UNCONTROLLED,
  RI_HEARTS_VISIT_NO_BP,
  RI_HEARTS_MISSED,
  RI_HEARTS_LTFU,
  RI_CN_HTN_STANDARD,
  RI_CN_HTN_BP_CONTROL,
  RI_CN_T2D_STANDARD,
  RI_CN_T2D_GLUCOSE_CONTROL,
  RI_CN_CONTRACT,
  RI_CN_CONTRACT_PRIORITY,
  RI_TIER_STABLE,
  RI_TIER_ATTENTION,
  RI_TIER_URGENT,
  RI_TIER_NONE,
  RI_COUNT
};

/* The stable key ("hearts.bp_controlled") and a one-line label. */
const char *report_ind_key(enum report_ind i);
const char *report_ind_label(enum report_ind i);
/* Index of key, or -1. */
int report_ind_find(const char *key);

/* A reporting period [start, end) in UTC dates. Public fields. */
struct report_period {
  char label[16];           /* "2026-Q3" or "2026-09" */
  char start[11], end[11];  /* "YYYY-MM-DD"; end exclusive */
  char end3[11], end12[11]; /* end - 3 months, end - 12 months */
  int64_t start_ms, end_ms, end3_ms, end12_ms;
};

/* Parse "YYYY-Qn" or "YYYY-MM". OUT: *out. 0 or -VG_EINVAL. */
int report_period_parse(const char *s, struct report_period *out);

struct report_counts {
  int64_t num[RI_COUNT], den[RI_COUNT];
};

/* Alerts raised in the period for the residents (care_alert, 004) and how
 * fast they were acknowledged. Public fields; *_ms are -1 when nothing was
 * acknowledged. escalated: not acknowledged within the rule's delay. */
struct report_alerts {
  int64_t raised, acknowledged, escalated, open;
  int64_t median_ack_ms, p90_ack_ms, max_ack_ms;
};

/* One organisation's totals. Public fields. */
struct report_org {
  int64_t id;
  char name[128];
  char level[32];
  struct report_counts c;
  struct report_alerts alerts;
};

/* Result: the subtree's totals and one entry per direct child (its own
 * subtree). Caller frees with report_result_free(). */
struct report_result {
  struct report_org total;
  struct report_org *children;
  size_t n_children;
  size_t n_residents;       /* patients in the subtree's households */
};

/* Whose patients count: only (sorted ascending, n_only of them) when
 * restrict_ids is set, e.g. the caller's visible set (auth); NULL filter
 * or restrict_ids 0: every resident of the subtree. Borrowed. */
struct report_filter {
  int restrict_ids;
  const int64_t *only;
  size_t n_only;
};

/* Compute the indicators of org's subtree for period p in a READ
 * transaction; f may be NULL. Tiers are the residents' current overall
 * assessment (care_assessment), not as of the period end. OUT: *out. 0,
 * -VG_ENOTFOUND (no such org), -VG_ENOMEM or a store error. */
int report_indicators(struct vg_txn *t, int64_t org,
                      const struct report_period *p,
                      const struct report_filter *f,
                      struct report_result **out);
void report_result_free(struct report_result *res);

/* The patients behind one number: those in the numerator (part 0) or the
 * denominator (part 1) of indicator ind, ascending ids > after_id, at most
 * limit (0 = all), each passed to cb (nonzero stops; returned). */
typedef int (*report_patient_cb)(void *ctx, int64_t patient_id);
int report_patients(struct vg_txn *t, int64_t org,
                    const struct report_period *p,
                    const struct report_filter *f, enum report_ind ind,
                    int part, int64_t after_id, size_t limit,
                    report_patient_cb cb, void *ctx);

#endif
