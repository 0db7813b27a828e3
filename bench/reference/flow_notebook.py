#!/usr/bin/env python3
"""Python 3 port of the data routines of the original Edge Investigation notebook.

Apache Spot (incubating) at commit 36389ef,
spot-oa/oa/flow/ipynb_templates/Edge_Investigation_master.ipynb. This is the
baseline the Rust engine is measured and diff-tested against, so it keeps the
original's behaviour, bugs included:

* columns by position (sev 0, srcIP 2, dstIP 3, sport 4, dport 5, ipkt 8,
  ibyt 9, rank 11); a fixed 20-column header is written over any file;
* every row is re-written through csv.writer: minimal quoting and CRLF line
  ends;
* a row matched by both quick-IP branches is counted and fed back twice;
* feedback rows are written with QUOTE_NONE and no escape character, so a
  field holding a tab, a double quote or a line break raises csv.Error in the
  middle of the append (the flow file then stays unscored while the feedback
  file keeps the rows appended so far);
* files are replaced with shutil.copyfile (not atomic), without locking;
* save-and-sort sorts by (int(sev), float(row[11])), row 11 being rank;
* listbox values use socket.inet_aton, which fails on IPv6 addresses.

Only the Python 2 to 3 changes needed to run: print(), next(reader),
range(). Files are opened with newline='' (the csv module's rule in Python 3;
Python 2 on Linux did no newline translation either) and with the latin-1
codec, which maps every byte to one character and back, so bytes pass
through as they did in Python 2's byte strings.

The ml_feedback step (scp through a shell) and the widgets are left out;
attack_heuristics needs pandas and is left out too.

Usage (one routine per run, the day folder holding flow_scores.csv):
  flow_notebook.py lists DAY [--coff N]
  flow_notebook.py score DAY --rating R [--ip Q] [--src IP] [--dst IP] [--sport P] [--dport P]
  flow_notebook.py save DAY
  flow_notebook.py rules DAY
"""

import argparse
import csv
import json
import os
import shutil
import socket
import struct
import sys

ENCODING = 'latin-1'
SELECT = '- Select -'
HEADER = (["sev"] + ["tstart"] + ["srcIP"] + ["dstIP"] + ["sport"] + ["dport"] + ["proto"] + ["flag"] +
          ["ipkt"] + ["ibyt"] + ["lda_score"] + ["rank"] + ["srcIpInternal"] + ["destIpInternal"] +
          ["srcGeo"] + ["dstGeo"] + ["srcDomain"] + ["dstDomain"] + ["srcIP_rep"] + ["dstIP_rep"])


class Paths:
    """The notebook's globals for one day folder."""

    def __init__(self, dpath):
        dpath = dpath.rstrip('/') + '/'
        self.sconnect = dpath + 'flow_scores.csv'
        self.sconnectbu = dpath + 'flow_scores_bu.csv'
        self.score_fbk = dpath + 'flow_scores_fb.csv'
        self.tmpconnect = self.sconnect + '.tmp'
        self.stemp = self.sconnect + '.new'


def read_file(path):
    return open(path, 'r', newline='', encoding=ENCODING)


def write_file(path, mode='w'):
    return open(path, mode, newline='', encoding=ENCODING)


def listbox_values(paths, coff=250):
    """The listbox-filling loop of displaythis()."""
    srcdict, srclist = {}, []
    dstdict, dstlist = {}, []
    sportdict, sportlist = {}, []
    dportdict, dportlist = {}, []
    srclist.append(SELECT)
    dstlist.append(SELECT)
    sportlist.append(SELECT)
    dportlist.append(SELECT)
    with read_file(paths.sconnect) as f:
        reader = csv.reader(f, delimiter=',')
        next(reader)
        rowct = 1
        for row in reader:
            if row[2] not in srcdict and row[0] == '0':
                srclist.append(row[2])
                srcdict[row[2]] = struct.unpack("!L", socket.inet_aton(row[2]))[0]
            if row[3] not in dstdict and row[0] == '0':
                dstlist.append(row[3])
                dstdict[row[3]] = struct.unpack("!L", socket.inet_aton(row[3]))[0]
            if row[4] not in sportdict and row[0] == '0':
                sportlist.append(row[4])
                sportdict[row[4]] = row[4]
            if row[5] not in dportdict and row[0] == '0':
                dportlist.append(row[5])
                dportdict[row[5]] = row[5]
            if rowct == coff:
                break
            rowct += 1
    return srclist, dstlist, sportlist, dportlist


