"""takl: Takeuchi's function with lists as counters, the twin of
takl.brisk. A pair is a two-item Python list [car, cdr]; the empty list
is None."""
import sys


def listn(n):
    return None if n == 0 else [n, listn(n - 1)]


l18 = listn(18)
l12 = listn(12)
l6 = listn(6)


def mas(x, y, z):
    if not shorterp(y, x):
        return z
    return mas(mas(x[1], y, z), mas(y[1], z, x), mas(z[1], x, y))


def shorterp(x, y):
    return y is not None and (x is None or shorterp(x[1], y[1]))


def show(x):
    """A pair chain as brisk's `display` prints it."""
    items = []
    while isinstance(x, list):
        items.append(show(x[0]) if isinstance(x[0], list) or x[0] is None else str(x[0]))
        x = x[1]
    return "(" + " ".join(items) + ")"


def length(x):
    n = 0
    while x is not None:
        n, x = n + 1, x[1]
    return n


def repeat(n, thunk):
    result = thunk()
    for _ in range(1, n):
        result = thunk()
    return result


count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
result = repeat(count, lambda: mas(l18, l12, l6))
print(f"takl(18, 12, 6) = {show(result)}")
print(f"length: {length(result)}")
print("expected: 7")
