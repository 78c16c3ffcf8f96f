"""Applications built from the library: benchmarking on MOTChallenge-layout datasets."""
