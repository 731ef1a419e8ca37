"""Check contract §2 on every finite float32: which shortest texts double-round?

    python scripts/check_double_rounding.py      # about 11 minutes on two cores

orjson writes each float32 as its shortest round-trip text; a reader that parses that
text as float64 and then rounds to float32 (orjson, numpy, serde_json without
float_roundtrip) gets the same float32 back for all but the values this prints. The
contract says those are exactly 0x15ae43fd and 0x95ae43fd (±7.038531e-26), which the
writer spells out in more digits.
"""

from __future__ import annotations

import numpy as np
import orjson

STEP = 1 << 24


def main() -> None:
    failures: list[str] = []
    checked = 0
    for start in range(0, 1 << 32, STEP):
        bits = np.arange(start, start + STEP, dtype=np.uint64).astype(np.uint32)
        values = bits.view(np.float32)
        values = values[np.isfinite(values)]
        text = orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)
        back = np.array(orjson.loads(text), dtype=np.float64).astype(np.float32)
        wrong = np.flatnonzero(back.view(np.uint32) != values.view(np.uint32))
        failures += [f"0x{int(values.view(np.uint32)[i]):08x}" for i in wrong]
        checked += values.size
    print(f"{checked:,} finite float32 checked; shortest texts that double-round: {failures}")


if __name__ == "__main__":
    main()
