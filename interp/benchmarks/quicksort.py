"""quicksort: Hansen's quick-1 on copies of a vector of 2000 random ints,
the twin of quicksort.brisk (a Python list is the vector)."""
import math
import sys

sys.setrecursionlimit(100000)


def quick_1(v, less):
    def helper(left, right):
        if left < right:
            median = partition(v, left, right, less)
            if median - left < right - median:
                helper(left, median - 1)
                helper(median + 1, right)
            else:
                helper(median + 1, right)
                helper(left, median - 1)
        return v

    return helper(0, len(v) - 1)


def partition(v, left, right, less):
    mid = v[right]

    def uploop(i):
        i = i + 1
        while i < right and less(v[i], mid):
            i = i + 1
        return i

    def downloop(j):
        j = j - 1
        while j > left and less(mid, v[j]):
            j = j - 1
        return j

    i, j = left - 1, right
    while True:
        i = uploop(i)
        j = downloop(j)
        tmp = v[i]
        v[i] = v[j]
        v[j] = tmp
        if not i < j:
            v[j] = v[i]
            v[i] = v[right]
            v[right] = tmp
            return i


# L'Ecuyer's generator, uniform in [0, 1], in floats only.
norm = 2.328306549295728e-10
m1 = 4294967087.0
m2 = 4294944443.0
a12 = 1403580.0
a13n = 810728.0
a21 = 527612.0
a23n = 1370589.0
seed = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]


def random_flonum():
    p1 = a12 * seed[1] - a13n * seed[0]
    p2 = a21 * seed[5] - a23n * seed[3]
    k1 = float(math.trunc(p1 / m1))
    k2 = float(math.trunc(p2 / m2))
    seed[0] = seed[1]
    seed[3] = seed[4]
    p1 = p1 - k1 * m1
    p2 = p2 - k2 * m2
    seed[1] = seed[2]
    seed[4] = seed[5]
    if p1 < 0.0:
        p1 = p1 + m1
    if p2 < 0.0:
        p2 = p2 + m2
    seed[2] = p1
    seed[5] = p2
    return norm * ((p1 - p2) + m1) if p1 <= p2 else norm * (p1 - p2)


def random(n):
    return math.trunc(float(n) * random_flonum())


n = 2000
v = [random(1000000) for _ in range(n)]


def is_sorted(v):
    return all(v[i - 1] <= v[i] for i in range(1, len(v)))


def repeat(count, thunk):
    result = thunk()
    for _ in range(1, count):
        result = thunk()
    return result


count = int(sys.argv[1]) if len(sys.argv) > 1 else 30
result = repeat(count, lambda: quick_1(list(v), lambda x, y: x < y))
print(f"quicksort(2000): first {result[0]}, last {result[n - 1]}, sorted {'#t' if is_sorted(result) else '#f'}")
print("expected: sorted #t")
