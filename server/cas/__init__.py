"""The shared store over HTTP for render workers (Bazel's HTTP remote cache protocol): /cas and /ac."""
