#!/usr/bin/env python3
"""Generate a synthetic but realistic MSSP manifest for benchmarks.

    python benchmarks/generate.py --size small|medium|large --out DIR [--seed N] [--single-file]
                                  [--state STATE_DIR]

The output is a manifest directory (``partner.yaml``, ``roles.yaml``,
``customers/<id>.yaml``, ``grants.yaml``, ``tests.yaml``) or, with
``--single-file``, one ``manifest.yaml``. The same size and seed always give
byte-identical output.

With ``--state``, the manifest is first applied (with the real pipeline, every
customer approved) to a new state in STATE_DIR, and the manifest written to
``--out`` is then a drifted copy: about 1 % of the resources differ from the
state, as a week of changes would make them (see ``drift.py``). Every apply
runs at ``drift.NOW``; use the same ``--now`` when planning against that state.

The generated organisation follows the manifest rules of SPEC.md so that it
validates without errors or warnings:

* two global platform administrators reach every customer (``"*"``); a few
  regional administrators reach their region through a label selector; these
  are the only grants that set ``platform_admin``;
* SOC pods (teams of analysts) each cover a window of customers, listed
  explicitly: InsightIDR where the customer licenses it, InsightVM likewise;
* threat hunters and the reports distribution list reach every gold customer
  through ``{labels: {tier: gold}}``; every gold customer licenses InsightIDR,
  restricts log access and has a ``Firewall`` log set, so the hunters'
  grant-level log rule is valid everywhere it lands;
* automation engineers reach the InsightConnect customers of their region,
  application security consultants the InsightAppSec customers (until a fixed
  date), and one pod gets a 48-hour surge grant;
* every role a user can receive in a customer agrees on the level of each
  feature, so there are no privilege conflicts whatever the overlap.

Team membership exists only here, in the generator: the manifest has no place
for it. YAML is written with plain string formatting, for speed.
"""
from __future__ import annotations

import argparse
import math
import random
import re
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

Org = dict[str, Any]  # the organisation, a customer, a user or a grant: plain data

SIZES = {
    # customers, partner users, target number of (user, customer) assignments.
    # At "small" 30 users x 50 customers allows at most 1,500 pairs, so the
    # target is set below that.
    "small": {"customers": 50, "users": 30, "assignments": 1_000},
    "medium": {"customers": 500, "users": 200, "assignments": 22_000},
    "large": {"customers": 2_000, "users": 1_000, "assignments": 100_000},
}

PARTNER_ID = "northwind-mssp"
PARTNER_NAME = "Northwind Managed Security"
DOMAIN = "northwind-sec.example"

GEOS = ("amer", "emea", "apac")
GEO_WEIGHTS = (45, 35, 20)
GEO_REGIONS = {
    "amer": ("us", "us", "us2", "us3", "ca"),
    "emea": ("eu", "eu", "eu", "me1"),
    "apac": ("au", "ap", "aps2"),
}
GEO_TIMEZONES = {
    "amer": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
             "America/Toronto", "America/Sao_Paulo", "America/Mexico_City"),
    "emea": ("Europe/London", "Europe/Dublin", "Europe/Berlin", "Europe/Paris", "Europe/Madrid",
             "Europe/Warsaw", "Europe/Amsterdam", "Africa/Johannesburg", "Asia/Dubai"),
    "apac": ("Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "Asia/Kolkata",
             "Pacific/Auckland", "Asia/Manila", "Asia/Seoul"),
}
TIERS = ("gold", "silver", "bronze")
TIER_WEIGHTS = (15, 35, 50)
INDUSTRIES = ("finance", "healthcare", "retail", "manufacturing", "energy", "education",
              "government", "technology", "logistics", "legal", "hospitality", "media",
              "insurance", "telecom", "agriculture")

