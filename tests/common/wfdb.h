/* wfdb.h - test-only readers for PhysioNet WFDB files: MIT-format
 * annotations (with SKIP/NUM/SUB/CHN/AUX pseudo-annotations), .hea headers,
 * signal formats 16 and 212, and MATLAB v5 numeric matrices (e.g.
 * TestAFdata.mat: variables Fs, signal 38400x2 double mV, time).
 * Header-only, static functions; uses stdio/stdlib and zlib (linked by
 * vigil_core). Format facts: WFDB Programmer's Guide, annot(5), header(5),
 * signal(5); MATLAB "MAT-File Format" (MathWorks, 2019). */
#ifndef VG_TEST_WFDB_H
#define VG_TEST_WFDB_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---------------------------------------------------------------- files */

/* Reads a whole file into a malloc'd buffer. OUT: *out_len. Returns the
 * buffer (caller frees with free()) or NULL on any error. */
static inline unsigned char *wfdb_slurp(const char *path, size_t *out_len)
{
  FILE *f = fopen(path, "rb");
  unsigned char *buf = NULL;
  long sz;
  *out_len = 0;
  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) != 0)
    goto fail;
  sz = ftell(f);
  if (sz < 0 || fseek(f, 0, SEEK_SET) != 0)
    goto fail;
  buf = malloc((size_t)sz + 1);
  if (!buf)
    goto fail;
  if (sz > 0 && fread(buf, 1, (size_t)sz, f) != (size_t)sz)
    goto fail;
  buf[sz] = 0;
  fclose(f);
  *out_len = (size_t)sz;
  return buf;
fail:
  free(buf);
  fclose(f);
  return NULL;
}

/* ---------------------------------------------------------- annotations */

/* Annotation codes (WFDB ecgcodes.h values). */
enum {
  WFDB_NOTQRS = 0, WFDB_NORMAL = 1, WFDB_LBBB = 2, WFDB_RBBB = 3,
  WFDB_ABERR = 4, WFDB_PVC = 5, WFDB_FUSION = 6, WFDB_NPC = 7, WFDB_APC = 8,
  WFDB_SVPB = 9, WFDB_VESC = 10, WFDB_NESC = 11, WFDB_PACE = 12,
  WFDB_UNKNOWN = 13, WFDB_NOISE = 14, WFDB_ARFCT = 16, WFDB_STCH = 18,
  WFDB_TCH = 19, WFDB_SYSTOLE = 20, WFDB_DIASTOLE = 21, WFDB_NOTE = 22,
  WFDB_MEASURE = 23, WFDB_PWAVE = 24, WFDB_BBB = 25, WFDB_PACESP = 26,
  WFDB_TWAVE = 27, WFDB_RHYTHM = 28, WFDB_UWAVE = 29, WFDB_LEARN = 30,
  WFDB_FLWAV = 31, WFDB_VFON = 32, WFDB_VFOFF = 33, WFDB_AESC = 34,
  WFDB_SVESC = 35, WFDB_LINK = 36, WFDB_NAPC = 37, WFDB_PFUS = 38,
  WFDB_WFON = 39, WFDB_WFOFF = 40, WFDB_RONT = 41,
  /* pseudo-annotation codes of the MIT file format */
  WFDB_P_SKIP = 59, WFDB_P_NUM = 60, WFDB_P_SUB = 61, WFDB_P_CHN = 62,
  WFDB_P_AUX = 63
};

/* One decoded annotation. aux points into the iterator's buffer (not
 * NUL-terminated; aux_len bytes; the first byte of the on-disk AUX field is
 * NOT a length here, MIT format stores the length in the word). */
struct wfdb_ann {
  int64_t sample;  /* absolute sample number */
  int code;        /* WFDB_* annotation code (anntyp) */
  int subtyp;
  int chan;
  int num;
  const char *aux; /* NULL when the annotation has no AUX */
  int aux_len;
};

/* Iterator over an in-memory MIT-format annotation file. */
struct wfdb_ann_iter {
  const unsigned char *p;
  const unsigned char *end;
  int64_t t;
  int chan; /* CHN and NUM persist to later annotations (annot(5)) */
  int num;
};

