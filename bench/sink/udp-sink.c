/*
 * Counting RTP sink for high fan-out points: Node's dgram pays a JS callback per datagram and tops
 * out well below the 85k packets/s of a 1 -> 500 lecture, so the bench compiles this (cc -O2) when a
 * C compiler is present and falls back to the Node sink otherwise. Reads with recvmmsg in batches.
 *
 * Built with -DLECTERN_SRTP (and -lsrtp2, Debian's libsrtp2-dev) it also decrypts SRTP: subscribers
 * are then SRTP PlainTransport consumers, each with its own key, and mediasoup pays for encrypting
 * every copy as it does for browsers. A packet that fails to decrypt or authenticate is not counted.
 *
 * Latency is taken from the kernel's receive timestamp (SO_TIMESTAMPNS), which on loopback is stamped
 * inside the SFU's own sendmsg, so it measures the SFU and not when this process got to run. And the
 * sink reads every <interval-us> instead of sleeping in epoll_wait per packet: on loopback the
 * sender's sendmsg runs the receiver's wake-up (sock_def_readable -> try_to_wake_up), which a profile
 * of the worker at 300 subscribers put at 15% of its CPU. Across a real network the SFU never pays
 * for waking its viewers; 0 restores a wake-up per packet, to measure what that costs.
 *
 * usage: udp-sink <sockets> [interval-us]   prints "ports <p1> <p2> ...", then reads commands on stdin:
 *   window <start> <end>        count only packets whose bench marker counter is in [start, end); reset
 *   srtp <ssrc> <suite> <hex>   decrypt SSRC; suite is mediasoup's name: AEAD_AES_256_GCM (44 bytes of key
 *                               + salt), AEAD_AES_128_GCM (28) or AES_CM_128_HMAC_SHA1_80 (30)
 *   report                      prints "report <received> <streams> <min> <max> <rcvbuf> <srtp-failures> <bucket>:<count>..."
 *   streams                     prints "streams <ssrc>:<count>..." for every SSRC seen in the window (who got what)
 *   quit
 * Packet format and histogram buckets (10 us, 100000 buckets) match bench/lib/rtpPackets.ts and
 * bench/lib/LatencyHistogram.ts.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifdef LECTERN_SRTP
#include <srtp2/srtp.h>
static srtp_t srtp_session;
static uint64_t srtp_failures;
#endif

#define MAGIC 0x4c435442u
#define BUCKETS 100000
#define BUCKET_NS 10000
#define BATCH 64
#define MAXPKT 2048
#define SSRC_SLOTS 8192
#define CONTROL 64

static uint32_t histogram[BUCKETS];
static uint32_t ssrc_key[SSRC_SLOTS];
static uint32_t ssrc_count[SSRC_SLOTS];
static uint8_t ssrc_used[SSRC_SLOTS];
static uint64_t received;
static uint32_t win_start = 0xffffffffu, win_end = 0xffffffffu;

static inline uint32_t rd32(const uint8_t *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }
static inline uint64_t rd64(const uint8_t *p) { return ((uint64_t)rd32(p) << 32) | rd32(p + 4); }

static void count_ssrc(uint32_t ssrc) {
  uint32_t h = (ssrc * 2654435761u) & (SSRC_SLOTS - 1);
  for (int i = 0; i < SSRC_SLOTS; i++, h = (h + 1) & (SSRC_SLOTS - 1)) {
    if (!ssrc_used[h]) { ssrc_used[h] = 1; ssrc_key[h] = ssrc; ssrc_count[h] = 1; return; }
    if (ssrc_key[h] == ssrc) { ssrc_count[h]++; return; }
  }
}

static void account(uint8_t *b, size_t len, uint64_t now) {
  if (len < 12 || (b[0] & 0xc0) != 0x80) return;
  uint8_t pt = b[1] & 0x7f;
  if (pt >= 64 && pt <= 95) return; /* RTCP */
#ifdef LECTERN_SRTP
  if (srtp_session) {
    int plain_len = (int)len;
    if (srtp_unprotect(srtp_session, b, &plain_len) != srtp_err_status_ok) {
      srtp_failures++;
      return;
    }
    len = (size_t)plain_len;
  }
