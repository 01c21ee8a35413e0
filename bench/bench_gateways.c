/* bench_gateways.c - MLLP gateway throughput: N concurrent monitor
 * connections each sending ORU^R01 with 5 OBX (PCD-01 codes) and waiting
 * for the ACK; messages/s stored and acknowledged, p50/p99 send->ACK
 * (= stored: the ACK follows the commit). Usage:
 *   bench_gateways [--conns 50] [--seconds 5]
 * The MQTT half of the benchmark (1,000 devices vs bare broker) is
 * not written yet (docs/gateways.md). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"

#include "config.h"
#include "core_time.h"
#include "ingest_mllp.h"
#include "store.h"
#include "store_writer.h"

#define MAX_LAT 4000000

static int g_port, g_seconds = 5;
static int64_t g_end_ns;
static int64_t *g_lat;
static size_t g_n_lat;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static int job_patient(struct vg_txn *t, void *ctx)
{
  return store_patient_create(t, ctx);
}

static void *conn_main(void *arg)
{
  int id = (int)(intptr_t)arg, fd, one = 1;
  struct sockaddr_in a;
  char msg[2048], rbuf[4096];
  long seq = 0;
  fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)g_port);
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(fd, (struct sockaddr *)&a, sizeof a))
    return NULL;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  while (bc_now_ns() < g_end_ns) {
    /* distinct timestamp per (connection, message): no duplicates */
    int64_t ts_s = 1700000000 + seq * 64 + id;
    int len, got = 0;
    int64_t t0;
    /* a per-message unique OBR-7 gives every OBX its own time */
    {
      char t14[32];
      struct tm tm;
      time_t tt = (time_t)ts_s;
      gmtime_r(&tt, &tm);
      strftime(t14, sizeof t14, "%Y%m%d%H%M%S+0000", &tm);
      len = snprintf(msg, sizeof msg,
          "\x0bMSH|^~\\&|MON%d|ICU|VIGIL|H|20250301083000+0000||ORU^R01|"
          "C%d-%ld|P|2.6\rPID|||BED%d^^^ICU^MR\rOBR|1|||x|||%s\r"
          "OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC||120|266016|||||R\r"
          "OBX|2|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC||80|266016|||||R\r"
          "OBX|3|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||97|262688|||||R\r"
          "OBX|4|NM|147842^MDC_ECG_HEART_RATE^MDC||72|264864|||||R\r"
          "OBX|5|NM|151562^MDC_RESP_RATE^MDC||16|264928|||||R\r\x1c\r",
          id, id, seq, id % 10, t14);
    }
    t0 = bc_now_ns();
    if (send(fd, msg, (size_t)len, 0) != len)
      break;
    while (!got) {
      ssize_t n = recv(fd, rbuf, sizeof rbuf, 0);
      if (n <= 0)
        goto done;
      got = memchr(rbuf, 0x1c, (size_t)n) != NULL;
      if (got && !strstr(rbuf, "MSA|AA"))
        fprintf(stderr, "not AA: %.*s\n", (int)n, rbuf);
    }
    pthread_mutex_lock(&g_mu);
    if (g_n_lat < MAX_LAT)
      g_lat[g_n_lat++] = bc_now_ns() - t0;
    pthread_mutex_unlock(&g_mu);
    seq++;
  }
done:
  close(fd);
  return NULL;
}

static int cmp64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
  struct vg_config cfg;
  struct vg_store *s;
  struct vg_writer *w;
  struct vg_mllp *m;
  struct vg_mllp_opts o = {0};
  char dir[] = "/tmp/vg-bench-gw-XXXXXX";
  pthread_t th[1024];
  int conns = 50;
  int64_t t0;
  double secs;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--conns"))
      conns = (int)strtol(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--seconds"))
      g_seconds = (int)strtol(argv[i + 1], NULL, 10);
  }
  if (conns < 1 || conns > 1024 || !mkdtemp(dir))
    return 2;
  config_init(&cfg);
  snprintf(cfg.db, sizeof cfg.db, "%s/vigil.db", dir);
  if (store_open(&cfg, &s) || writer_start(s, NULL, &w))
    return 1;
  for (int i = 0; i < 10; i++) {
    struct vg_patient p;
    memset(&p, 0, sizeof p);
    snprintf(p.identifier, sizeof p.identifier, "ICU:BED%d", i);
    snprintf(p.name, sizeof p.name, "Bed %d", i);
    snprintf(p.tz, sizeof p.tz, "UTC");
    if (writer_exec(w, 1, job_patient, &p))
      return 1;
  }
  o.bind = "127.0.0.1";
  o.max_conns = conns + 8;
  o.future_ms = 600000;
  if (mllp_start(s, w, &o, &m))
    return 1;
  g_port = mllp_port(m);
  g_lat = malloc(sizeof *g_lat * MAX_LAT);
  t0 = bc_now_ns();
  g_end_ns = t0 + (int64_t)g_seconds * 1000000000LL;
  for (int i = 0; i < conns; i++)
    pthread_create(&th[i], NULL, conn_main, (void *)(intptr_t)i);
  for (int i = 0; i < conns; i++)
    pthread_join(th[i], NULL);
  secs = (double)(bc_now_ns() - t0) / 1e9;
  qsort(g_lat, g_n_lat, sizeof *g_lat, cmp64);
  printf("mllp: %d connections, ORU^R01 x 5 OBX, %.1f s\n", conns, secs);
  printf("  messages stored+acked: %zu  (%.0f msg/s, %.0f readings/s)\n",
         g_n_lat, (double)g_n_lat / secs, 5.0 * (double)g_n_lat / secs);
  if (g_n_lat)
    printf("  send->ACK latency: p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
           (double)g_lat[g_n_lat / 2] / 1e6,
           (double)g_lat[g_n_lat * 99 / 100] / 1e6,
           (double)g_lat[g_n_lat - 1] / 1e6);
  printf("  target: >= 10000 msg/s (issue 9)\n");
  mllp_stop(m);
  writer_stop(w);
  store_close(s);
  free(g_lat);
  {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd))
      return 1;
  }
  return 0;
}