static inline void wfdb_ann_iter_init(struct wfdb_ann_iter *it,
                               const unsigned char *buf, size_t len)
{
  it->p = buf;
  it->end = buf + len;
  it->t = 0;
  it->chan = 0;
  it->num = 0;
}

static inline unsigned wfdb__word(const unsigned char *p)
{
  return (unsigned)p[0] | ((unsigned)p[1] << 8);
}

/* Decodes the next annotation into *a. Returns 1 when one was produced, 0 at
 * the end of the file (A=0,I=0 word or end of data), -1 if truncated. */
static inline int wfdb_ann_next(struct wfdb_ann_iter *it, struct wfdb_ann *a)
{
  for (;;) {
    unsigned w, A, I;
    if (it->end - it->p < 2)
      return 0;
    w = wfdb__word(it->p);
    A = w >> 10;
    I = w & 0x3ff;
    if (A == 0 && I == 0)
      return 0;
    it->p += 2;
    if (A == WFDB_P_SKIP) {
      /* PDP-11 long: high 16-bit word first, each word little-endian */
      uint32_t v;
      if (it->end - it->p < 4)
        return -1;
      v = ((uint32_t)wfdb__word(it->p) << 16) | wfdb__word(it->p + 2);
      it->t += (int32_t)v;
      it->p += 4;
      continue;
    }
    if (A == WFDB_P_AUX) { /* AUX with no annotation before it: skip */
      it->p += I + (I & 1);
      continue;
    }
    if (A == WFDB_P_NUM) {
      it->num = (int)I;
      continue;
    }
    if (A == WFDB_P_CHN) {
      it->chan = (int)I;
      continue;
    }
    if (A == WFDB_P_SUB)
      continue;
    /* a real annotation: A is its code, I the time increment */
    it->t += I;
    a->sample = it->t;
    a->code = (int)A;
    a->subtyp = 0;
    a->aux = NULL;
    a->aux_len = 0;
    /* pseudo-annotations that follow modify this annotation */
    while (it->end - it->p >= 2) {
      w = wfdb__word(it->p);
      A = w >> 10;
      I = w & 0x3ff;
      if (A == WFDB_P_SUB) {
        a->subtyp = (int)I;
      } else if (A == WFDB_P_CHN) {
        it->chan = (int)I;
      } else if (A == WFDB_P_NUM) {
        it->num = (int)I;
      } else if (A == WFDB_P_AUX) {
        if ((size_t)(it->end - it->p - 2) < I + (I & 1))
          return -1;
        a->aux = (const char *)it->p + 2;
        a->aux_len = (int)I;
        it->p += I + (I & 1);
      } else {
        break;
      }
      it->p += 2;
    }
    a->chan = it->chan;
    a->num = it->num;
    return 1;
  }
}

/* 1 if code is a QRS (beat) annotation, as WFDB isqrs(). */
static inline int wfdb_isqrs(int code)
{
  switch (code) {
  case WFDB_NORMAL: case WFDB_LBBB: case WFDB_RBBB: case WFDB_ABERR:
  case WFDB_PVC: case WFDB_FUSION: case WFDB_NPC: case WFDB_APC:
  case WFDB_SVPB: case WFDB_VESC: case WFDB_NESC: case WFDB_PACE:
  case WFDB_UNKNOWN: case WFDB_BBB: case WFDB_LEARN: case WFDB_AESC:
  case WFDB_SVESC: case WFDB_NAPC: case WFDB_PFUS: case WFDB_RONT:
    return 1;
  default:
    return 0;
  }
}

/* 1 if the annotation carries AUX text equal to s (e.g. "(AFIB"). The AUX
 * field may carry a trailing NUL; it is ignored. */
static inline int wfdb_aux_is(const struct wfdb_ann *a, const char *s)
{
  size_t n = strlen(s);
  int len = a->aux_len;
  while (len > 0 && a->aux[len - 1] == 0)
    len--;
  return a->aux && (size_t)len == n && memcmp(a->aux, s, n) == 0;
}

