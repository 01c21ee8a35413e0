/* test_mllp.c - MLLP framer (every split point, coalesced frames, errors,
 * size cap) and the TCP server over a real store: split and coalesced
 * frames on the wire, many concurrent connections, read timeout, size cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "core_errors.h"
#include "core_time.h"
#include "ingest_mllp.h"
#include "store.h"
#include "store_writer.h"
#include "vg_tmpdir.h"

/* ==== framer ============================================================ */

struct got {
  int n;
  char msg[8][128];
};

static int on_msg(void *ctx, const char *m, size_t len)
{
  struct got *g = ctx;
  if (g->n < 8)
    snprintf(g->msg[g->n], sizeof g->msg[0], "%.*s", (int)len, m);
  g->n++;
  return 0;
}

static void framer_splits(void **state)
{
  static const char wire[] = "\x0b" "MSH|a\rPID|1\r" "\x1c\r"
                             "\r\n"
                             "\x0b" "MSH|b" "\x1c\r"
                             "\x0b" "\x1c\r";
  size_t len = sizeof wire - 1;
  (void)state;
  /* every split into two feeds, and byte by byte */
  for (size_t cut = 0; cut <= len; cut++) {
    struct got g = {0};
    struct vg_mllp_framer *f = mllp_framer_new(1024, on_msg, &g);
    assert_int_equal(mllp_framer_feed(f, wire, cut), 0);
    assert_int_equal(mllp_framer_feed(f, wire + cut, len - cut), 0);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.msg[0], "MSH|a\rPID|1\r");
    assert_string_equal(g.msg[1], "MSH|b");
    assert_string_equal(g.msg[2], "");
    assert_int_equal(mllp_framer_busy(f), 0);
    mllp_framer_free(f);
  }
  {
    struct got g = {0};
    struct vg_mllp_framer *f = mllp_framer_new(1024, on_msg, &g);
    for (size_t i = 0; i < len; i++) {
      assert_int_equal(mllp_framer_feed(f, wire + i, 1), 0);
      if (i == 3)
        assert_int_equal(mllp_framer_busy(f), 1);
    }
    assert_int_equal(g.n, 3);
    mllp_framer_free(f);
  }
}

static void framer_errors(void **state)
{
  static const struct {
    const char *wire;
    int rc, n;
  } cases[] = {
      {"garbage", -VG_EINVAL, 0},
      {"\x0bMSH\x1cX", -VG_EINVAL, 0},       /* EB not followed by CR */
      {"\x0bMSH\x0bMSH\x1c\r", -VG_EINVAL, 0}, /* SB inside a frame */
      {"\x0b" "A\x1c\r" "x", -VG_EINVAL, 1},  /* junk after a good frame */
      {"\x0b" "0123456789ABCDEFG\x1c\r", -VG_ETOOBIG, 0},
      {"\x0b" "0123456789ABCDEF\x1c\r", 0, 1}, /* exactly the cap */
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct got g = {0};
    struct vg_mllp_framer *f = mllp_framer_new(16, on_msg, &g);
    int rc = mllp_framer_feed(f, cases[i].wire, strlen(cases[i].wire));
    assert_int_equal(rc, cases[i].rc);
    assert_int_equal(g.n, cases[i].n);
    if (rc) /* sticky */
      assert_int_equal(mllp_framer_feed(f, "\x0b", 1), rc);
    mllp_framer_free(f);
  }
}

/* ==== server ============================================================ */

static struct {
  char dir[PATH_MAX];
  struct vg_config cfg;
  struct vg_store *s;
  struct vg_writer *w;
  struct vg_mllp *m;
  int64_t patient;
} E;

static int job_patient(struct vg_txn *t, void *ctx)
{
  return store_patient_create(t, ctx);
}

