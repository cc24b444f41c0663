"""Shopify orders and products CSV exports -> orders and products tables."""
from __future__ import annotations

import pandas as pd

from .common import Mapped, Source, allocate, day_text, parse_dates, parse_number, resolve, text, check_kind

ORDER_FIELDS = {
    "order_id": ("Name", "Order Name", "Order"),
    "created": ("Created at", "Created At", "Processed at"),
    "qty": ("Lineitem quantity", "Line Item Quantity", "Lineitem qty"),
    "price": ("Lineitem price", "Line Item Price"),
    "sku": ("Lineitem sku", "Line Item SKU"),
    "item_name": ("Lineitem name", "Line Item Name"),
    "line_discount": ("Lineitem discount", "Line Item Discount"),
    "email": ("Email", "Customer Email"),
    "currency": ("Currency",),
    "shipping": ("Shipping",),
    "discount": ("Discount Amount",),
    "refunded": ("Refunded Amount",),
    "cancelled": ("Cancelled at", "Cancelled At"),
    "financial": ("Financial Status",),
    "ship_country": ("Shipping Country",),
    "bill_country": ("Billing Country",),
}
ORDER_LEVEL = ("email", "currency", "shipping", "discount", "refunded", "cancelled", "financial",
               "ship_country", "bill_country", "created")

PRODUCT_FIELDS = {
    "handle": ("Handle",),
    "title": ("Title",),
    "sku": ("Variant SKU",),
    "cost": ("Cost per item", "Variant Cost"),
    "category": ("Product Category", "Standard Product Type", "Standardized Product Type"),
    "type": ("Type", "Custom Product Type"),
    "opt1": ("Option1 Value",),
    "opt2": ("Option2 Value",),
    "opt3": ("Option3 Value",),
}
NO_SKU = "NOSKU"


def import_orders(sources: list[Source], options: dict, lang: str) -> Mapped:
    """One orders row per line item; order-level amounts allocated to lines (see docs/importing.md)."""
    out = Mapped()
    channel = options.get("channel") or "shopify"
    frames = [_orders_one(src, channel, out, lang).assign(_file=i) for i, src in enumerate(sources)]
    df = pd.concat(frames, ignore_index=True)
    # the same order in two overlapping exports: the later file's lines win, nothing doubles
    last_file = df.groupby("order_id", sort=False)["_file"].transform("max")
    dup = df["_file"] != last_file
    out.skip("orders", "importers.skip.order_in_later_file", dup)
    out.tables["orders"] = df[~dup].drop(columns="_file")
    out.note("importers.note.shopify_allocation")
    return out


