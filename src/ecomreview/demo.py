"""Seeded demo seller: a two-year pet-supplies workspace with planted truths for every review step."""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .schema import TABLES

YEARS = (2024, 2025)
REVIEW_PERIOD = "2025"
DAYS = pd.date_range("2024-01-01", "2025-12-31", freq="D")
MONTHS = [p.strftime("%Y-%m") for p in pd.period_range("2024-01", "2025-12", freq="M")]
REF_RATE = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CNY": 0.139}  # list prices are set at these rates

# Relative demand by calendar month (Q4 peak) and by weekday (Mon..Sun).
SEASON = np.array([0.90, 0.80, 0.90, 0.95, 1.00, 1.00, 1.05, 0.95, 0.95, 1.05, 1.50, 1.65])
WEEKDAY = np.array([0.95, 0.95, 0.97, 1.00, 1.05, 1.08, 1.00])


@dataclass(frozen=True)
class ChannelProfile:
    name: str
    platform: str
    market: str
    currency: str
    prefix: str
    price_factor: float          # channel price ÷ list price (in USD terms)
    lines: tuple[float, float]   # share of all order lines in 2024, 2025 (before normalising)
    return_rate: float           # base probability that a line is returned
    countries: dict
    commission_rate: float
    payment_fee_rate: float
    payment_fee_fixed: float
    fulfillment_cost_per_unit: float
    shipping_cost_per_order: float
    ops_hours: float


# Line shares are set so that revenue lands on the planted profile: amazon_us ~58% of revenue and
# +5% YoY (cash cow); tiktok_us ~8% and +80% (potential); ebay_uk low prices, high fees, free
# shipping and 20% returns (problem); shopify_eu ~19%, +8%, thin after ads (steady).
CHANNELS = (
    ChannelProfile("amazon_us", "Amazon", "US", "USD", "AMZ", 1.00, (0.664, 0.699), 0.06,
                   {"US": 1.0}, 0.15, 0.0, 0.0, 4.20, 0.0, 900),
    ChannelProfile("tiktok_us", "TikTok Shop", "US", "USD", "TTK", 0.95, (0.075, 0.135), 0.08,
                   {"US": 1.0}, 0.08, 0.02, 0.30, 2.50, 5.50, 600),
    ChannelProfile("ebay_uk", "eBay", "GB", "GBP", "EBY", 0.66, (0.31, 0.285), 0.20,
                   {"GB": 1.0}, 0.149, 0.03, 0.40, 3.00, 8.50, 500),
    ChannelProfile("shopify_eu", "Shopify", "EU", "EUR", "SHP", 1.10, (0.201, 0.221), 0.05,
                   {"DE": 0.45, "FR": 0.25, "NL": 0.12, "IT": 0.08, "ES": 0.06, "AT": 0.04},
                   0.0, 0.029, 0.30, 2.80, 7.50, 800),
)
CH = {c.name: c for c in CHANNELS}

# Planted SKUs: (sku, name, category, list price USD, role, share of 2025 revenue, return multiplier).
PLANTED_SKUS = (
    ("DOG-BED-L", "Orthopedic dog bed L", "Dog", 49.99, "hit_restock", 0.19, 0.6),
    ("CAT-FOUNTAIN", "Cat water fountain 2.5L", "Cat", 32.99, "hit_amazon", 0.15, 0.6),
    ("PAD-XL", "Pee pads XL 100ct", "Dog", 29.99, "hit", 0.11, 0.6),
    ("CAT-TREE-M", "Cat tree 90cm", "Cat", 59.99, "hit", 0.10, 0.6),
    ("POOP-BAG-360", "Poop bags 360ct", "Dog", 17.99, "evergreen", 0.045, 0.3),
    ("LITTER-MAT", "Cat litter mat", "Cat", 19.99, "evergreen", 0.040, 0.3),
    ("DOG-BOWL-SS", "Stainless dog bowl set", "Dog", 19.99, "evergreen", 0.035, 0.3),
    ("GROOM-GLOVE", "Grooming glove", "Dog", 16.99, "bf_promo", 0.02, 0.6),
    ("DOG-RAINCOAT", "Dog raincoat", "Dog", 34.99, "problem_returns", 0.02, 1.0),
    ("BIRD-SWING", "Bird swing toy set", "Bird", 18.99, "problem_slow", 0.01, 0.8),
    ("AQUA-FILTER", "Aquarium filter 40L", "Aquarium", 27.99, "problem_overstock", 0.008, 0.8),
    ("DOG-CRATE-XL", "Folding dog crate XL", "Dog", 39.99, "problem_loss", 0.012, 0.8),
)
LONG_TAIL_NAMES = {
    "Dog": ["Dog harness M", "Retractable leash", "Chew toy set", "Dog car seat cover", "Dog shampoo",
            "Treat pouch", "Dog cooling mat", "Slow feeder bowl", "Paw cleaner", "Dog toothbrush kit"],
    "Cat": ["Cat teaser wand", "Scratching post", "Cat tunnel", "Cat carrier", "Self-cleaning brush",
            "Catnip toys 6pc", "Window perch", "Cat collar 2pk", "Litter scoop"],
    "Small Animal": ["Hamster wheel", "Rabbit hay rack", "Guinea pig hideout", "Small pet bedding",
                     "Water bottle 500ml"],
    "Aquarium": ["Aquarium LED light", "Gravel cleaner", "Fish net set", "Aquarium heater 100W",
                 "Air pump kit"],
    "Bird": ["Bird feeder", "Perch set", "Bird bath", "Cage cover", "Foraging toy", "Seed catcher",
             "Nesting box"],
}
NO_COST_SKU = "SAMPLE-PACK"       # sold but missing from products (data-quality finding)
BF = ("BF-2025", "2025-11-28", "2025-12-01", "shopify_eu", "GROOM-GLOVE")
PD = ("PD-2025", "2025-07-08", "2025-07-11", "amazon_us", "CAT-FOUNTAIN")
INT_COLUMNS = {"traffic": ("sessions", "add_to_cart", "checkouts", "orders"),
               "campaigns": ("impressions", "clicks", "orders"), "products": ("stock_on_hand",)}
