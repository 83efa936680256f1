#!/usr/bin/env python3
"""Helper of bench/run (Python 3.11 standard library only).

  report.py check KIND STATUS BODY   check one probe response; print "ok ..." or "FAIL ..."
                                     (KIND total prints expansion.total alone)
  report.py paths CODE_LIST DIR      write the rotating rows' request lists (KIND<TAB>PATH) into DIR
  report.py table FACTS              print the benchmark table from bench/run's facts file
  report.py failed FACTS             exit 1 (naming the rows) when a row failed
"""

import json
import re
import statistics
import sys

ICD_WHOLE_MIN = 90_000  # ICD-10-CM 2026 has about 98,000 codes


def fail(message):
    print(f"FAIL {message}")
    sys.exit(1)


def parameter(parameters, name):
    for entry in parameters.get("parameter", []):
        if entry.get("name") == name:
            for key, value in entry.items():
                if key.startswith("value"):
                    return value
            return entry
    return None


def count_codes(contains):
    """Codes in an expansion, nested ones included (ICD-10-CM expands as a hierarchy)."""
    return sum(1 + count_codes(entry.get("contains", [])) for entry in contains)


def check(kind, status, path):
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if status != "200":
        detail = raw[:300].decode("utf-8", "replace").replace("\n", " ")
        if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
            detail = "; ".join(issue.get("diagnostics") or issue.get("details", {}).get("text", "") for issue in body.get("issue", []))
        fail(f"HTTP {status}: {detail[:200]}")
    if not isinstance(body, dict):
        fail("the answer is not JSON")
    if kind == "live":
        if body.get("status") != "live":
            fail(f"unexpected liveness answer {body}")
        print("ok")
    elif kind in ("valid", "invalid"):
        result = parameter(body, "result")
        if result is not (kind == "valid"):
            fail(f"result={result} ({parameter(body, 'message')})")
        print(f"ok result={str(result).lower()}")
    elif kind == "lookup":
        display = parameter(body, "display")
        if not display:
            fail("no display in the $lookup answer")
        print(f"ok display={display[:40]!r}")
    elif kind in ("page", "total", "whole"):
        expansion = body.get("expansion")
        if not isinstance(expansion, dict):
            fail(f"no expansion in a {body.get('resourceType')}")
        contains = expansion.get("contains", [])
        total = expansion.get("total")
        if kind == "total":
            if not isinstance(total, int):
                fail("no expansion.total")
            print(total)
        elif kind == "page":
            if not 1 <= len(contains) <= 20:
                fail(f"{len(contains)} codes in a page of 20")
            print(f"ok {len(contains)} codes of {total}")
        else:
            n_codes = count_codes(contains)
            if n_codes < ICD_WHOLE_MIN or (isinstance(total, int) and total != n_codes):
                fail(f"{n_codes} codes, total {total}")
            print(f"ok {n_codes} codes, {len(contains)} at the top")


ICD = "http%3A%2F%2Fhl7.org%2Ffhir%2Fsid%2Ficd-10-cm"
BILLABLE_VS = "http%3A%2F%2Ffhirterm.example%2Fbench%2FValueSet%2Ficd10cm-billable"
N_ROTATING = 5000
FILTER_WORDS = ["fracture", "diabetes", "pain", "infection", "neoplasm", "injury", "chronic", "acute", "femur", "heart", "pregnancy", "burn"]


def dotted(code):
    return code[:3] + "." + code[3:] if len(code) > 3 else code


