"""primes: the primes up to 100 by a sieve over a chain of pairs, the twin
of primes.brisk. A pair is a two-item Python list [car, cdr]; the empty
list is None."""
import sys


def interval_list(m, n):
    return None if m > n else [m, interval_list(1 + m, n)]


def sieve(l):
    def remove_multiples(n, l):
        if l is None:
            return None
        if l[0] % n == 0:
            return remove_multiples(n, l[1])
        return [l[0], remove_multiples(n, l[1])]

    if l is None:
        return None
    return [l[0], sieve(remove_multiples(l[0], l[1]))]


def primes_le(n):
    return sieve(interval_list(2, n))


def show(x):
    """A chain of ints as brisk's `display` prints it."""
    items = []
    while x is not None:
        items.append(str(x[0]))
        x = x[1]
    return "(" + " ".join(items) + ")"


def repeat(n, thunk):
    result = thunk()
    for _ in range(1, n):
        result = thunk()
    return result


count = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
print(f"primes<=(100) = {show(repeat(count, lambda: primes_le(100)))}")
print("expected: (2 3 5 7 11 13 17 19 23 29 31 37 41 43 47 53 59 61 67 71 73 79 83 89 97)")
