// limits.c — what this machine allows for one file, measured with no Node in the timing (issue 16).
// `bigproc bench` compiles it with the system C compiler on first use (src/bench/limits.ts) and runs
// it as its own process; it prints one JSON object on stdout.
//
//   limits mem  FILE THREADS REPS   map the file and sum it as 64-bit words on THREADS threads
//   limits read FILE REPS           sequential read(2) into a 16 MiB buffer, one thread
//   limits cold FILE REPS           per rep: fdatasync + posix_fadvise(DONTNEED), count with mincore
//                                   the pages that stayed resident, then read(2) as above
//
// Every rep is timed from before the mmap/open to after the munmap/close, as a scan must pay them.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define READ_BUFFER (16u << 20)

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void fail(const char* what, const char* file) {
  // One line, JSON-safe enough for the caller to show: the caller reports it as the limit's error.
  fprintf(stderr, "%s %s: %s\n", what, file, strerror(errno));
  exit(1);
}

struct part {
  const uint8_t* base;
  uint64_t words;
  uint64_t sum;
};

// Four independent accumulators: enough adds per cycle that memory, not the loop, sets the pace.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static uint64_t sum_words(const uint8_t* p, uint64_t words) {
  uint64_t a = 0, b = 0, c = 0, d = 0, i = 0;
  for (; i + 4 <= words; i += 4) {
    uint64_t w[4];
    memcpy(w, p + i * 8, 32);
    a += w[0];
    b += w[1];
    c += w[2];
    d += w[3];
  }
  for (; i < words; i++) {
    uint64_t w;
    memcpy(&w, p + i * 8, 8);
    a += w;
  }
  return a + b + c + d;
}

static void* sum_part(void* arg) {
  struct part* p = arg;
  p->sum = sum_words(p->base, p->words);
  return NULL;
}

static int open_file(const char* file, off_t* size) {
  int fd = open(file, O_RDONLY);
  if (fd < 0) fail("open", file);
  struct stat st;
  if (fstat(fd, &st) != 0) fail("fstat", file);
  *size = st.st_size;
  return fd;
}

static double mem_once(const char* file, int threads, uint64_t* sum_out) {
  double t0 = now();
  off_t size;
  int fd = open_file(file, &size);
  uint64_t words = (uint64_t)size / 8, sum = 0;
  if (words > 0) {
    const uint8_t* base = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) fail("mmap", file);
    madvise((void*)base, (size_t)size, MADV_SEQUENTIAL);
    pthread_t tid[256];
    struct part parts[256];
    uint64_t per = (words + (uint64_t)threads - 1) / (uint64_t)threads;
    for (int i = 0; i < threads; i++) {
      uint64_t from = per * (uint64_t)i < words ? per * (uint64_t)i : words;
      uint64_t to = from + per < words ? from + per : words;
      parts[i] = (struct part){base + from * 8, to - from, 0};
      pthread_create(&tid[i], NULL, sum_part, &parts[i]);
    }
    for (int i = 0; i < threads; i++) {
      pthread_join(tid[i], NULL);
      sum += parts[i].sum;
    }
    munmap((void*)base, (size_t)size);
  }
  close(fd);
  *sum_out = sum;
  return now() - t0;
}

static double read_once(const char* file, uint8_t* buf, uint64_t* bytes_out) {
  double t0 = now();
  off_t size;
  int fd = open_file(file, &size);
  uint64_t total = 0;
  for (;;) {
    ssize_t n = read(fd, buf, READ_BUFFER);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("read", file);
    if (n == 0) break;
    total += (uint64_t)n;
  }
  close(fd);
  *bytes_out = total;
  return now() - t0;
}

// Drop the file's pages, then count (with mincore) the share the kernel kept anyway.
static double drop_cache(const char* file) {
  off_t size;
  int fd = open_file(file, &size);
  fdatasync(fd);  // dirty pages cannot be dropped before they are written
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  if (size == 0) {
    close(fd);
    return 0;
  }
  void* base = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) fail("mmap", file);
  long page = sysconf(_SC_PAGESIZE);
  size_t pages = ((size_t)size + (size_t)page - 1) / (size_t)page;
  unsigned char* vec = malloc(pages);
  if (vec == NULL || mincore(base, (size_t)size, vec) != 0) fail("mincore", file);
  size_t resident = 0;
  for (size_t i = 0; i < pages; i++) resident += vec[i] & 1;
  free(vec);
  munmap(base, (size_t)size);
  close(fd);
  return (double)resident / (double)pages;
}

static void print_seconds(const double* s, int n) {
  printf("\"seconds\":[");
  for (int i = 0; i < n; i++) printf("%s%.6f", i ? "," : "", s[i]);
  printf("]");
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: limits mem FILE THREADS REPS | read FILE REPS | cold FILE REPS\n");
    return 2;
  }
  const char* kind = argv[1];
  const char* file = argv[2];
  int mem = strcmp(kind, "mem") == 0;
  int threads = mem ? atoi(argv[3]) : 1;
  int reps = atoi(argv[mem ? 4 : 3]);
  if (threads < 1 || threads > 256 || reps < 1 || reps > 1000) {
    fprintf(stderr, "limits: THREADS must be 1..256 and REPS 1..1000\n");
    return 2;
  }
  double* seconds = calloc((size_t)reps, sizeof(double));
  double* resident = calloc((size_t)reps, sizeof(double));
  uint64_t value = 0;
  uint8_t* buf = mem ? NULL : malloc(READ_BUFFER);
  for (int r = 0; r < reps; r++) {
    if (mem) {
      seconds[r] = mem_once(file, threads, &value);
    } else if (strcmp(kind, "read") == 0) {
      seconds[r] = read_once(file, buf, &value);
    } else if (strcmp(kind, "cold") == 0) {
      resident[r] = drop_cache(file);
      seconds[r] = read_once(file, buf, &value);
    } else {
      fprintf(stderr, "limits: unknown kind %s (expected mem, read or cold)\n", kind);
      return 2;
    }
  }
  off_t size;
  close(open_file(file, &size));
  printf("{\"kind\":\"%s\",\"bytes\":%lld,\"threads\":%d,", kind, (long long)size, threads);
  print_seconds(seconds, reps);
  if (mem) printf(",\"sum\":\"%llx\"", (unsigned long long)value);
  if (strcmp(kind, "cold") == 0) {
    printf(",\"resident_after_drop\":[");
    for (int r = 0; r < reps; r++) printf("%s%.4f", r ? "," : "", resident[r]);
    printf("]");
  }
  printf("}\n");
  return 0;
}
