/*
 * A graph crosses from one interpreter to another by move, under both
 * policies. Interpreter "a" builds a list of 100 tuples (i, "item") and
 * moves it through a channel: it is isolated (only the sender's handle
 * reaches it), so ownership crosses, not a copy. Interpreter "b" receives
 * it, checks its shape and sums the integers. On the way, "a" shows a
 * refused send: sharing a list that is not frozen is refused and leaves
 * the list usable; frozen, it shares. At the end every handle is freed,
 * and a freed one is refused.
 */
#include "brisk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Exits with the error message unless the call succeeded. */
#define CHECK(call) brisk_check((call), __FILE__ ": " #call)

/* A call that must fail with `expected`. */
#define EXPECT(call, expected)                                               \
    do {                                                                     \
        BriskStatus s_ = (call);                                             \
        if (s_ != (expected)) {                                              \
            fprintf(stderr, "%s:%d: %s: %s, expected %s (%s)\n", __FILE__,  \
                    __LINE__, #call, brisk_status_name(s_),                  \
                    brisk_status_name(expected), brisk_last_error());        \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

enum { ITEMS = 100 };

/* Interpreter "a": builds the graph, moves it, then shares a frozen list. */
static int32_t producer(BriskMutator *m, void *arg) {
    BriskSender tx = *(BriskSender *)arg;

    BriskValue graph;
    CHECK(brisk_value_list(m, &graph));
    for (int64_t i = 0; i < ITEMS; i++) {
        BriskValue pair[2];
        CHECK(brisk_value_int(m, i, &pair[0]));
        CHECK(brisk_value_str(m, "item", 4, &pair[1]));
        BriskValue tuple;
        CHECK(brisk_value_tuple(m, pair, 2, &tuple));
        CHECK(brisk_value_list_push(m, graph, tuple));
        /* The list and the tuple hold their own references: freeing these
         * handles leaves the graph's only way in to `graph`. */
        CHECK(brisk_value_free(m, pair[0]));
        CHECK(brisk_value_free(m, pair[1]));
        CHECK(brisk_value_free(m, tuple));
    }
    CHECK(brisk_send(m, tx, graph, BRISK_SEND_MOVE));
    /* The send consumed the handle. */
    EXPECT(brisk_value_free(m, graph), BRISK_STATUS_INVALID_HANDLE);

    /* A list that is not frozen cannot be shared; it stays usable. */
    BriskValue config, three;
    CHECK(brisk_value_list(m, &config));
    CHECK(brisk_value_int(m, 3, &three));
    CHECK(brisk_value_list_push(m, config, three));
    EXPECT(brisk_send(m, tx, config, BRISK_SEND_SHARE), BRISK_STATUS_SEND_REFUSED);
    size_t len;
    CHECK(brisk_value_len(m, config, &len));
    if (len != 1) return 1;
    CHECK(brisk_freeze(m, config));
    CHECK(brisk_send(m, tx, config, BRISK_SEND_SHARE));
    /* `three` is left in the thread's table: released when this returns. */
    return 0;
}

typedef struct Consumer {
    BriskReceiver rx;
    int64_t sum;
} Consumer;

/* Interpreter "b": receives the graph, checks it, and sums its integers. */
static int32_t consumer(BriskMutator *m, void *arg) {
    Consumer *c = arg;

    BriskValue graph;
    CHECK(brisk_recv(m, c->rx, &graph));
    size_t len;
    CHECK(brisk_value_len(m, graph, &len));
    if (len != ITEMS) return 1;
    for (size_t i = 0; i < len; i++) {
        BriskValue tuple, number, name;
        CHECK(brisk_value_get(m, graph, i, &tuple));
        size_t arity;
        CHECK(brisk_value_len(m, tuple, &arity));
        if (arity != 2) return 1;
        CHECK(brisk_value_get(m, tuple, 0, &number));
        CHECK(brisk_value_get(m, tuple, 1, &name));
        int64_t n;
        CHECK(brisk_value_as_int(m, number, &n));
        const char *text;
        size_t text_len;
        CHECK(brisk_value_as_str(m, name, &text, &text_len));
        if (n != (int64_t)i || text_len != 4 || memcmp(text, "item", 4) != 0) return 1;
        c->sum += n;
        CHECK(brisk_value_free(m, tuple));
        CHECK(brisk_value_free(m, number));
        CHECK(brisk_value_free(m, name));
    }
    EXPECT(brisk_value_as_int(m, graph, &(int64_t){0}), BRISK_STATUS_WRONG_TYPE);
    CHECK(brisk_value_free(m, graph));

    BriskValue config, three;
    CHECK(brisk_recv(m, c->rx, &config));
    CHECK(brisk_value_get(m, config, 0, &three));
    int64_t n;
    CHECK(brisk_value_as_int(m, three, &n));
    return n == 3 ? 0 : 1;
}

static void run(BriskPolicy policy) {
    BriskRuntime rt;
    CHECK(brisk_runtime_new(policy, &rt));
    BriskInterp a, b;
    CHECK(brisk_interp_new(rt, "a", &a));
    CHECK(brisk_interp_new(rt, "b", &b));
    BriskSender tx;
    BriskReceiver rx;
    CHECK(brisk_channel_new(rt, &tx, &rx));

    Consumer c = {rx, 0};
    BriskThread ta, tb;
    CHECK(brisk_interp_spawn(b, consumer, &c, &tb));
    CHECK(brisk_interp_spawn(a, producer, &tx, &ta));
    int32_t ra, rb;
    CHECK(brisk_thread_join(ta, &ra));
    CHECK(brisk_thread_join(tb, &rb));
    if (ra != 0 || rb != 0) {
        fprintf(stderr, "policy %u: producer returned %d, consumer %d\n", policy, ra, rb);
        exit(1);
    }
    if (c.sum != ITEMS * (ITEMS - 1) / 2) {
        fprintf(stderr, "policy %u: sum %lld\n", policy, (long long)c.sum);
        exit(1);
    }

    CHECK(brisk_sender_free(tx));
    CHECK(brisk_receiver_free(rx));
    CHECK(brisk_interp_free(a));
    CHECK(brisk_interp_free(b));
    CHECK(brisk_runtime_free(rt));

    /* Freed handles are refused, not read. */
    BriskInterp c_interp;
    EXPECT(brisk_interp_new(rt, "c", &c_interp), BRISK_STATUS_INVALID_HANDLE);
    EXPECT(brisk_sender_free(tx), BRISK_STATUS_INVALID_HANDLE);
    EXPECT(brisk_thread_join(ta, &ra), BRISK_STATUS_INVALID_HANDLE);
}

int main(void) {
    run(BRISK_POLICY_BIASED);
    run(BRISK_POLICY_DEFERRED);
    printf("graph_move: %d tuples moved from \"a\" to \"b\", sum %d, under biased and deferred\n",
           ITEMS, ITEMS * (ITEMS - 1) / 2);
    return 0;
}
