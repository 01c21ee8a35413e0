/* wfdb_ann.h - test-side reader for WFDB MIT-format annotation files and
 * the sampling frequency line of a .hea header (header-only, static inline). */
#ifndef VG_WFDB_ANN_H
#define VG_WFDB_ANN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Annotation codes of WFDB ecgcodes.h that the tests need. */
#define WFDB_NOTQRS 0
#define WFDB_NORMAL 1
#define WFDB_PVC 5
#define WFDB_APC 8
#define WFDB_NOISE 14
#define WFDB_ARFCT 16
#define WFDB_RHYTHM 28
#define WFDB_ACMAX 49

/* MIT format pseudo-annotation types (top 6 bits of a 16-bit word). */
#define WFDB_PSEUDO_SKIP 59
#define WFDB_PSEUDO_NUM 60
#define WFDB_PSEUDO_SUB 61
#define WFDB_PSEUDO_CHN 62
#define WFDB_PSEUDO_AUX 63

/* One decoded annotation. aux points into nothing (AUX strings are skipped,
 * only their length is kept). */
struct wfdb_ann {
  int64_t sample; /* absolute sample index */
  int code;       /* anntyp, 1..49 */
  int sub;        /* subtyp (SUB pseudo-annotation), sticky per file */
  int chan;       /* chan (CHN), sticky */
  int num;        /* num (NUM), sticky */
  int aux_len;    /* bytes of AUX string attached, 0 if none */
};

/* 1 if CODE labels a QRS complex (WFDB isqrs() table: codes 1-13, 25, 30,
 * 34, 35, 37, 38, 41), else 0. */
static inline int wfdb_ann_is_beat(int code)
{
  if (code >= 1 && code <= 13)
    return 1;
  switch (code) {
  case 25: case 30: case 34: case 35: case 37: case 38: case 41:
    return 1;
  default:
    return 0;
  }
}

/* Decodes the MIT-format annotation bytes BUF[0..LEN). Each 16-bit word is
 * little-endian: A = word >> 10 (type), I = word & 0x3ff (time increment
 * or pseudo value). A=0,I=0 ends the file. SKIP (59) is followed by a
 * 32-bit increment stored as two little-endian 16-bit halves, high half
 * first (PDP-11 order). NUM/SUB/CHN set their field (I; NUM and SUB are
 * sign-extended from 10 bits) on the annotation before them, NUM and CHN
 * staying sticky; AUX (63) is followed by I bytes, padded to even.
 * Writes up to CAP annotations to OUT (OUT may be NULL when CAP is 0)
 * and the total count found to *OUT_N.
 * Returns 0, or -1 on a truncated file. */
static inline int wfdb_ann_decode(const unsigned char *buf, size_t len,
                                  struct wfdb_ann *out, size_t cap,
                                  size_t *out_n)
{
  size_t pos = 0, n = 0;
  int64_t t = 0;
  int chan = 0, num = 0;
  *out_n = 0;
  while (pos + 2 <= len) {
    unsigned w = (unsigned)buf[pos] | ((unsigned)buf[pos + 1] << 8);
    int a = (int)(w >> 10);
    int i = (int)(w & 0x3ffu);
    pos += 2;
    if (a == 0 && i == 0)
      break;
    if (a == WFDB_PSEUDO_SKIP) {
      uint32_t hi, lo;
      if (pos + 4 > len)
        return -1;
      hi = (uint32_t)buf[pos] | ((uint32_t)buf[pos + 1] << 8);
      lo = (uint32_t)buf[pos + 2] | ((uint32_t)buf[pos + 3] << 8);
      pos += 4;
      t += (int32_t)((hi << 16) | lo);
      continue;
    }
    if (a == WFDB_PSEUDO_NUM || a == WFDB_PSEUDO_SUB) {
      int v = i > 511 ? i - 1024 : i; /* 10-bit signed, as WFDB stores */
      if (a == WFDB_PSEUDO_NUM) {
        num = v;
        if (n > 0 && n <= cap)
          out[n - 1].num = v;
      } else if (n > 0 && n <= cap) {
        out[n - 1].sub = v;
      }
      continue;
    }
    if (a == WFDB_PSEUDO_CHN) {
      chan = i;
      if (n > 0 && n <= cap)
        out[n - 1].chan = i;
      continue;
    }
    if (a == WFDB_PSEUDO_AUX) {
      size_t skip = (size_t)i + ((size_t)i & 1u);
      if (pos + skip > len)
        return -1;
      if (n > 0 && n <= cap)
        out[n - 1].aux_len = i;
      pos += skip;
      continue;
    }
    /* SUB/CHN/NUM/AUX follow the annotation they modify (WFDB putann
     * order); a plain code starts a new annotation with sub 0 and chan/num
     * inherited from the previous one. */
    t += i;
    if (n < cap) {
      out[n].sample = t;
      out[n].code = a;
      out[n].sub = 0;
      out[n].chan = chan;
      out[n].num = num;
      out[n].aux_len = 0;
    }
    n++;
  }
  *out_n = n;
  return 0;
}

/* Reads the annotation file PATH. OUT: *out is a malloc'd array of *out_n
 * annotations; caller frees with free(). Returns 0, or -1 (cannot open,
 * read error, truncated); on error *out is NULL. */
static inline int wfdb_ann_read(const char *path, struct wfdb_ann **out,
                                size_t *out_n)
{
  FILE *f = NULL;
  unsigned char *buf = NULL;
  struct wfdb_ann *ann = NULL;
  long sz;
  size_t n = 0;
  *out = NULL;
  *out_n = 0;
  f = fopen(path, "rb");
  if (!f)
    goto fail;
  if (fseek(f, 0, SEEK_END) != 0)
    goto fail;
  sz = ftell(f);
  if (sz < 0 || fseek(f, 0, SEEK_SET) != 0)
    goto fail;
  buf = malloc((size_t)sz + 1);
  if (!buf || fread(buf, 1, (size_t)sz, f) != (size_t)sz)
    goto fail;
  if (wfdb_ann_decode(buf, (size_t)sz, NULL, 0, &n) != 0)
    goto fail;
  ann = calloc(n ? n : 1, sizeof *ann);
  if (!ann)
    goto fail;
  if (wfdb_ann_decode(buf, (size_t)sz, ann, n, &n) != 0)
    goto fail;
  fclose(f);
  free(buf);
  *out = ann;
  *out_n = n;
  return 0;
fail:
  if (f)
    fclose(f);
  free(buf);
  free(ann);
  return -1;
}

/* Reads the sampling frequency (Hz) from the record line of the WFDB
 * header PATH ("name nsig fs nsamp ..."; "fs/counterfreq(base)" allowed).
 * Defaults to 250 Hz when the field is absent, as WFDB does.
 * Returns 0, or -1 on error. */
static inline int wfdb_hea_fs(const char *path, double *out_fs)
{
  char line[512];
  FILE *f = fopen(path, "r");
  int rc = -1;
  *out_fs = 0;
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f)) {
    char name[256];
    int nsig;
    double fs;
    int k;
    if (line[0] == '#' || line[0] == '\n' || line[0] == '\r')
      continue;
    k = sscanf(line, "%255s %d %lf", name, &nsig, &fs);
    if (k >= 2) {
      *out_fs = k == 3 ? fs : 250.0;
      rc = *out_fs > 0 ? 0 : -1;
    }
    break;
  }
  fclose(f);
  return rc;
}

#endif
