"""The peer: plain Keras ``model.fit`` on NumPy arrays already in memory, the way the
original (MAID) trains. Run as its own process; prints one JSON line."""

from __future__ import annotations

import json
import os
import sys
import time

from sluice import heap

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(csv_path: str, epochs: int, batch_size: int, validation: float, test: float) -> None:
    import keras
    import numpy as np
    import pyarrow.csv as pcsv

    table = pcsv.read_csv(csv_path)
    x = np.column_stack([table.column(i).to_numpy() for i in range(table.num_columns - 1)])
    x = x.astype(np.float32)
    y = table.column(table.num_columns - 1).to_numpy().astype(np.float32).reshape(-1, 1)
    rng = np.random.default_rng(42)
    order = rng.permutation(len(y))
    train_rows = int(len(y) * (1 - validation - test))
    val_rows = int(len(y) * validation)
    train, val = order[:train_rows], order[train_rows : train_rows + val_rows]
    keras.utils.set_random_seed(42)
    inputs = keras.Input((x.shape[1],))
    hidden = keras.layers.Dense(64, activation="relu")(inputs)
    hidden = keras.layers.Dense(64, activation="relu")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    began = time.perf_counter()
    model.fit(
        x[train],
        y[train],
        validation_data=(x[val], y[val]),
        epochs=epochs,
        batch_size=batch_size,
        verbose=0,
    )
    took = time.perf_counter() - began
    print(
        json.dumps(
            {
                "samples_per_s": round(train_rows * epochs / took, 1),
                "train_s": round(took, 3),
                "peak_rss_mb": round(heap.peak_rss_mb(), 1),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]))