#endif
  size_t off = 12 + (size_t)(b[0] & 0x0f) * 4;
  if (b[0] & 0x10) {
    if (len < off + 4) return;
    off += 4 + (size_t)(((b[off + 2] << 8) | b[off + 3]) * 4);
  }
  const size_t rel[2] = {5, 1};
  for (int i = 0; i < 2; i++) {
    size_t at = off + rel[i];
    if (at + 16 <= len && rd32(b + at) == MAGIC) {
      uint32_t counter = rd32(b + at + 12);
      if (counter < win_start || counter >= win_end) return;
      uint64_t sent = rd64(b + at + 4);
      int64_t d = (int64_t)(now - sent);
      uint64_t bucket = d <= 0 ? 0 : (uint64_t)d / BUCKET_NS;
      if (bucket >= BUCKETS) bucket = BUCKETS - 1;
      histogram[bucket]++;
      received++;
      count_ssrc(rd32(b + 8));
      return;
    }
  }
}

#ifdef LECTERN_SRTP
static int hexval(char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; }

/* Add a receive stream for one consumer's SSRC; the session is created on the first key. */
static int add_srtp_stream(uint32_t ssrc, const char *suite, const char *hex) {
  static uint8_t keys[SSRC_SLOTS][SRTP_AES_GCM_256_KEY_LEN_WSALT];
  static int used;
  srtp_policy_t policy;
  memset(&policy, 0, sizeof policy);
  size_t key_len;
  if (strcmp(suite, "AEAD_AES_256_GCM") == 0) {
    srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtcp);
    key_len = SRTP_AES_GCM_256_KEY_LEN_WSALT;
  } else if (strcmp(suite, "AEAD_AES_128_GCM") == 0) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    key_len = SRTP_AES_GCM_128_KEY_LEN_WSALT;
  } else if (strcmp(suite, "AES_CM_128_HMAC_SHA1_80") == 0) {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    key_len = SRTP_AES_ICM_128_KEY_LEN_WSALT;
  } else {
    return -1;
  }
  if (used >= SSRC_SLOTS || strlen(hex) != 2 * key_len) return -1;
  uint8_t *key = keys[used];
  for (size_t i = 0; i < key_len; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    key[i] = (uint8_t)(hi << 4 | lo);
  }
  policy.ssrc.type = ssrc_specific;
  policy.ssrc.value = ssrc;
  policy.key = key;
  policy.window_size = 1024;
  policy.next = NULL;
  srtp_err_status_t status = srtp_session ? srtp_add_stream(srtp_session, &policy) : srtp_create(&srtp_session, &policy);
  if (status != srtp_err_status_ok) return -1;
  used++;
  return 0;
}
#endif

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1;
  long interval_us = argc > 2 ? atol(argv[2]) : 1000;
  if (n < 1 || n > 1000 || interval_us < 0 || interval_us > 100000) return 2;
#ifdef LECTERN_SRTP
  if (srtp_init() != srtp_err_status_ok) return 3;
