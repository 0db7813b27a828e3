"""Python 3 port of the original notebook's set_rules / apply_rules and attack_heuristics.

The Edge Investigation notebook of Apache Spot (commit 36389ef) ran these in Python 2. This port
keeps their behaviour, bugs included, so that benchmarks compare against what analysts ran:

* set_rules defines four rules and applies three (the third rule's variables are overwritten by
  the fourth before apply_rules is called);
* apply_rules rewrites the whole file once per rule: csv.reader over flow_scores.csv, int() of
  the fields at fixed positions (srcIP, dstIP, sport, dport, ipkt, ibyt = 2, 3, 4, 5, 8, 9), a
  fixed 20-column header, csv.writer into flow_scores.csv.tmp, then shutil.copyfile back (no
  fsync, no rename); every matching row is overwritten, scored or not (both are the port in
  flow_notebook.py, shared with the engine's benchmarks);
* attack_heuristics collects the distinct sources with csv, loads the file with pandas, groups
  by srcIP and prints the sources with more than 20 rows (rows, not distinct destinations).

`pandas_fan_out` is not in the original: it computes, with an idiomatic pandas group-by, the
same result as flow_edge::analysis::heuristics (distinct destinations and rows per source, above a
threshold), as the fair baseline for the Rust heuristics.

Usage: rules_heuristics.py set_rules|attack_heuristics|pandas_fan_out DAY_FOLDER
"""

import csv
import os
import sys

# set_rules/apply_rules are ported once, with the other notebook routines; this file adds the
# heuristics, which need pandas.
from flow_notebook import Paths, set_rules


class Day:
    """The notebook's globals for one day folder."""

    def __init__(self, folder):
        self.sconnect = os.path.join(folder, "flow_scores.csv")
        self.srcdict, self.dstdict, self.sportdict, self.dportdict = {}, {}, {}, {}


def attack_heuristics(day):
    import pandas as pd
    with open(day.sconnect, 'r', newline='') as f:
        reader = csv.reader(f, delimiter=',')
        next(reader)
        for row in reader:
            if row[2] not in day.srcdict:
                day.srcdict[row[2]] = row[2]
            if row[3] not in day.dstdict:
                day.dstdict[row[3]] = row[3]
            if row[4] not in day.sportdict:
                day.sportdict[row[4]] = row[4]
            if row[5] not in day.dportdict:
                day.dportdict[row[5]] = row[5]

    df = pd.read_csv(day.sconnect)
    gb = df.groupby(['srcIP'])

    for srcip in day.srcdict:
        try:
            if len(gb.get_group((srcip,))) > 20:
                print(srcip, 'connects:', len(gb.get_group((srcip,))))
        except KeyError:
            print("Key Error for ip: " + srcip)


def pandas_fan_out(day, threshold=20):
    import pandas as pd
    df = pd.read_csv(day.sconnect, usecols=["srcIP", "dstIP"], dtype=str)
    counts = df.groupby("srcIP").agg(destinations=("dstIP", "nunique"), rows=("dstIP", "size"))
    above = counts[counts.destinations > threshold].reset_index()
    above = above.sort_values(["destinations", "rows", "srcIP"], ascending=[False, False, True])
    for ip, destinations, rows in above.itertuples(index=False):
        print(ip, destinations, rows)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("set_rules", "attack_heuristics", "pandas_fan_out"):
        sys.exit(__doc__)
    if sys.argv[1] == "set_rules":
        set_rules(Paths(sys.argv[2]))
        return
    day = Day(sys.argv[2])
    {"attack_heuristics": attack_heuristics, "pandas_fan_out": pandas_fan_out}[sys.argv[1]](day)


if __name__ == "__main__":
    main()
