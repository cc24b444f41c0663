"""The input contract: one declaration per template table (SPEC §2).

This single declaration drives the loader (parsing, aliases, validation), the blank templates
and the workbook's README sheet, the docs table (docs/templates.md) and the tests.

Why not pandera: our tables need Chinese header aliases, money strings such as ``Rs. 1,234`` and
rates such as ``2.9%`` parsed *before* type checks, and every problem reported as file, row,
column, value and a fix in the user's language. A pandera model would still need all of that
written around it, so the declaration below is plain dataclasses read by ``loader.py``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Column kinds the loader knows how to parse.
TEXT = "text"        # free text, stripped
ID = "id"            # identifier (order_id, sku): text, never parsed as a number
DATE = "date"        # ISO YYYY-MM-DD, time allowed
MONTH = "month"      # YYYY-MM
MONEY = "money"      # number; thousands separators and currency symbols allowed
NUMBER = "number"    # plain number (quantities, sessions)
INT = "int"          # whole number
RATE = "rate"        # fraction; "2.9%" or 0.029
CURRENCY = "currency"  # ISO 4217 code, upper-cased
ENUM = "enum"        # one of `choices`


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool
    zh: str                      # Chinese header alias shown in the templates
    en_help: str                 # what it means, in English
    zh_help: str                 # what it means, in Chinese
    example: str = ""
    unit: str = ""
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # further accepted header spellings
    min_value: float | None = None  # values below are errors
    positive: bool = False          # zero or below -> data-quality warning (not an error)


@dataclass(frozen=True)
class Table:
    name: str
    zh: str
    required: bool
    row_is: str
    row_is_zh: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def C(name, kind, required, zh, en_help, zh_help, example="", unit="", **kw) -> Column:
    return Column(name, kind, required, zh, en_help, zh_help, example, unit, **kw)


EXPENSE_CATEGORIES = ("advertising", "logistics", "storage", "platform", "software", "staff",
                      "rent", "compliance", "other")
CAMPAIGN_TYPES = ("ads", "promotion", "content", "influencer", "affiliate", "email")
GOAL_DIMENSIONS = ("product", "market", "marketing", "operations")

ORDERS = Table("orders", "订单", True, "order line", "订单行", (
    C("order_id", ID, True, "订单号", "Order number; lines of one order share it", "订单编号,同一订单的多行相同", "A1001"),
    C("order_date", DATE, True, "下单日期", "Order date, ISO YYYY-MM-DD (time allowed)", "下单日期,格式 YYYY-MM-DD(可带时间)", "2025-03-14"),
    C("channel", ID, True, "渠道", "Sales channel id, e.g. amazon_us, shopify", "销售渠道代码,如 amazon_us、shopify", "amazon_us"),
    C("sku", ID, True, "SKU", "Seller SKU", "商品 SKU", "PAD-XL", aliases=("商品编码",)),
    C("quantity", NUMBER, True, "数量", "Units on the line", "该行件数", "2", "units/件"),
    C("unit_price", MONEY, True, "单价", "Price per unit, excluding tax", "不含税单价", "19.99", "order currency/订单币种"),
    C("discount", MONEY, False, "折扣金额", "Discount on the line (amount)", "该行折扣金额", "2.00", "order currency/订单币种"),
    C("shipping_charged", MONEY, False, "运费收入", "Shipping charged to the buyer for the line", "向买家收取的运费", "4.99", "order currency/订单币种"),
    C("refund_amount", MONEY, False, "退款金额", "Amount refunded on the line", "该行退款金额", "0", "order currency/订单币种"),
    C("returned_qty", NUMBER, False, "退货数量", "Units returned", "退回件数", "0", "units/件"),
    C("customer_id", ID, False, "客户ID", "Buyer id or e-mail", "买家编号或邮箱", "C0042", aliases=("客户编号",)),
    C("country", TEXT, False, "国家", "Ship-to country (ISO code)", "收货国家(ISO 代码)", "US"),
    C("currency", CURRENCY, False, "币种", "Currency of the amounts; default base currency", "金额币种,默认本位币", "USD"),
    C("status", TEXT, False, "状态", "Line status; 'cancelled' (已取消) lines are excluded", "订单状态;'cancelled'(已取消)不计入指标", "completed"),
), key=("order_id", "sku"))

PRODUCTS = Table("products", "产品", False, "SKU", "SKU", (
    C("sku", ID, True, "SKU", "Seller SKU", "商品 SKU", "PAD-XL", aliases=("商品编码",)),
    C("unit_cost", MONEY, True, "采购单价", "Purchase cost per unit", "单件采购成本", "35.00", "cost currency/成本币种", min_value=0),
    C("product_name", TEXT, False, "产品名称", "Product name", "产品名称", "Pee pad XL"),
    C("category", TEXT, False, "品类", "Category", "品类", "Pet"),
    C("inbound_freight", MONEY, False, "头程运费", "Inbound (first-mile) freight per unit", "单件头程运费", "3.20", "cost currency/成本币种", min_value=0),
    C("duty_rate", RATE, False, "关税率", "Import duty as a rate of unit cost", "进口关税率(按采购成本)", "7.5%", "fraction/比例", min_value=0),
    C("packaging_cost", MONEY, False, "包装成本", "Packaging per unit", "单件包装成本", "0.80", "cost currency/成本币种", min_value=0),
    C("cost_currency", CURRENCY, False, "成本币种", "Currency of the cost columns; default base currency", "成本列币种,默认本位币", "CNY"),
    C("stock_on_hand", NUMBER, False, "库存数量", "Units in stock at the end of the period", "期末库存件数", "120", "units/件", min_value=0),
    C("launch_date", DATE, False, "上架日期", "Date the SKU was launched", "上架日期", "2024-05-01"),
    C("return_salvage_rate", RATE, False, "退货残值率", "Share of landed cost recovered on a returned unit", "退回商品可回收的成本比例", "30%", "fraction/比例", min_value=0),
), key=("sku",))

CHANNELS = Table("channels", "渠道", False, "sales channel", "销售渠道", (
    C("channel", ID, True, "渠道", "Channel id as used in orders", "渠道代码,与订单表一致", "amazon_us"),
    C("platform", TEXT, False, "平台", "Platform name", "平台名称", "Amazon"),
    C("market", TEXT, False, "市场", "Market / country", "市场/国家", "US"),
    C("commission_rate", RATE, False, "佣金率", "Platform commission as a rate of revenue", "平台佣金率(按收入)", "15%", "fraction/比例", min_value=0),
    C("payment_fee_rate", RATE, False, "支付费率", "Payment fee rate", "支付手续费率", "2.9%", "fraction/比例", min_value=0),
    C("payment_fee_fixed", MONEY, False, "支付固定费", "Fixed payment fee per order", "每单固定支付费", "0.30", "base currency/本位币", min_value=0),
    C("fulfillment_cost_per_unit", MONEY, False, "单件履约费", "Fulfilment (e.g. FBA) cost per unit", "单件履约费(如 FBA)", "3.50", "base currency/本位币", min_value=0),
    C("shipping_cost_per_order", MONEY, False, "每单运费成本", "Last-mile shipping cost per order", "每单尾程运费成本", "6.20", "base currency/本位币", min_value=0),
    C("ops_hours", NUMBER, False, "运营工时", "Hours spent operating the channel in the period", "期间运营该渠道的工时", "400", "hours/小时", min_value=0),
), key=("channel",))

EXPENSES = Table("expenses", "费用", False, "month × category (× channel)", "月份 × 类别(× 渠道)", (
    C("month", MONTH, True, "月份", "Month, YYYY-MM", "月份,格式 YYYY-MM", "2025-01"),
    C("category", ENUM, True, "类别", "One of: " + ", ".join(EXPENSE_CATEGORIES), "类别:" + "、".join(EXPENSE_CATEGORIES), "software", choices=EXPENSE_CATEGORIES),
    C("amount", MONEY, True, "金额", "Amount", "金额", "299.00", "expense currency/费用币种"),
    C("channel", ID, False, "渠道", "Channel the cost belongs to; empty = company-wide", "所属渠道,空表示公司层面", "shopify"),
    C("currency", CURRENCY, False, "币种", "Currency; default base currency", "币种,默认本位币", "USD"),
    C("note", TEXT, False, "备注", "Note", "备注", "Shopify plan"),
))

TRAFFIC = Table("traffic", "流量", False, "month × channel (× SKU)", "月份 × 渠道(× SKU)", (
    C("month", MONTH, True, "月份", "Month, YYYY-MM", "月份,格式 YYYY-MM", "2025-01"),
    C("channel", ID, True, "渠道", "Channel id", "渠道代码", "shopify"),
    C("sessions", NUMBER, True, "访客数", "Sessions / visits", "访问次数", "12000", min_value=0),
    C("sku", ID, False, "SKU", "SKU, for SKU-level traffic", "SKU(商品级流量)", "PAD-XL"),
    C("add_to_cart", NUMBER, False, "加购数", "Add-to-cart events", "加购次数", "900", min_value=0),
    C("checkouts", NUMBER, False, "结账数", "Checkouts started", "发起结账次数", "500", min_value=0),
    C("orders", NUMBER, False, "订单数", "Orders; empty = counted from the orders table", "订单数,空则按订单表统计", "300", min_value=0),
))

CAMPAIGNS = Table("campaigns", "营销活动", False, "campaign (or campaign × keyword/month)", "活动(或活动 × 关键词/月)", (
    C("campaign_id", ID, True, "活动ID", "Campaign id", "活动编号", "SP-01"),
    C("channel", ID, True, "渠道", "Channel id", "渠道代码", "amazon_us"),
    C("type", ENUM, True, "类型", "One of: " + ", ".join(CAMPAIGN_TYPES), "类型:" + "、".join(CAMPAIGN_TYPES), "ads", choices=CAMPAIGN_TYPES),
    C("start_date", DATE, True, "开始日期", "First day", "开始日期", "2025-11-24"),
    C("end_date", DATE, True, "结束日期", "Last day (inclusive)", "结束日期(含)", "2025-12-01"),
    C("spend", MONEY, True, "花费", "Spend", "花费", "1500", "campaign currency/活动币种", min_value=0),
    C("campaign_name", TEXT, False, "活动名称", "Name", "活动名称", "Black Friday"),
    C("impressions", NUMBER, False, "展示量", "Impressions", "展示次数", "120000", min_value=0),
    C("clicks", NUMBER, False, "点击量", "Clicks", "点击次数", "2400", min_value=0),
    C("orders", NUMBER, False, "订单数", "Attributed orders", "归因订单数", "80", min_value=0),
    C("attributed_sales", MONEY, False, "归因销售额", "Attributed sales", "归因销售额", "4200", "campaign currency/活动币种", min_value=0),
    C("keyword", TEXT, False, "关键词", "Keyword or search term", "关键词/搜索词", "pee pads"),
    C("sku", ID, False, "SKU", "SKU the campaign promotes", "推广的 SKU", "PAD-XL"),
    C("tags", TEXT, False, "标签", "Tags separated by ;", "标签,用 ; 分隔", "q4;brand"),
    C("currency", CURRENCY, False, "币种", "Currency; default base currency", "币种,默认本位币", "USD"),
))

FX_RATES = Table("fx_rates", "汇率", False, "month × currency", "月份 × 币种", (
    C("month", MONTH, True, "月份", "Month, YYYY-MM", "月份,格式 YYYY-MM", "2025-01"),
    C("currency", CURRENCY, True, "币种", "Currency code", "币种代码", "CNY"),
    C("rate_to_base", NUMBER, True, "兑本位币汇率", "Base-currency units per 1 unit of currency", "1 单位该币种折合本位币", "0.1380", min_value=0),
), key=("month", "currency"))

GOALS = Table("goals", "目标", False, "goal", "目标", (
    C("goal_id", ID, True, "目标ID", "Goal id", "目标编号", "G1"),
    C("metric", TEXT, True, "指标", "Metric name from SPEC §3 (e.g. revenue, aov)", "指标名(如 revenue、aov)", "revenue"),
    C("target", TEXT, True, "目标值", "Absolute (50), relative (+30%) or points (+5pp)", "绝对值(50)、相对变化(+30%)或百分点(+5pp)", "+30%"),
    C("scope", TEXT, False, "范围", "all, channel:X, country:X, category:X or sku:X", "all、channel:X、country:X、category:X 或 sku:X", "channel:amazon_us"),
    C("deadline", DATE, False, "截止日期", "Deadline", "截止日期", "2026-12-31"),
    C("owner", TEXT, False, "负责人", "Owner", "负责人", "Lily"),
    C("strategy", TEXT, False, "策略", "Strategy the goal serves", "对应策略", "Grow US Amazon"),
    C("dimension", ENUM, False, "维度", "One of: " + ", ".join(GOAL_DIMENSIONS), "维度:" + "、".join(GOAL_DIMENSIONS), "market", choices=GOAL_DIMENSIONS),
    C("breakdown", TEXT, False, "拆解方式", "seasonal (default), even, or quarter weights 30,25,15,30", "seasonal(默认)、even 或季度权重 30,25,15,30", "seasonal"),
    C("weekly_actions", TEXT, False, "每周行动", "Actions repeated every week, ;-separated", "每周重复的行动,用 ; 分隔", "list 2 new products; optimise 10 listings"),
))

KPI_INPUTS = Table("kpi_inputs", "外部KPI", False, "externally measured KPI × period", "外部测量的 KPI × 期间", (
    C("kpi", ID, True, "KPI", "KPI id from the catalogue (e.g. nps, csat)", "KPI 编号(如 nps、csat)", "nps"),
    C("value", NUMBER, True, "数值", "Measured value (rates as fraction or %)", "测量值(比例可写 % )", "42"),
    C("period", TEXT, False, "期间", "Period it applies to (2025, 2025Q3); empty = any", "适用期间(2025、2025Q3),空表示全部", "2025"),
    C("note", TEXT, False, "备注", "Source or note", "来源或备注", "Survey Dec 2025"),
))

TABLES: dict[str, Table] = {t.name: t for t in (
    ORDERS, PRODUCTS, CHANNELS, EXPENSES, TRAFFIC, CAMPAIGNS, FX_RATES, GOALS, KPI_INPUTS)}

# settings.yaml keys and their defaults (SPEC §2).
SETTINGS_DEFAULTS: dict = {
    "client": "My Shop",
    "base_currency": "USD",
    "lang": "zh",
    "consultant": "",
    "stage": "growth",
    "default_lifespan_years": 1,
    "thresholds": {},
}
STAGES = ("launch", "growth", "mature")
