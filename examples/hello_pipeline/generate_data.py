"""Step 1: write a small data set the next steps share (size from the ROWS pipeline parameter)."""

import csv
import os
import random

rows = int(os.environ.get("ROWS", "100"))
random.seed(int(os.environ.get("SEED", "7")))
os.makedirs("output", exist_ok=True)
with open("output/measurements.csv", "w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["station", "temperature"])
    for index in range(rows):
        writer.writerow([f"station-{index % 5}", round(random.gauss(15, 6), 2)])
print(f"wrote {rows} rows to output/measurements.csv")