def billable_codes(code_list):
    """The billable codes of a CDC code list, undotted: the codes without subcodes.

    The list is undotted, in tabular order (each code right after the code it extends), and also
    names chapters ("1") and blocks ("A00-A09"), which are left out."""
    codes = []
    with open(code_list, encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if fields and "-" not in fields[0] and not fields[0].isdigit():
                codes.append(fields[0])
    leaves = [code for idx, code in enumerate(codes) if idx + 1 == len(codes) or not codes[idx + 1].startswith(code)]
    return codes, leaves


def invalid_twin(code, known):
    """A code shaped like a real one that the release does not have: the last character replaced."""
    for replacement in "ZYXW9":
        twin = code[:-1] + replacement
        if twin not in known and twin != code:
            return twin
    raise SystemExit(f"report.py: no invalid twin for {code}")


def paths(code_list, out_dir):
    """The rotating rows' request lists: 5,000 billable codes spread evenly over the release, and
    for each an invalid twin; the mixed list interleaves 80% $validate-code, 15% $lookup and 5%
    text-filtered $expand."""
    codes, leaves = billable_codes(code_list)
    if len(leaves) < N_ROTATING:
        raise SystemExit(f"report.py: {code_list} holds {len(leaves)} billable codes, fewer than {N_ROTATING}")
    known = set(codes)
    step = len(leaves) / N_ROTATING
    chosen = [leaves[int(idx * step)] for idx in range(N_ROTATING)]
    lists = {
        "cs-valid": [("valid", f"/fhir/CodeSystem/$validate-code?url={ICD}&code={dotted(code)}") for code in chosen],
        "cs-invalid": [("invalid", f"/fhir/CodeSystem/$validate-code?url={ICD}&code={dotted(invalid_twin(code, known))}") for code in chosen],
        "vs-valid": [("valid", f"/fhir/ValueSet/$validate-code?url={BILLABLE_VS}&system={ICD}&code={dotted(code)}") for code in chosen],
        "lookup": [("lookup", f"/fhir/CodeSystem/$lookup?system={ICD}&code={dotted(code)}") for code in chosen],
    }
    mixed = []
    for idx, code in enumerate(chosen):
        pick = idx % 20
        if pick == 0:
            word = FILTER_WORDS[(idx // 20) % len(FILTER_WORDS)]
            mixed.append(("page", f"/fhir/ValueSet/$expand?url={ICD}%3Ffhir_vs&count=20&filter={word}"))
        elif pick <= 3:
            mixed.append(lists["lookup"][idx])
        else:
            mixed.append(lists["cs-valid"][idx])
    lists["mixed"] = mixed
    for name, entries in lists.items():
        with open(f"{out_dir}/paths-{name}.tsv", "w", encoding="utf-8") as handle:
            handle.writelines(f"{kind}\t{path}\n" for kind, path in entries)
    print(len(leaves))


def read_facts(path):
    facts, loads, rows = {}, [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            key, values = fields[0], fields[1:]
            if key == "load":
                loads.append(values)
            elif key == "row":
                rows.append(values)
            else:
                facts[key] = values
    return facts, loads, [wrk_row(*values) for values in rows]


def wrk_row(name, conns, probe, file):
    row = {"name": name, "conns": int(conns), "probe": probe, "problems": []}
    try:
        with open(file, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        text = ""
    match = re.search(r"^BENCH (\{.*\})$", text, re.M)
    if not probe.startswith("ok"):
        row["problems"].append(probe)
    if not match:
        row["problems"].append("no wrk result: " + " ".join(text.split())[:120])
        return row
    stats = json.loads(match.group(1))
    row.update(stats)
    row["rps"] = stats["requests"] / (stats["duration_us"] / 1e6) if stats["duration_us"] else 0.0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if stats["status"] or non2xx:
        row["problems"].append(f"{max(stats['status'], int(non2xx.group(1)) if non2xx else 0)} non-2xx")
    sockets = {kind: stats[kind] for kind in ("connect", "read", "write", "timeout") if stats[kind]}
    if sockets:
        row["problems"].append("socket errors " + ", ".join(f"{kind} {n}" for kind, n in sockets.items()))
    if stats["requests"] == 0:
        row["problems"].append("no request completed")
    return row


def ceiling_rps(rows):
    """Per connection count, the mean req/s of the ceiling rows (measured first and last)."""
    runs = {}
    for row in rows:
        if row["name"].startswith("GET /health/live") and "rps" in row and not row["problems"]:
            runs.setdefault(row["conns"], []).append(row["rps"])
    return {conns: statistics.mean(values) for conns, values in runs.items()}


def ms(us):
    return f"{us / 1000:.2f} ms" if us < 100_000 else f"{us / 1e6:.2f} s"


def mb(kb):
    return f"{int(kb) / 1024:.0f} MB" if str(kb).isdigit() else "?"


def parse_load(values):
    name, wall_ms, last_line, warnings = values
    match = re.search(r"in ([\d.]+)s \(parse ([\d.]+)s\)", last_line)
    concepts = re.search(r"\((\d+) concepts\)", last_line)
    return {
        "name": name,
        "wall": int(wall_ms) / 1000,
        "total": float(match.group(1)) if match else None,
        "parse": float(match.group(2)) if match else None,
        "concepts": int(concepts.group(1)) if concepts else None,
        "warnings": int(warnings or 0),
        "line": last_line,
    }


def table(path):
    facts, raw_loads, rows = read_facts(path)
    loads = [parse_load(values) for values in raw_loads]
    fact = lambda key, index=0: facts.get(key, [""] * (index + 1))[index]
    out = []
    out.append(f"fhirterm benchmark  {fact('started')}")
    out.append(f"commit      {fact('commit')}")
    out.append(f"machine     {fact('cpu')}, nproc {fact('cores')} ({fact('cores', 1)} in /proc/cpuinfo)")
    out.append(f"load avg    start {fact('loadavg_start')}   end {fact('loadavg_end')}")
    out.append(f"driver      wrk {fact('wrk')} over loopback, {fact('duration')} per row (1 conn: -t1 -c1, 16 conns: -t2 -c16), SQLite")
    out.append("")

    ceilings = ceiling_rps(rows)
    width = max(len(row["name"]) for row in rows) if rows else 20
    out.append(f"{'operation':<{width}}  {'conns':>5}  {'req/s':>9}  {'p50':>9}  {'p99':>9}  {'vs ceiling':>10}  check")
    out.append("-" * (width + 62))
    for row in sorted(rows, key=lambda row: (row["conns"], rows.index(row))):
        ceiling = ceilings.get(row["conns"])
        if "rps" in row:
            ratio = f"{100 * row['rps'] / ceiling:.0f}%" if ceiling else "n/a"
            figures = f"{row['rps']:>9.1f}  {ms(row['p50_us']):>9}  {ms(row['p99_us']):>9}  {ratio:>10}"
        else:
            figures = f"{'-':>9}  {'-':>9}  {'-':>9}  {'-':>10}"
        check_text = "FAIL: " + "; ".join(row["problems"]) if row["problems"] else row["probe"]
        out.append(f"{row['name']:<{width}}  {row['conns']:>5}  {figures}  {check_text}")
    out.append("vs ceiling: req/s over the mean req/s of the two GET /health/live rows at the same connection count")
    out.append("")

    out.append(f"{'release':<22}  {'concepts':>8}  {'load wall':>9}  {'load (cli)':>10}  {'parse':>6}  {'load/parse':>10}  warnings")
    for load in loads:
        ratio = f"{load['total'] / load['parse']:.1f}x" if load["parse"] else "n/a"
        total = f"{load['total']:.2f} s" if load["total"] is not None else "?"
        parse = f"{load['parse']:.2f} s" if load["parse"] is not None else "?"
        out.append(
            f"{load['name']:<22}  {load['concepts'] or '?':>8}  {load['wall']:>7.2f} s  {total:>10}  {parse:>6}  {ratio:>10}  {load['warnings']}"
        )
    out.append("  (load wall: the whole `fhirterm load` process; load and parse (cli): its last line, 0.01 s resolution;")
    out.append("   the CLI has no parse-only mode, so parse is the time before the database is opened)")
    out.append(f"  database file {int(fact('db_bytes') or 0) / 1e6:.0f} MB")
    out.append("")

    whole_times = [float(value) for value in facts.get("whole_times", [])]
    whole_rss = [int(value) for value in facts.get("whole_rss_kb", [])]
    out.append(f"start on the loaded database     {int(fact('start_ms') or 0) / 1000:.2f} s to /health/ready 200 (server log: indexes built in {fact('startup_log_ms')} ms)")
    if fact("start_rows_ms"):
        out.append(f"  the same start from rows       {int(fact('start_rows_ms')) / 1000:.2f} s (--no-index-files: no saved index file read)")
    if fact("first_filter"):
        out.append(f"first filtered $expand at ready  {float(fact('first_filter')) * 1000:.1f} ms ({fact('first_filter', 1)}; curl, word index possibly still building)")
    out.append(f"RSS after loading (at ready)     {mb(fact('rss_ready_kb'))}")
    out.append(f"RSS after the rows above         {mb(fact('rss_rows_kb'))} (before the whole expansions)")
    out.append(f"RSS at the end / peak (VmHWM)    {mb(fact('rss_end_kb'))} / {mb(fact('hwm_end_kb'))}")
    out.append(f"billable ValueSet                {fact('billable_total')} codes ($expand count=0)")
    out.append(f"rotating rows                    {N_ROTATING} of the {fact('billable_in_code_list')} billable codes in the CDC code list, spread evenly; invalid rows use each code with its last character replaced")
    out.append(f"requests the server logged       {fact('served')}")
    out.append(f"is-a subtree for paging          isa/{fact('isa')} with {fact('isa', 1)} codes")
    if whole_times:
        out.append(
            f"whole ICD-10-CM 2026 $expand      first call {whole_times[0]:.3f} s, median {statistics.median(whole_times):.3f} s, "
            f"max {max(whole_times):.3f} s over {len(whole_times)} calls; {int(fact('whole_bytes') or 0) / 1e6:.1f} MB of JSON"
        )
    if whole_rss:
        marks = [0, 1, 2, 5, 10, 15, 20]
        series = ", ".join(f"{mark}: {whole_rss[mark] / 1024:.0f}" for mark in marks if mark < len(whole_rss))
        out.append(f"RSS (MB) after N whole calls     {series}")
    out.append("")
    out.append("targets (issue 14)")
    out.extend(targets(rows, loads, facts, whole_times, whole_rss))
    return "\n".join(out)


def targets(rows, loads, facts, whole_times, whole_rss):
    def find(prefix, conns):
        return next((row for row in rows if row["name"].startswith(prefix) and row["conns"] == conns and "rps" in row), None)

    ceiling16 = ceiling_rps(rows).get(16)
    lines = []

    def verdict(ok, text):
        lines.append(f"  [{'met   ' if ok else 'MISSED'}] {text}")

    for prefix, share in (
        ("CodeSystem $validate-code valid", 0.6),
        ("CodeSystem $validate-code invalid", 0.6),
        ("CodeSystem $lookup", 0.6),
        ("ValueSet $validate-code", 0.5),
    ):
        row = find(prefix, 16)
        if row and ceiling16 and not row["problems"]:
            ratio = row["rps"] / ceiling16
            verdict(ratio >= share, f"{prefix} at 16 conns: {100 * ratio:.0f}% of the ceiling (target >= {100 * share:.0f}%)")
        else:
            verdict(False, f"{prefix} at 16 conns: no clean figure")
    row = find("$expand filter", 1)
    if row and not row["problems"]:
        verdict(row["p50_us"] <= 1000, f"filtered $expand count=20 at 1 conn: p50 {ms(row['p50_us'])} (target <= 1 ms)")
    else:
        verdict(False, "filtered $expand: no clean figure")
    row = find("$expand regex", 1)
    if row and not row["problems"]:
        verdict(row["p50_us"] <= 50_000, f"regex $expand of an inline value set, count=20 at 1 conn: p50 {ms(row['p50_us'])} (target <= 50 ms)")
    else:
        verdict(False, "regex $expand: no clean figure")
    if whole_times:
        median = statistics.median(whole_times)
        verdict(median <= 0.3, f"whole ICD-10-CM 2026 $expand: {median:.3f} s median single call (target <= 0.3 s)")
    if len(whole_rss) > 2:
        growth = (whole_rss[-1] - whole_rss[1]) / 1024
        late = (whole_rss[-1] - whole_rss[min(10, len(whole_rss) - 1)]) / 1024
        verdict(growth <= 20, f"memory over 20 whole expansions: {growth:+.0f} MB from call 1 to call 20, {late:+.0f} MB from call 10 (target <= 20 MB)")
    icd = next((load for load in loads if load["name"] == "ICD-10-CM 2026"), None)
    if icd and icd["total"] is not None and icd["parse"]:
        ratio = icd["total"] / icd["parse"]
        verdict(ratio <= 2, f"ICD-10-CM 2026 load: {icd['total']:.2f} s = {ratio:.1f}x parse {icd['parse']:.2f} s (target <= 2x)")
    rss = int(facts.get("rss_ready_kb", ["0"])[0] or 0)
    verdict(0 < rss <= 350 * 1024, f"RSS with the four releases loaded, at ready: {mb(rss)} (target <= 350 MB)")
    in_use = max(int(facts.get(key, ["0"])[0] or 0) for key in ("rss_rows_kb", "rss_end_kb"))
    verdict(0 < in_use <= 600 * 1024, f"RSS once every operation ran (rows, whole expansions): {mb(in_use)} (target <= 600 MB)")
    start = int(facts.get("start_ms", ["0"])[0] or 0)
    verdict(0 < start <= 1000, f"start on the loaded database: {start / 1000:.2f} s (target <= 1 s)")
    return lines


def failed(path):
    _, _, rows = read_facts(path)
    broken = [row for row in rows if row["problems"]]
    for row in broken:
        print(f"bench: row failed: {row['name']} at {row['conns']} conns: {'; '.join(row['problems'])}", file=sys.stderr)
    sys.exit(1 if broken else 0)


def main(argv):
    if len(argv) == 5 and argv[1] == "check":
        check(argv[2], argv[3], argv[4])
    elif len(argv) == 4 and argv[1] == "paths":
        paths(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "table":
        print(table(argv[2]))
    elif len(argv) == 3 and argv[1] == "failed":
        failed(argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
