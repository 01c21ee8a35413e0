/* ingest_hl7.h - HL7 v2: a small strict parser (segments, fields,
 * repetitions, components, subcomponents, escapes), the ORU^R01 / IHE
 * PCD-01 and ADT^A01/A04/A08 mappings onto the ingest path, and ACKs.
 * Transport-independent: ingest_mllp.c frames the bytes. */
#ifndef VG_INGEST_HL7_H
#define VG_INGEST_HL7_H

#include <stddef.h>
#include <stdint.h>

struct vg_buf;
struct vg_store;
struct vg_writer;

#define VG_HL7_MAX_SEGS 2000 /* more segments: the message is rejected */

/* One segment: raw text without its terminator. Public, read-only. */
struct vg_hl7_seg {
  const char *p;
  size_t len;
};

/* A parsed message. Segments point into the caller's bytes (borrowed; valid
 * while those are). Public, read-only; fill with hl7_parse(). */
struct vg_hl7 {
  char fs, cs, rs, ec, ss; /* field, component, repetition, escape, sub */
  int utf8;                /* MSH-18 allows UTF-8 (else ASCII only) */
  size_t n_seg;
  struct vg_hl7_seg seg[VG_HL7_MAX_SEGS];
};

/* Parse msg[0..len): optional UTF-8 BOM, segments ended by CR, LF or CRLF
 * (a final terminator is optional, empty lines are skipped), MSH first,
 * five distinct non-alphanumeric delimiters, segment ids of three upper-case
 * letters or digits, MSH-18 empty, ASCII or UNICODE UTF-8 (bytes checked),
 * no NUL bytes. OUT: *m. Returns 0, or -VG_EINVAL with a static reason in
 * *out_why (which may be NULL). */
int hl7_parse(const char *msg, size_t len, struct vg_hl7 *m,
              const char **out_why);

/* Index of the first segment named id (3 chars) at or after from;
 * m->n_seg when there is none. */
size_t hl7_find(const struct vg_hl7 *m, const char *id, size_t from);

/* Raw (still escaped) text of segment seg, field f (1-based, HL7
 * numbering, so MSH-1 is the field separator and MSH-2 the encoding
 * characters), repetition rep (0-based), component c and subcomponent s
 * (1-based; 0 = the whole field / component). Absent parts give length 0.
 * OUT: *out, *out_len (borrowed from the message). */
void hl7_raw(const struct vg_hl7 *m, size_t seg, int f, int rep, int c,
             int s, const char **out, size_t *out_len);

/* Number of repetitions of field f (0 when empty). */
int hl7_reps(const struct vg_hl7 *m, size_t seg, int f);

/* Like hl7_raw, then unescaped (\F\ \S\ \T\ \R\ \E\, \Xhh..\; formatting
 * escapes dropped) into buf, NUL-terminated. Returns the length, or
 * -VG_ETOOBIG when it does not fit in buf_len - 1 bytes. */
int hl7_get(const struct vg_hl7 *m, size_t seg, int f, int rep, int c,
            int s, char *buf, size_t buf_len);

/* Parse an HL7 DTM (YYYY[MM[DD[HH[MM[SS[.S...]]]]]][+/-HHMM]); at least
 * day precision. Without an offset the time is taken as UTC and
 * *out_off is VG_TZ_UNKNOWN. OUT: *out_ms, *out_off. 0 or -VG_EINVAL. */
int hl7_time(const char *s, size_t len, int64_t *out_ms, int16_t *out_off);

/* ---- processing -------------------------------------------------------- */

/* What one message needs; all borrowed. writer may be NULL (nothing is
 * then stored: ORU with readings and ADT answer AR "store unavailable"). */
struct vg_hl7_ctx {
  struct vg_store *store;
  struct vg_writer *writer;
  int64_t future_ms; /* as vg_ingest_opts.future_ms */
  int64_t now_ms;    /* 0 = the wall clock */
};

/* Outcome of one message. Public. */
struct vg_hl7_outcome {
  char ack[3];            /* "AA", "AE" or "AR" */
  char type[8];           /* MSH-9.1^9.2, e.g. "ORU^R01" ("" if unknown) */
  int64_t patient_id;     /* resolved or created patient, 0 if none */
  size_t accepted, duplicate, rejected; /* readings (ORU) */
  size_t ignored;         /* OBX not mapped to a reading kind */
  int created;            /* ADT: 1 created, 0 updated or none */
};

/* Vigil identifier for one PID-3 repetition: "<authority>:<id>" where
 * authority is CX-4.1 (namespace) or else CX-4.2 (universal id), or the
 * bare id without an authority. OUT: buf (NUL-terminated). Returns the
 * length, 0 when the repetition has no id, or -VG_ETOOBIG. */
int hl7_patient_key(const struct vg_hl7 *m, size_t pid_seg, int rep,
                    char *buf, size_t buf_len);

/* Process one message (the bytes inside an MLLP frame): ORU^R01 OBX ->
 * readings (ingest_batch_* with only_patient = the PID-3 patient, source =
 * OBX-18.1, else MSH-3.1), ADT^A01/A04/A08 -> patient create or update.
 * Always appends an ACK (segments ended by CR) to ack after commit: AA;
 * AE with one ERR per problem naming the field (e.g. OBX^3^6) when
 * content is wrong; AR when the message is not acceptable (bad MSH,
 * unsupported type, charset or version) or the store failed. OUT: *out
 * (may be NULL). Returns 0, or -VG_ENOMEM when not even an ACK could be
 * built. Thread-safe (the store and writer are). */
int hl7_process(const struct vg_hl7_ctx *ctx, const char *msg, size_t len,
                struct vg_buf *ack, struct vg_hl7_outcome *out);

#endif
