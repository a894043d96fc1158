"""ack: Ackermann's function of 3 and 5, the twin of ack.brisk."""
import sys

sys.setrecursionlimit(100000)


def ack(m, n):
    if m == 0:
        return n + 1
    if n == 0:
        return ack(m - 1, 1)
    return ack(m - 1, ack(m, n - 1))


def repeat(n, thunk):
    result = thunk()
    for _ in range(1, n):
        result = thunk()
    return result


count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
print(f"ack(3, 5) = {repeat(count, lambda: ack(3, 5))}")
print("expected: 253")
