/* api_reports.c - GET /api/v1/reports/indicators (JSON or CSV: numerator,
 * denominator and rate of every indicator, and the alert response times,
 * for an organisation subtree and each direct child) and
 * /reports/indicators/patients (the patient list behind one number). */
#include <string.h>

#include "api.h"
#include "auth.h"
#include "core_errors.h"
#include "report_indicators.h"
#include "store.h"

/* Whose patients the caller may count: everyone for a whole-population
 * principal and for aggregate-only roles (researcher), else the visible
 * set http.c loaded (care roles, an organisation's admin). */
static int scope(struct vg_req *r, struct report_filter *f)
{
  const struct vg_principal *p = r->principal;
  memset(f, 0, sizeof *f);
  if (!p || auth_sees_all_patients(p) || !auth_visible_sql(p))
    return 0;
  if (!p->visible_loaded)
    return vg_fail(r, VG_EUNAVAIL, "visibility unavailable");
  f->restrict_ids = 1;
  f->only = p->visible;
  f->n_only = p->n_visible;
  return 0;
}

static int params(struct vg_req *r, int64_t *org, struct report_period *p)
{
  const char *o = http_query(r, "org"), *per = http_query(r, "period");
  if (!o || api_parse_id(o, org))
    return vg_fail(r, VG_EINVAL, "org= must be an organization id");
  if (!per || report_period_parse(per, p))
    return vg_fail(r, VG_EINVAL, "period= must be YYYY-Qn or YYYY-MM");
  return 0;
}

static void json_inds(struct vg_buf *out, const struct report_counts *c)
{
  buf_puts(out, "[");
  for (int i = 0; i < RI_COUNT; i++) {
    const char *l = report_ind_label((enum report_ind)i);
    const char *k = report_ind_key((enum report_ind)i);
    buf_puts(out, i ? ",{\"key\":" : "{\"key\":");
    buf_json_str(out, k, strlen(k));
    buf_puts(out, ",\"label\":");
    buf_json_str(out, l, strlen(l));
    buf_printf(out, ",\"numerator\":%lld,\"denominator\":%lld,\"rate\":",
               (long long)c->num[i], (long long)c->den[i]);
    if (c->den[i])
      buf_json_num(out, (double)c->num[i] / (double)c->den[i]);
    else
      buf_puts(out, "null");
    buf_putc(out, '}');
  }
  buf_puts(out, "]");
}

static void json_minutes(struct vg_buf *out, int64_t ms)
{
  if (ms < 0)
    buf_puts(out, "null");
  else
    buf_json_num(out, (double)ms / 60000.0);
}

static void json_alerts(struct vg_buf *out, const struct report_alerts *a)
{
  buf_printf(out, "{\"raised\":%lld,\"acknowledged\":%lld,\"escalated\":"
             "%lld,\"open\":%lld,\"ack_minutes\":{\"median\":",
             (long long)a->raised, (long long)a->acknowledged,
             (long long)a->escalated, (long long)a->open);
  json_minutes(out, a->median_ack_ms);
  buf_puts(out, ",\"p90\":");
  json_minutes(out, a->p90_ack_ms);
  buf_puts(out, ",\"max\":");
  json_minutes(out, a->max_ack_ms);
  buf_puts(out, "}}");
}

static void json_org(struct vg_buf *out, const struct report_org *o)
{
  buf_printf(out, "{\"id\":%lld,\"name\":", (long long)o->id);
  buf_json_str(out, o->name, strlen(o->name));
  buf_puts(out, ",\"level\":");
  buf_json_str(out, o->level, strlen(o->level));
  buf_puts(out, ",\"indicators\":");
  json_inds(out, &o->c);
  buf_puts(out, ",\"alerts\":");
  json_alerts(out, &o->alerts);
  buf_putc(out, '}');
}

/* CSV field: quoted, quotes doubled (names may hold commas). */
static void csv_str(struct vg_buf *out, const char *s)
{
  buf_putc(out, '"');
  for (; *s; s++) {
    if (*s == '"')
      buf_putc(out, '"');
    buf_putc(out, *s);
  }
  buf_putc(out, '"');
}

static void csv_head(struct vg_buf *out, const char *period,
                     const struct report_org *o, const char *scope,
                     const char *key)
{
  buf_printf(out, "%s,%s,%lld,", period, scope, (long long)o->id);
  csv_str(out, o->name);
  buf_printf(out, ",%s,%s,", o->level, key);
}

/* A ratio row: numerator, denominator, rate (empty when den is 0). */
static void csv_ratio(struct vg_buf *out, int64_t num, int64_t den)
{
  buf_printf(out, "%lld,%lld,", (long long)num, (long long)den);
  if (den)
    buf_printf(out, "%.6f", (double)num / (double)den);
  buf_puts(out, ",\r\n");
}

/* Rows: every indicator, then the alert measures (ratios of the alerts
 * raised; acknowledgement times in minutes in the value column). */
