/* cli_import.c - `vigil import FILE|DIR`: FHIR R4 transaction/collection
 * Bundles (.json, .json.gz) and NDJSON into the store, through the same
 * mapping and validation as the REST API (fhir_map_resource, fhir_apply).
 * One all-or-nothing writer job per bundle; an entry the ingest contract
 * rejects is dropped and the bundle retried without it. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core_alloc.h"
#include "cli.h"
#include "config.h"
#include "core_errors.h"
#include "core_log.h"
#include "core_time.h"
#include "fhir.h"
#include "store.h"
#include "store_writer.h"

#define MAX_FILE (512u << 20) /* largest decompressed input file */
#define MAX_TYPES 64
#define MAX_REASONS 5

struct type_count {
  char type[48];
  size_t accepted, rejected, skipped;
  size_t duplicate; /* of accepted: readings already stored (same key) */
  char reasons[MAX_REASONS][FHIR_ERR_MAX];
  size_t n_reasons;
};

struct summary {
  struct type_count t[MAX_TYPES];
  size_t n;
  size_t files, files_failed, resources;
};

static struct type_count *count_of(struct summary *s, const char *type)
{
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->t[i].type, type))
      return &s->t[i];
  if (s->n == MAX_TYPES)
    return &s->t[MAX_TYPES - 1];
  snprintf(s->t[s->n].type, sizeof s->t[s->n].type, "%s", type);
  return &s->t[s->n++];
}

/* Same reason up to the numbers in it ("value 2.9 out of range ..."). */
static int same_shape(const char *a, const char *b)
{
  for (;;) {
    int da = *a >= '0' && *a <= '9', db = *b >= '0' && *b <= '9';
    if (da && db) {
      while ((*a >= '0' && *a <= '9') || *a == '.')
        a++;
      while ((*b >= '0' && *b <= '9') || *b == '.')
        b++;
      continue;
    }
    if (*a != *b)
      return 0;
    if (!*a)
      return 1;
    a++;
    b++;
  }
}

static void add_reason(struct type_count *c, const char *why)
{
  for (size_t i = 0; i < c->n_reasons; i++)
    if (same_shape(c->reasons[i], why))
      return;
  if (c->n_reasons < MAX_REASONS)
    snprintf(c->reasons[c->n_reasons++], FHIR_ERR_MAX, "%s", why);
}

/* Whole file, gunzipped when it ends in .gz. Caller vg_free()s. */
static char *read_all(const char *path, size_t *out_len)
{
  gzFile f = gzopen(path, "rb");
  size_t cap = 1 << 20, len = 0;
  char *buf = vg_malloc(cap + 1);
  int n;
  if (!f || !buf)
    goto fail;
  while ((n = gzread(f, buf + len, (unsigned)(cap - len))) > 0) {
    len += (size_t)n;
    if (len == cap) {
      char *nb;
      if (cap >= MAX_FILE)
        goto fail;
      cap *= 2;
      nb = vg_realloc(buf, cap + 1);
      if (!nb)
        goto fail;
      buf = nb;
    }
  }
  if (n < 0)
    goto fail;
  gzclose(f);
  buf[len] = '\0';
  *out_len = len;
  return buf;
fail:
  if (f)
    gzclose(f);
  vg_free(buf);
  return NULL;
}

