// stats-c.c — the core benchmark's "tuned C" reference for `stats` (issue 14): what a hand-written C
// program gets on the tick layout (ts:i64, price:f64, qty:i32, side:u8, flags:u8, venue:u16; 24-byte
// records) for count, Σx, Σx², min and max of all six fields with INEXACT double sums, mapped, on
// THREADS threads, as its own process (no Node start). bench/core.mjs compiles it with -O3 -march=native
// (a generous baseline: bigproc's shipped build may not use -march) and times it beside bigproc.
//
//   stats-c FILE THREADS      prints one JSON object (seconds and the sums, so the work is not dropped)
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FIELDS 6
#define RECORD 24

struct acc {
  double sum[FIELDS], sq[FIELDS], min[FIELDS], max[FIELDS];
};

struct part {
  const uint8_t* base;
  uint64_t records;
  struct acc acc;
};

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static inline void add(struct acc* a, int f, double v) {
  a->sum[f] += v;
  a->sq[f] += v * v;
  a->min[f] = v < a->min[f] ? v : a->min[f];
  a->max[f] = v > a->max[f] ? v : a->max[f];
}

static void* scan(void* arg) {
  struct part* p = arg;
  struct acc a;
  for (int f = 0; f < FIELDS; f++) a.sum[f] = a.sq[f] = 0, a.min[f] = INFINITY, a.max[f] = -INFINITY;
  for (uint64_t i = 0; i < p->records; i++) {
    const uint8_t* r = p->base + i * RECORD;
    int64_t ts;
    double price;
    int32_t qty;
    uint16_t venue;
    memcpy(&ts, r, 8);
    memcpy(&price, r + 8, 8);
    memcpy(&qty, r + 16, 4);
    memcpy(&venue, r + 22, 2);
    add(&a, 0, (double)ts);
    add(&a, 1, price);
    add(&a, 2, (double)qty);
    add(&a, 3, (double)r[20]);
    add(&a, 4, (double)r[21]);
    add(&a, 5, (double)venue);
  }
  p->acc = a;
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: stats-c FILE THREADS\n");
    return 2;
  }
  const int threads = atoi(argv[2]);
  if (threads < 1 || threads > 256) return 2;
  double t0 = now();
  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    perror(argv[1]);
    return 1;
  }
  uint64_t records = (uint64_t)st.st_size / RECORD;
  const uint8_t* base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  madvise((void*)base, (size_t)st.st_size, MADV_SEQUENTIAL);
  pthread_t tid[256];
  struct part parts[256];
  uint64_t per = (records + (uint64_t)threads - 1) / (uint64_t)threads;
  for (int i = 0; i < threads; i++) {
    uint64_t from = per * (uint64_t)i < records ? per * (uint64_t)i : records;
    uint64_t to = from + per < records ? from + per : records;
    parts[i].base = base + from * RECORD;
    parts[i].records = to - from;
    pthread_create(&tid[i], NULL, scan, &parts[i]);
  }
  double total = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(tid[i], NULL);
    for (int f = 0; f < FIELDS; f++) total += parts[i].acc.sum[f] + parts[i].acc.sq[f] + parts[i].acc.min[f] + parts[i].acc.max[f];
  }
  munmap((void*)base, (size_t)st.st_size);
  close(fd);
  printf("{\"seconds\":%.6f,\"records\":%llu,\"check\":%.17g}\n", now() - t0, (unsigned long long)records, total);
  return 0;
}