#endif
  int ep = epoll_create1(0);
  int *fds = calloc((size_t)n, sizeof(int));
  int rcvbuf = 0;
  printf("ports");
  for (int i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int size = 8 * 1024 * 1024;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    socklen_t sl = sizeof rcvbuf;
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &sl);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("bind"); return 1; }
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    printf(" %d", ntohs(a.sin_port));
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    fds[i] = fd;
  }
  printf("\n");
  fflush(stdout);
  struct epoll_event sev = {.events = EPOLLIN, .data.fd = 0};
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sev);

  static uint8_t bufs[BATCH][MAXPKT];
  static uint8_t controls[BATCH][CONTROL];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = bufs[i];
    iov[i].iov_len = MAXPKT;
    memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  const struct timespec pause = {.tv_sec = 0, .tv_nsec = interval_us * 1000};
  char line[256];
  size_t linelen = 0;
  struct epoll_event events[64];
  for (;;) {
    if (interval_us) nanosleep(&pause, NULL);
    int ready = epoll_wait(ep, events, 64, -1);
    if (ready < 0 && errno == EINTR) continue;
    for (int e = 0; e < ready; e++) {
      int fd = events[e].data.fd;
      if (fd == 0) {
        ssize_t r = read(0, line + linelen, sizeof line - 1 - linelen);
        if (r <= 0) return 0;
        linelen += (size_t)r;
        line[linelen] = 0;
        char *nl;
        while ((nl = strchr(line, '\n'))) {
          *nl = 0;
          unsigned long s, en;
          char hex[128], suite[32];
          if (sscanf(line, "window %lu %lu", &s, &en) == 2) {
            win_start = (uint32_t)s;
            win_end = (uint32_t)en;
            received = 0;
            memset(histogram, 0, sizeof histogram);
            memset(ssrc_used, 0, sizeof ssrc_used);
#ifdef LECTERN_SRTP
            srtp_failures = 0;
#endif
            printf("ok\n");
          } else if (sscanf(line, "srtp %lu %31s %127s", &s, suite, hex) == 3) {
#ifdef LECTERN_SRTP
            printf(add_srtp_stream((uint32_t)s, suite, hex) == 0 ? "ok\n" : "error bad srtp stream\n");
#else
            printf("error built without SRTP\n");
#endif
          } else if (strcmp(line, "report") == 0) {
            uint64_t streams = 0, mn = UINT64_MAX, mx = 0;
            for (int i = 0; i < SSRC_SLOTS; i++)
              if (ssrc_used[i]) {
                streams++;
                if (ssrc_count[i] < mn) mn = ssrc_count[i];
                if (ssrc_count[i] > mx) mx = ssrc_count[i];
              }
            unsigned long failures = 0;
#ifdef LECTERN_SRTP
            failures = (unsigned long)srtp_failures;
#endif
            printf("report %lu %lu %lu %lu %d %lu", (unsigned long)received, (unsigned long)streams, (unsigned long)(streams ? mn : 0), (unsigned long)mx, rcvbuf, failures);
            for (int i = 0; i < BUCKETS; i++)
              if (histogram[i]) printf(" %d:%u", i, histogram[i]);
            printf("\n");
          } else if (strcmp(line, "streams") == 0) {
            printf("streams");
            for (int i = 0; i < SSRC_SLOTS; i++)
              if (ssrc_used[i]) printf(" %u:%u", ssrc_key[i], ssrc_count[i]);
            printf("\n");
          } else if (strcmp(line, "quit") == 0) {
            return 0;
          }
          fflush(stdout);
          size_t used = (size_t)(nl - line) + 1;
          memmove(line, nl + 1, linelen - used + 1);
          linelen -= used;
        }
        continue;
      }
      for (;;) {
        for (int i = 0; i < BATCH; i++) {
          msgs[i].msg_hdr.msg_control = controls[i];
          msgs[i].msg_hdr.msg_controllen = CONTROL;
        }
        int got = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (got <= 0) break;
        // The generator stamps CLOCK_MONOTONIC (process.hrtime); the kernel stamps CLOCK_REALTIME.
        struct timespec mono, real;
        clock_gettime(CLOCK_MONOTONIC, &mono);
        clock_gettime(CLOCK_REALTIME, &real);
        uint64_t mono_now = (uint64_t)mono.tv_sec * 1000000000ull + (uint64_t)mono.tv_nsec;
        int64_t real_minus_mono = (int64_t)((uint64_t)real.tv_sec * 1000000000ull + (uint64_t)real.tv_nsec - mono_now);
        for (int i = 0; i < got; i++) {
          uint64_t at = mono_now;
          for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
              struct timespec k;
              memcpy(&k, CMSG_DATA(c), sizeof k);
              at = (uint64_t)((int64_t)((uint64_t)k.tv_sec * 1000000000ull + (uint64_t)k.tv_nsec) - real_minus_mono);
            }
          }
          account(bufs[i], msgs[i].msg_len, at);
        }
        if (got < BATCH) break;
      }
    }
  }
}
