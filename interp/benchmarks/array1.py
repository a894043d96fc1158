"""array1: fill a vector, copy it backwards, return the copy's length; the
twin of array1.brisk (a Python list is the vector)."""
import sys


def create_x(n):
    result = [0] * n
    i = 0
    while i < n:
        result[i] = i
        i += 1
    return result


def create_y(x):
    n = len(x)
    result = [0] * n
    i = n - 1
    while i >= 0:
        result[i] = x[i]
        i -= 1
    return result


def my_try(n):
    return len(create_y(create_x(n)))


def go(m, n):
    result = None
    for _ in range(m):
        result = my_try(n)
    return result


count = int(sys.argv[1]) if len(sys.argv) > 1 else 60
print(f"array1(10000) = {go(count, 10000)}")
print("expected: 10000")
