"""Benchmarks of the HTTP API under gunicorn and of the worker (`make bench`, i.e.
`python -m bench`).

- `bench.__main__`: the driver. For SQLite and PostgreSQL in turn it migrates a fresh
  database, seeds it, starts gunicorn on 127.0.0.1, runs the load; then, on another
  fresh database, starts `madoguchi worker` when 1,000 no-shows fall due at once and
  times them and their mail. It prints the tables and writes JSON to bench/results/.
- `bench.seed`: the data (one office, 20 counselors, 5,000 consultations and their
  occupancy cells, a pool of requests to schedule), run in a subprocess.
- `bench.seed_worker`: the worker's data (1,000 consultations, each with a counselor and
  a seeker of its own, all reaching their no-show moment at the same instant).
- `bench.load`: the bounded load generator (threads, one keep-alive client each).

Speed is measured here only; no test asserts it. See docs/performance.md.
"""
