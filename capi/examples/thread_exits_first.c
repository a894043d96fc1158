/*
 * An object made on a thread that exits first. Its owner is gone, so the
 * thread that holds it merges it when it gives it up: it must be freed
 * exactly once, and not before. Once with the owner detaching explicitly,
 * once with it just returning (the library detaches at thread exit), under
 * both policies.
 */
#include "brisk.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

/* Exits with the error message unless the call succeeded. */
#define CHECK(call) brisk_check((call), __FILE__ ": " #call)

typedef struct Box {
    BriskObject base;
    long long value;
} Box;

static atomic_int freed;

static void box_free(BriskObject *object) {
    atomic_fetch_add(&freed, 1);
    free(object);
}

typedef struct {
    BriskPolicy policy;
    int detach;
    Box *made;
} Job;

static void *maker(void *arg) {
    Job *job = arg;
    CHECK(brisk_thread_attach());
    Box *box = malloc(sizeof *box);
    if (box == NULL) exit(1);
    CHECK(brisk_object_init(&box->base, box_free));
    box->value = 42;
    /* Two references: one for the main thread, one dropped here. */
    CHECK(brisk_incref(&box->base, job->policy));
    CHECK(brisk_decref(&box->base, job->policy));
    job->made = box;
    if (job->detach) CHECK(brisk_thread_detach());
    return NULL;
}

static void run(BriskPolicy policy, int detach) {
    atomic_store(&freed, 0);
    Job job = {policy, detach, NULL};
    pthread_t thread;
    if (pthread_create(&thread, NULL, maker, &job) != 0) exit(1);
    pthread_join(thread, NULL);
    Box *box = job.made;
    if (box->value != 42 || atomic_load(&freed) != 0) {
        fprintf(stderr, "freed before its last reference\n");
        exit(1);
    }
    CHECK(brisk_incref(&box->base, policy));
    CHECK(brisk_decref(&box->base, policy));
    CHECK(brisk_decref(&box->base, policy));
    for (int i = 0; i < 8 && atomic_load(&freed) == 0; i++) CHECK(brisk_safepoint(NULL));
    if (atomic_load(&freed) != 1) {
        fprintf(stderr, "freed %d times\n", atomic_load(&freed));
        exit(1);
    }
}

int main(void) {
    CHECK(brisk_thread_attach());
    for (int detach = 0; detach <= 1; detach++) {
        run(BRISK_POLICY_BIASED, detach);
        run(BRISK_POLICY_DEFERRED, detach);
    }
    CHECK(brisk_thread_detach());
    printf("thread_exits_first: objects outlive their owner thread, freed once: ok\n");
    return 0;
}