def update_sconnects(paths, srctext, srcselect, dstselect, sportselect, dportselect, risk):
    """The Score button. Widget values as the original saw them: '' for an
    empty quick IP box, '- Select -' for an untouched listbox."""
    dvals, svals = [], []
    scored_threats = []
    if srctext != '':
        svals = [srctext, dstselect, sportselect, dportselect]
        dvals = [srcselect, srctext, sportselect, dportselect]
    else:
        svals = [srcselect, dstselect, sportselect, dportselect]
        dvals = []
    shash, dhash = 0, 0
    fhash = [2, 3, 4, 5]

    for k in range(len(svals)):
        if svals[k] == SELECT:
            svals[k] = ''
        if svals[k] != '':
            shash += 2**k
        if len(dvals) > 0:
            if dvals[k] == SELECT:
                dvals[k] = ''
            if dvals[k] != '':
                dhash += 2**k

    rowct = 0
    if shash > 0 or dhash > 0:
        with write_file(paths.tmpconnect) as g:
            riter = csv.writer(g, delimiter=',')
            riter.writerow(HEADER)
            with read_file(paths.sconnect) as f:
                reader = csv.reader(f, delimiter=',')
                next(reader)
                for row in reader:
                    result, resultd = 0, 0
                    for n in range(0, len(svals)):
                        if (2**n & shash) > 0:
                            if row[fhash[n]] == svals[n]:
                                result += 2**n
                    if result == shash:
                        row[0] = risk
                        scored_threats.append(row)
                        rowct += 1

                    if len(dvals) > 0:
                        for n in range(0, len(dvals)):
                            if (2**n & dhash) > 0:
                                if row[fhash[n]] == dvals[n]:
                                    resultd += 2**n
                        if resultd == dhash:
                            row[0] = risk
                            scored_threats.append(row)
                            rowct += 1

                    riter.writerow(row)

        if not os.path.exists(paths.score_fbk):
            with write_file(paths.score_fbk) as feedback:
                wr = csv.writer(feedback, delimiter='\t', quoting=csv.QUOTE_NONE)
                wr.writerow(HEADER)

        with write_file(paths.score_fbk, 'a') as feedback:
            for row in scored_threats:
                wr = csv.writer(feedback, delimiter='\t', quoting=csv.QUOTE_NONE)
                wr.writerow(row)

        shutil.copyfile(paths.tmpconnect, paths.sconnect)

    print("{0} matching connections scored".format(rowct))
    return rowct


def savesort(paths):
    """The Save button (without the widget rebuild and the scp)."""
    with write_file(paths.stemp) as g:
        riter = csv.writer(g, delimiter=',')
        riter.writerow(HEADER)
        with read_file(paths.sconnect) as source:
            reader = csv.reader(source, delimiter=",")
            next(reader)
            srtlist = sorted(reader, key=lambda x: (int(x[0]), float(x[11])))
        riter.writerows(srtlist)

    shutil.copyfile(paths.stemp, paths.sconnect)
    print("Suspicious connects successfully updated")


def set_rules(paths):
    """The default rules: four defined, three applied (the third set of values
    is overwritten before it is applied)."""
    rops = ['leq', 'leq', 'leq', 'leq', 'leq', 'leq']
    rvals = ['', '', '', 1024, '', 54]
    risk = 2
    apply_rules(paths, rops, rvals, risk)
    rops = ['leq', 'leq', 'leq', 'leq', 'eq', 'eq']
    rvals = ['', '', '', 1024, 3, 152]
    risk = 2
    apply_rules(paths, rops, rvals, risk)
    rops = ['leq', 'leq', 'leq', 'leq', 'eq', 'eq']
    rvals = ['', '', '', 1024, 2, 104]
    risk = 2
    rops = ['leq', 'leq', 'eq', 'leq', 'leq', 'leq']
    rvals = ['', '', 0, 1023, '', '']
    risk = 2

    apply_rules(paths, rops, rvals, risk)


def apply_rules(paths, rops, rvals, risk):
    rhash = 0
    rfhash = [2, 3, 4, 5, 8, 9]
    for k in range(len(rvals)):
        if rvals[k] != '':
            rhash += 2**k
    with write_file(paths.tmpconnect) as g:
        riter = csv.writer(g, delimiter=',')
        riter.writerow(HEADER)

        with read_file(paths.sconnect) as f:
            reader = csv.reader(f, delimiter=',')
            next(reader)
            rowct = 1
            for row in reader:
                result = 0
                for n in range(0, 6):
                    if (2**n & rhash) > 0:
                        if rops[n] == 'leq':
                            if int(row[rfhash[n]]) <= int(rvals[n]):
                                result += 2**n
                        if rops[n] == 'eq':
                            if int(row[rfhash[n]]) == int(rvals[n]):
                                result += 2**n
                if result == rhash:
                    row[0] = risk
                    rowct += 1
                riter.writerow(row)
    shutil.copyfile(paths.tmpconnect, paths.sconnect)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('command', choices=['lists', 'score', 'save', 'rules'])
    parser.add_argument('day')
    parser.add_argument('--coff', type=int, default=250)
    parser.add_argument('--rating', default='1')
    parser.add_argument('--ip', default='')
    parser.add_argument('--src', default=SELECT)
    parser.add_argument('--dst', default=SELECT)
    parser.add_argument('--sport', default=SELECT)
    parser.add_argument('--dport', default=SELECT)
    args = parser.parse_args(argv)
    paths = Paths(args.day)
    if args.command == 'lists':
        lists = listbox_values(paths, args.coff)
        print(json.dumps(dict(zip(['src_ips', 'dst_ips', 'sports', 'dports'], lists))))
    elif args.command == 'score':
        update_sconnects(paths, args.ip, args.src, args.dst, args.sport, args.dport, args.rating)
    elif args.command == 'save':
        savesort(paths)
    else:
        set_rules(paths)


if __name__ == '__main__':
    main(sys.argv[1:])
