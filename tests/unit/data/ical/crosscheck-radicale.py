#!/usr/bin/python3
"""Cross-check of time-range answers with Radicale's own evaluation
(radicale.item.filter, from the Debian package). Prints each case with
Radicale's answer and the one test-ical.c asserts; exits 1 on a
disagreement that is not listed as a known difference of Radicale.

Run: /usr/bin/python3 tests/unit/data/ical/crosscheck-radicale.py
"""
import os
import sys
import xml.etree.ElementTree as ET

import vobject
from radicale.item import filter as rfilter

HERE = os.path.dirname(os.path.abspath(__file__))

# (file, component, start, end, answer asserted by test-ical.c)
CASES = [
    ("berlin-weekly.ics", "VEVENT", "20260312T090000Z", "20260312T091500Z", True),
    ("berlin-weekly.ics", "VEVENT", "20260312T080000Z", "20260312T090000Z", False),
    ("berlin-weekly.ics", "VEVENT", "20260319T000000Z", "20260320T000000Z", False),
    ("berlin-weekly.ics", "VEVENT", "20260320T144500Z", "20260320T150000Z", True),
    ("berlin-weekly.ics", "VEVENT", "20260409T080000Z", "20260409T081000Z", True),
    ("berlin-weekly.ics", "VEVENT", "20260409T090000Z", "20260409T100000Z", False),
    ("berlin-weekly.ics", "VEVENT", "20260402T080000Z", "20260402T090000Z", False),
    ("berlin-weekly.ics", "VEVENT", "20260402T131500Z", "20260402T133000Z", True),
    ("berlin-weekly.ics", "VEVENT", "20260416T000000Z", "20260501T000000Z", False),
    ("ny-daily-open.ics", "VEVENT", "20260309T131500Z", "20260309T132000Z", True),
    ("ny-daily-open.ics", "VEVENT", "20260309T140000Z", "20260309T143000Z", False),
    ("allday.ics", "VEVENT", "20260311T230000Z", "20260311T233000Z", True),
    ("allday.ics", "VEVENT", "20260312T000000Z", "20260312T010000Z", False),
    ("journal.ics", "VJOURNAL", "20260310T120000Z", "20260310T130000Z", True),
    ("journal.ics", "VJOURNAL", "20260311T000000Z", "20260312T000000Z", False),
]


def radicale_answer(path, comp, start, end):
    with open(path, encoding="utf-8") as f:
        item = vobject.readOne(f.read())
    tr = ET.Element("{urn:ietf:params:xml:ns:caldav}time-range",
                    {"start": start, "end": end})
    return rfilter.time_range_match(item, tr, comp)


def main():
    bad = 0
    for name, comp, start, end, ours in CASES:
        theirs = radicale_answer(os.path.join(HERE, name), comp, start, end)
        flag = "ok" if theirs == ours else "DIFFERENT"
        if theirs != ours:
            bad += 1
        print("%-20s %-8s %s..%s cairn=%s radicale=%s %s"
              % (name, comp, start, end, ours, theirs, flag))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
