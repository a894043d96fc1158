"""nqueens: counts the placements of 8 queens, the twin of nqueens.brisk.
A pair is a two-item Python list [car, cdr]; the empty list is None."""
import sys


def append2(x, y):
    return y if x is None else [x[0], append2(x[1], y)]


def nqueens(n):
    def iota1(n):
        i, l = n, None
        while i != 0:
            i, l = i - 1, [i, l]
        return l

    def my_try(x, y, z):
        if x is None:
            return 1 if y is None else 0
        return (my_try(append2(x[1], y), None, [x[0], z]) if ok(x[0], 1, z) else 0) + my_try(
            x[1], [x[0], y], z
        )

    def ok(row, dist, placed):
        if placed is None:
            return True
        return placed[0] != row + dist and placed[0] != row - dist and ok(row, dist + 1, placed[1])

    return my_try(iota1(n), None, None)


def repeat(n, thunk):
    result = thunk()
    for _ in range(1, n):
        result = thunk()
    return result


count = int(sys.argv[1]) if len(sys.argv) > 1 else 60
print(f"nqueens(8) = {repeat(count, lambda: nqueens(8))}")
print("expected: 92")