NAME_FIRST = (
    "Acme", "Apex", "Arbor", "Atlas", "Aurora", "Beacon", "Birch", "Blue Harbor", "Bright",
    "Cascade", "Cedar", "Cobalt", "Copper", "Crescent", "Crown", "Delta", "Eagle", "Ember",
    "Evergreen", "Falcon", "Fjord", "Golden Gate", "Granite", "Harbor", "Highland", "Horizon",
    "Indigo", "Iron", "Juniper", "Keystone", "Lakeside", "Liberty", "Lighthouse", "Maple",
    "Meridian", "Monarch", "Northstar", "Oak", "Orion", "Pacific", "Pinnacle", "Prairie",
    "Quartz", "Redwood", "Ridge", "River", "Sapphire", "Sierra", "Silver Lake", "Skyline",
    "Summit", "Sunrise", "Tidewater", "Timber", "Trident", "Union", "Valley", "Vertex",
    "Willow", "Zenith",
)
NAME_SECOND = (
    "Analytics", "Bank", "Bio", "Builders", "Capital", "Chemicals", "Clinics", "Credit Union",
    "Dental", "Energy", "Engineering", "Farms", "Foods", "Freight", "Health", "Hotels",
    "Insurance", "Labs", "Legal", "Logistics", "Manufacturing", "Media", "Medical", "Metals",
    "Mining", "Motors", "Networks", "Pharma", "Plastics", "Power", "Realty", "Retail",
    "Robotics", "Schools", "Shipping", "Software", "Steel", "Telecom", "Textiles", "Utilities",
)
NAME_SUFFIX = ("", "", "", "Inc.", "LLC", "Ltd", "GmbH", "Group", "Holdings", "Partners",
               "Co.", "S.A.", "Pty Ltd")

FIRST_NAMES = (
    "Aaliyah", "Adam", "Aisha", "Alejandro", "Amara", "Amir", "Ana", "Andrei", "Anika", "Ben",
    "Camila", "Carlos", "Chen", "Chloe", "Daniel", "David", "Elena", "Emeka", "Emma", "Erik",
    "Fatima", "Felix", "Gabriel", "Grace", "Hana", "Hannah", "Hiro", "Ibrahim", "Ingrid",
    "Isabel", "Ivan", "Jack", "James", "Jin", "Jonas", "Julia", "Kai", "Karim", "Kate", "Kofi",
    "Lars", "Laura", "Leila", "Liam", "Lina", "Lucas", "Maria", "Mateo", "Mei", "Mia", "Mohamed",
    "Nadia", "Naomi", "Nikhil", "Noah", "Olga", "Oliver", "Omar", "Pablo", "Paul", "Priya",
    "Rahul", "Rosa", "Sam", "Sara", "Sean", "Sofia", "Sven", "Tariq", "Thomas", "Tom", "Valentina",
    "Victor", "Wei", "Yara", "Yusuf", "Zara", "Zoe",
)
LAST_NAMES = (
    "Adeyemi", "Ahmed", "Alvarez", "Andersen", "Baker", "Bauer", "Bianchi", "Brown", "Campbell",
    "Chen", "Costa", "Dubois", "Eriksson", "Fernandez", "Fischer", "Garcia", "Gupta", "Haddad",
    "Hansen", "Hernandez", "Hoffmann", "Ito", "Ivanova", "Jansen", "Johnson", "Kang", "Khan",
    "Kim", "Kowalski", "Kumar", "Larsen", "Lee", "Lopez", "Martin", "Mendes", "Meyer", "Moreau",
    "Murphy", "Nakamura", "Nguyen", "Nielsen", "Novak", "Okafor", "Olsen", "Park", "Patel",
    "Petrov", "Popescu", "Rossi", "Santos", "Sato", "Schmidt", "Silva", "Singh", "Smith",
    "Suzuki", "Tanaka", "Taylor", "Thomas", "Tran", "Wagner", "Walker", "Wang", "Weber",
    "Williams", "Wilson", "Wong", "Yamamoto", "Yilmaz", "Zhang",
)

# Log sets every logging customer may have, with the prefix of their logs.
LOG_SETS = (
    ("Firewall", "fw"), ("Endpoints", "edr"), ("Cloud", "cloud"), ("Identity", "idp"),
    ("Network", "net"), ("Servers", "srv"), ("Email", "mail"),
)
STANDALONE_LOGS = ("dns-resolver", "dhcp-server", "vpn-gateway", "o365-audit", "okta-sso",
                   "web-proxy", "nac-controller", "print-server")

# Custom roles. Every role an analyst can receive agrees with every other on
# the level of each feature it names (InsightIDR Core and dashboards: View and
# Change; Collector: View Only; log search: View and Change), so overlapping
# grants and groups never produce privilege conflicts.
CUSTOM_ROLES = (
    ("Tier 1 Analyst", "InsightIDR", "InsightIDR Analyst",
     (("Collector", "View Only"),)),
    ("Threat Hunter", "InsightIDR", None,
     (("Log Management and Querying", "View and Change"),
      ("Log Search Dashboards", "View and Change"))),
    ("AppSec Triage", "InsightAppSec", "InsightAppSec ReadOnly",
     (("Vulnerabilities", "View and Change"),)),
)

