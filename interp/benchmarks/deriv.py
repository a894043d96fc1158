"""deriv: symbolic differentiation of 3x² + ax² + bx + 5, the twin of
deriv.brisk. A pair is a two-item Python list [car, cdr], the empty list
is None, and a symbol is a string."""
import sys


def tree_to_pairs(x):
    if isinstance(x, tuple):
        acc = None
        for item in reversed(x):
            acc = [tree_to_pairs(item), acc]
        return acc
    return x


def map_pairs(f, l):
    return None if l is None else [f(l[0]), map_pairs(f, l[1])]


def chain(*items):
    acc = None
    for item in reversed(items):
        acc = [item, acc]
    return acc


def deriv(a):
    if not isinstance(a, list):
        return 1 if a == "x" else 0
    head = a[0]
    if head == "+":
        return ["+", map_pairs(deriv, a[1])]
    if head == "-":
        return ["-", map_pairs(deriv, a[1])]
    if head == "*":
        return chain("*", a, ["+", map_pairs(lambda a: chain("/", deriv(a), a), a[1])])
    if head == "/":
        num, den = a[1][0], a[1][1][0]
        return chain("-", chain("/", deriv(num), den), chain("/", num, chain("*", den, den, deriv(den))))
    raise ValueError("No derivation method available")


def show(x):
    """A value as brisk's `display` prints it inside a pair chain."""
    if x is None:
        return "()"
    if isinstance(x, str):
        return x
    if isinstance(x, list):
        items = []
        while isinstance(x, list):
            items.append(show(x[0]))
            x = x[1]
        return "(" + " ".join(items) + ")"
    return str(x)


input_expr = tree_to_pairs(("+", ("*", 3, "x", "x"), ("*", "a", "x", "x"), ("*", "b", "x"), 5))


def repeat(n, thunk):
    result = thunk()
    for _ in range(1, n):
        result = thunk()
    return result


count = int(sys.argv[1]) if len(sys.argv) > 1 else 40000
print(f"deriv = {show(repeat(count, lambda: deriv(input_expr)))}")
print(
    "expected: (+ (* (* 3 x x) (+ (/ 0 3) (/ 1 x) (/ 1 x))) (* (* a x x) (+ (/ 0 a) (/ 1 x) (/ 1 x))) (* (* b x) (+ (/ 0 b) (/ 1 x))) 0)"
)
