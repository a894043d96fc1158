/*
 * Two pthreads pass objects through a queue: the producer makes them (it
 * owns them), keeps a copy of every other one, and hands each to the
 * consumer, which reads it and drops it. Every object must be freed
 * exactly once, whichever thread drops it last, under both policies.
 */
#include "brisk.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

/* Exits with the error message unless the call succeeded. */
#define CHECK(call) brisk_check((call), __FILE__ ": " #call)

enum { OBJECTS = 20000, CAPACITY = 64 };

typedef struct Item {
    BriskObject base;
    int id;
} Item;

/* How many times each object was freed, and by how many frees in all. */
static atomic_int freed_times[OBJECTS];
static atomic_int freed_total;

static void item_free(BriskObject *object) {
    Item *item = (Item *)object;
    atomic_fetch_add(&freed_times[item->id], 1);
    atomic_fetch_add(&freed_total, 1);
    free(item);
}

/* A bounded queue of objects, each holding one counted reference. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    Item *items[CAPACITY];
    size_t head, len;
} queue = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0};

static void push(Item *item) {
    pthread_mutex_lock(&queue.lock);
    while (queue.len == CAPACITY) pthread_cond_wait(&queue.changed, &queue.lock);
    queue.items[(queue.head + queue.len++) % CAPACITY] = item;
    pthread_cond_broadcast(&queue.changed);
    pthread_mutex_unlock(&queue.lock);
}

static Item *pop(void) {
    pthread_mutex_lock(&queue.lock);
    while (queue.len == 0) pthread_cond_wait(&queue.changed, &queue.lock);
    Item *item = queue.items[queue.head];
    queue.head = (queue.head + 1) % CAPACITY;
    queue.len--;
    pthread_cond_broadcast(&queue.changed);
    pthread_mutex_unlock(&queue.lock);
    return item;
}

static BriskPolicy policy;
static long long consumed_sum;

static void *consumer(void *arg) {
    (void)arg;
    CHECK(brisk_thread_attach());
    long long sum = 0;
    for (int i = 0; i < OBJECTS; i++) {
        Item *item = pop();
        sum += item->id;
        CHECK(brisk_decref(&item->base, policy)); /* not the owner: the library */
        if (i % 256 == 0) CHECK(brisk_safepoint(NULL));
    }
    consumed_sum = sum;
    CHECK(brisk_thread_detach());
    return NULL;
}

static void run(BriskPolicy p) {
    policy = p;
    atomic_store(&freed_total, 0);
    for (int i = 0; i < OBJECTS; i++) atomic_store(&freed_times[i], 0);
    pthread_t thread;
    if (pthread_create(&thread, NULL, consumer, NULL) != 0) exit(1);
    CHECK(brisk_thread_attach());
    Item *kept[OBJECTS / 2];
    for (int i = 0; i < OBJECTS; i++) {
        Item *item = malloc(sizeof *item);
        if (item == NULL) exit(1);
        CHECK(brisk_object_init(&item->base, item_free));
        item->id = i;
        if (i % 2 == 0) {
            CHECK(brisk_incref(&item->base, policy)); /* the owner: inline */
            kept[i / 2] = item;
        }
        push(item);
        if (i % 256 == 0) CHECK(brisk_safepoint(NULL));
    }
    for (int i = 0; i < OBJECTS / 2; i++) CHECK(brisk_decref(&kept[i]->base, policy));
    pthread_join(thread, NULL);
    /* Objects the consumer dropped last were queued to this thread, or
       deferred an epoch: safepoints free them. */
    for (int i = 0; i < 16 && atomic_load(&freed_total) < OBJECTS; i++) {
        CHECK(brisk_safepoint(NULL));
    }
    CHECK(brisk_thread_detach());
    if (consumed_sum != (long long)OBJECTS * (OBJECTS - 1) / 2) {
        fprintf(stderr, "consumer saw the wrong objects\n");
        exit(1);
    }
    for (int i = 0; i < OBJECTS; i++) {
        if (atomic_load(&freed_times[i]) != 1) {
            fprintf(stderr, "object %d freed %d times\n", i, atomic_load(&freed_times[i]));
            exit(1);
        }
    }
}

int main(void) {
    run(BRISK_POLICY_BIASED);
    run(BRISK_POLICY_DEFERRED);
    printf("queue_threads: %d objects across two threads, each freed once, "
           "under both policies: ok\n", OBJECTS);
    return 0;
}
