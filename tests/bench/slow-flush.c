/*
 * Preloaded into the relay by bench:slow-disk: every fsync and fdatasync first sleeps SLOW_FLUSH_MS milliseconds,
 * as a flush does on a small VPS's network disk. Only the wait is added; the flush itself still happens.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static void wait_like_a_slow_disk(void) {
  const char *ms = getenv("SLOW_FLUSH_MS");
  long us = ms == NULL ? 0 : (long)(atof(ms) * 1000);
  struct timespec pause = { us / 1000000, (us % 1000000) * 1000 };
  if (us > 0) nanosleep(&pause, NULL);
}

int fsync(int fd) {
  static int (*real)(int);
  if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  wait_like_a_slow_disk();
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  wait_like_a_slow_disk();
  return real(fd);
}
