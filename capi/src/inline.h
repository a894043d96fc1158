
/*
 * The owner's path, inline (as CPython's Py_INCREF is).
 *
 * brisk__thread_id caches the calling thread's id, one copy per translation
 * unit. BRISK_UNREGISTERED, its value until brisk_thread_attach() (or
 * brisk_thread_bind() in a second unit) fills it, is held by no header, so
 * an unfilled copy only sends every call to the library. The library writes
 * BRISK_UNREGISTERED back on detach and at thread exit. This is the cheap
 * thread id CPython gets from _Py_ThreadId: one thread-local load.
 */
#if defined(__cplusplus)
#define BRISK_THREAD_LOCAL thread_local
#else
#define BRISK_THREAD_LOCAL _Thread_local
#endif

static BRISK_THREAD_LOCAL uint32_t brisk__thread_id = BRISK_UNREGISTERED;

/* Attaches the calling thread (see brisk_thread_attach_cache). */
static inline BriskStatus brisk_thread_attach(void) {
    return brisk_thread_attach_cache(&brisk__thread_id);
}

/* Fills this translation unit's cached id on an attached thread. */
static inline BriskStatus brisk_thread_bind(void) {
    return brisk_thread_bind_cache(&brisk__thread_id);
}

/*
 * Adds a reference to an object the caller holds one to. On the owner
 * thread: a compare, a load, an add and a store. A null object is
 * BRISK_STATUS_NULL_POINTER.
 */
static inline BriskStatus brisk_incref(BriskObject *object, BriskPolicy policy) {
    if (object != NULL &&
        __atomic_load_n(&object->header.tid, __ATOMIC_RELAXED) == brisk__thread_id) {
        int32_t next = (int32_t)((uint32_t)__atomic_load_n(&object->header.local,
                                                            __ATOMIC_RELAXED) + 1u);
        if (__builtin_expect(next >= 0, 1)) {
            __atomic_store_n(&object->header.local, next, __ATOMIC_RELAXED);
            return BRISK_STATUS_OK;
        }
    }
    return brisk_incref_slow(object, policy);
}

/*
 * Gives up a reference. On the owner thread, unless it is the owner's
 * last: a compare, a load, a subtract and a store. The last reference
 * frees the object (its dealloc runs) here or, if other threads counted
 * it, on whichever thread gives up the last one.
 */
static inline BriskStatus brisk_decref(BriskObject *object, BriskPolicy policy) {
    if (object != NULL &&
        __atomic_load_n(&object->header.tid, __ATOMIC_RELAXED) == brisk__thread_id) {
        int32_t next = __atomic_load_n(&object->header.local, __ATOMIC_RELAXED) - 1;
        if (__builtin_expect(next >= 0, 1)) {
            __atomic_store_n(&object->header.local, next, __ATOMIC_RELAXED);
            return BRISK_STATUS_OK;
        }
    }
    return brisk_decref_slow(object, policy);
}