/* Map and apply one list of resources (entries of a bundle or NDJSON). */
static int import_list(struct vg_writer *w, struct vg_store *st, json_t **res,
                       const char **urls, size_t n, struct summary *s)
{
  struct fhir_res *fr = vg_calloc(n + 1, sizeof *fr);
  char (*ids)[FHIR_ID_MAX] = vg_calloc(n + 1, sizeof *ids);
  int *status = vg_calloc(n + 1, sizeof *status);
  char *ok = vg_calloc(n + 1, 1);
  struct fhir_res *pack = vg_calloc(n + 1, sizeof *pack);
  const char **purls = vg_calloc(n + 1, sizeof *purls);
  size_t *pidx = vg_calloc(n + 1, sizeof *pidx);
  char err[FHIR_ERR_MAX];
  int rc = 0, tries;

  if (!fr || !ids || !status || !ok || !pack || !purls || !pidx) {
    rc = -VG_ENOMEM;
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    const char *rt = json_string_value(json_object_get(res[i],
                                                       "resourceType"));
    int mrc = fhir_map_resource(res[i], NULL, &fr[i], err);
    s->resources++;
    if (mrc == -VG_ENOTFOUND) {
      count_of(s, rt ? rt : "(none)")->skipped++;
      continue;
    }
    if (mrc) {
      struct type_count *c = count_of(s, rt ? rt : "(none)");
      c->rejected++;
      add_reason(c, err);
      continue;
    }
    fr[i].reuse_identifier = 1;
    fr[i].lenient = 1;
    if (fr[i].kind == FHIR_K_PATIENT)
      fr[i].id[0] = '\0';
    ok[i] = 1;
  }
  /* Retry without an entry the ingest contract or a reference check
   * rejects ("entry N: ..."); each retry drops one entry. */
  for (tries = 0; tries < 1000; tries++) {
    size_t m = 0, bad;
    for (size_t i = 0; i < n; i++)
      if (ok[i]) {
        pack[m] = fr[i];
        purls[m] = urls ? urls[i] : NULL;
        pidx[m] = i;
        m++;
      }
    if (m == 0)
      break;
    rc = fhir_apply(w, st, pack, purls, m, ids, status, err);
    if (rc == 0) {
      for (size_t k = 0; k < m; k++) {
        struct type_count *c = count_of(s, pack[k].type);
        if (pack[k].reject[0]) {
          c->rejected++;
          add_reason(c, pack[k].reject);
        } else {
          c->accepted++;
          if (pack[k].kind == FHIR_K_READING && status[k] == 200)
            c->duplicate++;
        }
      }
      break;
    }
    if (rc != -VG_EUNPROC || sscanf(err, "entry %zu", &bad) != 1 || bad >= m)
      break;
    ok[pidx[bad]] = 0;
    count_of(s, pack[bad].type)->rejected++;
    add_reason(count_of(s, pack[bad].type), strchr(err, ':') ?
               strchr(err, ':') + 2 : err);
    rc = 0;
  }
  if (rc) {
    for (size_t i = 0; i < n; i++)
      if (ok[i]) {
        count_of(s, fr[i].type)->rejected++;
        add_reason(count_of(s, fr[i].type), err[0] ? err : vg_strerror(rc));
      }
    /* The bundle's content was refused (4xx): its resources are rejected
     * and listed, the import goes on. A store error (5xx) is a failure. */
    if (vg_http_status(rc) < 500)
      rc = 0;
  }
out:
  for (size_t i = 0; fr && i < n; i++)
    fhir_res_clear(&fr[i]);
  vg_free(fr);
  vg_free(ids);
  vg_free(status);
  vg_free(ok);
  vg_free(pack);
  vg_free(purls);
  vg_free(pidx);
  return rc;
}

