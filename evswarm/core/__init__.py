"""The shared core: the bundle schema, batch layout, storage and I/O. Imports no other evswarm package."""