/* Beat list of an annotation file with the rhythm in force at each beat. */
struct wfdb_beats {
  int64_t *sample;  /* beat sample numbers, ascending */
  unsigned char *code; /* beat annotation code */
  signed char *rhythm; /* WFDB_RHY_* in force at the beat */
  size_t n;
};

enum {
  WFDB_RHY_NONE = -1, /* no rhythm annotation yet */
  WFDB_RHY_OTHER = 0, /* any rhythm label other than those below */
  WFDB_RHY_AFIB = 1,  /* "(AFIB" */
  WFDB_RHY_AFL = 2,   /* "(AFL" */
  WFDB_RHY_N = 3      /* "(N" */
};

static inline void wfdb_beats_free(struct wfdb_beats *b)
{
  free(b->sample);
  free(b->code);
  free(b->rhythm);
  memset(b, 0, sizeof *b);
}

/* Reads the beats (wfdb_isqrs) of annotation file path, labelling each with
 * the rhythm (RHYTHM annotation AUX) in force at it. Returns 0 or -1.
 * Caller frees with wfdb_beats_free(). */
static inline int wfdb_beats_read(const char *path, struct wfdb_beats *out)
{
  size_t len, cap, n = 0;
  unsigned char *buf = wfdb_slurp(path, &len);
  struct wfdb_ann_iter it;
  struct wfdb_ann a;
  int rhy = WFDB_RHY_NONE, rc;
  memset(out, 0, sizeof *out);
  if (!buf)
    return -1;
  cap = len / 2 + 1; /* at most one annotation per 2 bytes */
  out->sample = malloc(cap * sizeof *out->sample);
  out->code = malloc(cap);
  out->rhythm = malloc(cap);
  if (!out->sample || !out->code || !out->rhythm)
    goto fail;
  wfdb_ann_iter_init(&it, buf, len);
  while ((rc = wfdb_ann_next(&it, &a)) == 1) {
    if (a.code == WFDB_RHYTHM && a.aux) {
      if (wfdb_aux_is(&a, "(AFIB"))
        rhy = WFDB_RHY_AFIB;
      else if (wfdb_aux_is(&a, "(AFL"))
        rhy = WFDB_RHY_AFL;
      else if (wfdb_aux_is(&a, "(N"))
        rhy = WFDB_RHY_N;
      else
        rhy = WFDB_RHY_OTHER;
    } else if (wfdb_isqrs(a.code)) {
      out->sample[n] = a.sample;
      out->code[n] = (unsigned char)a.code;
      out->rhythm[n] = (signed char)rhy;
      n++;
    }
  }
  if (rc < 0)
    goto fail;
  out->n = n;
  free(buf);
  return 0;
fail:
  free(buf);
  wfdb_beats_free(out);
  return -1;
}

/* --------------------------------------------------------------- header */

#define WFDB_MAXSIG 16

struct wfdb_sig {
  char file[128];
  int fmt;        /* 16, 212, ... */
  double gain;    /* ADC units per physical unit (200 if unspecified) */
  int baseline;   /* ADC value of 0 physical units */
  char units[16];
  int adczero;
  int initval;
  char desc[64];
};

struct wfdb_hea {
  char name[64];
  int nsig;
  double fs;      /* frames per second */
  int64_t nsamp;  /* samples per signal; 0 if unknown */
  struct wfdb_sig sig[WFDB_MAXSIG];
  char comments[1024]; /* '#' lines, joined with '\n' */
};

/* Parses one signal line "file fmt gain(baseline)/units adcres adczero
 * initval checksum blocksize desc". */
