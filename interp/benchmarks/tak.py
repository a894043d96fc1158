"""tak: Takeuchi's function on 18 12 6, the twin of tak.brisk."""
import sys


def tak(x, y, z):
    if not y < x:
        return z
    return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y))


def repeat(n, thunk):
    result = thunk()
    for _ in range(1, n):
        result = thunk()
    return result


count = int(sys.argv[1]) if len(sys.argv) > 1 else 150
print(f"tak(18, 12, 6) = {repeat(count, lambda: tak(18, 12, 6))}")
print("expected: 7")
