#!/usr/bin/env python3
"""Prints README.md's result tables from a run's results.json, so every figure quoted
there comes from one file:
`python3 scripts/readme-tables.py docs/sample-run/results.json [scenario:clients ...]`
(with no selection, every closed-loop scenario and concurrency).

One markdown table per (scenario, concurrency) of the closed-loop runs, floors first:
ops/s, p50 and p99 latency, socket bytes per op each way, server and client CPU per op.
"""
import json
import sys

FLOORS = ["tcp-floor", "http1-floor", "h2-floor"]
APIS = ["rest", "graphql", "grpc", "wire"]
SCENARIOS = ["get_event", "list_events", "search_events", "event_detail", "seat_map",
             "hold_cancel", "contended_hold"]


def number(x, digits=0):
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def main(path, selection):
    with open(path) as f:
        results = json.load(f)
    runs = [r for r in results["runs"] if r.get("mode", "closed") == "closed"]
    shapes = sorted({r["concurrency"] for r in runs})
    for scenario in SCENARIOS:
        for c in shapes:
            if selection and f"{scenario}:{c}" not in selection:
                continue
            rows = [r for r in runs if r["scenario"] == scenario and r["concurrency"] == c]
            if not rows:
                continue
            order = {p: i for i, p in enumerate(FLOORS + APIS)}
            rows.sort(key=lambda r: order.get(r["protocol"], 99))
            clients = "client" if c == 1 else "clients"
            print(f"**{scenario}, {c} {clients}**\n")
            print("| protocol | ops/s | p50 µs | p99 µs | socket B/op sent / received "
                  "| server CPU µs/op | client CPU µs/op |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for r in rows:
                b = r["bytes_per_op"]
                sent = b.get("socket_sent", b.get("wire_sent"))
                received = b.get("socket_received", b.get("wire_received"))
                flag = " (client-bound)" if r.get("client_bound") else ""
                print(f"| {r['protocol']}{flag} | {number(r['throughput_ops_s'])} "
                      f"| {number(r['latency_us']['p50'])} | {number(r['latency_us']['p99'])} "
                      f"| {number(sent)} / {number(received)} "
                      f"| {number(r.get('server_cpu_us_per_op'), 1)} "
                      f"| {number(r.get('client_cpu_us_per_op'), 1)} |")
            print()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/sample-run/results.json",
         set(sys.argv[2:]))