QTY_P = np.array([0.70, 0.20, 0.07, 0.03])  # quantity 1..4 per line


def generate(out_dir: str | Path, n_lines: int = 60000, seed: int = 2025) -> Path:
    """Write the demo workspace (CSV tables, settings.yaml, planted.json) to out_dir; return its path.

    n_lines is the approximate number of order lines over 2024–2025 (±2%). Spend, expenses, stock and
    traffic are derived from the generated orders, so every planted class holds at any size from
    ~20,000 lines up (1,000,000 lines take ~15 s).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    fx = _fx_rates()
    products = _products(rng)
    orders = _orders(rng, n_lines, products)
    rev = _channel_revenue(orders, fx)
    products = _stock(products, orders)
    campaigns = _campaigns(rng, rev)
    tables = {
        "orders": orders,
        "products": products,
        "channels": _channels(),
        "expenses": _expenses(rng, rev),
        "traffic": _traffic(rng, orders),
        "campaigns": campaigns,
        "fx_rates": fx,
        "goals": _goals(),
        "kpi_inputs": _kpi_inputs(),
    }
    for name, frame in tables.items():
        frame = frame.reindex(columns=TABLES[name].column_names)
        for col in INT_COLUMNS.get(name, ()):
            frame[col] = pd.to_numeric(frame[col]).round().astype("Int64")   # whole numbers, blanks stay blank
        frame.to_csv(out / f"{name}.csv", index=False, date_format="%Y-%m-%d")
    (out / "settings.yaml").write_text(yaml.safe_dump(_settings(), allow_unicode=True, sort_keys=False),
                                       encoding="utf-8")
    (out / "planted.json").write_text(json.dumps(_planted(orders, products), ensure_ascii=False, indent=2),
                                      encoding="utf-8")
    return out


def write_demo_workspace(out_dir: str | Path) -> Path:
    """The demo workspace with default size and seed."""
    return generate(out_dir)


# --- reference tables -----------------------------------------------------------------------

def _fx_rates() -> pd.DataFrame:
    """Smooth monthly rates to USD, 2024-01..2025-12 (CNY ~0.138–0.141, EUR ~1.05–1.12, GBP ~1.24–1.30)."""
    t = np.arange(len(MONTHS))
    rates = {
        "CNY": 0.1395 + 0.0014 * np.sin(2 * np.pi * t / 24),
        "EUR": 1.085 + 0.032 * np.sin(2 * np.pi * (t + 5) / 24),
        "GBP": 1.27 + 0.027 * np.sin(2 * np.pi * (t + 9) / 24),
    }
    frames = [pd.DataFrame({"month": MONTHS, "currency": cur, "rate_to_base": np.round(r, 4)})
              for cur, r in rates.items()]
    return pd.concat(frames, ignore_index=True)


def _channels() -> pd.DataFrame:
    cols = ["channel", "platform", "market", "commission_rate", "payment_fee_rate", "payment_fee_fixed",
            "fulfillment_cost_per_unit", "shipping_cost_per_order", "ops_hours"]
    rows = [(c.name, c.platform, c.market, c.commission_rate, c.payment_fee_rate, c.payment_fee_fixed,
             c.fulfillment_cost_per_unit, c.shipping_cost_per_order, c.ops_hours) for c in CHANNELS]
    return pd.DataFrame(rows, columns=cols)


def _products(rng: np.random.Generator) -> pd.DataFrame:
    """The SKU master: planted SKUs plus long-tail SKUs; costs in CNY, landed cost ~30% of price."""
    rows = [dict(sku=s, product_name=n, category=c, list_price=p, role=r, share=sh, ret_mult=rm)
            for s, n, c, p, r, sh, rm in PLANTED_SKUS]
    long_tail = [(cat, name) for cat, names in LONG_TAIL_NAMES.items() for name in names]
    # Half an equal split, half random, so no long-tail SKU is too small for stable rates.
    mix = 0.5 / len(long_tail) + 0.5 * rng.dirichlet(np.full(len(long_tail), 3.0))
    shares = mix * (1 - sum(r["share"] for r in rows))
    # Not below $17.99: per-unit fulfilment fees would make cheaper items loss-makers by accident.
    prices = rng.choice([17.99, 19.99, 22.99, 24.99, 29.99, 34.99, 39.99], len(long_tail))
    for i, ((cat, name), sh, p) in enumerate(zip(long_tail, shares, prices)):
        code = "".join(w[0] for w in name.replace("-", " ").split()[:3]).upper()
        rows.append(dict(sku=f"{cat[:3].upper()}-{code}{i + 1:02d}", product_name=name, category=cat,
                         list_price=float(p), role="long_tail", share=float(sh),
                         ret_mult=float(rng.uniform(0.6, 1.0))))
    df = pd.DataFrame(rows)
    n = len(df)
    cost_ratio = rng.uniform(0.18, 0.26, n)
    cost_ratio[df["role"].eq("problem_loss").to_numpy()] = 0.95   # bulky crate bought too dear
    cny = REF_RATE["CNY"]
    df["unit_cost"] = np.round(df["list_price"] * cost_ratio / cny, 2)
    df["inbound_freight"] = np.round(df["list_price"] * rng.uniform(0.03, 0.06, n) / cny, 2)
    df["duty_rate"] = rng.choice([0.0, 0.025, 0.04, 0.065, 0.1], n)
    df["packaging_cost"] = np.round(rng.uniform(1.5, 4.0, n), 2)
    df["cost_currency"] = "CNY"
    df["return_salvage_rate"] = np.round(rng.uniform(0.3, 0.6, n), 2)
    df.loc[df.index[-3:], "return_salvage_rate"] = np.nan      # a landed-cost trap: no salvage rate
    launch = pd.to_datetime("2022-03-01") + pd.to_timedelta(rng.integers(0, 600, n), unit="D")
    df["launch_date"] = launch.strftime("%Y-%m-%d")
    df.loc[df["role"].eq("bf_promo"), "launch_date"] = "2025-05-01"
    return df


# --- orders -----------------------------------------------------------------------------------

def _systematic_days(intensity: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Day indices for n events spread in proportion to a daily intensity (systematic sampling).

    Systematic rather than random sampling keeps the daily counts close to the intended shape, so
    the planted promotion effects hold at small sizes.
    """
    cum = np.cumsum(intensity, dtype=float)
    u = (np.arange(n) + rng.random()) / n * cum[-1]
    return np.minimum(np.searchsorted(cum, u, side="right"), len(intensity) - 1)


