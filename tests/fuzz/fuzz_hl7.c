/* fuzz_hl7.c - libFuzzer target: bytes as one HL7 v2 message through
 * hl7_parse, every accessor over the first fields, and hl7_process against
 * a real temporary SQLite store (one patient "FUZZ:1", so ORU reaches OBX
 * mapping, validation and commit; ADT creates patients). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "core_alloc.h"
#include "core_buf.h"
#include "ingest_hl7.h"
#include "store.h"
#include "store_writer.h"

static struct vg_hl7_ctx ctx;
static struct vg_hl7 *msg;

static int job_patient(struct vg_txn *t, void *p)
{
  return store_patient_create(t, p);
}

static void init(void)
{
  static struct vg_config cfg;
  static char dir[64] = "/tmp/vg-fuzz-hl7-XXXXXX";
  struct vg_writer_opts wo = {1000, 0, 100000};
  struct vg_patient p;
  struct vg_store *s;
  struct vg_writer *w;
  if (!mkdtemp(dir))
    abort();
  config_init(&cfg);
  snprintf(cfg.db, sizeof cfg.db, "%s/vigil.db", dir);
  if (store_open(&cfg, &s) || writer_start(s, &wo, &w))
    abort();
  memset(&p, 0, sizeof p);
  snprintf(p.identifier, sizeof p.identifier, "FUZZ:1");
  snprintf(p.name, sizeof p.name, "Fuzz");
  snprintf(p.tz, sizeof p.tz, "UTC");
  if (writer_exec(w, 1, job_patient, &p))
    abort();
  ctx.store = s;
  ctx.writer = w;
  ctx.future_ms = 600000;
  ctx.now_ms = 1740787200000LL;
  msg = vg_malloc(sizeof *msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct vg_buf ack = VG_BUF_INIT;
  struct vg_hl7_outcome oc;
  char buf[64];
  if (!ctx.store)
    init();
  if (hl7_parse((const char *)data, size, msg, NULL) == 0) {
    for (size_t s = 0; s < msg->n_seg && s < 8; s++)
      for (int f = 1; f < 20; f++)
        for (int r = 0; r < hl7_reps(msg, s, f) && r < 3; r++)
          for (int c = 0; c < 4; c++) {
            int n = hl7_get(msg, s, f, r, c, c ? 1 : 0, buf, sizeof buf);
            if (n >= 0 && (size_t)n != strlen(buf))
              abort(); /* length must match the NUL-terminated text */
          }
  }
  if (hl7_process(&ctx, (const char *)data, size, &ack, &oc) == 0) {
    /* the ACK must itself parse, and carry MSA with AA/AE/AR */
    size_t msa;
    if (hl7_parse(ack.data, ack.len, msg, NULL))
      abort();
    msa = hl7_find(msg, "MSA", 0);
    if (msa != 1 || hl7_get(msg, msa, 1, 0, 0, 0, buf, sizeof buf) != 2 ||
        buf[0] != 'A' || !strchr("AER", buf[1]))
      abort();
  }
  buf_free(&ack);
  return 0;
}
