"""Latency and throughput benchmark: this assistant against the `rasa init` starter bot (``make bench``)."""
