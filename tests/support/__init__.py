"""The tests' one kit: paths, the peer, zip builders, hashing, sample packages and archive helpers."""