def _generic_intensity(rng: np.random.Generator, growth: float) -> np.ndarray:
    month_idx = DAYS.month.to_numpy() - 1
    t = (DAYS - DAYS[0]).days.to_numpy() / 365.0
    noise = rng.lognormal(0.0, 0.08, len(DAYS))
    return SEASON[month_idx] * WEEKDAY[DAYS.day_of_week.to_numpy()] * np.exp(growth * t) * noise


def _window(start: str, end: str) -> np.ndarray:
    return ((DAYS >= start) & (DAYS <= end)).astype(bool)


def _segment_intensity(kind: str) -> np.ndarray:
    """Flat daily demand of a single-SKU segment, shaped by its planted promotion."""
    x = np.ones(len(DAYS))
    if kind == "pd":
        x[DAYS.month >= 11] = 1.3                  # mild Q4 lift, far from July
        x[_window(PD[1], PD[2])] = 4.0                           # Prime Day spike
        x[_window("2025-07-12", "2025-08-08")] = 1.08            # small halo after, no dip
    else:                                                        # Black Friday glove, launched in May
        x[(DAYS < "2025-05-01")] = 0.0
        x[_window(BF[1], BF[2])] = 6.0                           # strong spike ...
        x[_window("2025-12-02", "2025-12-29")] = 0.3             # ... then buyers have stocked up
        x[_window("2025-12-30", "2025-12-31")] = 0.8
    return x


def _orders(rng: np.random.Generator, n_lines: int, products: pd.DataFrame) -> pd.DataFrame:
    shares = np.array([c.lines for c in CHANNELS], dtype=float)
    shares /= shares.sum()
    n_no_cost = max(3, round(n_lines * 0.0004))
    frames = []
    for ci, ch in enumerate(CHANNELS):
        frames.append(_channel_orders(rng, ch, shares[ci].sum() * (n_lines - n_no_cost), products, n_no_cost))
    lines = pd.concat(frames, ignore_index=True)
    lines = _assign_skus(rng, lines, products)
    return _finish_lines(rng, lines, products)


def _channel_orders(rng, ch: ChannelProfile, n_ch: float, products, n_no_cost) -> pd.DataFrame:
    """Order headers and their line skeletons (sku decided later) for one channel, both years."""
    growth = {"tiktok_us": 0.45, "amazon_us": 0.05, "ebay_uk": -0.05, "shopify_eu": 0.08}[ch.name]
    intensity = _generic_intensity(rng, growth)
    year = DAYS.year.to_numpy()
    parts = []
    for yi, y in enumerate(YEARS):
        budget = n_ch * ch.lines[yi] / sum(ch.lines)
        special = _special_segments(ch, y, budget, products)
        generic_lines = budget - sum(n for _, _, n in special)
        if ch.name == "shopify_eu" and y == 2025:
            generic_lines -= n_no_cost
            special.append((NO_COST_SKU, np.where(year == y, 1.0, 0.0), n_no_cost))
        lpo = 1 + rng.choice([0, 1, 2], size=int(generic_lines / 1.27 * 1.1) + 10, p=[0.78, 0.17, 0.05])
        n_orders = int(np.searchsorted(np.cumsum(lpo), generic_lines)) + 1
        day = _systematic_days(np.where(year == y, intensity, 0.0), n_orders, rng)
        parts.append(pd.DataFrame({"day": day, "n": lpo[:n_orders], "sku": ""}))
        for sku, shape, n in special:
            day = _systematic_days(np.where(year == y, shape, 0.0), int(round(n)), rng)
            parts.append(pd.DataFrame({"day": day, "n": 1, "sku": sku}))
    heads = pd.concat(parts, ignore_index=True).sort_values("day", kind="stable", ignore_index=True)
    heads["order_id"] = (ch.prefix + "-") + pd.Series(np.arange(100001, 100001 + len(heads))).astype(str)
    heads["customer_id"] = _customers(rng, ch, DAYS.year.to_numpy()[heads["day"].to_numpy()])
    countries = list(ch.countries)
    heads["country"] = rng.choice(countries, len(heads), p=list(ch.countries.values()))
    heads["status"] = np.where(rng.random(len(heads)) < 0.006, "cancelled", "completed")
    lines = heads.loc[heads.index.repeat(heads["n"])].reset_index(drop=True)
    lines["channel"] = ch.name
    lines["currency"] = ch.currency
    return lines.drop(columns="n")


