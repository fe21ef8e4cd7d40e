#!/usr/bin/env python3
"""Write a file of an exact size with deterministic, text-like content.

usage: pattern.py SEED SIZE PATH

The bytes are derived from SHA-256(SEED || block counter), each digest byte
mapped onto a 32-character alphabet (letters, digits, space, newline). The
result is the same on every machine and Python version, is not all zeros,
and compresses like ordinary text (gzip keeps roughly 60-70 % of it), so
compressed layer sizes are realistic while staying small.
"""
import hashlib
import sys

ALPHABET = b"etaoinshrdlucmfwypvbgkqjxz0123 \n"
assert len(ALPHABET) == 32


def pattern(seed: str, size: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < size:
        digest = hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        out.extend(ALPHABET[b & 31] for b in digest)
        counter += 1
    return bytes(out[:size])


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    seed, size, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(path, "wb") as f:
        f.write(pattern(seed, size))


if __name__ == "__main__":
    main()