static inline void wfdb__parse_sig(char *line, struct wfdb_sig *s)
{
  char *tok[9] = {0};
  int nt = 0;
  char *p = line, *e;
  while (*p && nt < 9) {
    while (*p == ' ' || *p == '\t')
      p++;
    if (!*p)
      break;
    tok[nt++] = p;
    if (nt == 9)
      break; /* description: rest of the line */
    while (*p && *p != ' ' && *p != '\t')
      p++;
    if (*p)
      *p++ = 0;
  }
  memset(s, 0, sizeof *s);
  s->gain = 200;
  if (tok[0])
    snprintf(s->file, sizeof s->file, "%s", tok[0]);
  if (tok[1])
    s->fmt = (int)strtol(tok[1], NULL, 10);
  if (tok[4])
    s->adczero = (int)strtol(tok[4], NULL, 10);
  s->baseline = s->adczero;
  if (tok[2]) {
    double g = strtod(tok[2], &e);
    if (g != 0)
      s->gain = g;
    if (*e == '(') {
      s->baseline = (int)strtol(e + 1, &e, 10);
      if (*e == ')')
        e++;
    }
    if (*e == '/')
      snprintf(s->units, sizeof s->units, "%s", e + 1);
  }
  if (!s->units[0])
    snprintf(s->units, sizeof s->units, "mV");
  if (tok[5])
    s->initval = (int)strtol(tok[5], NULL, 10);
  if (tok[8]) {
    size_t n = strcspn(tok[8], "\r\n");
    snprintf(s->desc, sizeof s->desc, "%.*s", (int)n, tok[8]);
  }
}

/* Parses the .hea at path. Returns 0 or -1. */
static inline int wfdb_hea_read(const char *path, struct wfdb_hea *h)
{
  size_t len;
  char *buf = (char *)wfdb_slurp(path, &len);
  char *line, *next, *e;
  int got_record = 0, isig = 0;
  memset(h, 0, sizeof *h);
  if (!buf)
    return -1;
  for (line = buf; line && *line; line = next) {
    size_t n = strcspn(line, "\n");
    next = line[n] ? line + n + 1 : NULL;
    line[n] = 0;
    if (n > 0 && line[n - 1] == '\r')
      line[n - 1] = 0;
    if (line[0] == '#') {
      size_t cl = strlen(h->comments);
      snprintf(h->comments + cl, sizeof h->comments - cl, "%s\n",
               line + 1);
      continue;
    }
    if (!line[strspn(line, " \t")])
      continue;
    if (!got_record) {
      char name[64] = {0};
      n = strcspn(line, " \t");
      snprintf(name, sizeof name, "%.*s", (int)n, line);
      e = strchr(name, '/'); /* multi-segment "name/nseg" */
      if (e)
        *e = 0;
      snprintf(h->name, sizeof h->name, "%s", name);
      h->nsig = (int)strtol(line + n, &e, 10);
      h->fs = 250; /* WFDB default */
      if (*e) {
        double fs = strtod(e, &e); /* stops at '/' or ':' */
        if (fs > 0)
          h->fs = fs;
        while (*e && *e != ' ' && *e != '\t')
          e++;
        h->nsamp = strtoll(e, NULL, 10);
      }
      if (h->nsig < 0 || h->nsig > WFDB_MAXSIG)
        goto fail;
      got_record = 1;
    } else if (isig < h->nsig) {
      wfdb__parse_sig(line, &h->sig[isig++]);
    }
  }
  if (!got_record || isig < h->nsig)
    goto fail;
  free(buf);
  return 0;
fail:
  free(buf);
  return -1;
}

/* --------------------------------------------------------------- signal */

/* Reads channel `sig` of a single-file record in format 16 or 212 (all
 * signals in one interleaved file, same format). dat_path is the .dat.
 * OUT: *out_n samples in a malloc'd array (caller frees) of raw ADC values.
 * Returns the array or NULL on error / unsupported format. */
