"""sum: the integers from 0 to 10000 in a loop, the twin of sum.brisk."""
import sys


def run(n):
    i, total = n, 0
    while not i < 0:
        i, total = i - 1, i + total
    return total


def repeat(n, thunk):
    result = thunk()
    for _ in range(1, n):
        result = thunk()
    return result


count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
print(f"sum(10000) = {repeat(count, lambda: run(10000))}")
print("expected: 50005000")
