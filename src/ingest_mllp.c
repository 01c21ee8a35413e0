/* ingest_mllp.c - MLLP framer and TCP server for HL7 v2 (ingest_mllp.h):
 * one thread per connection, messages processed in arrival order, the ACK
 * framed and sent after commit. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core_alloc.h"
#include "core_buf.h"
#include "core_errors.h"
#include "core_log.h"
#include "ingest_hl7.h"
#include "ingest_mllp.h"
#include "metrics.h"

/* ==== framer ============================================================ */

struct vg_mllp_framer {
  size_t max_len;
  vg_mllp_msg_cb cb;
  void *ctx;
  char *buf;
  size_t len, size;
  int state; /* 0 between frames, 1 in a frame, 2 after EB */
  int err;
};

struct vg_mllp_framer *mllp_framer_new(size_t max_len, vg_mllp_msg_cb cb,
                                       void *ctx)
{
  struct vg_mllp_framer *f = vg_calloc(1, sizeof *f);
  if (!f)
    return NULL;
  f->max_len = max_len ? max_len : 1u << 20;
  f->cb = cb;
  f->ctx = ctx;
  return f;
}

static int grow(struct vg_mllp_framer *f, size_t need)
{
  size_t n = f->size ? f->size : 4096;
  char *p;
  while (n < need)
    n *= 2;
  if (n > f->max_len)
    n = f->max_len;
  p = vg_realloc(f->buf, n);
  if (!p)
    return -VG_ENOMEM;
  f->buf = p;
  f->size = n;
  return 0;
}

int mllp_framer_feed(struct vg_mllp_framer *f, const char *buf, size_t len)
{
  size_t i = 0;
  if (f->err)
    return f->err;
  while (i < len) {
    unsigned char c = (unsigned char)buf[i];
    if (f->state == 0) {
      if (c == VG_MLLP_SB) {
        f->state = 1;
        f->len = 0;
      } else if (c != '\r' && c != '\n' && c != ' ' && c != '\t') {
        f->err = -VG_EINVAL;
        return f->err;
      }
      i++;
    } else if (f->state == 1) {
      /* copy the run up to the next control byte in one go */
      size_t j = i;
      while (j < len && buf[j] != VG_MLLP_EB && buf[j] != VG_MLLP_SB)
        j++;
      if (j > i) {
        size_t n = j - i;
        if (f->len + n > f->max_len) {
          f->err = -VG_ETOOBIG;
          return f->err;
        }
        if (f->len + n > f->size && grow(f, f->len + n)) {
          f->err = -VG_ENOMEM;
          return f->err;
        }
        memcpy(f->buf + f->len, buf + i, n);
        f->len += n;
        i = j;
      }
      if (i < len) {
        if (buf[i] == VG_MLLP_SB) {
          f->err = -VG_EINVAL;
          return f->err;
        }
        f->state = 2;
        i++;
      }
    } else {
      int rc;
      if (c != '\r') {
        f->err = -VG_EINVAL;
        return f->err;
      }
      i++;
      f->state = 0;
      rc = f->cb(f->ctx, f->buf ? f->buf : "", f->len);
      f->len = 0;
      if (rc) {
        f->err = rc;
        return rc;
      }
    }
  }
  return 0;
}

int mllp_framer_busy(const struct vg_mllp_framer *f)
{
  return f->state != 0;
}

void mllp_framer_free(struct vg_mllp_framer *f)
{
  if (!f)
    return;
  vg_free(f->buf);
  vg_free(f);
}

/* ==== server ============================================================ */

struct conn {
  struct vg_mllp *srv;
  int fd;
  pthread_t th;
  atomic_int done;
  struct conn *next;
};

struct vg_mllp {
  struct vg_mllp_opts opts;
  struct vg_hl7_ctx hctx;
  int lfd, port;
  int wake[2]; /* self-pipe: stop wakes the accept thread */
  pthread_t accept_th;
  pthread_mutex_t mu;
  struct conn *conns;
  int n_conns;
  atomic_int stopping;
  atomic_uint_fast64_t n_conn, n_msg, n_aa, n_ae, n_ar, n_frame, n_timeout;
};