def _special_segments(ch: ChannelProfile, year: int, budget: float, products) -> list:
    """Single-SKU segments whose daily shape carries a planted promotion: (sku, intensity, lines)."""
    p = products.set_index("role")
    if ch.name == "amazon_us":
        # The Prime Day SKU is Amazon-only; size it to its planted share of company revenue.
        sku = p.loc["hit_amazon"]
        return [(sku["sku"], _segment_intensity("pd"), budget * 0.235)]
    if ch.name == "shopify_eu" and year == 2025:
        return [(p.loc["bf_promo", "sku"], _segment_intensity("bf"), budget * 0.08)]
    return []


def _customers(rng, ch: ChannelProfile, order_year: np.ndarray) -> np.ndarray:
    """Customer ids with repeat buying: a loyal pool buys in both years, others in one year only."""
    n24 = int((order_year == 2024).sum())
    n25 = int((order_year == 2025).sum())
    # Pools larger than the order counts, drawn with replacement: ~20% of customers of a year order
    # twice or more, ~20% of 2024's customers come back in 2025.
    both, only24, only25 = int(0.5 * n24) + 1, int(2.0 * n24) + 1, int(2.4 * n25) + 1
    weight = rng.lognormal(0.0, 0.6, both + only24 + only25)
    weight[:both] *= 3.0                                             # loyal customers buy more often
    ids = np.arange(both + only24 + only25)
    out = np.empty(len(order_year), dtype=object)
    for y, pool in ((2024, ids[:both + only24]), (2025, np.r_[ids[:both], ids[both + only24:]])):
        mask = order_year == y
        w = weight[pool] / weight[pool].sum()
        chosen = pool[rng.choice(len(pool), size=int(mask.sum()), p=w)]
        out[mask] = ((ch.prefix + "C") + pd.Series(chosen + 1).astype(str).str.zfill(6)).to_numpy()
    out[rng.random(len(out)) < 0.02] = None                          # guest checkouts
    return out


def _month_index(day: np.ndarray) -> np.ndarray:
    """0..23 for 2024-01..2025-12."""
    return (DAYS.year.to_numpy()[day] - YEARS[0]) * 12 + DAYS.month.to_numpy()[day] - 1


def _sku_month_probs(rng, generic: pd.DataFrame, lines_per_month: np.ndarray) -> np.ndarray:
    """Probability of each generic SKU for a line in each month (SKUs × 24).

    Evergreens get a fixed number of lines per month (probability ∝ 1 ÷ month volume) so their
    monthly units stay flat; long-tail SKUs sell in at most 8 months of 2025 (always Nov–Dec, so
    they are not slow-moving); the slow mover stops after September 2025.
    """
    q = (generic["share"] / generic["list_price"]).to_numpy()
    q = q / q.sum()
    roles = generic["role"].to_numpy()
    g = np.ones((len(generic), 24))
    for i in np.flatnonzero(roles == "long_tail"):
        act24 = rng.choice(12, rng.integers(6, 13), replace=False)
        act25 = np.r_[rng.choice(10, rng.integers(3, 7), replace=False), 10, 11]
        g[i] = 0.0
        g[i, act24] = 12 / len(act24)
        g[i, 12 + act25] = 12 / len(act25)
    slow = np.flatnonzero(roles == "problem_slow")
    g[slow, 21:] = 0.0
    g[slow, 12:21] = 12 / 9
    ever = roles == "evergreen"
    p = q[:, None] * g
    year_mean = np.r_[np.full(12, lines_per_month[:12].mean()), np.full(12, lines_per_month[12:].mean())]
    p[ever] = q[ever, None] * year_mean / np.maximum(lines_per_month, 1)
    rest = ~ever
    p[rest] = p[rest] / p[rest].sum(axis=0) * (1 - p[ever].sum(axis=0))
    return p


