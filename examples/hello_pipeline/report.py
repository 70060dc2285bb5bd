"""Step 3: join what the two analysis notebooks produced into one report."""

import json

with open("output/summary.json") as handle:
    summary = json.load(handle)
with open("output/stations.json") as handle:
    stations = json.load(handle)

lines = [f"{summary['count']} measurements, mean {summary['mean']:.2f} °C, max {summary['max']:.2f} °C"]
lines += [f"  {name}: {mean:.2f} °C" for name, mean in sorted(stations.items())]
with open("output/report.txt", "w") as handle:
    handle.write("\n".join(lines) + "\n")
print("\n".join(lines))