static int send_all(int fd, const char *p, size_t len)
{
  while (len) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

struct conn_io {
  struct conn *c;
  struct vg_buf ack;
};

static int on_message(void *ctx, const char *msg, size_t len)
{
  struct conn_io *io = ctx;
  struct vg_mllp *s = io->c->srv;
  struct vg_hl7_outcome oc;
  int rc;
  buf_reset(&io->ack);
  buf_putc(&io->ack, VG_MLLP_SB);
  rc = hl7_process(&s->hctx, msg, len, &io->ack, &oc);
  if (rc)
    return rc;
  buf_putc(&io->ack, VG_MLLP_EB);
  buf_putc(&io->ack, '\r');
  if (io->ack.err)
    return io->ack.err;
  s->n_msg++;
  if (oc.ack[1] == 'A') {
    s->n_aa++;
    metrics_add(VG_M_HL7_AA, 1);
  } else if (oc.ack[1] == 'E') {
    s->n_ae++;
    metrics_add(VG_M_HL7_AE, 1);
  } else {
    s->n_ar++;
    metrics_add(VG_M_HL7_AR, 1);
  }
  metrics_add(VG_M_READINGS_ACCEPTED, oc.accepted);
  metrics_add(VG_M_READINGS_DUPLICATE, oc.duplicate);
  metrics_add(VG_M_READINGS_REJECTED, oc.rejected);
  vg_debug("mllp.message", "type=%s ack=%s accepted=%zu rejected=%zu",
           oc.type, oc.ack, oc.accepted, oc.rejected);
  return send_all(io->c->fd, io->ack.data, io->ack.len) ? -VG_EIO : 0;
}

/* A framing error has no message to answer; a message over the size cap
 * gets an AR so the sender does not retry it forever. */
static void refuse_too_big(struct conn_io *io)
{
  static const char ar[] = "\x0bMSH|^~\\&|VIGIL||||||ACK|ACK|P|2.5.1\r"
                           "MSA|AR|\rERR||MSH^1|207^Application internal "
                           "error^HL70357|E||||message exceeds the maximum "
                           "size\r\x1c\r";
  (void)send_all(io->c->fd, ar, sizeof ar - 1);
}

static void *conn_main(void *arg)
{
  struct conn *c = arg;
  struct vg_mllp *s = c->srv;
  struct conn_io io = {c, VG_BUF_INIT};
  struct vg_mllp_framer *f = mllp_framer_new(s->opts.max_len, on_message, &io);
  char rbuf[16384];
  buf_init(&io.ack, 1u << 20);
  while (f && !s->stopping) {
    struct pollfd p = {c->fd, POLLIN, 0};
    int rc = poll(&p, 1, s->opts.timeout_ms);
    ssize_t n;
    if (rc < 0 && errno == EINTR)
      continue;
    if (rc == 0) {
      s->n_timeout++;
      vg_info("mllp.timeout", "in_frame=%d", mllp_framer_busy(f));
      break;
    }
    if (rc < 0)
      break;
    n = recv(c->fd, rbuf, sizeof rbuf, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    rc = mllp_framer_feed(f, rbuf, (size_t)n);
    if (rc == -VG_ETOOBIG) {
      refuse_too_big(&io);
      s->n_frame++;
      break;
    }
    if (rc == -VG_EINVAL) {
      s->n_frame++;
      vg_info("mllp.framing", "error=\"bytes outside an MLLP frame\"");
      break;
    }
    if (rc)
      break;
  }
  mllp_framer_free(f);
  buf_free(&io.ack);
  shutdown(c->fd, SHUT_RDWR); /* the peer sees the end now */
  c->done = 1; /* fd closed by reap() after the join, so stop can shut it */
  return NULL;
}

/* Join and free finished connections (all of them when all != 0). */
static void reap(struct vg_mllp *s, int all)
{
  struct conn **pp = &s->conns;
  pthread_mutex_lock(&s->mu);
  while (*pp) {
    struct conn *c = *pp;
    if (all || c->done) {
      *pp = c->next;
      s->n_conns--;
      pthread_mutex_unlock(&s->mu);
      pthread_join(c->th, NULL);
      close(c->fd);
      vg_free(c);
      pthread_mutex_lock(&s->mu);
      pp = &s->conns;
    } else {
      pp = &c->next;
    }
  }
  pthread_mutex_unlock(&s->mu);
}

static void *accept_main(void *arg)
{
  struct vg_mllp *s = arg;
  while (!s->stopping) {
    struct pollfd p[2] = {{s->lfd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
    struct conn *c;
    int fd, one = 1;
    if (poll(p, 2, 1000) <= 0) {
      reap(s, 0);
      continue;
    }
    if (p[1].revents)
      break;
    fd = accept(s->lfd, NULL, NULL);
    if (fd < 0)
      continue;
    reap(s, 0);
    if (s->n_conns >= s->opts.max_conns) {
      vg_warn("mllp.refused", "conns=%d", s->n_conns);
      close(fd);
      continue;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c = vg_calloc(1, sizeof *c);
    c->srv = s;
    c->fd = fd;
    if (pthread_create(&c->th, NULL, conn_main, c)) {
      close(fd);
      vg_free(c);
      continue;
    }
    s->n_conn++;
    pthread_mutex_lock(&s->mu);
    c->next = s->conns;
    s->conns = c;
    s->n_conns++;
    pthread_mutex_unlock(&s->mu);
  }
  return NULL;
}

int mllp_start(struct vg_store *store, struct vg_writer *writer,
               const struct vg_mllp_opts *opts, struct vg_mllp **out)
{
  struct vg_mllp *s = vg_calloc(1, sizeof *s);
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  int one = 1;
  *out = NULL;
  s->opts = *opts;
  if (!s->opts.max_len)
    s->opts.max_len = 1u << 20;
  if (s->opts.timeout_ms <= 0)
    s->opts.timeout_ms = 60000;
  if (s->opts.max_conns <= 0)
    s->opts.max_conns = 256;
  s->hctx.store = store;
  s->hctx.writer = writer;
  s->hctx.future_ms = opts->future_ms;
  s->lfd = -1;
  s->wake[0] = s->wake[1] = -1;
  pthread_mutex_init(&s->mu, NULL);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)opts->port);
  if (inet_pton(AF_INET, opts->bind && *opts->bind ? opts->bind : "127.0.0.1",
                &a.sin_addr) != 1) {
    vg_error("mllp.bind", "addr=%s error=\"not an IPv4 address\"", opts->bind);
    goto fail;
  }
  s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s->lfd < 0)
    goto fail;
  setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(s->lfd, (struct sockaddr *)&a, sizeof a) ||
      listen(s->lfd, 512) ||
      getsockname(s->lfd, (struct sockaddr *)&a, &alen) ||
      pipe(s->wake)) {
    vg_error("mllp.listen", "port=%d error=\"%s\"", opts->port,
             strerror(errno));
    goto fail;
  }
  s->port = ntohs(a.sin_port);
  if (pthread_create(&s->accept_th, NULL, accept_main, s))
    goto fail;
  *out = s;
  return 0;
fail:
  if (s->lfd >= 0)
    close(s->lfd);
  if (s->wake[0] >= 0) {
    close(s->wake[0]);
    close(s->wake[1]);
  }
  pthread_mutex_destroy(&s->mu);
  vg_free(s);
  return -VG_EIO;
}

int mllp_port(const struct vg_mllp *s)
{
  return s->port;
}

void mllp_stats(struct vg_mllp *s, struct vg_mllp_stats *out)
{
  out->conns = s->n_conn;
  out->messages = s->n_msg;
  out->aa = s->n_aa;
  out->ae = s->n_ae;
  out->ar = s->n_ar;
  out->framing_errors = s->n_frame;
  out->timeouts = s->n_timeout;
}

void mllp_stop(struct vg_mllp *s)
{
  struct conn *c;
  if (!s)
    return;
  s->stopping = 1;
  if (write(s->wake[1], "x", 1) < 0)
    vg_warn("mllp.stop", "error=\"wake: %s\"", strerror(errno));
  pthread_join(s->accept_th, NULL);
  close(s->lfd);
  /* SHUT_RD: a thread inside hl7_process still commits and sends its ACK;
   * its next read sees end of stream. */
  pthread_mutex_lock(&s->mu);
  for (c = s->conns; c; c = c->next)
    shutdown(c->fd, SHUT_RD);
  pthread_mutex_unlock(&s->mu);
  reap(s, 1);
  close(s->wake[0]);
  close(s->wake[1]);
  pthread_mutex_destroy(&s->mu);
  vg_free(s);
}
