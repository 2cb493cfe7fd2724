#!/usr/bin/env python3
"""A minimal UDP DNS client for the benchmarks (standard library only, no process per query).

  dnsprobe.py check SERVER:PORT check.tsv [--no-additional]
                                              compare answers with the expected ones (from gen.py); exit 1 on
                                              any difference, printing the first few; --no-additional: do not
                                              require the SRV targets' A records in the additional section
                                              (unbound's local-data does not add them)
  dnsprobe.py wait SERVER:PORT NAME TYPE [EXPECTED] [--timeout S]
                                              poll until NAME answers NOERROR (with EXPECTED among the answers)
  dnsprobe.py query SERVER:PORT NAME [TYPE]   print one answer (rcode, answer, additional)

Also imported by reg_to_answer.py (Resolver.query).
"""
import os
import socket
import struct
import sys
import time

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "TXT": 16, "AAAA": 28, "SRV": 33, "OPT": 41}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def encode_query(qid, name, qtype):
    out = bytearray(struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0))  # RD set, like dig
    for label in name.rstrip(".").split("."):
        b = label.encode("ascii")
        out.append(len(b))
        out += b
    out.append(0)
    out += struct.pack(">HH", TYPES[qtype], 1)
    return bytes(out)


def read_name(msg, off):
    labels = []
    jumped = False
    end = off
    for _ in range(128):
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if not jumped:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            jumped = True
            continue
        off += 1
        if n == 0:
            break
        labels.append(msg[off:off + n].decode("ascii", "replace").lower())
        off += n
    if not jumped:
        end = off
    return ".".join(labels) + ".", end


def parse(msg):
    """Returns (id, rcode name, flags, answers, additionals, authority); records as (name, type, data)."""
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
    off = 12
    for _ in range(qd):
        _, off = read_name(msg, off)
        off += 4
    sections = []
    for count in (an, ns, ar):
        recs = []
        for _ in range(count):
            name, off = read_name(msg, off)
            rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
            off += 10
            rd = msg[off:off + rdlen]
            if rtype == 1 and rdlen == 4:
                data = socket.inet_ntoa(rd)
            elif rtype == 33:
                pri, weight, port = struct.unpack(">HHH", rd[:6])
                target, _ = read_name(msg, off + 6)
                data = "%d %d %d %s" % (pri, weight, port, target)
            elif rtype in (2, 5, 12):
                data, _ = read_name(msg, off)
            else:
                data = rd.hex()
            recs.append((name, TYPE_NAMES.get(rtype, str(rtype)), data))
            off += rdlen
        sections.append(recs)
    return qid, RCODES.get(flags & 0xF, str(flags & 0xF)), flags, sections[0], sections[2], sections[1]


class Resolver:
    def __init__(self, server, port, timeout=1.0):
        self.addr = (server, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(self.addr)
        self.sock.settimeout(timeout)
        self.qid = int.from_bytes(os.urandom(2), "big")

    def query(self, name, qtype="A"):
        """One query, one answer: (rcode, answers, additionals, authority, flags); None on timeout."""
        self.qid = (self.qid + 1) & 0xFFFF
        self.sock.send(encode_query(self.qid, name, qtype))
        deadline = time.monotonic() + self.sock.gettimeout()
        while True:
            try:
                msg = self.sock.recv(65535)
            except socket.timeout:
                return None
            qid, rcode, flags, an, ar, ns = parse(msg)
            if qid == self.qid:
                return rcode, an, ar, ns, flags
            if time.monotonic() > deadline:   # a late answer to an earlier query: skip it
                return None

    def close(self):
        self.sock.close()


def hostport(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


def check(server, path, additional=True):
    r = Resolver(*hostport(server))
    bad = []
    n = 0
    with open(path) as f:
        for line in f:
            name, qtype, rcode, want, want_add = line.rstrip("\n").split("\t")
            n += 1
            res = r.query(name, qtype)
            if res is None:
                res = r.query(name, qtype)   # one retry: UDP on loopback rarely drops, but may
            if res is None:
                bad.append("%s %s: no answer (timeout)" % (name, qtype))
                continue
            got_rcode, an, ar, _ns, _flags = res
            problems = []
            if got_rcode != rcode:
                problems.append("rcode %s, expected %s" % (got_rcode, rcode))
            if want != "-":
                got = sorted(d for (nm, t, d) in an if t == qtype and nm == name.lower())
                if got != sorted(want.split(";")):
                    problems.append("answer %s, expected %s" % (got or "none", want))
            if want_add != "-" and additional:
                got_add = {"%s=%s" % (nm, d) for (nm, t, d) in ar if t == "A"}
                missing = [x for x in want_add.split(";") if x not in got_add]
                if missing:
                    problems.append("additional A %s missing (got %s)" % (",".join(missing), sorted(got_add) or "none"))
            if problems:
                bad.append("%s %s: %s" % (name, qtype, "; ".join(problems)))
    r.close()
    return n, bad


def main(argv):
    if len(argv) < 3 or argv[0] not in ("check", "wait", "query"):
        print(__doc__, file=sys.stderr)
        return 2
    cmd, server = argv[0], argv[1]
    if cmd == "check":
        n, bad = check(server, argv[2], "--no-additional" not in argv[3:])
        for b in bad[:10]:
            print("  " + b)
        if len(bad) > 10:
            print("  … and %d more" % (len(bad) - 10))
        print("%d of %d names answered as expected" % (n - len(bad), n))
        return 1 if bad else 0
    if cmd == "query":
        res = Resolver(*hostport(server)).query(argv[2], argv[3] if len(argv) > 3 else "A")
        if res is None:
            print("timeout")
            return 1
        rcode, an, ar, ns, flags = res
        print(rcode, "aa" if flags & 0x0400 else "", "tc" if flags & 0x0200 else "")
        for sec, recs in (("answer", an), ("authority", ns), ("additional", ar)):
            for rec in recs:
                print("  %-10s %s %s %s" % (sec, *rec))
        return 0
    # wait
    timeout = 60.0
    args = list(argv[2:])
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i:i + 2]
    name, qtype = args[0], (args[1] if len(args) > 1 else "A")
    expected = args[2] if len(args) > 2 else None
    r = Resolver(*hostport(server), timeout=0.5)
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            res = r.query(name, qtype)
        except OSError as e:   # e.g. ECONNREFUSED while the server is not up yet
            res, last = None, str(e)
            time.sleep(0.1)
        if res is not None:
            rcode, an, _ar, _ns, _f = res
            last = rcode
            if rcode == "NOERROR" and an and (expected is None or any(d == expected for (_n, _t, d) in an)):
                return 0
            time.sleep(0.05)
    print("%s %s: no expected answer after %.0fs (last: %s)" % (name, qtype, timeout, last), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
