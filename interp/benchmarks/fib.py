"""fib: doubly recursive Fibonacci of 20, the twin of fib.brisk."""
import sys


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def repeat(n, thunk):
    result = thunk()
    for _ in range(1, n):
        result = thunk()
    return result


count = int(sys.argv[1]) if len(sys.argv) > 1 else 400
print(f"fib(20) = {repeat(count, lambda: fib(20))}")
print("expected: 6765")