static int setup(void **state)
{
  struct vg_mllp_opts o = {0};
  struct vg_patient p;
  (void)state;
  if (vg_tmpdir_make("vg-mllp", E.dir, sizeof E.dir))
    return -1;
  config_init(&E.cfg);
  snprintf(E.cfg.db, sizeof E.cfg.db, "%s/vigil.db", E.dir);
  if (store_open(&E.cfg, &E.s) || writer_start(E.s, NULL, &E.w))
    return -1;
  memset(&p, 0, sizeof p);
  snprintf(p.identifier, sizeof p.identifier, "WARD:BED1");
  snprintf(p.name, sizeof p.name, "Bed One");
  snprintf(p.tz, sizeof p.tz, "UTC");
  if (writer_exec(E.w, 1, job_patient, &p))
    return -1;
  E.patient = p.id;
  o.bind = "127.0.0.1";
  o.port = 0;
  o.max_len = 4096;
  o.timeout_ms = 300;
  o.max_conns = 64;
  o.future_ms = 600000;
  return mllp_start(E.s, E.w, &o, &E.m);
}

static int teardown(void **state)
{
  (void)state;
  mllp_stop(E.m);
  writer_stop(E.w);
  store_close(E.s);
  return vg_tmpdir_remove(E.dir);
}

static int dial(void)
{
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)mllp_port(E.m));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  return fd;
}

/* Read n framed ACKs (or until close / 5 s). Returns how many; MSA codes
 * concatenated into codes ("AAAAAE..."). */
static int read_acks(int fd, int n, char *codes, size_t codes_len)
{
  char buf[65536];
  size_t len = 0;
  int got = 0;
  codes[0] = '\0';
  while (got < n) {
    struct pollfd p = {fd, POLLIN, 0};
    ssize_t r;
    if (poll(&p, 1, 5000) <= 0)
      break;
    r = recv(fd, buf + len, sizeof buf - len - 1, 0);
    if (r <= 0)
      break;
    len += (size_t)r;
    buf[len] = '\0';
    for (;;) {
      char *end = memchr(buf, 0x1c, len), *msa;
      size_t flen;
      if (!end || (size_t)(end - buf) + 2 > len)
        break;
      flen = (size_t)(end - buf) + 2;
      *end = '\0';
      assert_int_equal(buf[0], 0x0b);
      msa = strstr(buf, "\rMSA|");
      assert_non_null(msa);
      if (strlen(codes) + 2 < codes_len)
        strncat(codes, msa + 5, 2);
      got++;
      memmove(buf, buf + flen, len - flen);
      len -= flen;
    }
  }
  return got;
}

static int frame(char *out, size_t out_len, const char *ctl, int hr)
{
  return snprintf(out, out_len,
                  "\x0bMSH|^~\\&|MON|WARD|VIGIL|HOSP|20250301083000+0800||"
                  "ORU^R01|%s|P|2.6\rPID|||BED1^^^WARD^MR\r"
                  "OBR|1|||x|||20250301083000+0800\r"
                  "OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC||%d|/min|||||R|||"
                  "202503010830%02d+0800\r\x1c\r",
                  ctl, hr, hr % 60);
}

static int count_cb(void *ctx, const struct vg_reading *r)
{
  (void)r;
  (*(size_t *)ctx)++;
  return 0;
}

static size_t stored(void)
{
  struct vg_reading_query q;
  struct vg_txn *t;
  size_t n = 0;
  memset(&q, 0, sizeof q);
  q.patient_id = E.patient;
  q.to_ms = INT64_MAX;
  assert_int_equal(store_begin(E.s, VG_TXN_READ, &t), 0);
  assert_int_equal(store_readings_query(t, &q, count_cb, &n), 0);
  store_rollback(t);
  return n;
}

static void split_and_coalesced(void **state)
{
  char all[8192], codes[64];
  size_t len = 0, before = stored();
  int fd = dial();
  (void)state;
  /* three messages in one write (coalesced) ... */
  for (int i = 0; i < 3; i++)
    len += (size_t)frame(all + len, sizeof all - len, "C", 60 + i);
  assert_int_equal(send(fd, all, len, 0), (ssize_t)len);
  assert_int_equal(read_acks(fd, 3, codes, sizeof codes), 3);
  assert_string_equal(codes, "AAAAAA");
  /* ... then two messages cut into 7-byte writes with pauses */
  len = (size_t)frame(all, sizeof all, "S1", 70);
  len += (size_t)frame(all + len, sizeof all - len, "S2", 71);
  for (size_t i = 0; i < len; i += 7) {
    size_t n = len - i < 7 ? len - i : 7;
    assert_int_equal(send(fd, all + i, n, 0), (ssize_t)n);
    if (i % 70 == 0)
      usleep(2000);
  }
  assert_int_equal(read_acks(fd, 2, codes, sizeof codes), 2);
  assert_string_equal(codes, "AAAA");
  close(fd);
  assert_int_equal(stored() - before, 5);
  printf("  5 messages (3 coalesced, 2 split in 7-byte writes): 5 AA, 5 "
         "stored\n");
}