def _orders_one(src: Source, channel: str, out: Mapped, lang: str) -> pd.DataFrame:
    f = src.frame
    cols = resolve(f.columns, ORDER_FIELDS)
    missing = [ORDER_FIELDS[k][0] for k in ("order_id", "created", "qty", "price") if k not in cols]
    check_kind(src, "shopify-orders", lang, missing)
    out.rows_in["orders"] = out.rows_in.get("orders", 0) + len(f)
    col = lambda k: text(f[cols[k]]) if k in cols else pd.Series("", index=f.index)  # noqa: E731
    oid = col("order_id")
    # order-level fields are filled on an order's first row only: take each order's first non-empty
    level = pd.DataFrame({k: col(k) for k in ORDER_LEVEL}).replace("", pd.NA)
    level = level.groupby(oid, sort=False).transform("first").fillna("")
    qty = parse_number(col("qty"))[0]
    price = parse_number(col("price"))[0]
    ok = qty.notna() & price.notna() & (oid != "")
    out.skip("orders", "importers.skip.no_quantity_or_price", ~ok)
    dates = parse_dates(level["created"])[0]
    out.skip("orders", "importers.skip.bad_date", ok & dates.isna())
    ok &= dates.notna()

    f, oid, level, qty, price, dates = f[ok], oid[ok], level[ok], qty[ok], price[ok], dates[ok]
    value = qty * price
    first = ~oid.duplicated()
    line_disc = parse_number(col("line_discount")[ok])[0].fillna(0)
    order_disc = parse_number(level["discount"])[0].fillna(0)
    # Lineitem discount is the part Shopify already put on the line; the rest of the order's
    # Discount Amount (order-level codes) is spread pro rata to line value.
    rest = (order_disc - line_disc.groupby(oid, sort=False).transform("sum")).clip(lower=0)
    discount = line_disc + allocate(rest, value, oid)
    goods = (value - discount).groupby(oid, sort=False).transform("sum").clip(lower=0)
    refunded = parse_number(level["refunded"])[0].fillna(0)
    # Refunded Amount includes refunded tax and shipping; the part above the goods is dropped
    over = refunded > goods + 0.005
    if (over & first).any():
        out.note("importers.note.refund_capped", int((over & first).sum()))
    refund = allocate(refunded.clip(upper=goods), value, oid)
    shipping = parse_number(level["shipping"])[0].fillna(0).where(first, 0.0)

    sku = col("sku")[ok].str.lstrip("'")  # Shopify writes '123 so Excel keeps numeric SKUs as text
    no_sku = sku == ""
    if no_sku.any():
        name = col("item_name")[ok]
        sku = sku.where(~no_sku, (NO_SKU + ":" + name).str.rstrip(":"))
        out.note("importers.note.no_sku_kept", int(no_sku.sum()))
    cancelled = level["cancelled"] != ""
    status = level["financial"].str.lower().where(~cancelled, "cancelled")
    country = level["ship_country"].where(level["ship_country"] != "", level["bill_country"])
    return pd.DataFrame({
        "order_id": oid, "order_date": day_text(dates), "channel": channel, "sku": sku,
        "quantity": qty, "unit_price": price, "discount": discount, "shipping_charged": shipping,
        "refund_amount": refund, "returned_qty": pd.NA, "customer_id": level["email"].str.lower(),
        "country": country, "currency": level["currency"].str.upper(), "status": status,
    })


def import_products(sources: list[Source], options: dict, lang: str) -> Mapped:
    """One products row per Variant SKU: name, category and Cost per item (unit_cost)."""
    out = Mapped()
    frames = []
    for src in sources:
        f = src.frame
        cols = resolve(f.columns, PRODUCT_FIELDS)
        missing = [PRODUCT_FIELDS[k][0] for k in ("handle", "sku") if k not in cols]
        check_kind(src, "shopify-products", lang, missing)
        out.rows_in["products"] = out.rows_in.get("products", 0) + len(f)
        col = lambda k: text(f[cols[k]]) if k in cols else pd.Series("", index=f.index)  # noqa: E731
        handle = col("handle")
        # Title, category and type are on a product's first row; its variant rows leave them empty
        head = pd.DataFrame({k: col(k) for k in ("title", "category", "type")}).replace("", pd.NA)
        head = head.groupby(handle, sort=False).transform("first").fillna("")
        sku = col("sku").str.lstrip("'")  # see _orders_one
        out.skip("products", "importers.skip.no_variant_sku", sku == "")
        opts = pd.concat([col("opt1"), col("opt2"), col("opt3")], axis=1)
        opts = opts.where(~opts.isin(["", "Default Title"]), "")
        variant = opts.apply(lambda r: " / ".join(v for v in r if v), axis=1) if len(opts) else opts.iloc[:, 0]
        name = head["title"].where(variant == "", head["title"] + " - " + variant)
        category = head["category"].str.split(">").str[-1].str.strip()
        category = category.where(category != "", head["type"])
        cost, bad = parse_number(col("cost"))
        out.skip("products", "importers.skip.bad_cost", bad & (sku != ""))
        frames.append(pd.DataFrame({"sku": sku, "unit_cost": cost.where(~bad), "product_name": name,
                                    "category": category})[sku != ""])
    df = pd.concat(frames, ignore_index=True)
    # a SKU listed under two handles: keep one row, its first non-empty value per column
    dup = df["sku"].duplicated()
    out.skip("products", "importers.skip.duplicate_sku", dup)
    df = df.replace("", pd.NA).groupby("sku", sort=False).first().reset_index()
    out.tables["products"] = df
    return out
