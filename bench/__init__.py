"""Benchmarks of the HTTP API under gunicorn (`make bench`, i.e. `python -m bench`).

- `bench.__main__`: the driver. For SQLite and PostgreSQL in turn it migrates a fresh
  database, seeds it, starts gunicorn on 127.0.0.1, runs the load, prints the table and
  writes JSON to bench/results/.
- `bench.seed`: the data (one office, 20 counselors, 5,000 consultations and their
  occupancy cells, a pool of requests to schedule), run in a subprocess.
- `bench.load`: the bounded load generator (threads, one keep-alive client each).

Speed is measured here only; no test asserts it. See docs/performance.md.
"""