def _assign_skus(rng, lines: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Give every generic line a SKU by its month; no SKU twice in one order."""
    generic = products[~products["role"].isin(["hit_amazon", "bf_promo"])].reset_index(drop=True)
    skus = generic["sku"].to_numpy()
    month = _month_index(lines["day"].to_numpy())
    todo = (lines["sku"] == "").to_numpy()
    probs = _sku_month_probs(rng, generic, np.bincount(month[todo], minlength=24).astype(float))
    sku = lines["sku"].to_numpy(dtype=object)
    for _ in range(30):                       # redraw the few lines that repeat a SKU in their order
        for m in np.unique(month[todo]):
            sel = np.flatnonzero(todo & (month == m))
            sku[sel] = skus[rng.choice(len(skus), len(sel), p=probs[:, m])]
        todo = pd.DataFrame({"o": lines["order_id"].to_numpy(), "s": sku}).duplicated().to_numpy()
        if not todo.any():
            break
    out = lines.assign(sku=sku)
    return out[~todo].reset_index(drop=True)


def _nice_price(x: np.ndarray) -> np.ndarray:
    """Round to a .99 price point."""
    return np.maximum(np.floor(x), 1) + 0.99


def _finish_lines(rng, lines: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Quantities, prices, discounts, returns, refunds, shipping; then the two exact duplicates."""
    n = len(lines)
    info = products.set_index("sku")
    list_price = lines["sku"].map(info["list_price"]).fillna(4.0).to_numpy(dtype=float)
    role = lines["sku"].map(info["role"]).fillna("no_cost").to_numpy(dtype=object)
    ret_mult = lines["sku"].map(info["ret_mult"]).fillna(1.0).to_numpy(dtype=float)
    ch = lines["channel"].map(CH)
    factor = ch.map(lambda c: c.price_factor).to_numpy(dtype=float)
    ref = lines["currency"].map(REF_RATE).to_numpy(dtype=float)
    unit_price = _nice_price(list_price * factor / ref)
    qty = rng.choice(np.arange(1, 5), n, p=QTY_P)
    qty[role == "no_cost"] = 1
    gross = qty * unit_price
    day = lines["day"].to_numpy()
    date = DAYS[day]
    disc_frac = np.where(rng.random(n) < 0.12, rng.uniform(0.05, 0.25, n), 0.0)
    in_bf = (lines["sku"].to_numpy() == BF[4]) & (date >= BF[1]) & (date <= BF[2])
    in_pd = (lines["sku"].to_numpy() == PD[4]) & (date >= PD[1]) & (date <= PD[2])
    disc_frac = np.where(in_bf, 0.20, np.where(in_pd, 0.15, disc_frac))
    discount = np.round(gross * disc_frac, 2)
    active = (lines["status"] == "completed").to_numpy()
    p_ret = np.where(role == "problem_returns", 0.40,
                     ch.map(lambda c: c.return_rate).to_numpy(dtype=float) * ret_mult)
    returned = active & (rng.random(n) < p_ret)
    returned_qty = np.where(returned, np.where(rng.random(n) < 0.8, qty, 1), 0)
    refund = np.round(returned_qty * unit_price * (1 - disc_frac), 2)
    partial = active & ~returned & (rng.random(n) < 0.015)       # goodwill refunds, item kept
    refund = np.where(partial, np.round((gross - discount) * rng.uniform(0.2, 0.5, n), 2), refund)
    out = lines.assign(order_date=date, quantity=qty, unit_price=unit_price, discount=discount,
                       refund_amount=refund, returned_qty=returned_qty)
    # Shopify charges €4.90 shipping on orders under €49, on the order's first line.
    order_value = pd.Series(gross - discount).groupby(out["order_id"].to_numpy()).transform("sum").to_numpy()
    first = ~out["order_id"].duplicated().to_numpy()
    ship = (out["channel"] == "shopify_eu").to_numpy() & first & (order_value < 49)
    out["shipping_charged"] = np.where(ship, 4.90, 0.0)
    order = np.argsort(day, kind="stable")
    dup = rng.choice(np.flatnonzero(active[order]), 2, replace=False)
    idx = np.sort(np.r_[np.arange(n), dup])              # each duplicate right after its original
    return out.iloc[order].iloc[idx].reset_index(drop=True)


def _base(frame: pd.DataFrame, amount: pd.Series, fx: pd.DataFrame, month: pd.Series) -> pd.Series:
    """Amounts converted to USD at the month's rate."""
    rates = fx.set_index(["month", "currency"])["rate_to_base"]
    key = pd.MultiIndex.from_arrays([month, frame["currency"]])
    r = pd.Series(rates.reindex(key).to_numpy(), index=frame.index)
    return amount * r.where(frame["currency"] != "USD", 1.0)


def _channel_revenue(orders: pd.DataFrame, fx: pd.DataFrame) -> pd.DataFrame:
    """Revenue (net sales + shipping, USD) per channel × month of completed lines."""
    ok = orders[orders["status"] == "completed"]
    month = ok["order_date"].dt.strftime("%Y-%m")
    local = ok["quantity"] * ok["unit_price"] - ok["discount"] - ok["refund_amount"] + ok["shipping_charged"]
    rev = _base(ok, local, fx, month)
    return rev.groupby([ok["channel"], month]).sum().unstack(fill_value=0.0).reindex(columns=MONTHS,
                                                                                      fill_value=0.0)


# --- stock ------------------------------------------------------------------------------------

COVER_DAYS = {"hit_restock": 15, "hit": 75, "hit_amazon": 60, "evergreen": 90, "bf_promo": 60,
              "problem_returns": 60, "problem_loss": 75, "problem_overstock": 420}


def _stock(products: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """stock_on_hand from the planted days of cover (stock ÷ (units in the last 90 days ÷ 90))."""
    ok = orders[(orders["status"] == "completed")]
    last90 = ok[ok["order_date"] >= pd.Timestamp("2025-12-31") - pd.Timedelta(days=89)]
    rate = last90.groupby("sku")["quantity"].sum().reindex(products["sku"]).fillna(0).to_numpy() / 90
    long_tail_cover = 20 + (np.arange(len(products)) * 37) % 100          # 20..119 days
    cover = products["role"].map(COVER_DAYS).fillna(pd.Series(long_tail_cover)).to_numpy(dtype=float)
    stock = np.ceil(rate * cover)
    sold25 = ok[ok["order_date"].dt.year == 2025].groupby("sku")["quantity"].sum()
    slow = products["role"].eq("problem_slow").to_numpy()
    stock[slow] = np.ceil(sold25.reindex(products["sku"][slow]).fillna(10).to_numpy() * 0.8) + 5
    return products.assign(stock_on_hand=stock.astype(int))


# --- campaigns --------------------------------------------------------------------------------

# (id stem, name, channel, type, share of the channel's yearly revenue spent, roas, tags, keywords)
# keywords: (keyword, share of spend, relative roas; 0 = spend with no orders)
ADS = (
    ("SP-AMZ-BRAND", "Sponsored Products – brand", "amazon_us", 0.025, 8.0, "sponsored_products;brand",
     (("pawsome cat fountain", 0.5, 1.2), ("pawsome dog bed", 0.3, 1.0), ("pawsome pet", 0.2, 0.6))),
    ("SP-AMZ-GENERIC", "Sponsored Products – generic", "amazon_us", 0.05, 1.3, "sponsored_products;generic",
     (("dog bed", 0.35, 1.3), ("cat fountain", 0.3, 1.2), ("pet supplies", 0.15, 0),
      ("cheap dog toys", 0.1, 0), ("puppy pads", 0.1, 1.1))),
    ("TT-SPARK", "TikTok Spark Ads", "tiktok_us", 0.06, 9.0, "video;spark",
     (("#dogbed", 0.6, 1.1), ("#catlover", 0.4, 0.85))),
    ("META-EU", "Meta prospecting EU", "shopify_eu", 0.20, 1.2, "meta;prospecting",
     (("lookalike 1%", 0.5, 1.3), ("interest: dogs", 0.3, 1.0), ("interest: pet lovers", 0.2, 0))),
    ("GOOG-EU", "Google Shopping EU", "shopify_eu", 0.08, 6.0, "google;shopping",
     (("hundebett orthopädisch", 0.4, 1.2), ("arbre à chat", 0.35, 1.0), ("hundenapf edelstahl", 0.25, 0.7))),
)
# 2025 only: (id, name, channel, type, start, end, spend share, roas or None, tags, sku)
OTHER_CAMPAIGNS = (
    (PD[0], "Prime Day 2025 – cat fountain deal", PD[3], "promotion", PD[1], PD[2], 0.002, None,
     "prime_day;deal", PD[4]),
    (BF[0], "Black Friday 2025 – grooming glove", BF[3], "promotion", BF[1], BF[2], 0.004, None,
     "black_friday;q4", BF[4]),
    ("TT-UGC-2025", "UGC creator videos", "tiktok_us", "content", "2025-03-01", "2025-10-31", 0.02, 1.8,
     "ugc;video", ""),
    ("INF-PAWS-2025", "Pet influencer seeding", "tiktok_us", "influencer", "2025-04-01", "2025-06-30", 0.02,
     1.5, "influencer;q2", ""),
    ("EMAIL-WINBACK-2025", "Win-back e-mail flow", "shopify_eu", "email", "2025-01-01", "2025-12-31", 0.01,
     12.0, "crm;retention", ""),
)


def _campaigns(rng, rev: pd.DataFrame) -> pd.DataFrame:
    """Ads campaigns with keyword rows (both years) and the 2025 promotions and other campaigns.

    Spend is a share of the channel's actual yearly revenue, so the planted ROAS and contribution
    figures do not depend on the demo size.
    """
    rows = []
    for y in YEARS:
        for stem, name, channel, spend_share, roas, tags, keywords in ADS:
            cur = CH[channel].currency
            spend = spend_share * _year_rev(rev, channel, y) / REF_RATE[cur]
            rel = np.array([k[2] for k in keywords]) * np.array([k[1] for k in keywords])
            for (kw, share, r), kw_rel in zip(keywords, rel):
                k_spend = spend * share
                k_sales = spend * roas * kw_rel / rel.sum()
                rows.append(_ad_row(rng, f"{stem}-{y}", f"{name} {y}", channel, "ads", f"{y}-01-01",
                                    f"{y}-12-31", k_spend, k_sales, tags, cur, keyword=kw))
    for cid, name, channel, ctype, start, end, spend_share, roas, tags, sku in OTHER_CAMPAIGNS:
        cur = CH[channel].currency
        spend = spend_share * _year_rev(rev, channel, 2025) / REF_RATE[cur]
        row = _ad_row(rng, cid, name, channel, ctype, start, end, spend, (roas or 0) * spend, tags, cur, sku=sku)
        if roas is None:                       # promotions are judged on daily sales, not attribution
            row.update(impressions=None, clicks=None, orders=None, attributed_sales=None)
        rows.append(row)
    return pd.DataFrame(rows)


def _year_rev(rev: pd.DataFrame, channel: str, year: int) -> float:
    return float(rev.loc[channel, [m for m in MONTHS if m.startswith(str(year))]].sum())


def _ad_row(rng, cid, name, channel, ctype, start, end, spend, sales, tags, cur, keyword="", sku="") -> dict:
    impressions = int(spend / rng.uniform(6, 14) * 1000)
    clicks = int(impressions * rng.uniform(0.006, 0.02))
    orders = int(round(sales / 38.0))
    return dict(campaign_id=cid, channel=channel, type=ctype, start_date=start, end_date=end,
                spend=round(spend, 2), campaign_name=name, impressions=impressions, clicks=max(clicks, orders),
                orders=orders, attributed_sales=round(sales, 2), keyword=keyword, sku=sku, tags=tags,
                currency=cur)


# --- expenses, traffic, goals, KPIs, settings ---------------------------------------------------

# (category, channel or "", currency, share of revenue: of the channel's if channel else of the
#  company's, flat = spread evenly over the year rather than following monthly revenue, note)
EXPENSE_RULES = (
    ("advertising", "ebay_uk", "GBP", 0.09, False, "eBay Promoted Listings"),
    ("advertising", "", "USD", 0.004, True, "Brand awareness"),
    ("logistics", "", "CNY", 0.010, False, "Head-haul handling / 头程操作费"),
    ("logistics", "ebay_uk", "GBP", 0.03, False, "Return shipping labels"),
    ("storage", "amazon_us", "USD", 0.015, False, "FBA storage fees"),
    ("platform", "amazon_us", "USD", 0.002, True, "Amazon Professional plan"),
    ("platform", "ebay_uk", "GBP", 0.010, True, "eBay shop subscription"),
    ("platform", "shopify_eu", "EUR", 0.010, True, "Shopify plan and apps"),
    ("software", "", "USD", 0.006, True, "ERP and analytics"),
    ("staff", "", "CNY", 0.09, True, "Team salaries / 工资"),
    ("rent", "", "CNY", 0.02, True, "Office rent / 房租"),
    ("compliance", "", "EUR", 0.004, True, "EPR and VAT representative"),
    ("other", "", "USD", 0.005, True, "Bank charges, misc."),
)


def _expenses(rng, rev: pd.DataFrame) -> pd.DataFrame:
    total = rev.sum(axis=0)
    rows = []
    for cat, channel, cur, share, flat, note in EXPENSE_RULES:
        base = rev.loc[channel] if channel else total
        for y in YEARS:
            months = [m for m in MONTHS if m.startswith(str(y))]
            amounts = pd.Series(base[months].mean(), index=months) if flat else base[months]
            for m in months:
                rows.append(dict(month=m, category=cat, amount=round(share * amounts[m] / REF_RATE[cur], 2),
                                 channel=channel, currency=cur, note=note))
    return pd.DataFrame(rows)


CONVERSION = {"amazon_us": 0.11, "tiktok_us": 0.025, "ebay_uk": 0.06, "shopify_eu": 0.022}
# Shopify SKU traffic: SKU → (conversion it is given, planted quadrant). Sessions = orders ÷ conversion,
# so big sellers at high conversion and mid sellers at low conversion both get high traffic.
SKU_TRAFFIC_ROLES = {"hit_restock": (0.06, "high_traffic_high_conversion"),
                     "hit": (0.06, "high_traffic_high_conversion"),
                     "evergreen": (0.015, "high_traffic_low_conversion")}


def _completed_orders(orders: pd.DataFrame, keys: list[str]) -> pd.Series:
    ok = orders[orders["status"] == "completed"]
    return ok.assign(month=ok["order_date"].dt.strftime("%Y-%m")).groupby(keys)["order_id"].nunique()


def _traffic(rng, orders: pd.DataFrame) -> pd.DataFrame:
    """Channel-month funnel rows (24 months × channels) and Shopify SKU-month rows (orders left empty)."""
    counts = _completed_orders(orders, ["channel", "month"])
    rows = []
    for ch in CHANNELS:
        c = CONVERSION[ch.name]
        for m in MONTHS:
            o = counts.get((ch.name, m), 0)
            sessions = round(o / c * rng.lognormal(0, 0.05))
            rows.append(dict(month=m, channel=ch.name, sessions=sessions, sku="",
                             add_to_cart=round(o * 2.6), checkouts=round(o * 1.5), orders=None))
    for sku, (conv, _) in _sku_traffic_plan(orders).items():
        sku_counts = _completed_orders(orders[(orders["sku"] == sku) & (orders["channel"] == "shopify_eu")],
                                       ["month"]).reindex(MONTHS, fill_value=0)
        mean = sku_counts.mean()
        for m in MONTHS:
            # Half follows the month's orders, half is a steady base: yearly orders ÷ sessions = conv.
            sessions = round((0.5 * sku_counts[m] + 0.5 * mean) / conv)
            rows.append(dict(month=m, channel="shopify_eu", sessions=sessions, sku=sku,
                             add_to_cart=round(sessions * conv * 2.4), checkouts=None, orders=None))
    return pd.DataFrame(rows)


def _sku_traffic_plan(orders: pd.DataFrame) -> dict:
    """The 8 Shopify SKUs with SKU traffic: two per traffic × conversion quadrant."""
    roles = {s: r for s, *_x, r, _sh, _rm in [(p[0], p[4], p[5], p[6]) for p in PLANTED_SKUS]}
    plan = {}
    for sku, role in roles.items():
        if role in SKU_TRAFFIC_ROLES and sum(v[1] == SKU_TRAFFIC_ROLES[role][1] for v in plan.values()) < 2:
            plan[sku] = SKU_TRAFFIC_ROLES[role]
    # Two small long-tail sellers at high conversion (low traffic) and two at low conversion.
    per_sku = _completed_orders(orders[orders["channel"] == "shopify_eu"], ["sku"])
    small = [s for s in per_sku.sort_values().index if s not in roles and s != NO_COST_SKU]
    mid = len(small) // 2
    for sku in small[mid - 2: mid]:
        plan[sku] = (0.06, "low_traffic_high_conversion")
    for sku in small[mid: mid + 2]:
        plan[sku] = (0.015, "low_traffic_low_conversion")
    return plan


def _goals() -> pd.DataFrame:
    cols = ["goal_id", "metric", "target", "scope", "deadline", "owner", "strategy", "dimension",
            "breakdown", "weekly_actions"]
    rows = [
        ("G1", "revenue", "+30%", "channel:amazon_us", "2026-12-31", "Lily", "Grow US Amazon with new listings",
         "market", "seasonal", "list 2 new products; optimise 10 listings"),
        ("G2", "aov", "50", "all", "2026-03-31", "Ming", "Bundles and free-shipping threshold", "marketing",
         "even", "launch 1 bundle; test 1 price point"),
        ("G3", "gross_margin", "+5pp", "all", "2026-12-31", "Chen", "Renegotiate costs, fix eBay pricing",
         "product", "seasonal", "review 5 SKU costs; reprice 3 loss-makers"),
        ("G4", "orders", "+20%", "all", "2026-12-31", "Lily", "Steady growth across channels", "operations",
         "30,25,15,30", "restock top 4 SKUs; answer reviews within 24h"),
        ("G5", "new_customers", "+25%", "channel:tiktok_us", "2026-12-31", "Ming", "Scale TikTok Shop",
         "marketing", "seasonal", "post 5 short videos; brief 2 creators"),
    ]
    return pd.DataFrame(rows, columns=cols)


def _kpi_inputs() -> pd.DataFrame:
    return pd.DataFrame([("nps", "42", "2025", "Customer survey, Dec 2025"),
                         ("csat", "0.88", "2025", "Support tickets"),
                         ("site_speed_seconds", "2.6", "2025", "PageSpeed, Shopify store"),
                         ("review_rating", "4.5", "2025", "Amazon average rating")],
                        columns=["kpi", "value", "period", "note"])


def _settings() -> dict:
    return {"client": "Demo Pet Supplies 示例宠物用品", "base_currency": "USD", "lang": "zh",
            "consultant": "ecomreview demo", "stage": "growth", "default_lifespan_years": 1}


# --- planted truths -----------------------------------------------------------------------------

PRODUCT_TRUTH = {
    "hit_restock": ("hit", ["replicate", "restock"]), "hit": ("hit", ["replicate"]),
    "hit_amazon": ("hit", ["replicate"]), "evergreen": ("evergreen", ["bundle_or_refresh"]),
    "bf_promo": ("long_tail", ["review"]), "problem_returns": ("problem", ["fix_listing_or_quality"]),
    "problem_slow": ("problem", ["clearance"]), "problem_overstock": ("problem", ["clearance"]),
    "problem_loss": ("problem", ["reprice"]), "long_tail": ("long_tail", ["review"]),
}


def _planted(orders: pd.DataFrame, products: pd.DataFrame) -> dict:
    roles = dict(zip(products["sku"], products["role"]))
    ads = {f"{stem}-{y}": ("profitable" if roas >= 4 else "unprofitable")
           for stem, _n, _c, _s, roas, *_ in ADS for y in YEARS}
    others = {cid: ("profitable" if roas >= 4 else "unprofitable")
              for cid, *_x, roas, _t, _s in OTHER_CAMPAIGNS if roas is not None}
    return {
        "review_period": REVIEW_PERIOD,
        "base_currency": "USD",
        "channels": {"amazon_us": "cash_cow", "tiktok_us": "potential", "ebay_uk": "problem",
                     "shopify_eu": "steady"},
        "products": {sku: {"class": PRODUCT_TRUTH[r][0], "action": PRODUCT_TRUTH[r][1], "role": r}
                     for sku, r in roles.items()},
        "promotions": {BF[0]: "pulled_forward", PD[0]: "incremental"},
        "campaigns": {**ads, **others},
        "wasted_keywords": [kw for *_x, kws in ADS for kw, _s, r in kws if r == 0],
        "traffic_quadrants": {sku: q for sku, (_c, q) in _sku_traffic_plan(orders).items()},
        "data_quality": {"cancelled_lines": int((orders["status"] == "cancelled").sum()),
                         "duplicate_lines": 2, "skus_without_cost": [NO_COST_SKU]},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecomreview.demo",
                                     description="Write the seeded demo-seller workspace.")
    parser.add_argument("out", help="output folder")
    parser.add_argument("--lines", type=int, default=60000, help="number of order lines (default 60000)")
    parser.add_argument("--seed", type=int, default=2025, help="random seed (default 2025)")
    args = parser.parse_args(argv)
    print(generate(args.out, n_lines=args.lines, seed=args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
