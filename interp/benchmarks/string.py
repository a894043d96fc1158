"""string: grow a string by appending and halving it until it is longer
than 500000 characters, ten times; the twin of string.brisk."""
import sys

s = "abcdef"


def grow():
    global s
    s = "123" + s + "456" + s + "789"
    s = s[len(s) // 2 : len(s)] + s[0 : 1 + len(s) // 2]
    return s


def trial(n):
    while not len(s) > n:
        grow()
    return len(s)


def my_try(n):
    global s
    for _ in range(10):
        s = "abcdef"
        trial(n)
    return len(s)


def repeat(n, thunk):
    result = thunk()
    for _ in range(1, n):
        result = thunk()
    return result


count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
print(f"string(500000) = {repeat(count, lambda: my_try(500000))}")
print("expected: 524278")