static void csv_org(struct vg_buf *out, const char *period,
                    const struct report_org *o, const char *scope)
{
  static const char *const times[] = {"alerts.ack_minutes_median",
                                      "alerts.ack_minutes_p90",
                                      "alerts.ack_minutes_max"};
  const struct report_alerts *a = &o->alerts;
  int64_t ms[3] = {a->median_ack_ms, a->p90_ack_ms, a->max_ack_ms};
  for (int i = 0; i < RI_COUNT; i++) {
    csv_head(out, period, o, scope, report_ind_key((enum report_ind)i));
    csv_ratio(out, o->c.num[i], o->c.den[i]);
  }
  csv_head(out, period, o, scope, "alerts.acknowledged");
  csv_ratio(out, a->acknowledged, a->raised);
  csv_head(out, period, o, scope, "alerts.escalated");
  csv_ratio(out, a->escalated, a->raised);
  csv_head(out, period, o, scope, "alerts.open");
  csv_ratio(out, a->open, a->raised);
  for (int i = 0; i < 3; i++) {
    csv_head(out, period, o, scope, times[i]);
    buf_puts(out, ",,,");
    if (ms[i] >= 0)
      buf_printf(out, "%.1f", (double)ms[i] / 60000.0);
    buf_puts(out, "\r\n");
  }
}

int api_reports_indicators(struct vg_req *r)
{
  struct report_period p;
  struct report_result *res;
  struct report_filter f;
  struct vg_txn *t;
  const char *fmt = http_query(r, "format");
  int64_t org;
  int rc, csv = 0;
  if (params(r, &org, &p) || scope(r, &f))
    return r->err;
  if (fmt && strcmp(fmt, "csv") == 0)
    csv = 1;
  else if (fmt && strcmp(fmt, "json") != 0)
    return vg_fail(r, VG_EINVAL, "format= must be json or csv");
  rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, rc, "store unavailable");
  rc = report_indicators(t, org, &p, &f, &res);
  store_rollback(t);
  if (rc == -VG_ENOTFOUND)
    return vg_fail(r, rc, "no organization %lld", (long long)org);
  if (rc)
    return vg_fail(r, rc, "computing indicators failed");
  if (csv) {
    r->content_type = "text/csv; charset=utf-8";
    buf_puts(&r->out, "period,scope,org_id,org_name,level,indicator,"
             "numerator,denominator,rate,value\r\n");
    csv_org(&r->out, p.label, &res->total, "subtree");
    for (size_t i = 0; i < res->n_children; i++)
      csv_org(&r->out, p.label, &res->children[i], "child");
  } else {
    buf_printf(&r->out, "{\"period\":{\"label\":\"%s\",\"start\":\"%s\","
               "\"end\":\"%s\",\"window_3m_start\":\"%s\","
               "\"window_12m_start\":\"%s\"},\"residents\":%zu,\"org\":",
               p.label, p.start, p.end, p.end3, p.end12, res->n_residents);
    json_org(&r->out, &res->total);
    buf_puts(&r->out, ",\"children\":[");
    for (size_t i = 0; i < res->n_children; i++) {
      if (i)
        buf_putc(&r->out, ',');
      json_org(&r->out, &res->children[i]);
    }
    buf_puts(&r->out, "]}");
  }
  report_result_free(res);
  return 0;
}

static int plist_one(void *ctx, int64_t pid)
{
  struct api_page *pg = ctx;
  api_page_item(pg, pid);
  return buf_json_int(pg->out, pid);
}

int api_reports_patients(struct vg_req *r)
{
  struct report_period p;
  struct report_filter f;
  struct api_page c = {&r->out, 0, 0};
  struct vg_txn *t;
  const char *ind = http_query(r, "indicator"), *part = http_query(r, "part");
  int64_t org, after;
  size_t limit;
  int rc, k, den;
  if (params(r, &org, &p) || scope(r, &f) ||
      api_paging(r, 1000, 100000, &limit, &after))
    return r->err;
  k = ind ? report_ind_find(ind) : -1;
  if (k < 0)
    return vg_fail(r, VG_EINVAL, "indicator= must be an indicator key, e.g. "
                   "hearts.bp_controlled");
  if (!part || (strcmp(part, "numerator") && strcmp(part, "denominator")))
    return vg_fail(r, VG_EINVAL, "part= must be numerator or denominator");
  den = strcmp(part, "denominator") == 0;
  rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, rc, "store unavailable");
  buf_printf(&r->out, "{\"indicator\":\"%s\",\"part\":\"%s\",\"period\":"
             "\"%s\",\"org\":%lld,\"patients\":[", ind, part, p.label,
             (long long)org);
  rc = report_patients(t, org, &p, &f, (enum report_ind)k, den, after,
                       limit, plist_one, &c);
  store_rollback(t);
  if (rc == -VG_ENOTFOUND)
    return vg_fail(r, rc, "no organization %lld", (long long)org);
  if (rc)
    return vg_fail(r, rc, "listing patients failed");
  buf_printf(&r->out, "],\"count\":%zu,", c.n);
  api_next_cursor(&r->out, c.n, limit, c.last);
  return 0;
}
