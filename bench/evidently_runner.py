"""Run Evidently's DataDriftPreset on frames saved by bench_evidently.py (in the peer venv).

Prints one JSON line: seconds, peak memory above the loaded frames, and the columns Evidently
flags. Self-contained: it cannot import readiness (another pandas major version).
"""

import json
import sys
import time

import numpy as np
import pandas as pd

MISSING = "__missing__"


def status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def load(path: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    data = np.load(path, allow_pickle=False)
    frames = []
    for side in ("reference", "current"):
        columns = {}
        for key in data.files:
            prefix, name = key.split("__", 1)
            if prefix == side:
                values = data[key]
                if values.dtype.kind == "U":
                    values = pd.Series(values, dtype=object).replace(MISSING, None)
                columns[name] = values
        frames.append(pd.DataFrame(columns))
    return frames[0], frames[1]


def main() -> None:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    reference, current = load(sys.argv[1])
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # reset the peak-RSS mark now that the frames exist
    except OSError:
        pass
    before = status_kb("VmRSS")
    started = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
    seconds = time.perf_counter() - started
    peak = status_kb("VmHWM")
    drifted, methods = [], {}
    for metric in snapshot.dict()["metrics"]:
        config = metric.get("config", {})
        if "ValueDrift" not in str(config.get("type", "")):
            continue
        value, threshold, method = float(metric["value"]), float(config["threshold"]), config["method"]
        methods[config["column"]] = method
        is_p_value = "p_value" in method.lower() or "p-value" in method.lower()
        if (value < threshold) if is_p_value else (value >= threshold):
            drifted.append(config["column"])
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mb": (peak - before) / 1024,
                "drifted": sorted(drifted),
                "methods": methods,
            }
        )
    )


if __name__ == "__main__":
    main()