static inline int32_t *wfdb_dat_read(const char *dat_path,
                                     const struct wfdb_hea *h, int sig,
                                     size_t *out_n)
{
  size_t len, nframes, i;
  unsigned char *buf = wfdb_slurp(dat_path, &len);
  int32_t *out = NULL;
  int ns = h->nsig, fmt = h->sig[0].fmt;
  *out_n = 0;
  if (!buf || sig < 0 || sig >= ns)
    goto fail;
  if (fmt == 16) {
    nframes = len / (2u * (size_t)ns);
  } else if (fmt == 212) {
    nframes = (len * 2 / 3) / (size_t)ns; /* 3 bytes per 2 samples */
  } else {
    goto fail;
  }
  if (h->nsamp > 0 && (size_t)h->nsamp < nframes)
    nframes = (size_t)h->nsamp;
  out = malloc((nframes ? nframes : 1) * sizeof *out);
  if (!out)
    goto fail;
  for (i = 0; i < nframes; i++) {
    size_t k = i * (size_t)ns + (size_t)sig; /* flat sample index */
    int32_t v;
    if (fmt == 16) {
      v = (int16_t)(uint16_t)(buf[2 * k] | (buf[2 * k + 1] << 8));
    } else {
      /* samples come in pairs packed in 3 bytes: 8 low bits each in bytes
       * 0 and 2, the high nibbles in byte 1 (low nibble = first sample) */
      const unsigned char *p = buf + (k / 2) * 3;
      if (k % 2 == 0)
        v = p[0] | ((p[1] & 0x0f) << 8);
      else
        v = p[2] | ((p[1] & 0xf0) << 4);
      if (v & 0x800)
        v -= 0x1000;
    }
    out[i] = v;
  }
  free(buf);
  *out_n = nframes;
  return out;
fail:
  free(buf);
  free(out);
  return NULL;
}

/* ------------------------------------------------------------ MATLAB v5 */

enum {
  WFDB_MI_INT8 = 1, WFDB_MI_UINT8 = 2, WFDB_MI_INT16 = 3,
  WFDB_MI_UINT16 = 4, WFDB_MI_INT32 = 5, WFDB_MI_UINT32 = 6,
  WFDB_MI_SINGLE = 7, WFDB_MI_DOUBLE = 9, WFDB_MI_INT64 = 12,
  WFDB_MI_UINT64 = 13, WFDB_MI_MATRIX = 14, WFDB_MI_COMPRESSED = 15
};

static inline uint32_t wfdb__u32le(const unsigned char *p)
{
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}

/* Reads one data-element tag at *p (normal or "small" format). OUT: type,
 * size, data pointer; advances *p past the padded element. -1 if short. */
static inline int wfdb__mat_elem(const unsigned char **p,
                                 const unsigned char *end, uint32_t *type,
                                 uint32_t *size, const unsigned char **data)
{
  uint32_t w;
  if (end - *p < 8)
    return -1;
  w = wfdb__u32le(*p);
  if (w >> 16) { /* small element: size in upper half, data in 4 bytes */
    *type = w & 0xffff;
    *size = w >> 16;
    *data = *p + 4;
    *p += 8;
    return 0;
  }
  *type = w;
  *size = wfdb__u32le(*p + 4);
  if ((uint64_t)(end - *p - 8) < *size)
    return -1;
  *data = *p + 8;
  /* compressed elements are not padded to 8 bytes; all others are */
  if (*type == WFDB_MI_COMPRESSED)
    *p += 8 + *size;
  else
    *p += 8 + ((*size + 7u) & ~7u);
  if (*p > end)
    *p = end;
  return 0;
}

static inline double wfdb__mat_num(uint32_t type, const unsigned char *d,
                                   size_t i)
{
  switch (type) {
  case WFDB_MI_INT8: return (double)(int8_t)d[i];
  case WFDB_MI_UINT8: return (double)d[i];
  case WFDB_MI_INT16:
    return (double)(int16_t)(uint16_t)(d[2 * i] | (d[2 * i + 1] << 8));
  case WFDB_MI_UINT16: return (double)(d[2 * i] | (d[2 * i + 1] << 8));
  case WFDB_MI_INT32: return (double)(int32_t)wfdb__u32le(d + 4 * i);
  case WFDB_MI_UINT32: return (double)wfdb__u32le(d + 4 * i);
  case WFDB_MI_SINGLE: {
    uint32_t u = wfdb__u32le(d + 4 * i);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
  }
  case WFDB_MI_DOUBLE: {
    uint64_t u = (uint64_t)wfdb__u32le(d + 8 * i) |
                 ((uint64_t)wfdb__u32le(d + 8 * i + 4) << 32);
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
  }
  default: return 0;
  }
}

static inline size_t wfdb__mat_width(uint32_t type)
{
  switch (type) {
  case WFDB_MI_INT8: case WFDB_MI_UINT8: return 1;
  case WFDB_MI_INT16: case WFDB_MI_UINT16: return 2;
  case WFDB_MI_INT32: case WFDB_MI_UINT32: case WFDB_MI_SINGLE: return 4;
  case WFDB_MI_DOUBLE: return 8;
  default: return 0;
  }
}

