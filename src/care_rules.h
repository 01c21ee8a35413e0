/* care_rules.h - the care rule table: thresholds, the follow-up decision
 * table (China basic public-health service standard, 3rd ed., 2017),
 * management-level contact intervals, alert rules and escalation delays.
 * Defaults live in one table in care_rules.c; a "key = value" file
 * (etc/care_rules.conf) overrides any of them. DESIGN.md section 8. */
#ifndef VG_CARE_RULES_H
#define VG_CARE_RULES_H

#include <stddef.h>
#include <stdint.h>

/* Every tunable number. Embeddable value; all fields public. Glucose in
 * mg/dL (the canonical unit), times in days / seconds as named. */
struct care_rules {
  /* Blood pressure (mmHg). */
  double bp_ctrl_sbp, bp_ctrl_dbp;     /* office: controlled below 140/90 */
  double bp_home_sbp, bp_home_dbp;     /* home mean: controlled below 135/85 */
  double bp_danger_sbp, bp_danger_dbp; /* emergency: >= 180 and/or >= 110 */
  /* Glucose. */
  double fpg_ctrl_mgdl;        /* controlled: FPG < 7.0 mmol/L */
  double fpg_danger_high_mgdl; /* emergency: FPG >= 16.7 mmol/L */
  double fpg_danger_low_mgdl;  /* emergency: FPG <= 3.9 mmol/L */
  double hba1c_ctrl_pct;       /* controlled: HbA1c < 7.0 % */
  double cgm_tir_target_pct;   /* controlled: CGM TIR >= 70 % */
  double glucose_alert_low_mgdl;  /* alert: any glucose < 54 mg/dL */
  double glucose_alert_high_mgdl; /* alert: any glucose >= 16.7 mmol/L */
  /* Other alert rules. */
  double hr_high_bpm;          /* resting HR > 100 ... */
  int64_t hr_sustain_s;        /* ... for this long */
  double spo2_low_pct;         /* SpO2 < 88 % ... */
  int64_t spo2_sustain_s;      /* ... for this long */
  double egfr_drop_pct;        /* eGFR fall > 25 % from the window's first */
  double af_burden_alert_pct;  /* AF burden above this = new AF episode */
  int64_t silence_days;        /* no data from an active device */
  /* Follow-up decision table (days). */
  int64_t fu_controlled_days;       /* controlled: next in 3 months */
  int64_t fu_uncontrolled_days;     /* first uncontrolled: within 2 weeks */
  int64_t fu_refer_after;           /* consecutive uncontrolled follow-ups
                                       that trigger a referral (2) */
  int64_t fu_refer_days;            /* after a referral: within 2 weeks */
  int64_t fu_urgent_contact_days;   /* after an emergency referral */
  /* Management levels: most days between contacts (一级/二级/三级). */
  int64_t level1_days, level2_days, level3_days;
  /* Assessment window and debounce. */
  int64_t window_days;
  int64_t debounce_ms;
  /* Escalation delays (seconds) by severity: open and unacknowledged this
   * long moves family doctor -> team lead, then team lead -> hospital
   * duty doctor after the same delay again. */
  int64_t esc_critical_s, esc_high_s, esc_medium_s, esc_low_s;
};

/* Fill r with the documented defaults. */
void care_rules_default(struct care_rules *r);

/* Apply a "key = value" text (one per line, '#' comments, blank lines) on
 * top of r. Keys are the field names above. OUT: err (a message naming
 * the line) on failure. Returns 0 or -VG_EINVAL (r partly updated). */
int care_rules_parse(struct care_rules *r, const char *text, size_t len,
                     char *err, size_t err_len);

/* Defaults, then the file at path ("" = defaults only). Returns 0,
 * -VG_EIO (unreadable) or -VG_EINVAL. */
int care_rules_load(struct care_rules *r, const char *path, char *err,
                    size_t err_len);

/* A short stable fingerprint of every value (16 hex digits + NUL), stored
 * with each assessment: a change of rules triggers re-assessment. */
void care_rules_version(const struct care_rules *r, char out[17]);

/* ---- the follow-up decision table --------------------------------------- */

enum care_action {
  CARE_ACT_NONE = 0,      /* not enough data: keep the routine interval */
  CARE_ACT_ROUTINE,       /* controlled: next follow-up in 3 months */
  CARE_ACT_ADJUST,        /* first uncontrolled: adjust, follow up 2 weeks */
  CARE_ACT_REFER,         /* uncontrolled twice / complication: refer */
  CARE_ACT_URGENT_REFER   /* danger signs: emergency referral */
};

enum care_tier { CARE_TIER_STABLE = 0, CARE_TIER_ATTENTION, CARE_TIER_URGENT };

/* What is known at a follow-up (or at a re-assessment). */
struct care_followup_in {
  int danger;            /* an emergency sign (BP >= 180/110, FPG >= 16.7
                            or <= 3.9, HR > 100, a symptom) */
  int controlled;        /* 1 controlled, 0 uncontrolled, -1 no data */
  int adverse_reaction;  /* adverse drug reaction */
  int new_complication;  /* new or worsening complication */
  int uncontrolled_streak; /* consecutive uncontrolled follow-ups, this one
                              included when controlled == 0 */
};

struct care_followup_out {
  int action;            /* enum care_action */
  int tier;              /* enum care_tier */
  int64_t next_days;     /* next contact within this many days */
  const char *rule;      /* static: the table row that fired */
  const char *reason;    /* static: the rule in words */
};

/* Run the decision table, first matching row wins (danger, refer, adjust,
 * routine, no data). Pure; thread-safe. */
void care_followup_decide(const struct care_rules *r,
                          const struct care_followup_in *in,
                          struct care_followup_out *out);

/* Names ("urgent_refer", "attention"); static, never NULL. */
const char *care_action_name(int action);
const char *care_tier_name(int tier);

/* Escalation delay in ms for a severity name ("critical", ...); the low
 * delay for an unknown one. */
int64_t care_rules_escalation_ms(const struct care_rules *r,
                                 const char *severity);

#endif