static int import_file(struct vg_writer *w, struct vg_store *st,
                       const char *path, struct summary *s)
{
  size_t len, n = 0, cap = 0, i;
  char *data = read_all(path, &len), *p;
  json_t **res = NULL, *doc = NULL, *e;
  const char **urls = NULL;
  int rc = 0;
  json_error_t je;

  if (!data) {
    fprintf(stderr, "vigil import: %s: cannot read\n", path);
    return -VG_EIO;
  }
  p = data;
  if (len >= 3 && (unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb &&
      (unsigned char)p[2] == 0xbf)
    p += 3; /* UTF-8 BOM */
  if (strstr(path, ".ndjson")) {
    char *line = p;
    while (line && *line) {
      char *nl = strchr(line, '\n');
      json_t *o;
      if (nl)
        *nl = '\0';
      if (strspn(line, " \t\r") < strlen(line)) {
        o = json_loads(line, 0, &je);
        if (n == cap) {
          cap = cap ? cap * 2 : 256;
          res = vg_realloc(res, cap * sizeof *res);
        }
        if (!o) {
          struct type_count *c = count_of(s, "(unparsable)");
          c->rejected++;
          add_reason(c, je.text);
          rc = -VG_EBADJSON; /* a malformed line: the file failed */
          fprintf(stderr, "vigil import: %s: a line is not JSON: %s\n",
                  path, je.text);
        } else {
          res[n++] = o;
        }
      }
      line = nl ? nl + 1 : NULL;
    }
  } else {
    doc = json_loads(p, 0, &je);
    if (!doc) {
      fprintf(stderr, "vigil import: %s: not JSON: %s (line %d)\n", path,
              je.text, je.line);
      vg_free(data);
      return -VG_EBADJSON;
    }
    if (strcmp(json_string_value(json_object_get(doc, "resourceType"))
                   ? json_string_value(json_object_get(doc, "resourceType"))
                   : "", "Bundle")) {
      res = vg_malloc(sizeof *res);
      res[n++] = json_incref(doc);
    } else {
      n = json_array_size(json_object_get(doc, "entry"));
      res = vg_calloc(n + 1, sizeof *res);
      urls = vg_calloc(n + 1, sizeof *urls);
      json_array_foreach(json_object_get(doc, "entry"), i, e) {
        res[i] = json_incref(json_object_get(e, "resource"));
        urls[i] = json_string_value(json_object_get(e, "fullUrl"));
      }
    }
  }
  {
    int lrc = import_list(w, st, res, urls, n, s);
    if (lrc) {
      fprintf(stderr, "vigil import: %s: %s\n", path, vg_strerror(lrc));
      rc = lrc;
    }
  }
  for (i = 0; i < n; i++)
    json_decref(res[i]);
  vg_free(res);
  vg_free(urls);
  json_decref(doc);
  vg_free(data);
  return rc;
}

static int is_input(const char *name)
{
  size_t n = strlen(name);
  return (n > 5 && !strcmp(name + n - 5, ".json")) ||
         (n > 8 && !strcmp(name + n - 8, ".json.gz")) ||
         (n > 7 && !strcmp(name + n - 7, ".ndjson")) ||
         (n > 10 && !strcmp(name + n - 10, ".ndjson.gz"));
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Input files under path (recursively), sorted. */
static void collect(const char *path, char ***files, size_t *n, size_t *cap)
{
  struct stat sb;
  DIR *d;
  struct dirent *de;
  if (stat(path, &sb))
    return;
  if (!S_ISDIR(sb.st_mode)) {
    if (*n == *cap) {
      *cap = *cap ? *cap * 2 : 64;
      *files = vg_realloc(*files, *cap * sizeof **files);
    }
    (*files)[(*n)++] = vg_strdup(path);
    return;
  }
  d = opendir(path);
  while (d && (de = readdir(d)) != NULL) {
    char sub[4096];
    if (de->d_name[0] == '.')
      continue;
    snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
    if (stat(sub, &sb) == 0 && (S_ISDIR(sb.st_mode) || is_input(de->d_name)))
      collect(sub, files, n, cap);
  }
  if (d)
    closedir(d);
}

static void progress(size_t done, size_t total, size_t resources, double s)
{
  int width = 30, fill = total ? (int)(width * done / total) : width;
  fprintf(stderr, "\r[%.*s%*s] %zu/%zu files, %zu resources, %.0f/s",
          fill, "##############################", width - fill, "", done,
          total, resources, s > 0 ? (double)resources / s : 0.0);
  if (done == total)
    fputc('\n', stderr);
}

int cli_import(int argc, char **argv)
{
  struct vg_config cfg;
  struct vg_store *st = NULL;
  struct vg_writer *w = NULL;
  struct vg_writer_opts wo = {0, 0, 0};
  struct summary *s = vg_calloc(1, sizeof *s);
  char **files = NULL, err[256];
  size_t n_files = 0, cap = 0;
  int json_out = 0, rc, fail = 0, rejected = 0, tty = isatty(2);
  int64_t t0;
  double secs;

  if (cli_wants_help(argc, argv) || argc < 2) {
    printf("usage: vigil import [--db PATH | --pg URL] [--json] FILE|DIR...\n"
           "Loads FHIR R4 Bundles (.json, .json.gz) and NDJSON; prints the "
           "resources per type accepted,\nrejected (with reasons) and "
           "skipped (types not served).\n"
           "Exit codes:\n"
           "  0  every resource stored (or already present)\n"
           "  3  completed, but some resources were rejected (listed in "
           "the summary)\n"
           "  1  failure: unreadable or malformed file, store error\n"
           "  2  usage\n");
    vg_free(s);
    return argc < 2 ? 2 : 0;
  }
  config_init(&cfg);
  if (config_read_env(&cfg, err, sizeof err)) {
    fprintf(stderr, "vigil import: %s\n", err);
    vg_free(s);
    return 2;
  }
  log_set_level(VG_LOG_WARN);
  for (int i = 1; i < argc;) {
    if (!strcmp(argv[i], "--json")) {
      json_out = 1;
      i++;
    } else if (!strncmp(argv[i], "--", 2)) {
      int before = i;
      err[0] = '\0';
      if (config_parse_args(&cfg, argc, argv, &i, err, sizeof err) ||
          i == before) {
        fprintf(stderr, "vigil import: %s\n", err[0] ? err : argv[i]);
        vg_free(s);
        return 2;
      }
    } else {
      collect(argv[i++], &files, &n_files, &cap);
    }
  }
  if (n_files == 0) {
    fprintf(stderr, "vigil import: no .json, .json.gz or .ndjson input\n");
    vg_free(s);
    return 2;
  }
  qsort(files, n_files, sizeof *files, cmp_str);
  rc = store_open(&cfg, &st);
  if (rc || (rc = writer_start(st, &wo, &w))) {
    fprintf(stderr, "vigil import: cannot open the store: %s\n",
            vg_strerror(rc));
    store_close(st);
    vg_free(s);
    return 1;
  }
  t0 = vg_mono_ns();
  for (size_t i = 0; i < n_files; i++) {
    s->files++;
    if (import_file(w, st, files[i], s)) {
      s->files_failed++;
      fail = 1;
    }
    if (tty)
      progress(i + 1, n_files, s->resources,
               (double)(vg_mono_ns() - t0) / 1e9);
    vg_free(files[i]);
  }
  vg_free(files);
  writer_stop(w);
  store_close(st);
  secs = (double)(vg_mono_ns() - t0) / 1e9;
  for (size_t i = 0; i < s->n && !fail; i++)
    if (s->t[i].rejected)
      rejected = 1;
  if (json_out) {
    printf("{\"files\":%zu,\"files_failed\":%zu,\"resources\":%zu,"
           "\"seconds\":%.3f,\"types\":{", s->files, s->files_failed,
           s->resources, secs);
    for (size_t i = 0; i < s->n; i++) {
      json_t *r = json_array();
      char *rs;
      for (size_t k = 0; k < s->t[i].n_reasons; k++)
        json_array_append_new(r, json_string(s->t[i].reasons[k]));
      rs = json_dumps(r, JSON_COMPACT);
      printf("%s\"%s\":{\"accepted\":%zu,\"duplicate\":%zu,\"rejected\":"
             "%zu,\"skipped\":%zu,\"reasons\":%s}", i ? "," : "",
             s->t[i].type, s->t[i].accepted, s->t[i].duplicate,
             s->t[i].rejected, s->t[i].skipped, rs ? rs : "[]");
      free(rs); /* allocated by libjansson */
      json_decref(r);
    }
    printf("}}\n");
  } else {
    printf("%-16s %9s %9s %9s\n", "type", "accepted", "rejected", "skipped");
    for (size_t i = 0; i < s->n; i++) {
      printf("%-16s %9zu %9zu %9zu\n", s->t[i].type, s->t[i].accepted,
             s->t[i].rejected, s->t[i].skipped);
      for (size_t k = 0; k < s->t[i].n_reasons; k++)
        printf("  rejected: %s\n", s->t[i].reasons[k]);
    }
    printf("%zu files (%zu failed), %zu resources in %.2f s (%.0f/s)\n",
           s->files, s->files_failed, s->resources, secs,
           secs > 0 ? (double)s->resources / secs : 0.0);
  }
  vg_free(s);
  return fail ? 1 : rejected ? 3 : 0;
}