struct client_arg {
  int id, n, aa;
};

static void *client(void *arg)
{
  struct client_arg *c = arg;
  char buf[1024], codes[512];
  int fd = dial();
  for (int i = 0; i < c->n; i++) {
    char ctl[16];
    int len;
    snprintf(ctl, sizeof ctl, "K%d-%d", c->id, i);
    /* distinct seconds per client x message: no duplicates */
    len = frame(buf, sizeof buf, ctl, 20 + (c->id * c->n + i) % 280);
    if (send(fd, buf, (size_t)len, 0) != len)
      break;
    if (read_acks(fd, 1, codes, sizeof codes) != 1)
      break;
    c->aa += !strcmp(codes, "AA");
  }
  close(fd);
  return NULL;
}

static void concurrent(void **state)
{
  enum { N_CONN = 32, N_MSG = 20 };
  pthread_t th[N_CONN];
  struct client_arg args[N_CONN];
  struct vg_mllp_stats st;
  int64_t t0 = vg_mono_ns();
  int aa = 0;
  (void)state;
  for (int i = 0; i < N_CONN; i++) {
    args[i].id = i;
    args[i].n = N_MSG;
    args[i].aa = 0;
    assert_int_equal(pthread_create(&th[i], NULL, client, &args[i]), 0);
  }
  for (int i = 0; i < N_CONN; i++) {
    pthread_join(th[i], NULL);
    aa += args[i].aa;
  }
  mllp_stats(E.m, &st);
  printf("  %d connections x %d messages: %d AA in %.0f ms (server: %llu "
         "conns, %llu messages)\n", N_CONN, N_MSG, aa,
         (double)(vg_mono_ns() - t0) / 1e6, (unsigned long long)st.conns,
         (unsigned long long)st.messages);
  assert_int_equal(aa, N_CONN * N_MSG);
}

static void timeout_and_cap(void **state)
{
  char codes[16], big[6000];
  struct vg_mllp_stats st0, st;
  int fd;
  ssize_t r;
  char b;
  (void)state;
  mllp_stats(E.m, &st0);
  /* half a frame, then silence: closed after the 300 ms timeout */
  fd = dial();
  assert_int_equal(send(fd, "\x0bMSH|^~\\&|", 10, 0), 10);
  {
    int64_t t0 = vg_mono_ns();
    struct pollfd p = {fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 3000), 1);
    r = recv(fd, &b, 1, 0);
    assert_int_equal(r, 0);
    printf("  stalled frame closed after %.0f ms (timeout 300)\n",
           (double)(vg_mono_ns() - t0) / 1e6);
  }
  close(fd);
  /* over the 4096-byte cap: an AR, then close */
  fd = dial();
  memset(big, 'A', sizeof big);
  big[0] = 0x0b;
  assert_int_equal(send(fd, big, sizeof big, 0), (ssize_t)sizeof big);
  assert_int_equal(read_acks(fd, 1, codes, sizeof codes), 1);
  assert_string_equal(codes, "AR");
  close(fd);
  /* bytes outside a frame: closed without an answer */
  fd = dial();
  assert_int_equal(send(fd, "GET / HTTP/1.1\r\n\r\n", 18, 0), 18);
  r = recv(fd, &b, 1, 0);
  assert_int_equal(r, 0);
  close(fd);
  /* The server counts a framing error as it closes: the client may see the
   * close first, so wait (bounded) for the counters to settle. */
  for (int i = 0; i < 200; i++) {
    mllp_stats(E.m, &st);
    if (st.framing_errors - st0.framing_errors >= 2)
      break;
    usleep(5000);
  }
  assert_int_equal(st.timeouts - st0.timeouts, 1);
  assert_int_equal(st.framing_errors - st0.framing_errors, 2);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(framer_splits),
      cmocka_unit_test(framer_errors),
      cmocka_unit_test(split_and_coalesced),
      cmocka_unit_test(concurrent),
      cmocka_unit_test(timeout_and_cap),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
