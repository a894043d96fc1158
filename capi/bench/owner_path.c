/*
 * The inline owner path against a plain C counter and a C11 atomic one,
 * side by side in one run.
 *
 * Each variant counts on OBJECTS objects laid out alike (a 16-byte header
 * or a 16-byte struct holding one counter): one increment of every
 * object, a compiler barrier, one decrement of every object. A round
 * times each variant once, in an order that rotates between rounds, and
 * the ratios are taken within a round, so a noisy neighbour slows all
 * three alike. The report gives each ratio's median over the rounds and
 * the 2.5th and 97.5th percentiles of the per-round ratios.
 *
 * Usage: owner_path [rounds] [median]; prints a Markdown report on stdout,
 * or, with `median`, only the median owner/plain ratio.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, sysconf */
#include "brisk.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { OBJECTS = 4096, REPEAT = 2000 };

/* All three the size of a BriskObject, so each walks the same memory. */
typedef struct { int64_t count; int64_t pad[2]; } Plain;
typedef struct { _Atomic int64_t count; int64_t pad[2]; } Atomic;
typedef struct { BriskObject base; } Owned;
_Static_assert(sizeof(Plain) == sizeof(Owned), "same footprint");

static Plain plain[OBJECTS];
static Atomic atomic[OBJECTS];
static Owned owned[OBJECTS];

#define BARRIER() __asm__ volatile("" ::: "memory")

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* Set once the timed runs are over: only then may an object be freed (the
   objects are static: freeing one only counts). */
static int finished;

static void owned_free(BriskObject *object) {
    if (!finished) {
        fprintf(stderr, "an object was freed during the benchmark\n");
        exit(1);
    }
    (void)object;
}

/* Nanoseconds per increment+decrement pair. */
static double run_plain(void) {
    double start = now_ns();
    for (int r = 0; r < REPEAT; r++) {
        for (int i = 0; i < OBJECTS; i++) plain[i].count++;
        BARRIER();
        for (int i = 0; i < OBJECTS; i++) plain[i].count--;
        BARRIER();
    }
    return (now_ns() - start) / ((double)REPEAT * OBJECTS);
}

static double run_atomic(void) {
    double start = now_ns();
    for (int r = 0; r < REPEAT; r++) {
        for (int i = 0; i < OBJECTS; i++) atomic_fetch_add(&atomic[i].count, 1);
        BARRIER();
        for (int i = 0; i < OBJECTS; i++) atomic_fetch_sub(&atomic[i].count, 1);
        BARRIER();
    }
    return (now_ns() - start) / ((double)REPEAT * OBJECTS);
}

static double run_owner(void) {
    double start = now_ns();
    for (int r = 0; r < REPEAT; r++) {
        for (int i = 0; i < OBJECTS; i++) brisk_incref(&owned[i].base, BRISK_POLICY_BIASED);
        BARRIER();
        for (int i = 0; i < OBJECTS; i++) brisk_decref(&owned[i].base, BRISK_POLICY_BIASED);
        BARRIER();
    }
    return (now_ns() - start) / ((double)REPEAT * OBJECTS);
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of the n sorted values. */
static double quantile(const double *sorted, int n, double q) {
    double at = q * (n - 1);
    int lo = (int)at;
    if (lo + 1 >= n) return sorted[n - 1];
    return sorted[lo] + (at - lo) * (sorted[lo + 1] - sorted[lo]);
}

static void report(const char *name, double *values, int n) {
    qsort(values, (size_t)n, sizeof *values, compare);
    printf("| %s | %.3f | %.3f – %.3f |\n", name, quantile(values, n, 0.5),
           quantile(values, n, 0.025), quantile(values, n, 0.975));
}

/* The first line of /proc/loadavg, or "unknown". */
static void load_average(char *out, size_t size) {
    snprintf(out, size, "unknown");
    FILE *f = fopen("/proc/loadavg", "r");
    if (f == NULL) return;
    if (fgets(out, (int)size, f) != NULL) out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

static void cpu_model(char *out, size_t size) {
    snprintf(out, size, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *colon = strchr(line, ':');
            if (colon != NULL) {
                snprintf(out, size, "%s", colon + 2);
                out[strcspn(out, "\n")] = '\0';
            }
            break;
        }
    }
    fclose(f);
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 41;
    if (rounds < 3) rounds = 3;
    if (brisk_thread_attach() != BRISK_STATUS_OK) {
        fprintf(stderr, "attach: %s\n", brisk_last_error());
        return 1;
    }
    for (int i = 0; i < OBJECTS; i++) {
        if (brisk_object_init(&owned[i].base, owned_free) != BRISK_STATUS_OK) return 1;
    }
    double *p = calloc((size_t)rounds, sizeof *p), *a = calloc((size_t)rounds, sizeof *a),
           *o = calloc((size_t)rounds, sizeof *o);
    double *owner_over_plain = calloc((size_t)rounds, sizeof(double));
    double *atomic_over_owner = calloc((size_t)rounds, sizeof(double));
    run_plain(), run_atomic(), run_owner(); /* warm up */
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 3; k++) {
            switch ((r + k) % 3) {
            case 0: p[r] = run_plain(); break;
            case 1: a[r] = run_atomic(); break;
            default: o[r] = run_owner(); break;
            }
        }
        owner_over_plain[r] = o[r] / p[r];
        atomic_over_owner[r] = a[r] / o[r];
    }
    if (argc > 2 && strcmp(argv[2], "median") == 0) {
        qsort(owner_over_plain, (size_t)rounds, sizeof(double), compare);
        printf("%.3f\n", quantile(owner_over_plain, rounds, 0.5));
        return 0;
    }
    char cpu[256], load[128];
    cpu_model(cpu, sizeof cpu);
    load_average(load, sizeof load);
    printf("Machine: %s, %ld cores online, load average %s at the end. %d rounds of %d "
           "increment+decrement pairs on each of %d objects per variant.\n\n",
           cpu, sysconf(_SC_NPROCESSORS_ONLN), load, rounds, REPEAT, OBJECTS);
    printf("| measure | median | 95%% of rounds |\n|---|---|---|\n");
    report("plain `++`/`--`, ns per pair", p, rounds);
    report("brisk inline owner path, ns per pair", o, rounds);
    report("C11 `atomic_fetch_add`/`sub`, ns per pair", a, rounds);
    report("owner / plain", owner_over_plain, rounds);
    report("atomic / owner", atomic_over_owner, rounds);
    for (int i = 0; i < OBJECTS; i++) {
        size_t count = 0;
        if (brisk_object_refcount(&owned[i].base, &count) != BRISK_STATUS_OK || count != 1) {
            fprintf(stderr, "object %d: count %zu after the run\n", i, count);
            return 1;
        }
    }
    finished = 1;
    for (int i = 0; i < OBJECTS; i++) brisk_decref(&owned[i].base, BRISK_POLICY_BIASED);
    free(p), free(a), free(o), free(owner_over_plain), free(atomic_over_owner);
    return brisk_thread_detach() == BRISK_STATUS_OK ? 0 : 1;
}
