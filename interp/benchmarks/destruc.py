"""destruc: destructive list operations on the input 600 50, the twin of
destruc.brisk. A pair is a two-item Python list [car, cdr], changed in
place; the empty list is None."""
import sys


def append_to_tail(x, y):
    if x is None:
        return y
    a, b = x, x[1]
    while b is not None:
        a, b = b, b[1]
    a[1] = y
    return x


def length(x):
    n = 0
    while x is not None:
        n, x = n + 1, x[1]
    return n


def nils(k):
    a = None
    for _ in range(k):
        a = [None, a]
    return a


def destructive(n, m):
    l = nils(10)
    i = n
    while i != 0:
        if l[0] is None:
            p = l
            while p is not None:
                if p[0] is None:
                    p[0] = [None, None]
                append_to_tail(p[0], nils(m))
                p = p[1]
        else:
            l1, l2 = l, l[1]
            while l2 is not None:
                j, a = length(l2[0]) // 2, l2[0]
                while j != 0:
                    a[0] = i
                    j, a = j - 1, a[1]
                half = length(l1[0]) // 2
                if half == 0:
                    l1[0] = None
                    rest = l1[0]
                else:
                    j, b = half, l1[0]
                    while j != 1:
                        b[0] = i
                        j, b = j - 1, b[1]
                    rest = b[1]
                    b[1] = None
                a[1] = rest
                l1, l2 = l1[1], l2[1]
        i -= 1
    return l


def show(x):
    """A value as brisk's `display` prints it inside a pair chain."""
    if x is None:
        return "nil"
    if isinstance(x, list):
        items = []
        while isinstance(x, list):
            items.append(show(x[0]))
            x = x[1]
        return "(" + " ".join(items) + ")" if x is None else "(" + " ".join(items) + " . " + show(x) + ")"
    return str(x)


def repeat(n, thunk):
    result = thunk()
    for _ in range(1, n):
        result = thunk()
    return result


count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
print(f"destructive(600, 50) = {show(repeat(count, lambda: destructive(600, 50)))}")
print("expected: ((1 1 2) (1 1 1) (1 1 1 2) (1 1 1 1) (1 1 1 1 2) (1 1 1 1 2) (1 1 1 1 2) (1 1 1 1 2) (1 1 1 1 2) (1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 2 2 2 2 2 3))")
