"""RustGPT in NumPy, computing on the checkpoint format's own objects."""