/* Parses a miMATRIX body; if its name is `name`, fills the outputs. */
static inline int wfdb__mat_matrix(const unsigned char *p,
                                   const unsigned char *end, const char *name,
                                   double **out, size_t *rows, size_t *cols)
{
  uint32_t t, sz;
  const unsigned char *d;
  size_t r, c, i, w;
  double *v;
  if (wfdb__mat_elem(&p, end, &t, &sz, &d) || sz < 8) /* array flags */
    return -1;
  if ((d[0] & 0xff) > 15 || d[0] == 1 || d[0] == 2 || d[0] == 3)
    return -1; /* cell, struct, object: not numeric */
  if (wfdb__mat_elem(&p, end, &t, &sz, &d) || sz != 8) /* 2-D dims */
    return -1;
  r = wfdb__u32le(d);
  c = wfdb__u32le(d + 4);
  if (wfdb__mat_elem(&p, end, &t, &sz, &d)) /* name */
    return -1;
  if (strlen(name) != sz || memcmp(d, name, sz) != 0)
    return -1;
  if (wfdb__mat_elem(&p, end, &t, &sz, &d)) /* real part */
    return -1;
  w = wfdb__mat_width(t);
  if (!w || r == 0 || c == 0 || sz / w < r * c)
    return -1;
  v = malloc(r * c * sizeof *v);
  if (!v)
    return -1;
  for (i = 0; i < r * c; i++)
    v[i] = wfdb__mat_num(t, d, i);
  *out = v;
  *rows = r;
  *cols = c;
  return 0;
}

/* Reads numeric 2-D variable `name` from a MATLAB v5 .mat (compressed or
 * not, little-endian). OUT: *rows, *cols; values column-major (element
 * (i,j) at [j*rows+i]) in a malloc'd array the caller frees. NULL on error. */
static inline double *wfdb_mat_read(const char *path, const char *name,
                             size_t *rows, size_t *cols)
{
  size_t len;
  unsigned char *buf = wfdb_slurp(path, &len);
  const unsigned char *p, *end;
  double *out = NULL;
  *rows = *cols = 0;
  if (!buf || len < 128 || buf[126] != 'I' || buf[127] != 'M')
    goto done;
  p = buf + 128;
  end = buf + len;
  while (!out && end - p >= 8) {
    uint32_t t, sz;
    const unsigned char *d;
    if (wfdb__mat_elem(&p, end, &t, &sz, &d))
      break;
    if (t == WFDB_MI_MATRIX) {
      wfdb__mat_matrix(d, d + sz, name, &out, rows, cols);
    } else if (t == WFDB_MI_COMPRESSED) {
      /* inflate into a buffer that grows until the stream ends */
      z_stream zs;
      size_t cap = (size_t)sz * 8 + 1024, got = 0;
      unsigned char *ub = malloc(cap);
      int zr = Z_OK;
      memset(&zs, 0, sizeof zs);
      if (!ub || inflateInit(&zs) != Z_OK) {
        free(ub);
        break;
      }
      zs.next_in = (unsigned char *)d;
      zs.avail_in = sz;
      while (zr == Z_OK) {
        if (got == cap) {
          unsigned char *nb = realloc(ub, cap * 2);
          if (!nb)
            break;
          ub = nb;
          cap *= 2;
        }
        zs.next_out = ub + got;
        zs.avail_out = (uInt)(cap - got);
        zr = inflate(&zs, Z_NO_FLUSH);
        got = cap - zs.avail_out;
      }
      inflateEnd(&zs);
      if (zr == Z_STREAM_END) {
        const unsigned char *q = ub;
        uint32_t t2, sz2;
        const unsigned char *d2;
        if (!wfdb__mat_elem(&q, ub + got, &t2, &sz2, &d2) &&
            t2 == WFDB_MI_MATRIX)
          wfdb__mat_matrix(d2, d2 + sz2, name, &out, rows, cols);
      }
      free(ub);
    }
  }
done:
  free(buf);
  return out;
}

#endif
