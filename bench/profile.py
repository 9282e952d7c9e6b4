#!/usr/bin/env python3
"""Where the user-space instructions of a ping-pong round trip go, ideal
client against the plain client under tlsshim (callgrind, client side).

    profile.py IDEAL_SHORT.out IDEAL_LONG.out SHIM_SHORT.out SHIM_LONG.out \
               IDEAL_ROUNDS_SHORT IDEAL_ROUNDS_LONG SHIM_ROUNDS_SHORT SHIM_ROUNDS_LONG

Each pair is the same program run for a short and a long time; the growth
of a function's self cost divided by the growth in round trips is its cost
per round trip, with start-up (config, contexts, handshake) cancelled out.
Prints CSV rows for bench/results/latest.csv: the totals per round trip and
the functions that cost tlsshim the most beyond the ideal client.
"""
import re
import subprocess
import sys

LINE = re.compile(r"^\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.*)$")


def self_costs(path):
    """{function [object]: Ir} from callgrind_annotate (self cost), and the total."""
    out = subprocess.run(["callgrind_annotate", "--threshold=100", "--auto=no", path], capture_output=True,
                         text=True, check=True).stdout
    costs, total = {}, None
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        n = int(m.group(1).replace(",", ""))
        what = m.group(2).strip()
        if what.startswith("PROGRAM TOTALS"):
            total = n
            continue
        # "file:function [object]" -> "function [object basename]"
        obj = ""
        if what.endswith("]") and " [" in what:
            what, obj = what[:-1].rsplit(" [", 1)
            obj = obj.rsplit("/", 1)[-1]
        fn = what.rsplit(":", 1)[-1] if ":" in what else what
        key = f"{fn} [{obj}]" if obj else fn
        costs[key] = costs.get(key, 0) + n
    return costs, total


def per_round(short, long_, r_short, r_long):
    (cs, ts), (cl, tl) = self_costs(short), self_costs(long_)
    d = r_long - r_short
    if d <= 0:
        raise SystemExit("profile: the long run has no more round trips than the short one")
    funcs = {k: (cl.get(k, 0) - cs.get(k, 0)) / d for k in set(cs) | set(cl)}
    return funcs, (tl - ts) / d


def main():
    if len(sys.argv) != 9:
        raise SystemExit(__doc__)
    i_s, i_l, s_s, s_l = sys.argv[1:5]
    ir_s, ir_l, sr_s, sr_l = (int(x) for x in sys.argv[5:9])
    ideal, ideal_total = per_round(i_s, i_l, ir_s, ir_l)
    shim, shim_total = per_round(s_s, s_l, sr_s, sr_l)
    note = "user-space instructions per round trip; client side; callgrind slope"
    print(f"profile,1,free,pingpong,ideal,total_per_rt,{ideal_total:.0f},instr,ok,{note}")
    print(f"profile,1,free,pingpong,tlsshim,total_per_rt,{shim_total:.0f},instr,ok,{note}")
    extra = sorted(((shim.get(k, 0) - ideal.get(k, 0), k) for k in set(shim) | set(ideal)),
                   reverse=True)
    for d, k in extra[:10]:
        if d < 20:
            break
        name = k.replace(",", ";")
        print(f"profile,1,free,pingpong,tlsshim,extra:{name},{d:.0f},instr,ok,"
              f"self cost per round trip beyond the ideal client "
              f"(ideal {ideal.get(k, 0):.0f}; tlsshim {shim.get(k, 0):.0f})")


if __name__ == "__main__":
    main()
