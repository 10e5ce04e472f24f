"""The output folder and its one owner: nothing else builds a path in it or writes there directly.

* ``layout`` — every path under ``--out``;
* ``folder`` — open the folder for a run: take the lock, repair what an interrupted run left;
* ``lock`` — one live run per folder (``flock``; a killed run's lock is taken over);
* ``commit`` — a stage's results staged and committed as a whole (journal, atomic swaps);
* ``atomic`` — single files written whole (temporary name, flush, rename);
* ``raw`` — originals, received a chunk at a time and stored by sha256;
* ``crawl_log`` and ``manifest`` — each crawl's log of files, merged into ``files.parquet``;
* ``work`` — the normaliser's per-file parses and per-council build records;
* ``parquet_io`` and ``errors`` — tolerant reads, and failures named by path;
* ``remote``, ``sync`` and ``s3lock`` — an ``s3://`` output: the local working copy that stands for
  it, each commit published to the bucket as a snapshot, and the bucket's lock.
"""
