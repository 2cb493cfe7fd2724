#!/usr/bin/env python3
"""Generates the DNS benchmark's data set: the services to register in weft, the same records as a knot zone
file and as unbound local-data, and dnsperf query files. Deterministic for a given seed.

Names (domain weft., datacenter dc1, as weft answers them):
  A services    a<i>.service.weft.           A   10.1.x.y      i in 0 .. A_SERVICES-1
  SRV services  _s<j>._tcp.service.weft.     SRV 1 1 <port> <hex-ip>.addr.dc1.weft.   (+ that name's A 10.2.x.y)
                s<j>.service.weft.           A   10.2.x.y
  NXDOMAIN      nx<k>.service.weft.          (no such service)
Every service has one instance with its own Address, so weft's SRV target is <hex-ip>.addr.dc1.<domain>.

Output files in --out:
  services.tsv    node, node address, service ID/name, address, port (one line per registration)
  weft.zone       knot's zone file (SOA, NS, every A/SRV and the SRV targets' A records)
  unbound-local.conf   local-zone "weft." static + local-data lines (included into unbound.conf)
  queries-a.txt   dnsperf input: A lookups of the A services, each once, shuffled
  queries-mix.txt dnsperf input: 70 % A, 20 % SRV, 10 % NXDOMAIN, shuffled (--mix-queries lines; the A and SRV
                  lines cycle through all services, the NXDOMAIN lines through --nx-names distinct names)
  check.tsv       a sample of names with the expected answer (used by dnsprobe.py check)
"""
import argparse
import os
import random


def a_addr(i):
    i += 1  # no x.y.z.0
    return "10.1.%d.%d" % ((i >> 8) & 255, i & 255) if i < 65536 else "10.%d.%d.%d" % (
        3 + (i >> 16), (i >> 8) & 255, i & 255)


def s_addr(j):
    j += 1
    return "10.2.%d.%d" % ((j >> 8) & 255, j & 255)


def hexip(ip):
    return "".join("%02x" % int(o) for o in ip.split("."))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--a-services", type=int, default=10000)
    ap.add_argument("--srv-services", type=int, default=1000)
    ap.add_argument("--nodes", type=int, default=100, help="catalog nodes the instances are spread over")
    ap.add_argument("--mix-queries", type=int, default=100000, help="lines in queries-mix.txt")
    ap.add_argument("--srv-percent", type=int, default=20)
    ap.add_argument("--nx-percent", type=int, default=10)
    ap.add_argument("--nx-names", type=int, default=0,
                    help="distinct NXDOMAIN names in queries-mix.txt (default 0: one per NXDOMAIN line)")
    ap.add_argument("--domain", default="weft.")
    ap.add_argument("--dc", default="dc1")
    ap.add_argument("--seed", type=int, default=42)
    o = ap.parse_args()
    if o.a_services > 65536 * 200:
        ap.error("too many services")
    if o.srv_services > 65535:
        ap.error("at most 65535 SRV services")
    dom = o.domain.rstrip(".") + "."
    os.makedirs(o.out, exist_ok=True)
    rnd = random.Random(o.seed)

    a = [("a%05d" % i, a_addr(i), 8000 + i % 1000) for i in range(o.a_services)]
    s = [("s%04d" % j, s_addr(j), 9000 + j % 1000) for j in range(o.srv_services)]

    # Registrations: SRV services first so that waiting for the last A service covers everything.
    with open(os.path.join(o.out, "services.tsv"), "w") as f:
        for n, (name, ip, port) in enumerate(s + a):
            node = n % o.nodes
            f.write("bench-n%03d\t10.255.%d.%d\t%s\t%s\t%d\n" % (node, (node + 1) >> 8, (node + 1) & 255, name, ip, port))

    soa = "ns.%s hostmaster.%s 1 3600 600 86400 0" % (dom, dom)
    with open(os.path.join(o.out, "weft.zone"), "w") as f:
        f.write("$ORIGIN %s\n$TTL 0\n@ SOA %s\n@ NS ns.%s\nns A 127.0.0.1\n" % (dom, soa, dom))
        for name, ip, _ in a:
            f.write("%s.service A %s\n" % (name, ip))
        for name, ip, port in s:
            f.write("%s.service A %s\n" % (name, ip))
            f.write("_%s._tcp.service SRV 1 1 %d %s.addr.%s.%s\n" % (name, port, hexip(ip), o.dc, dom))
            f.write("%s.addr.%s A %s\n" % (hexip(ip), o.dc, ip))

    with open(os.path.join(o.out, "unbound-local.conf"), "w") as f:
        f.write('    local-zone: "%s" static\n' % dom)
        f.write('    local-data: "%s 0 IN SOA %s"\n' % (dom, soa))
        f.write('    local-data: "%s 0 IN NS ns.%s"\n' % (dom, dom))
        f.write('    local-data: "ns.%s 0 IN A 127.0.0.1"\n' % dom)
        for name, ip, _ in a:
            f.write('    local-data: "%s.service.%s 0 IN A %s"\n' % (name, dom, ip))
        for name, ip, port in s:
            f.write('    local-data: "%s.service.%s 0 IN A %s"\n' % (name, dom, ip))
            f.write('    local-data: "_%s._tcp.service.%s 0 IN SRV 1 1 %d %s.addr.%s.%s"\n'
                    % (name, dom, port, hexip(ip), o.dc, dom))
            f.write('    local-data: "%s.addr.%s.%s 0 IN A %s"\n' % (hexip(ip), o.dc, dom, ip))

    qa = ["%s.service.%s A" % (name, dom) for name, _, _ in a]
    rnd.shuffle(qa)
    with open(os.path.join(o.out, "queries-a.txt"), "w") as f:
        f.write("\n".join(qa) + "\n")

    mix = []
    n_srv = o.mix_queries * o.srv_percent // 100
    n_nx = o.mix_queries * o.nx_percent // 100
    n_a = o.mix_queries - n_srv - n_nx
    mix += ["%s.service.%s A" % (a[i % len(a)][0], dom) for i in range(n_a)]
    mix += ["_%s._tcp.service.%s SRV" % (s[i % len(s)][0], dom) for i in range(n_srv)] if s else []
    nx_names = o.nx_names if o.nx_names > 0 else max(1, n_nx)
    mix += ["nx%05d.service.%s A" % (i % nx_names, dom) for i in range(n_nx)]
    rnd.shuffle(mix)
    with open(os.path.join(o.out, "queries-mix.txt"), "w") as f:
        f.write("\n".join(mix) + "\n")

    # Expected answers for a sample: name, type, rcode, answer data (sorted, ";"-joined), additional A
    with open(os.path.join(o.out, "check.tsv"), "w") as f:
        for name, ip, _ in rnd.sample(a, min(200, len(a))) + ([a[-1]] if a else []):
            f.write("%s.service.%s\tA\tNOERROR\t%s\t-\n" % (name, dom, ip))
        for name, ip, port in rnd.sample(s, min(100, len(s))) + ([s[-1]] if s else []):
            tgt = "%s.addr.%s.%s" % (hexip(ip), o.dc, dom)
            f.write("_%s._tcp.service.%s\tSRV\tNOERROR\t1 1 %d %s\t%s=%s\n" % (name, dom, port, tgt, tgt, ip))
            f.write("%s.service.%s\tA\tNOERROR\t%s\t-\n" % (name, dom, ip))
        for k in range(0, min(n_nx, nx_names), max(1, min(n_nx, nx_names) // 50)):
            f.write("nx%05d.service.%s\tA\tNXDOMAIN\t-\t-\n" % (k, dom))


if __name__ == "__main__":
    main()
