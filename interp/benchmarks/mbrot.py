"""mbrot: escape counts of a 75x75 grid of the Mandelbrot set, the twin of
mbrot.brisk (a list of lists is the vector of vectors)."""
import sys


def count_at(r, i, step, x, y):
    max_count = 64
    radius2 = 16.0
    cr = r + float(x) * step
    ci = i + float(y) * step
    zr, zi, c = cr, ci, 0
    while c != max_count:
        zr2 = zr * zr
        zi2 = zi * zi
        if zr2 + zi2 > radius2:
            return c
        zr, zi, c = (zr2 - zi2) + cr, 2.0 * (zr * zi) + ci, c + 1
    return c


def mbrot(matrix, r, i, step, n):
    y = n - 1
    while y >= 0:
        x = n - 1
        while x >= 0:
            matrix[x][y] = count_at(r, i, step, x, y)
            x -= 1
        y -= 1


def test(n):
    matrix = [None] * n
    i = n - 1
    while i >= 0:
        matrix[i] = [0] * n
        i -= 1
    mbrot(matrix, -1.0, -0.5, 0.005, n)
    return matrix[0][0]


def repeat(n, thunk):
    result = thunk()
    for _ in range(1, n):
        result = thunk()
    return result


count = int(sys.argv[1]) if len(sys.argv) > 1 else 5
print(f"mbrot(75) = {repeat(count, lambda: test(75))}")
print("expected: 5")
