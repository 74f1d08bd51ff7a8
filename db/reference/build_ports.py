"""Regenerate ``ports.csv.gz`` from the public UN/LOCODE 2023-1 code list.

The list ships offline in the PyPI package ``pyunlocode`` (install the ``refdata`` extra). Only
locations with the port (function 1) or airport (function 4) flag are kept, with the country
converted to ISO 3166-1 alpha-3. Run: ``python -m db.reference.build_ports``.
"""

import csv
import glob
import gzip
import io
import os
from pathlib import Path

import pycountry
import pyunlocode

OUTPUT = Path(__file__).with_name("ports.csv.gz")


def main() -> None:
    source = Path(os.path.dirname(pyunlocode.__file__)) / "csv"
    rows: dict[str, tuple[str, str, str, int, int]] = {}
    for path in sorted(glob.glob(str(source / "*CodeListPart*.csv"))):
        with open(path, encoding="latin-1", newline="") as handle:
            for change, alpha2, place, name, _ascii_name, _sub, function, *_ in csv.reader(handle):
                if not place or change in {"X", "x", "="}:
                    continue
                is_seaport, is_airport = function[:1] == "1", function[3:4] == "4"
                country = pycountry.countries.get(alpha_2=alpha2)
                if not (is_seaport or is_airport) or country is None:
                    continue
                code = alpha2 + place
                rows[code] = (code, name, country.alpha_3, int(is_seaport), int(is_airport))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code", "name", "country", "seaport", "airport"])
    writer.writerows(sorted(rows.values()))
    OUTPUT.write_bytes(gzip.compress(buffer.getvalue().encode(), mtime=0))
    print(f"{len(rows)} ports written to {OUTPUT}")


if __name__ == "__main__":
    main()
