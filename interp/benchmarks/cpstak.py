"""cpstak: Takeuchi's function in continuation-passing style, the twin of
cpstak.brisk. Python has no proper tail calls, so the continuation chain
nests Python frames; the recursion limit is raised to fit it."""
import sys

sys.setrecursionlimit(1000000)


def cpstak(x, y, z):
    def tak(x, y, z, k):
        if not y < x:
            return k(z)
        return tak(
            x - 1,
            y,
            z,
            lambda v1: tak(y - 1, z, x, lambda v2: tak(z - 1, x, y, lambda v3: tak(v1, v2, v3, k))),
        )

    return tak(x, y, z, lambda a: a)


def repeat(n, thunk):
    result = thunk()
    for _ in range(1, n):
        result = thunk()
    return result


count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
print(f"cpstak(18, 12, 6) = {repeat(count, lambda: cpstak(18, 12, 6))}")
print("expected: 7")
