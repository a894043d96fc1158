/*
 * A tiny object model in C on brisk: boxed integers and pairs, an
 * immortal nil, counted under both policies on one thread, with every
 * free counted; then the errors bad input gets, and an epoch-protected
 * slot.
 */
#include "brisk.h"

#include <stdio.h>
#include <stdlib.h>

/* Exits with the error message unless the call succeeded. */
#define CHECK(call) brisk_check((call), __FILE__ ": " #call)

#define EXPECT(cond)                                                         \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

typedef enum { INT, PAIR, NIL } Tag;

typedef struct Value {
    BriskObject base; /* first: a Value* is a BriskObject* */
    Tag tag;
    BriskPolicy policy;
    union {
        long long integer;
        struct { struct Value *car, *cdr; } pair;
    } as;
} Value;

static int freed;
static Value nil;

static void value_free(BriskObject *object) {
    Value *v = (Value *)object;
    if (v->tag == PAIR) {
        CHECK(brisk_decref(&v->as.pair.car->base, v->policy));
        CHECK(brisk_decref(&v->as.pair.cdr->base, v->policy));
    }
    freed++;
    free(v);
}

static Value *new_value(Tag tag, BriskPolicy policy) {
    Value *v = malloc(sizeof *v);
    EXPECT(v != NULL);
    CHECK(brisk_object_init(&v->base, value_free));
    v->tag = tag;
    v->policy = policy;
    return v;
}

static Value *new_int(long long i, BriskPolicy policy) {
    Value *v = new_value(INT, policy);
    v->as.integer = i;
    return v;
}

/* Takes over the references to car and cdr. */
static Value *cons(Value *car, Value *cdr, BriskPolicy policy) {
    Value *v = new_value(PAIR, policy);
    v->as.pair.car = car;
    v->as.pair.cdr = cdr;
    return v;
}

static size_t count(Value *v) {
    size_t n = 0;
    CHECK(brisk_object_refcount(&v->base, &n));
    return n;
}

static void lists(BriskPolicy policy) {
    freed = 0;
    /* (1 2 3 ... 100) */
    Value *list = &nil;
    for (int i = 100; i >= 1; i--) {
        list = cons(new_int(i, policy), list, policy);
    }
    long long sum = 0;
    for (Value *v = list; v->tag == PAIR; v = v->as.pair.cdr) {
        sum += v->as.pair.car->as.integer;
    }
    EXPECT(sum == 5050);

    /* Copies of a reference: the owner's path, inline. */
    Value *head = list->as.pair.car;
    CHECK(brisk_incref(&head->base, policy));
    CHECK(brisk_incref(&head->base, policy));
    EXPECT(count(head) == 3);
    CHECK(brisk_decref(&head->base, policy));
    EXPECT(count(head) == 2);

    CHECK(brisk_decref(&list->base, policy)); /* 199 of the 200 objects */
    EXPECT(freed == 199);
    CHECK(brisk_decref(&head->base, policy)); /* the last one */
    EXPECT(freed == 200);
}

static void bad_input(void) {
    EXPECT(brisk_incref(NULL, BRISK_POLICY_BIASED) == BRISK_STATUS_NULL_POINTER);
    EXPECT(brisk_decref(NULL, BRISK_POLICY_DEFERRED) == BRISK_STATUS_NULL_POINTER);
    EXPECT(brisk_last_error()[0] != '\0');
    Value *v = new_int(7, BRISK_POLICY_BIASED);
    EXPECT(brisk_incref_slow(&v->base, 42) == BRISK_STATUS_INVALID_ARGUMENT);
    EXPECT(brisk_object_init(&v->base, NULL) == BRISK_STATUS_NULL_POINTER);
    EXPECT(brisk_thread_attach() == BRISK_STATUS_ALREADY_ATTACHED);
    EXPECT(brisk_slot_free(NULL) == BRISK_STATUS_NULL_POINTER);
    CHECK(brisk_decref(&v->base, BRISK_POLICY_BIASED));
}

static void slots(BriskPolicy policy) {
    freed = 0;
    BriskSlot *slot = NULL;
    CHECK(brisk_slot_new(&new_int(1, policy)->base, policy, &slot));
    BriskObject *loaded = NULL;
    CHECK(brisk_slot_load(slot, &loaded));
    EXPECT(loaded != NULL && ((Value *)loaded)->as.integer == 1);
    /* Retires the slot's reference to 1; the load still holds one. */
    CHECK(brisk_slot_store(slot, &new_int(2, policy)->base));
    CHECK(brisk_decref(loaded, policy));
    CHECK(brisk_slot_free(slot));
    /* Retired references are given up at safepoints, an epoch later. */
    for (int i = 0; i < 8 && freed < 2; i++) {
        CHECK(brisk_safepoint(NULL));
    }
    EXPECT(freed == 2);
}

int main(void) {
    CHECK(brisk_object_init_immortal(&nil.base));
    nil.tag = NIL;
    EXPECT(brisk_object_init(&nil.base, value_free) == BRISK_STATUS_NOT_ATTACHED);
    EXPECT(brisk_safepoint(NULL) == BRISK_STATUS_NOT_ATTACHED);
    CHECK(brisk_object_init_immortal(&nil.base));
    EXPECT(brisk_thread_id() == BRISK_UNREGISTERED);

    CHECK(brisk_thread_attach());
    EXPECT(brisk_thread_id() != BRISK_UNREGISTERED);
    lists(BRISK_POLICY_BIASED);
    lists(BRISK_POLICY_DEFERRED);
    bad_input();
    slots(BRISK_POLICY_BIASED);
    slots(BRISK_POLICY_DEFERRED);
    CHECK(brisk_thread_detach());
    EXPECT(brisk_thread_detach() == BRISK_STATUS_NOT_ATTACHED);
    printf("object_model: lists, errors and slots under both policies: ok\n");
    return 0;
}
