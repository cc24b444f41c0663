"""Shared fixtures: tiny workspaces written as CSV text, so every expected number can be worked by hand."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
REALDATA = SHARED / "realdata"


def write_workspace(folder: Path, files: dict[str, str], encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_bytes(textwrap.dedent(text).lstrip("\n").encode(encoding))
    return folder


# A workspace whose every metric for 2025 is worked out by hand in tests/test_metrics.py.
TINY = {
    "orders.csv": """
        order_id,order_date,channel,sku,quantity,unit_price,discount,shipping_charged,refund_amount,returned_qty,customer_id,country,currency,status
        A1,2025-01-10,shop,S1,2,10,2,5,0,0,c1,US,USD,
        A1,2025-01-10,shop,S2,1,20,0,0,0,0,c1,US,USD,
        A2,2025-02-05,shop,S1,1,10,0,5,10,1,c2,US,USD,
        A3,2025-02-20,amz,S2,3,20,0,0,0,0,c1,DE,EUR,
        A4,2025-03-01,amz,S1,1,10,0,0,0,0,c3,US,USD,cancelled
        A0,2024-06-01,shop,S1,1,10,0,0,0,0,c1,US,USD,
        """,
    "products.csv": """
        sku,unit_cost,duty_rate,inbound_freight,packaging_cost,cost_currency,return_salvage_rate
        S1,20,10%,1,1,CNY,0.5
        S2,5,,,,,
        """,
    "channels.csv": """
        channel,commission_rate,payment_fee_rate,payment_fee_fixed,fulfillment_cost_per_unit,shipping_cost_per_order
        shop,0,3%,0.30,0,4
        amz,15%,0,0,3,0
        """,
    "fx_rates.csv": """
        month,currency,rate_to_base
        2024-06,CNY,0.14
        2025-01,CNY,0.14
        2025-02,CNY,0.14
        2025-02,EUR,1.1
        """,
    "expenses.csv": """
        month,category,amount,channel
        2025-01,software,100,
        2025-02,advertising,50,amz
        2025-01,logistics,20,
        2025-01,platform,10,
        """,
    "campaigns.csv": """
        campaign_id,channel,type,start_date,end_date,spend
        C1,amz,ads,2025-02-01,2025-02-10,100
        C2,shop,ads,2024-12-27,2025-01-05,100
        """,
    "traffic.csv": """
        month,channel,sessions,add_to_cart
        2025-01,shop,100,10
        2025-02,shop,50,
        """,
}


@pytest.fixture
def tiny(tmp_path):
    return write_workspace(tmp_path / "tiny", TINY)
