/* ingest_mllp.h - MLLP (HL7 v2 minimal lower layer protocol): a framer for
 * 0x0B <message> 0x1C 0x0D over a byte stream, and a TCP server with one
 * thread per connection that hands each message to hl7_process() and
 * writes the framed ACK back after commit. */
#ifndef VG_INGEST_MLLP_H
#define VG_INGEST_MLLP_H

#include <stddef.h>
#include <stdint.h>

struct vg_store;
struct vg_writer;

/* ---- framer ------------------------------------------------------------ */

#define VG_MLLP_SB 0x0B /* start block */
#define VG_MLLP_EB 0x1C /* end block, followed by CR */

/* Called once per complete message (the bytes between SB and EB CR,
 * borrowed; valid during the call). Return 0, or a negative -VG_E* to stop
 * (mllp_framer_feed returns it). */
typedef int (*vg_mllp_msg_cb)(void *ctx, const char *msg, size_t len);

struct vg_mllp_framer;

/* New framer; messages longer than max_len bytes are refused. Caller frees
 * with mllp_framer_free(). Returns NULL on allocation failure. */
struct vg_mllp_framer *mllp_framer_new(size_t max_len, vg_mllp_msg_cb cb,
                                       void *ctx);

/* Feed the next len bytes (any split: a frame may span feeds, several
 * frames may come in one). CR, LF, space and tab between frames are
 * ignored. Returns 0; -VG_EINVAL when a byte outside a frame is not SB or
 * when EB is not followed by CR or SB appears inside a frame; -VG_ETOOBIG
 * past max_len; or the callback's error. Errors are sticky. */
int mllp_framer_feed(struct vg_mllp_framer *f, const char *buf, size_t len);

/* 1 while inside a frame (a message has started but not ended). */
int mllp_framer_busy(const struct vg_mllp_framer *f);

void mllp_framer_free(struct vg_mllp_framer *f);

/* ---- server ------------------------------------------------------------ */

struct vg_mllp_opts {
  const char *bind;    /* address, e.g. "127.0.0.1" */
  int port;            /* 0 = ephemeral */
  size_t max_len;      /* largest message (default 1 MiB) */
  int timeout_ms;      /* no byte for this long: connection closed (60000) */
  int max_conns;       /* concurrent connections beyond: refused (256) */
  int64_t future_ms;   /* as vg_ingest_opts.future_ms */
};

struct vg_mllp;

/* Listen and serve in background threads. store and writer are borrowed
 * and must outlive mllp_stop(). Returns 0, -VG_EIO (bind/listen failed,
 * errno logged) or -VG_ENOMEM. */
int mllp_start(struct vg_store *store, struct vg_writer *writer,
               const struct vg_mllp_opts *opts, struct vg_mllp **out);

/* The bound port (the ephemeral one when opts.port was 0). */
int mllp_port(const struct vg_mllp *s);

struct vg_mllp_stats {
  uint64_t conns, messages, aa, ae, ar, framing_errors, timeouts;
};
void mllp_stats(struct vg_mllp *s, struct vg_mllp_stats *out);

/* Stop accepting, let each connection finish the message it is processing
 * (its ACK is sent), close them all, join the threads and free s. NULL is a
 * no-op. Call before writer_stop(). */
void mllp_stop(struct vg_mllp *s);

#endif
