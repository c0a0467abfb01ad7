#!/usr/bin/python3
"""make_npy.py - writes the reference .npy files tests/test_npy.c loads (real NumPy output).

Run with a Python that has NumPy (Debian: /usr/bin/python3 tests/data/make_npy.py); the
files land in tests/data/npy/ next to this script and are committed.
"""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npy")


def main():
    os.makedirs(OUT, exist_ok=True)
    arrays = {
        "f32_2x3.npy": np.array([[0.5, -1.25, 2.0], [3.0, 4.5, -6.75]], dtype=np.float32),
        "f64_scalar.npy": np.array(3.25, dtype=np.float64),
        "i64_4.npy": np.array([-3, 0, 7, 1 << 40], dtype=np.int64),
        "u8_2x2.npy": np.array([[0, 1], [128, 255]], dtype=np.uint8),
        "bool_3.npy": np.array([True, False, True]),
        "f4_big_endian.npy": np.array([1.0, 2.0], dtype=">f4"),
        "f8_fortran.npy": np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)),
    }
    for name, array in arrays.items():
        np.save(os.path.join(OUT, name), array)


if __name__ == "__main__":
    main()
