"""BMAT's ``demo_file``: a CSV of song plays (``Song,Date,Number of Plays``) of a given size.

Vectorised: rows are made a block of ~1M at a time with numpy (which song, which day, how
many plays) and Arrow string kernels (take + join), and the block's text buffer is written
to the file as it is. No Python code runs per row.

* Songs: each row picks uniformly one of ``songs`` distinct titles built from word lists
  ("Blue in the Rain Serenade", "Diamond, Actually Swing (Remix)"; ~7M combinations, then
  "... No. 2"); ~18% contain a comma and are quoted as CSV requires. The default is high
  cardinality, one song per ~10 rows, so almost every (song, date) pair is its own group:
  1 GB is ~18.9M rows of ~53 bytes, ~1.87M songs, ~18.7M distinct (song, date) groups.
* Dates: one year, 2023-01-01 .. 2023-12-31, written YYYY-MM-DD, uniform.
* Plays: 1..10,000, log-uniform (skewed towards small numbers).
* The same seed gives the same bytes.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HEADER = b"Song,Date,Number of Plays\n"
BLOCK_ROWS = 1 << 20
YEAR_START = np.datetime64("2023-01-01")
DAYS = 365
MAX_PLAYS = 10_000
ROWS_PER_SONG = 10


def _split(text: str) -> list[str]:
    return text.split()


_FIRST = _split(
    "Blue Golden Silver Midnight Electric Broken Wild Lonely Sweet Burning Dancing Falling "
    "Running Dreaming Singing Crying Shining Fading Rolling Flying Velvet Crimson Neon "
    "Summer Winter Autumn Spring Morning Evening Northern Southern Eastern Western Little "
    "Secret Hidden Endless Restless Fearless Careless Gentle Savage Holy Crazy Lucky Stolen "
    "Frozen Hollow Distant Tender Bitter Sugar Honey Cosmic Lunar Solar Paper Glass Iron "
    "Diamond Satin Silent Thunder Rainy Sunny Starry Cloudy Misty Stormy Purple Scarlet "
    "Emerald Ivory Amber Wicked Faithful Reckless Sleepless Yellow Rebel Gypsy Cherry"
)
_NOUNS = _split(
    "Rain Moon Heart Fire River Night Road Sky Dream Love Light City Ocean Thunder Rose "
    "Star Soul Shadow Summer Highway"
)
_BRIDGES = [
    f" {place} {noun}"
    for place in ("in the", "of the", "on the", "under the", "by the")
    for noun in _NOUNS
] + [f", {w}" for w in ("Baby", "Actually", "Darling", "Again", "Goodbye", "My Love", "Tonight")]
_TAILS = _split(
    "Serenade Blues Song Ballad Waltz Lullaby Anthem Rhapsody Boogie Shuffle Groove Dance "
    "Parade Fever Party Memories Symphony Story Heartbeat Train Express Motel Cafe Radio "
    "Romance Confession Letter Promise Prayer Medley Hymn Overture Sonata Requiem Reverie "
    "Nocturne Jive Stomp Twist Swing Tango Rumba Mambo Polka Reel Jig Chant Carol Echo "
    "Stroll"
)
_SUFFIXES = (
    "",
    " (Live)",
    " (Remix)",
    " (Acoustic)",
    " (Radio Edit)",
    " (Remastered 2011)",
    " (Demo)",
    " (Extended Mix)",
    ", Pt. 2",
    " (Unplugged)",
    " (Instrumental)",
    " (feat. The Band)",
    ", Reprise",
    " (Mono)",
    " (Single Version)",
    " (Club Mix)",
)
_SCRAMBLE = 2_654_435_761  # a prime that does not divide the pool capacity: a bijection


def _words() -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    return pa.array(_FIRST), pa.array(_BRIDGES), pa.array(_TAILS), pa.array(_SUFFIXES)


def song_titles(songs: int, seed: int = 0) -> pa.Array:
    """``songs`` distinct titles (unquoted), built from the word lists by mixed radix."""
    first, bridge, tail, suffix = _words()
    sizes = [len(first), len(bridge), len(tail), len(suffix)]
    capacity = int(np.prod(sizes))
    index = np.arange(songs, dtype=np.int64)
    code = (index % capacity * _SCRAMBLE + seed * 7919) % capacity
    digits = []
    for size in sizes:
        digits.append(pa.array(code % size))
        code //= size
    title = pc.binary_join_element_wise(
        first.take(digits[0]),
        bridge.take(digits[1]),
        pc.binary_join_element_wise(" ", tail.take(digits[2]), ""),
        suffix.take(digits[3]),
        "",
    )
    if songs > capacity:  # past the combinations: "... No. 2", "... No. 3"
        lap = pa.array(index // capacity + 1)
        numbered = pc.binary_join_element_wise(title, " No. ", pc.cast(lap, pa.string()), "")
        title = pc.if_else(pc.greater(lap, 1), numbered, title)
    return title


def _csv_quoted(titles: pa.Array) -> pa.Array:
    needs = pc.match_substring_regex(titles, '[",\\n]')
    doubled = pc.replace_substring(titles, '"', '""')
    return pc.if_else(needs, pc.binary_join_element_wise('"', doubled, '"', ""), titles)


def _block_text(
    rng: np.random.Generator, rows: int, songs: pa.Array, dates: pa.Array, plays: pa.Array
) -> pa.Array:
    song = rng.integers(0, len(songs), rows)
    day = rng.integers(0, DAYS, rows)
    count = np.exp(rng.random(rows) * np.log(MAX_PLAYS + 1)).astype(np.int64)
    count = np.clip(count, 1, MAX_PLAYS)
    return pc.binary_join_element_wise(
        songs.take(pa.array(song)), dates.take(pa.array(day)), plays.take(pa.array(count)), ","
    )


def _average_row_bytes() -> float:
    sample = song_titles(4096)
    quoted = _csv_quoted(sample)
    title = pc.mean(pc.binary_length(quoted)).as_py()
    mean_plays_digits = 3.2  # log-uniform over 1..10,000
    return float(title) + len(",2023-01-01,") + mean_plays_digits + 1


def write_demo_data(
    path: str | Path, target_bytes: int, songs: int | None = None, seed: int = 0
) -> dict[str, int]:
    """Write a demo CSV of at most ``target_bytes`` bytes (the header included; it stops at
    the last whole row that fits). Returns {rows, bytes, songs}."""
    if target_bytes < len(HEADER):
        raise ValueError(f"target_bytes must be at least {len(HEADER)} (the header)")
    row_bytes = _average_row_bytes()
    if songs is None:
        songs = max(1, int(target_bytes / row_bytes / ROWS_PER_SONG))
    if songs < 1:
        raise ValueError("songs must be at least 1")
    rng = np.random.default_rng(seed)
    titles = _csv_quoted(song_titles(songs, seed))
    day_text = np.arange(YEAR_START, YEAR_START + DAYS).astype(str)
    dates = pa.array(day_text.tolist())
    plays = pa.array(np.char.add(np.arange(MAX_PLAYS + 1).astype(str), "\n").tolist())

    written = len(HEADER)
    rows = 0
    with open(path, "wb") as out:
        out.write(HEADER)
        while written < target_bytes:
            wanted = int((target_bytes - written) / row_bytes * 1.05) + 64
            text = _block_text(rng, min(BLOCK_ROWS, wanted), titles, dates, plays)
            offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[: len(text) + 1]
            ends = offsets[1:] - offsets[0]
            fit = int(np.searchsorted(ends, target_bytes - written, side="right"))
            if fit == 0:
                break
            size = int(ends[fit - 1])
            data = text.buffers()[2]
            out.write(memoryview(data)[int(offsets[0]) : int(offsets[0]) + size])
            written += size
            rows += fit
            if fit < len(text):
                break
    return {"rows": rows, "bytes": written, "songs": songs}


_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "KB": 10**3, "MB": 10**6, "GB": 10**9}
_UNITS |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "T": 10**12, "TB": 10**12}


def parse_size(text: str) -> int:
    """``"1000"``, ``"500M"``, ``"1GB"``, ``"2GiB"``, ``"1e9"`` as a number of bytes."""
    match = re.fullmatch(r"\s*([0-9.eE+]+)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).upper() not in _UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 1000, 500M, 1GB)")
    try:
        return int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}") from error


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sluice demo-data", description="Write BMAT-style demo data: Song,Date,Number of Plays"
    )
    parser.add_argument("--bytes", type=parse_size, required=True, help="size, e.g. 1GB")
    parser.add_argument("--out", type=Path, required=True, help="the CSV file to write")
    parser.add_argument("--songs", type=int, default=None, help="distinct songs (default ~rows/10)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    result = write_demo_data(args.out, args.bytes, args.songs, args.seed)
    seconds = max(time.perf_counter() - began, 1e-9)
    print(
        f"rows={result['rows']} bytes={result['bytes']} songs={result['songs']}"
        f" seconds={seconds:.2f} MB/s={result['bytes'] / seconds / 1e6:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
