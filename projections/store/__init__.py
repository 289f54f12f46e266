"""Storage: opening a store (`root`), the hash chain written with the events, verifying it."""
