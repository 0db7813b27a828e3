"""Python 3 port of the original notebook's set_rules / apply_rules and attack_heuristics.

The Edge Investigation notebook of Apache Spot (commit 36389ef) ran these in Python 2. This port
keeps their behaviour, bugs included, so that benchmarks compare against what analysts ran:

* set_rules defines four rules and applies three (the third rule's variables are overwritten by
  the fourth before apply_rules is called);
* apply_rules rewrites the whole file once per rule: csv.reader over flow_scores.csv, int() of
  the fields at fixed positions (srcIP, dstIP, sport, dport, ipkt, ibyt = 2, 3, 4, 5, 8, 9), a
  fixed 20-column header, csv.writer into flow_scores.csv.tmp, then shutil.copyfile back (no
  fsync, no rename); every matching row is overwritten, scored or not;
* attack_heuristics collects the distinct sources with csv, loads the file with pandas, groups
  by srcIP and prints the sources with more than 20 rows (rows, not distinct destinations).

`pandas_fan_out` is not in the original: it computes, with an idiomatic pandas group-by, the
same result as flow_edge::heuristics (distinct destinations and rows per source, above a
threshold), as the fair baseline for the Rust heuristics.

Usage: rules_heuristics.py set_rules|attack_heuristics|pandas_fan_out DAY_FOLDER
"""

import csv
import os
import shutil
import sys

HEADER = ["sev", "tstart", "srcIP", "dstIP", "sport", "dport", "proto", "flag", "ipkt", "ibyt",
          "lda_score", "rank", "srcIpInternal", "destIpInternal", "srcGeo", "dstGeo",
          "srcDomain", "dstDomain", "srcIP_rep", "dstIP_rep"]


class Day:
    """The notebook's globals for one day folder."""

    def __init__(self, folder):
        self.sconnect = os.path.join(folder, "flow_scores.csv")
        self.tmpconnect = self.sconnect + ".tmp"
        self.srcdict, self.dstdict, self.sportdict, self.dportdict = {}, {}, {}, {}


def set_rules(day):
    rops = ['leq', 'leq', 'leq', 'leq', 'leq', 'leq']
    rvals = ['', '', '', 1024, '', 54]
    risk = 2
    apply_rules(day, rops, rvals, risk)
    rops = ['leq', 'leq', 'leq', 'leq', 'eq', 'eq']
    rvals = ['', '', '', 1024, 3, 152]
    risk = 2
    apply_rules(day, rops, rvals, risk)
    rops = ['leq', 'leq', 'leq', 'leq', 'eq', 'eq']
    rvals = ['', '', '', 1024, 2, 104]
    risk = 2
    rops = ['leq', 'leq', 'eq', 'leq', 'leq', 'leq']
    rvals = ['', '', 0, 1023, '', '']
    risk = 2
    apply_rules(day, rops, rvals, risk)


def apply_rules(day, rops, rvals, risk):
    rhash = 0
    rfhash = [2, 3, 4, 5, 8, 9]
    for k in range(len(rvals)):
        if rvals[k] != '':
            rhash += 2 ** k
    with open(day.tmpconnect, 'w', newline='') as g:
        riter = csv.writer(g, delimiter=',')
        riter.writerow(HEADER)
        with open(day.sconnect, 'r', newline='') as f:
            reader = csv.reader(f, delimiter=',')
            next(reader)
            rowct = 1
            for row in reader:
                result = 0
                for n in range(0, 6):
                    if (2 ** n & rhash) > 0:
                        if rops[n] == 'leq':
                            if int(row[rfhash[n]]) <= int(rvals[n]):
                                result += 2 ** n
                        if rops[n] == 'eq':
                            if int(row[rfhash[n]]) == int(rvals[n]):
                                result += 2 ** n
                if result == rhash:
                    row[0] = risk
                    rowct += 1
                riter.writerow(row)
    shutil.copyfile(day.tmpconnect, day.sconnect)


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
    day = Day(sys.argv[2])
    {"set_rules": set_rules, "attack_heuristics": attack_heuristics,
     "pandas_fan_out": pandas_fan_out}[sys.argv[1]](day)


if __name__ == "__main__":
    main()