POLICY = {
    "min_platform_admins_per_customer": 1,
    "forbid_permanent_platform_admin": "false",
    "max_admin_duration": "30d",
    "max_admin_customers_per_user": 10000,
    "expiry_warning": "7d",
}

# Expiry dates are fixed (not derived from today) so that output is reproducible.
POC_EXPIRY_MONTHS = ("2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31",
                     "2027-06-30")
CONTRACT_UNTIL = "2027-06-30T17:00:00Z"


# --------------------------------------------------------------------------- YAML

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9 _.@/()+-]*$")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def q(value: str) -> str:
    """A YAML scalar for ``value``: plain when unambiguous, double-quoted otherwise."""
    s = str(value)
    if (_PLAIN.match(s) and s.lower() not in _RESERVED and not s.endswith((" ", ":"))
            and ": " not in s and " #" not in s):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def flow(items: Iterable[str], indent: int, width: int = 96) -> str:
    """A flow sequence, wrapped onto continuation lines indented by ``indent``."""
    parts = [q(x) for x in items]
    if not parts:
        return "[]"
    lines, line = [], "["
    for i, p in enumerate(parts):
        piece = p + ("]" if i == len(parts) - 1 else ",")
        if len(line) + len(piece) + 1 > width and line != "[":
            lines.append(line.rstrip())
            line = " " * indent + piece
        else:
            line += ("" if line.endswith("[") or line.endswith(" ") else " ") + piece
    lines.append(line)
    return "\n".join(lines)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63]


# --------------------------------------------------------------------------- model


def _weighted(rng: random.Random, items: Sequence[str], weights: Sequence[int]) -> str:
    return rng.choices(items, weights=weights, k=1)[0]


def _customers(rng: random.Random, n: int, admin_poc: str, admin_product: str) -> list[Org]:
    used_names: set[str] = set()
    used_ids: set[str] = set()
    out: list[Org] = []
    n_poc = max(1, n // 50)
    while len(out) < n:
        name = f"{rng.choice(NAME_FIRST)} {rng.choice(NAME_SECOND)}"
        suffix = rng.choice(NAME_SUFFIX)
        if suffix:
            name = f"{name} {suffix}"
        cid = slug(name.replace(".", ""))
        if name in used_names or cid in used_ids:
            continue
        used_names.add(name)
        used_ids.add(cid)
        geo = _weighted(rng, GEOS, GEO_WEIGHTS)
        c: Org = {
            "id": cid, "name": name, "geo": geo, "region": rng.choice(GEO_REGIONS[geo]),
            "industry": rng.choice(INDUSTRIES), "poc": None, "poc_licenses": [],
            "groups": [], "log_sets": [], "logs": [],
        }
        is_poc = len(out) < n_poc  # the first few are POC prospects
        if is_poc:
            c["tier"] = None
            poc_products = ["InsightIDR"] + (["InsightConnect"] if rng.random() < 0.3 else [])
            c["poc"] = {"products": poc_products, "first_user": admin_poc,
                        "expires": rng.choice(POC_EXPIRY_MONTHS)}
            c["products"] = []
            c["licensed"] = set(poc_products)
        else:
            tier = _weighted(rng, TIERS, TIER_WEIGHTS)
            c["tier"] = tier
            products = []
            if tier == "gold" or rng.random() < 0.88:
                products.append("InsightIDR")
            if rng.random() < 0.6 or "InsightIDR" not in products:
                products.append("InsightVM")
            if rng.random() < 0.3:
                products.append("InsightConnect")
            if rng.random() < 0.12:
                products.append("InsightAppSec")
            if rng.random() < 0.08:
                products.append("InsightOps")
            c["products"] = products
            c["licensed"] = set(products)
            if "InsightConnect" not in products and rng.random() < 0.05:
                c["poc_licenses"].append({"product": "InsightConnect", "product_admin": admin_product,
                                          "expires": rng.choice(POC_EXPIRY_MONTHS)})
                c["licensed"].add("InsightConnect")
        c["protect"] = c["tier"] == "gold"
        if c["licensed"] & {"InsightIDR", "InsightOps"}:
            _logs(rng, c)
        # Gold customers restrict log access (the hunters' grant selects Firewall);
        # a share of the others do too, and their groups then carry log rules.
        c["restricted_logs"] = bool(c["log_sets"]) and (c["tier"] == "gold" or rng.random() < 0.4)
        out.append(c)
    return out


def _logs(rng: random.Random, c: Org) -> None:
    total = rng.randint(5, 50)
    n_loose = rng.randint(1, min(5, total - 2))
    in_sets = total - n_loose
    sets = [LOG_SETS[0]] + rng.sample(LOG_SETS[1:], rng.randint(1, min(3, in_sets - 1)))
    counts = [1] * len(sets)
    for _ in range(in_sets - len(sets)):
        counts[rng.randrange(len(sets))] += 1
    for (name, prefix), k in zip(sets, counts):
        c["log_sets"].append((name, [f"{prefix}-{i:02d}" for i in range(1, k + 1)]))
    c["logs"] = rng.sample(STANDALONE_LOGS, n_loose)


def _users(rng: random.Random, n: int) -> list[Org]:
    used, out = set(), []
    for _ in range(n):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{first}.{last}".lower()
        email, k = f"{local}@{DOMAIN}", 2
        while email in used:
            email = f"{local}{k}@{DOMAIN}"
            k += 1
        used.add(email)
        out.append({"email": email, "first_name": first, "last_name": last,
                    "timezone": "UTC", "platform_admin": False, "distribution_list": False,
                    "role": "analyst"})
    return out


def build(size: str, seed: int = 1) -> Org:
    """Build the organisation in memory: partner users, customers, grants."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r} (choose from {', '.join(SIZES)})")
    spec = SIZES[size]
    rng = random.Random(f"accessplan-bench-{size}-{seed}")
    n_users, n_customers = spec["users"], spec["customers"]

    users = _users(rng, n_users - 1)
    # The reports mailbox: a distribution list, read-only everywhere.
    users.append({"email": f"soc-reports@{DOMAIN}", "first_name": "SOC", "last_name": "Reports",
                  "timezone": "UTC", "platform_admin": False, "distribution_list": True,
                  "role": "reports"})
    dl = len(users) - 1

    n_admins = max(2, round(n_users * 0.10))
    for i in range(n_admins):
        users[i]["platform_admin"] = True
    global_admins = [0, 1]
    users[0]["timezone"], users[1]["timezone"] = "America/Chicago", "Europe/London"
    customers = _customers(rng, n_customers, users[0]["email"], users[1]["email"])

    # Up to two regional administrators per geography; remaining partner
    # platform administrators work in the SOC pods like everyone else.
    regional: dict[str, list[int]] = {g: [] for g in GEOS}
    spare = list(range(2, n_admins))
    for slot in range(2):
        for g in GEOS:
            if spare:
                u = spare.pop(0)
                regional[g].append(u)
                users[u]["timezone"] = rng.choice(GEO_TIMEZONES[g])
    for i in global_admins:
        users[i]["role"] = "global-admin"
    for g in GEOS:
        for u in regional[g]:
            users[u]["role"] = f"regional-admin-{g}"

    pool = spare + list(range(n_admins, dl))
    rng.shuffle(pool)

    def take(k: int) -> list[int]:
        k = max(1, min(k, len(pool) - 1))
        taken = pool[:k]
        del pool[:k]
        return taken

    automation = take(round(n_users * 0.02))
    appsec = take(round(n_users * 0.01))
    hunters = take(max(2, round(n_users * 0.05)))
    pod_users = pool
    for u in automation:
        users[u]["role"] = "automation"
        users[u]["timezone"] = rng.choice(GEO_TIMEZONES["emea"])
    for u in appsec:
        users[u]["role"] = "appsec"
        users[u]["timezone"] = rng.choice(GEO_TIMEZONES["emea"])
    for u in hunters:
        users[u]["role"] = "hunter"
        users[u]["timezone"] = rng.choice(GEO_TIMEZONES["amer"])

    C = len(customers)
    assigned: dict[int, set[int]] = {}  # user -> customer indexes

    def assign(us: Iterable[int], cs: Iterable[int]) -> None:
        for u in us:
            assigned.setdefault(u, set()).update(cs)

    by_tier_gold = [i for i, c in enumerate(customers) if c["tier"] == "gold"]
    poc_idx = [i for i, c in enumerate(customers) if c["poc"]]
    grants = []

    # Global administrators: platform admin in every customer (quick add).
    grants.append({"comment": "Global platform administrators: quick add, every customer",
                   "users": [0], "customers": "*", "platform_admin": True})
    grants.append({"comment": "Second global administrator; POC prospects are run by the first",
                   "users": [1], "customers": "*", "except": [customers[i]["id"] for i in poc_idx],
                   "platform_admin": True})
    assign([0], range(C))
    assign([1], [i for i in range(C) if i not in set(poc_idx)])
    for g in GEOS:
        if regional[g]:
            grants.append({"comment": f"Regional platform administrators ({g})",
                           "users": regional[g], "customers": {"geo": g}, "platform_admin": True})
            assign(regional[g], [i for i, c in enumerate(customers) if c["geo"] == g])

    # Threat hunters and the reports mailbox reach every gold customer by label.
    grants.append({"comment": "Threat hunters: every gold customer",
                   "users": hunters, "customers": {"tier": "gold"}, "products": ["InsightIDR"],
                   "roles": ["InsightIDR Analyst", "Threat Hunter", "Log Search View and Change"],
                   "logs_select": ["Firewall"]})
    assign(hunters, by_tier_gold)
    grants.append({"comment": "Reports distribution list: read-only dashboards of gold customers",
                   "users": [dl], "customers": {"tier": "gold"}, "products": ["InsightIDR"],
                   "roles": ["InsightIDR Viewer", "Log Search View Only"]})
    assign([dl], by_tier_gold)

    # Automation engineers: the InsightConnect customers of their geography.
    for gi, g in enumerate(GEOS):
        team = [u for k, u in enumerate(automation) if k % len(GEOS) == gi] or automation
        cs = [i for i, c in enumerate(customers) if c["geo"] == g and "InsightConnect" in c["products"]]
        if cs:
            grants.append({"comment": f"Automation engineers: InsightConnect customers ({g})",
                           "users": team, "customers": [customers[i]["id"] for i in cs],
                           "products": ["InsightConnect"], "roles": ["Administrator"]})
            assign(team, cs)

    # Application security consultants, on a contract with a fixed end.
    cs = [i for i, c in enumerate(customers) if "InsightAppSec" in c["products"]]
    if cs:
        grants.append({"comment": "Application security consultants (contract ends mid-2027)",
                       "users": appsec, "customers": [customers[i]["id"] for i in cs],
                       "until": CONTRACT_UNTIL, "products": ["InsightAppSec"],
                       "roles": ["AppSec Triage"]})
        assign(appsec, cs)

    # SOC pods: each team covers a window of customers ordered by geography.
    fixed = sum(len(v) for v in assigned.values())
    order = sorted(range(C), key=lambda i: GEOS.index(customers[i]["geo"]))
    team_sizes = []
    remaining = len(pod_users)
    while remaining > 0:
        k = min(remaining, rng.randint(6, 10))
        team_sizes.append(k)
        remaining -= k
    n_teams = len(team_sizes)
    window = round((spec["assignments"] - fixed) / max(1, len(pod_users)))
    window = max(window, math.ceil(C / max(1, n_teams)), 1)
    window = min(window, C)
    teams, start = [], 0
    for t, k in enumerate(team_sizes):
        members = pod_users[start:start + k]
        start += k
        first = round(t * C / n_teams)
        idx = [order[(first + j) % C] for j in range(window)]
        geo = customers[order[(first + window // 2) % C]]["geo"]
        for u in members:
            users[u]["timezone"] = rng.choice(GEO_TIMEZONES[geo])
            users[u]["role"] = f"pod-{t + 1:03d}"
        teams.append((t, members, idx, geo))
        idr = [i for i in idx if "InsightIDR" in customers[i]["licensed"]]
        ivm = [i for i in idx if "InsightVM" in customers[i]["licensed"]]
        if idr:
            grants.append({"comment": f"SOC pod {t + 1:03d} ({geo}): InsightIDR customers",
                           "users": members, "customers": [customers[i]["id"] for i in idr],
                           "products": ["InsightIDR"],
                           "roles": ["InsightIDR Analyst", "Log Search View and Change"]})
        if ivm:
            grants.append({"comment": f"SOC pod {t + 1:03d} ({geo}): InsightVM customers",
                           "users": members, "customers": [customers[i]["id"] for i in ivm],
                           "products": ["InsightVM"], "roles": ["View Only"]})
        assign(members, idr + ivm)

    # An incident surge: the first pod gets 48 hours on the customers after its window.
    if teams:
        t, members, idx, geo = teams[0]
        extra = [order[(window + j) % C] for j in range(5)]
        extra = [i for i in dict.fromkeys(extra)
                 if "InsightIDR" in customers[i]["licensed"] and i not in set(idx)]
        if extra:
            grants.append({"comment": "Incident surge: pod 001 helps out for two days",
                           "users": members, "customers": [customers[i]["id"] for i in extra],
                           "duration": "48h", "products": ["InsightIDR"],
                           "roles": ["InsightIDR Analyst", "Log Search View and Change"]})
            assign(members, extra)

    # Groups inside customers; members are analysts with an assignment there.
    members_of: dict[int, list[int]] = {}
    pod_set, soc_set, sec_set = set(pod_users), set(pod_users) | set(hunters), set(appsec)
    for u in sorted(soc_set | sec_set):
        for i in sorted(assigned.get(u, ())):
            members_of.setdefault(i, []).append(u)
    for i, c in enumerate(customers):
        cand = members_of.get(i, [])
        soc = [u for u in cand if u in soc_set]
        sec = [u for u in cand if u in sec_set]
        options = []
        if "InsightIDR" in c["licensed"] and soc:
            options.append(("SOC Tier 1", "First-line triage", ["InsightIDR"], ["Tier 1 Analyst"], soc))
            options.append(("Threat Hunting", "Proactive hunts across the customer's logs",
                            ["InsightIDR"], ["InsightIDR Analyst", "Threat Hunter"], soc))
        if "InsightVM" in c["licensed"]:
            vm = [u for u in soc if u in pod_set]
            if vm:
                options.append(("Vulnerability Management", "Weekly scan review",
                                ["InsightVM"], ["View Only"], vm))
        if "InsightAppSec" in c["licensed"] and sec:
            options.append(("Application Security", "AppSec findings triage",
                            ["InsightAppSec"], ["AppSec Triage"], sec))
        if not options:
            continue
        for name, desc, prods, roles, cands in rng.sample(options, rng.randint(1, min(3, len(options)))):
            members = sorted(rng.sample(cands, rng.randint(1, min(6, len(cands)))))
            group = {"name": name, "description": desc, "products": prods, "roles": roles,
                     "members": [users[u]["email"] for u in members]}
            if c["restricted_logs"] and "InsightIDR" in prods:
                sets = [s for s, _ in c["log_sets"]]
                select = ["Firewall"] + rng.sample(sets[1:], rng.randint(0, len(sets) - 1))
                if rng.random() < 0.5 and c["logs"]:
                    select.append(rng.choice(c["logs"]))
                group["select"] = select
                fw_logs = c["log_sets"][0][1]
                if len(fw_logs) > 1 and rng.random() < 0.5:
                    group["restrict"] = [rng.choice(fw_logs)]
            c["groups"].append(group)

    n_assign = sum(len(v) for v in assigned.values())
    admin_pairs = len(assigned[0]) + len(assigned[1]) + sum(
        len(assigned[u]) for g in GEOS for u in regional[g])
    return {"size": size, "seed": seed, "users": users, "customers": customers, "grants": grants,
            "assignments": n_assign, "admin_assignments": admin_pairs}


# --------------------------------------------------------------------------- output

SCHEMA_NOTE = "# Generated by benchmarks/generate.py (size={size}, seed={seed}). Do not edit.\n"


def _partner_yaml(org: Org) -> str:
    out = ["partner:", f"  id: {PARTNER_ID}", f"  name: {q(PARTNER_NAME)}", "  region: us",
           "  products: [InsightIDR, InsightVM, InsightConnect]", "  users:"]
    for u in org["users"]:
        out.append(f"    - email: {q(u['email'])}")
        out.append(f"      first_name: {q(u['first_name'])}")
        out.append(f"      last_name: {q(u['last_name'])}")
        out.append(f"      timezone: {q(u['timezone'])}")
        if u["platform_admin"]:
            out.append("      platform_admin: true")
            out.append("      products: [InsightIDR]")
            out.append("      roles: [InsightIDR Admin]")
        elif u["distribution_list"]:
            out.append("      distribution_list: true")
            out.append("      products: [InsightIDR]")
            out.append("      roles: [InsightIDR Viewer]")
    out.append("")
    out.append("policy:")
    for k, v in POLICY.items():
        out.append(f"  {k}: {v}")
    return "\n".join(out) + "\n"


def _roles_yaml() -> str:
    out = ["roles:"]
    for name, product, extends, perms in CUSTOM_ROLES:
        out.append(f"  - name: {q(name)}")
        out.append(f"    product: {product}")
        if extends:
            out.append(f"    extends: {q(extends)}")
        out.append("    permissions:")
        for f, lvl in perms:
            out.append(f"      {q(f)}: {q(lvl)}")
    return "\n".join(out) + "\n"


def _customer_yaml(c: Org) -> str:
    out = [f"  - id: {c['id']}", f"    name: {q(c['name'])}", f"    region: {c['region']}"]
    labels = [f"geo: {c['geo']}", f"industry: {c['industry']}"]
    labels.insert(0, f"tier: {c['tier']}" if c["tier"] else "stage: poc")
    out.append("    labels: {" + ", ".join(labels) + "}")
    if c["products"]:
        out.append(f"    products: {flow(c['products'], 6)}")
    if c["protect"]:
        out.append("    protect: true")
    if c["poc"]:
        p = c["poc"]
        out += ["    poc:", f"      products: {flow(p['products'], 8)}",
                f"      first_user: {q(p['first_user'])}", f"      expires: {p['expires']}"]
    if c["poc_licenses"]:
        out.append("    poc_licenses:")
        for pl in c["poc_licenses"]:
            out += [f"      - product: {pl['product']}", f"        product_admin: {q(pl['product_admin'])}",
                    f"        expires: {pl['expires']}"]
    if c["restricted_logs"]:
        out += ["    data_access:", "      default_all_logs: false"]
    if c["log_sets"]:
        out.append("    log_sets:")
        for name, logs in c["log_sets"]:
            out += [f"      - name: {q(name)}", f"        logs: {flow(logs, 10)}"]
    if c["logs"]:
        out.append(f"    logs: {flow(c['logs'], 6)}")
    if c["groups"]:
        out.append("    groups:")
        for g in c["groups"]:
            out += [f"      - name: {q(g['name'])}", f"        description: {q(g['description'])}",
                    f"        products: {flow(g['products'], 10)}", f"        roles: {flow(g['roles'], 10)}",
                    "        members:"]
            out += [f"          - {q(m)}" for m in g["members"]]
            if "select" in g:
                out.append("        logs:")
                out.append(f"          select: {flow(g['select'], 12)}")
                if "restrict" in g:
                    out.append(f"          restrict: {flow(g['restrict'], 12)}")
    return "\n".join(out) + "\n"


def _grants_yaml(org: Org) -> str:
    users = org["users"]
    out = ["grants:"]
    for g in org["grants"]:
        out.append(f"  # {g['comment']}")
        out.append("  - users:")
        out += [f"      - {q(users[u]['email'])}" for u in g["users"]]
        cs = g["customers"]
        if cs == "*":
            out.append('    customers: "*"')
        elif isinstance(cs, dict):
            sel = ", ".join(f"{k}: {q(v)}" for k, v in cs.items())
            out.append(f"    customers: {{labels: {{{sel}}}}}")
        else:
            out.append(f"    customers: {flow(cs, 6)}")
        if g.get("except"):
            out.append(f"    except_customers: {flow(g['except'], 6)}")
        if "platform_admin" in g:
            out.append(f"    platform_admin: {'true' if g['platform_admin'] else 'false'}")
        if "duration" in g:
            out.append(f"    duration: {g['duration']}")
        if "until" in g:
            out.append(f"    until: {g['until']}")
        if "products" in g:
            out.append(f"    products: {flow(g['products'], 6)}")
            out.append(f"    roles: {flow(g['roles'], 6)}")
        if "logs_select" in g:
            out.append(f"    logs: {{select: {flow(g['logs_select'], 6)}}}")
    return "\n".join(out) + "\n"


def _tests_yaml(org: Org) -> str:
    """Access assertions for ``accessplan test``, true by construction of the org.

    A sample of the pairs whose access the generator fixes on its own: global
    administrators are platform admins everywhere they reach; SOC pod analysts
    hold InsightIDR Core at View and Change in their InsightIDR customers (every
    role they can receive agrees on it); the reports mailbox sees gold
    customers read-only. About one test per ten customers of each kind.
    """
    users, customers = org["users"], org["customers"]
    out = ["tests:"]
    step = 10
    admin = next((g for g in org["grants"] if g.get("platform_admin") and g["customers"] == "*"), None)
    if admin is not None:
        for c in customers[::step]:
            out += [f"  - name: {q('global admin in ' + c['id'])}", f"    user: {q(users[admin['users'][0]]['email'])}",
                    f"    customer: {c['id']}", "    expect: {platform_admin: true}"]
    pods = [g for g in org["grants"] if g["comment"].startswith("SOC pod") and g["comment"].endswith("InsightIDR customers")]
    for g in pods:
        if not g["users"]:
            continue
        email = users[g["users"][0]]["email"]
        for cid in g["customers"][::step]:
            out += [f"  - user: {q(email)}", f"    customer: {cid}", "    expect:", "      platform_admin: false",
                    "      features: {InsightIDR: {InsightIDR Core: View and Change}}"]
    dl = next((i for i, u in enumerate(users) if u["distribution_list"]), None)
    if dl is not None:
        gold = [c for c in customers if c["tier"] == "gold"]
        for c in gold[::step]:
            out += [f"  - name: {q('reports mailbox in ' + c['id'])}", f"    user: {q(users[dl]['email'])}",
                    f"    customer: {c['id']}", "    expect:", "      platform_admin: false", "      products: [InsightIDR]",
                    "      features: {InsightIDR: {InsightIDR Core: View Only}}"]
    return "\n".join(out) + "\n"


_OWNED = ("partner.yaml", "roles.yaml", "grants.yaml", "tests.yaml", "manifest.yaml")
_MARKER = b"# Generated by benchmarks/generate.py"


def generate(size: str, out: Path, seed: int = 1, single_file: bool = False, org: Org | None = None) -> dict[str, Any]:
    """Write a manifest for ``size`` into directory ``out``; return counts.

    ``org`` is an organisation :func:`build` made (and perhaps
    :func:`drift.drift` changed); by default a fresh one.
    """
    t0 = time.perf_counter()
    if org is None:
        org = build(size, seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # Remove what an earlier run left, so that sizes never mix; but never a
    # file this generator did not write.
    cdir = out / "customers"
    stale = [out / name for name in _OWNED if (out / name).exists()]
    if cdir.is_dir():
        stale += sorted(cdir.glob("*.yaml"))
    for f in stale:
        with open(f, "rb") as fh:
            if not fh.read(len(_MARKER)) == _MARKER:
                raise FileExistsError(f"{f} was not written by this generator; choose an empty --out")
    for f in stale:
        f.unlink()
    header = SCHEMA_NOTE.format(size=size, seed=seed)
    partner = _partner_yaml(org)
    roles = _roles_yaml()
    grants = _grants_yaml(org)
    tests = _tests_yaml(org)
    written: list[Path] = []

    def write(path: Path, text: str) -> None:
        path.write_text(text, encoding="utf-8")
        written.append(path)

    if single_file:
        parts = [header, "version: 1\n\n", partner, "\n", roles, "\ncustomers:\n"]
        parts += [_customer_yaml(c) for c in org["customers"]]
        parts += ["\n", grants, "\n", tests]
        write(out / "manifest.yaml", "".join(parts))
    else:
        write(out / "partner.yaml", header + "version: 1\n\n" + partner)
        write(out / "roles.yaml", header + roles)
        cdir.mkdir(exist_ok=True)
        for c in org["customers"]:
            write(cdir / f"{c['id']}.yaml", header + "customers:\n" + _customer_yaml(c))
        write(out / "grants.yaml", header + grants)
        write(out / "tests.yaml", header + tests)
    customers = org["customers"]
    return {
        "size": size,
        "seed": seed,
        "customers": len(customers),
        "users": len(org["users"]),
        "platform_admins": sum(1 for u in org["users"] if u["platform_admin"]),
        "grants": len(org["grants"]),
        "groups": sum(len(c["groups"]) for c in customers),
        "log_sets": sum(len(c["log_sets"]) for c in customers),
        "logs": sum(len(c["logs"]) + sum(len(logs) for _, logs in c["log_sets"]) for c in customers),
        "assignments": org["assignments"],
        "tests": tests.count("\n  - "),
        "admin_assignments": org["admin_assignments"],
        "files": len(written),
        "bytes": sum(p.stat().st_size for p in written),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=sorted(SIZES), required=True)
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--single-file", action="store_true", help="write one manifest.yaml")
    ap.add_argument("--state", type=Path, metavar="STATE_DIR",
                    help="also write a state matching the manifest at 1 %% drift (needs accessplan importable)")
    args = ap.parse_args(argv)
    try:
        if args.state is not None:
            if args.single_file:
                raise ValueError("--state writes a manifest directory; leave out --single-file")
            from drift import make_state

            counts = make_state(args.size, args.out, args.state, seed=args.seed)
        else:
            counts = generate(args.size, args.out, seed=args.seed, single_file=args.single_file)
    except (OSError, ValueError, RuntimeError) as e:
        print(f"generate.py: error: {e}", file=sys.stderr)
        return 1
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
