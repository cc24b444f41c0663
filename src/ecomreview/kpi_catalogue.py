"""The 82 KPIs of seed 002 in nine modules (SPEC §4.5): how each is obtained, its target, and its value for P."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError, Problem
from .period import Period
from .report import fmt
from .report.i18n import t

# A value exactly at a target in decimal (0.9 computed as 0.8999999999999999) counts as at the target.
EPS = 1e-9

# Units say how a value is read and shown: share = a fraction bounded 0..1, rate = an unbounded
# fraction (growth), ratio = "x times", money = base currency; the rest are plain numbers.
UNITS = ("share", "rate", "ratio", "money", "count", "days", "hours", "minutes", "seconds", "score", "rank")


@dataclass(frozen=True)
class Target:
    """A machine-checkable target: ``op`` one of > >= < <= between; ``high`` only for between."""

    op: str
    value: float
    high: float | None = None

    def met(self, x: float) -> bool:
        if self.op == ">":
            return x > self.value + EPS
        if self.op == ">=":
            return x >= self.value - EPS
        if self.op == "<":
            return x < self.value - EPS
        if self.op == "<=":
            return x <= self.value + EPS
        if self.op == "between":
            return self.value - EPS <= x <= self.high + EPS
        raise ValueError(f"unknown target operator {self.op!r}")


@dataclass(frozen=True)
class Kpi:
    """One KPI of the catalogue. ``source`` is ("metric" | "extra" | "input", name)."""

    id: str
    module: str
    zh: str
    en: str
    formula_zh: str
    formula_en: str
    source: tuple[str, str]
    needs_zh: str
    needs_en: str
    unit: str
    target: Target | None = None
    stages: tuple[str, ...] = ()

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def formula(self, lang: str) -> str:
        return self.formula_zh if lang == "zh" else self.formula_en

    def needs(self, lang: str) -> str:
        return self.needs_zh if lang == "zh" else self.needs_en


# Module id -> (zh, en), in the seed's order.
MODULES: dict[str, tuple[str, str]] = {
    "scale": ("业务规模与增长", "Scale and growth"),
    "conversion": ("销售与转化效率", "Sales and conversion"),
    "customers": ("用户运营与留存", "Customers and retention"),
    "marketing": ("营销与获客效率", "Marketing and acquisition"),
    "supply_chain": ("供应链与物流履约", "Supply chain and fulfilment"),
    "finance": ("财务健康与利润", "Financial health and profit"),
    "experience": ("客户体验与口碑", "Customer experience and reputation"),
    "market": ("市场与竞争监控", "Market and competition"),
    "compliance": ("合规与风险控制", "Compliance and risk"),
}
STAGES = ("launch", "growth", "mature")

# Recurring "what data gives it" phrases.
_ORD_ZH, _ORD_EN = "订单表(orders)", "the orders table"
_CUST_ZH, _CUST_EN = "订单表的 customer_id 列", "the customer_id column of orders"
_COST_ZH, _COST_EN = "订单表 + 产品表的 unit_cost", "orders + unit_cost in the products table"


def _inp(kpi_id: str, what_zh: str, what_en: str) -> tuple[str, str]:
    """needs text of a KPI that only an outside measurement gives (one kpi_inputs row)."""
    return (f"kpi_inputs 表中 kpi={kpi_id} 的一行({what_zh})",
            f"a line in kpi_inputs with kpi={kpi_id} ({what_en})")


def _k(id, module, zh, en, formula_zh, formula_en, source, needs, unit, target=None, stages=()) -> Kpi:
    return Kpi(id, module, zh, en, formula_zh, formula_en, source, needs[0], needs[1], unit, target, stages)


def _m(name):
    return ("metric", name)


def _x(name):
    return ("extra", name)


def _i(name):
    return ("input", name)


CATALOGUE: tuple[Kpi, ...] = (
    # ---------------------------------------------------------------- 1 scale and growth (8)
    _k("gmv", "scale", "总销售额(GMV)", "Gross merchandise value (GMV)",
       "Σ 数量 × 不含税单价;净销售额 = GMV − 折扣 − 退款", "Σ quantity × unit price excl. tax; net sales = GMV − discounts − refunds",
       _m("gross_sales"), (_ORD_ZH, _ORD_EN), "money"),
    _k("orders", "scale", "订单总量", "Orders",
       "不重复的订单号数(已取消订单不计,另见数据质量审计)", "Distinct order numbers (cancelled ones excluded, counted in the data-quality audit)",
       _m("orders"), (_ORD_ZH, _ORD_EN), "count"),
    _k("revenue_growth_yoy", "scale", "销售额同比增长率(YoY)", "Revenue growth, year on year",
       "本期收入 ÷ 上年同期收入 − 1", "Revenue of P ÷ revenue of the same period a year earlier − 1",
       _x("revenue_growth_yoy"), ("上年同期的订单数据", "orders of the same period a year earlier"), "rate"),
    _k("revenue_growth_mom", "scale", "销售额环比增长率(MoM)", "Revenue growth, month on month",
       "期内最后一个有销售的月份收入 ÷ 其上月收入 − 1", "Revenue of the last month of P with sales ÷ revenue of the month before − 1",
       _x("revenue_growth_mom"), (_ORD_ZH, _ORD_EN), "rate"),
    _k("revenue_share_by_country", "scale", "分国家/地区销售额占比", "Revenue share by country",
       "收入最高国家占(有国家信息的)收入之比;完整分布见分国家收入表", "Largest country's share of revenue (lines with a country); the full split is in the revenue-by-country table",
       _x("revenue_share_by_country"), ("订单表的 country 列", "the country column of orders"), "share"),
    _k("revenue_share_by_channel", "scale", "分平台销售额占比", "Revenue share by channel",
       "收入最高渠道占收入之比;完整分布见分渠道收入表", "Largest channel's share of revenue; the full split is in the revenue-by-channel table",
       _x("revenue_share_by_channel"), (_ORD_ZH, _ORD_EN), "share"),
    _k("active_skus_30d", "scale", "活跃SKU数(近30天有销售)", "Active SKUs (sold in the last 30 days)",
       "期末前 30 天内有销量的不同 SKU 数", "Distinct SKUs with units sold in the last 30 days of P",
       _x("active_skus_30d"), (_ORD_ZH, _ORD_EN), "count"),
    _k("market_penetration", "scale", "市场渗透率", "Market penetration",
       "目标市场销售额 ÷ 当地电商总规模(外部数据)", "Sales in the target market ÷ the market's total e-commerce size (outside data)",
       _i("market_penetration"), _inp("market_penetration", "比例,如 0.2%", "a share, e.g. 0.2%"), "share",
       stages=("mature",)),
    # ---------------------------------------------------------------- 2 sales and conversion (10)
    _k("aov", "conversion", "客单价(AOV)", "Average order value (AOV)",
       "(GMV − 折扣)÷ 订单数", "(GMV − discounts) ÷ orders",
       _m("aov"), (_ORD_ZH, _ORD_EN), "money", stages=("launch",)),
    _k("units_per_order", "conversion", "订单平均商品数量", "Units per order",
       "总件数 ÷ 订单数", "Units ÷ orders", _m("units_per_order"), (_ORD_ZH, _ORD_EN), "ratio"),
    _k("return_rate", "conversion", "退货率", "Return rate",
       "有退款或退货件数的订单 ÷ 订单数", "Orders with a refund or returned units ÷ orders",
       _m("return_rate"), ("订单表的 refund_amount / returned_qty 列", "refund_amount / returned_qty in orders"), "share"),
    _k("refund_rate", "conversion", "退款率", "Refund rate",
       "退款金额 ÷(GMV − 折扣)", "Refunds ÷ (GMV − discounts)",
       _m("refund_rate"), ("订单表的 refund_amount 列", "the refund_amount column of orders"), "share"),
    _k("discount_rate", "conversion", "折扣率", "Discount rate",
       "折扣金额 ÷ GMV", "Discounts ÷ GMV", _m("discount_rate"), ("订单表的 discount 列", "the discount column of orders"), "share"),
    _k("category_share", "conversion", "品类销售额占比(Top品类)", "Top category's share of revenue",
       "收入最高品类占(有品类的)收入之比", "Largest category's share of revenue (lines whose SKU has a category)",
       _x("category_share"), ("产品表的 category 列", "the category column of products"), "share"),
    _k("new_product_share", "conversion", "新品销售额占比", "New-product share of revenue",
       "上架未满 90 天时售出的收入 ÷ 收入", "Revenue sold within 90 days of the SKU's launch_date ÷ revenue",
       _x("new_product_share"), ("产品表的 launch_date 列", "the launch_date column of products"), "share"),
    _k("repeat_order_share", "conversion", "复购订单占比", "Repeat-order share",
       "非客户首单的订单 ÷ 有客户ID的订单", "Orders that are not the customer's first ever ÷ orders with a customer_id",
       _x("repeat_order_share"), (_CUST_ZH, _CUST_EN), "share", stages=("growth",)),
    _k("cart_conversion_rate", "conversion", "加购转化率", "Add-to-cart conversion",
       "1 − 购物车放弃率 = 订单 ÷ 加购数", "1 − cart abandonment = orders ÷ add-to-carts",
       _x("cart_conversion_rate"), ("流量表(traffic)的 add_to_cart 列", "the add_to_cart column of the traffic table"), "share"),
    _k("conversion_rate", "conversion", "访问-购买转化率(CVR)", "Conversion rate (CVR)",
       "订单 ÷ 访问量(流量表覆盖的渠道-月份)", "Orders ÷ sessions over the channel-months the traffic table covers",
       _m("conversion_rate"), ("流量表(traffic)的 sessions 列", "the sessions column of the traffic table"), "share",
       stages=("launch",)),
    # ---------------------------------------------------------------- 3 customers and retention (12)
    _k("new_customers", "customers", "新用户数", "New customers",
       "全部数据中首单落在本期的客户数", "Customers whose first order in all the data is in P",
       _m("new_customers"), (_CUST_ZH, _CUST_EN), "count"),
    _k("returning_customers", "customers", "老用户数", "Returning customers",
       "本期下单客户 − 新客户(首单早于本期)", "Customers of P − new customers (first order before P)",
       _m("returning_customers"), (_CUST_ZH, _CUST_EN), "count"),
    _k("returning_revenue_share", "customers", "老用户销售额占比", "Returning customers' share of revenue",
       "首单早于本期的客户贡献的收入 ÷ 有客户ID的收入", "Revenue from customers whose first order is before P ÷ revenue with a customer_id",
       _x("returning_revenue_share"), (_CUST_ZH, _CUST_EN), "share"),
    _k("ltv", "customers", "用户生命周期价值(LTV)", "Customer lifetime value (LTV)",
       "收入 ÷ 客户数 × 毛利率 × 生命周期年数", "Revenue ÷ customers × gross margin × lifespan years",
       _m("ltv"), (_COST_ZH + " + customer_id", _COST_EN + " + customer_id"), "money", stages=("growth",)),
    _k("ltv_cac", "customers", "LTV/CAC比率", "LTV / CAC",
       "LTV ÷ CAC", "LTV ÷ CAC", _m("ltv_cac"),
       (_COST_ZH + " + customer_id + 广告花费(campaigns 或 expenses 的 advertising)",
        _COST_EN + " + customer_id + ad spend (campaigns or advertising expenses)"), "ratio", Target(">", 3.0)),
    _k("retention_rate", "customers", "用户留存率", "Retention rate",
       "上期客户中本期再次购买的比例", "Customers of the previous period who bought again in P ÷ customers of the previous period",
       _m("retention_rate"), ("上一期的订单数据 + customer_id", "orders of the previous period + customer_id"), "share"),
    _k("dau_mau", "customers", "用户活跃度(DAU/MAU)", "Stickiness (DAU / MAU)",
       "日活跃用户 ÷ 月活跃用户(网站统计)", "Daily ÷ monthly active users (site analytics)",
       _i("dau_mau"), _inp("dau_mau", "比例,如 0.15", "a share, e.g. 0.15"), "share"),
    _k("member_revenue_share", "customers", "会员数量及消费贡献", "Members' share of revenue",
       "会员销售额 ÷ 总销售额(会员系统)", "Members' revenue ÷ revenue (membership system)",
       _i("member_revenue_share"), _inp("member_revenue_share", "比例", "a share"), "share"),
    _k("top_customer_share", "customers", "用户分群消费能力(前20%客户贡献)", "Customer segments: top 20% customers' share of revenue",
       "按消费额排名前 20% 客户的收入 ÷ 有客户ID的收入", "Revenue of the top 20% of customers by spend ÷ revenue with a customer_id",
       _x("top_customer_share"), (_CUST_ZH, _CUST_EN), "share"),
    _k("acquisition_channel_mix", "customers", "用户获取渠道分布(最大渠道占比)", "Acquisition channel mix (largest channel's share)",
       "新客户首单所在渠道中最大渠道的占比", "Share of new customers whose first order came through the largest channel",
       _x("acquisition_channel_mix"), (_CUST_ZH, _CUST_EN), "share"),
    _k("signup_to_first_order", "customers", "注册-首购转化率", "Sign-up to first-order conversion",
       "注册用户中完成首单的比例(会员/网站后台)", "Share of registered users who place a first order (store back office)",
       _i("signup_to_first_order"), _inp("signup_to_first_order", "比例", "a share"), "share"),
    _k("winback_rate", "customers", "沉默用户唤醒率", "Win-back rate of dormant customers",
       "期初已超过 90 天未购买的老客户中,本期再次下单的比例", "Customers with no order in the 90 days before P who ordered in P ÷ those dormant customers",
       _x("winback_rate"), (_CUST_ZH + "(需含本期之前的订单)", _CUST_EN + " (with orders before P)"), "share"),
    # ---------------------------------------------------------------- 4 marketing and acquisition (12)
    _k("cac", "marketing", "客户获取成本(CAC)", "Customer acquisition cost (CAC)",
       "广告花费 ÷ 新客户数", "Ad spend ÷ new customers", _m("cac"),
       ("customer_id + 广告花费(campaigns 或 expenses 的 advertising)", "customer_id + ad spend (campaigns or advertising expenses)"),
       "money", stages=("launch",)),
    _k("channel_roi", "marketing", "渠道ROI(营销投入回报)", "Marketing ROI",
       "贡献利润 ÷ 广告花费(各渠道明细见渠道分析)", "Contribution profit ÷ ad spend (per channel in the channel step)",
       _x("channel_roi"), (_COST_ZH + " + 广告花费", _COST_EN + " + ad spend"), "ratio"),
    _k("roas", "marketing", "广告支出回报率(ROAS)", "Return on ad spend (ROAS)",
       "ads 类活动的归因销售额 ÷ 花费", "Attributed sales ÷ spend of campaigns of type ads",
       _x("roas"), ("营销活动表(campaigns)type=ads 的 attributed_sales", "attributed_sales of campaigns of type ads"),
       "ratio", stages=("launch",)),
    _k("ctr", "marketing", "点击率(CTR)", "Click-through rate (CTR)",
       "ads 类活动的点击 ÷ 展示", "Clicks ÷ impressions of campaigns of type ads",
       _x("ctr"), ("营销活动表的 impressions 和 clicks", "impressions and clicks in campaigns"), "share"),
    _k("cpm", "marketing", "千次展示成本(CPM)", "Cost per mille (CPM)",
       "ads 类活动花费 ÷ 展示 × 1000", "Spend ÷ impressions × 1000 for campaigns of type ads",
       _x("cpm"), ("营销活动表的 impressions", "impressions in campaigns"), "money"),
    _k("cpc", "marketing", "单次点击成本(CPC)", "Cost per click (CPC)",
       "ads 类活动花费 ÷ 点击", "Spend ÷ clicks for campaigns of type ads",
       _x("cpc"), ("营销活动表的 clicks", "clicks in campaigns"), "money"),
    _k("social_engagement_rate", "marketing", "社交媒体互动率", "Social media engagement rate",
       "(点赞 + 评论 + 分享)÷ 粉丝数", "(Likes + comments + shares) ÷ followers",
       _i("social_engagement_rate"), _inp("social_engagement_rate", "比例", "a share"), "share"),
    _k("email_click_rate", "marketing", "邮件营销打开率/点击率", "E-mail open / click rate",
       "email 类活动点击 ÷ 送达(impressions 填送达或打开数)", "Clicks ÷ impressions (delivered or opened e-mails) of campaigns of type email",
       _x("email_click_rate"), ("type=email 活动的 impressions 和 clicks,或 kpi_inputs 中 kpi=email_click_rate 的一行",
                                "impressions and clicks of campaigns of type email, or a line in kpi_inputs with kpi=email_click_rate"),
       "share"),
    _k("search_ranking", "marketing", "搜索排名", "Search ranking",
       "核心关键词在 Google/本地搜索引擎的平均排名", "Average rank of the core keywords on Google / local search engines",
       _i("search_ranking"), _inp("search_ranking", "平均名次,如 8", "average position, e.g. 8"), "rank"),
    _k("retargeting_cvr", "marketing", "再营销转化率", "Retargeting conversion rate",
       "标签含 retargeting/remarketing/再营销 的活动订单 ÷ 点击", "Orders ÷ clicks of campaigns tagged retargeting / remarketing / 再营销",
       _x("retargeting_cvr"), ("营销活动表中带 retargeting 标签、含 clicks 和 orders 的活动", "campaigns tagged retargeting with clicks and orders"),
       "share"),
    _k("content_reach", "marketing", "内容营销效果(阅读/播放量)", "Content marketing reach (views)",
       "content 类活动的展示/阅读量之和", "Sum of impressions (views) of campaigns of type content",
       _x("content_reach"), ("type=content 活动的 impressions", "impressions of campaigns of type content"), "count"),
    _k("kol_roi", "marketing", "KOL合作ROI", "Influencer (KOL) ROI",
       "influencer 类活动归因销售额 ÷ 花费", "Attributed sales ÷ spend of campaigns of type influencer",
       _x("kol_roi"), ("type=influencer 活动的 attributed_sales", "attributed_sales of campaigns of type influencer"), "ratio"),
    # ---------------------------------------------------------------- 5 supply chain and fulfilment (12)
    _k("inventory_days", "supply_chain", "库存周转天数", "Inventory days of cover",
       "期末库存 ÷(期末前 90 天销量 ÷ 90)", "Stock on hand ÷ (units sold in the last 90 days of P ÷ 90)",
       _x("inventory_days"), ("产品表的 stock_on_hand 列", "the stock_on_hand column of products"), "days",
       Target("between", 30.0, 60.0), ("growth",)),
    _k("stockout_rate", "supply_chain", "缺货率", "Stock-out rate",
       "本期有销量但期末库存为 0 的 SKU ÷ 有库存数据的 SKU", "SKUs that sold in P with stock_on_hand = 0 ÷ SKUs with a stock figure",
       _x("stockout_rate"), ("产品表的 stock_on_hand 列", "the stock_on_hand column of products"), "share"),
    _k("restock_on_time_rate", "supply_chain", "补货及时率", "Restock on-time rate",
       "需补货 SKU 中按时到货的比例", "Share of restock orders that arrived on time",
       _i("restock_on_time_rate"), _inp("restock_on_time_rate", "比例", "a share"), "share"),
    _k("fulfilment_rate", "supply_chain", "订单履约率", "Order fulfilment rate",
       "成功发货订单 ÷ 总订单", "Orders shipped ÷ orders",
       _i("fulfilment_rate"), _inp("fulfilment_rate", "比例", "a share"), "share"),
    _k("delivery_days", "supply_chain", "物流配送时效", "Delivery time",
       "从发货到签收的平均天数", "Average days from dispatch to delivery",
       _i("delivery_days"), _inp("delivery_days", "天数", "days"), "days", stages=("launch",)),
    _k("logistics_cost_ratio", "supply_chain", "物流成本占比", "Logistics cost ratio",
       "履约与物流成本(含物流、仓储费用)÷ 收入", "Fulfilment and logistics cost (incl. logistics and storage expenses) ÷ revenue",
       _x("logistics_cost_ratio"), ("渠道表的履约/运费成本或费用表的 logistics、storage", "fulfilment/shipping costs in channels or logistics/storage expenses"),
       "share", Target("between", 0.15, 0.25)),
    _k("storage_cost_ratio", "supply_chain", "仓储成本占比", "Storage cost ratio",
       "费用表中 storage 类费用 ÷ 收入", "Storage expenses ÷ revenue",
       _x("storage_cost_ratio"), ("费用表(expenses)category=storage 的行", "expenses rows with category storage"), "share"),
    _k("transit_damage_rate", "supply_chain", "国际运输破损率", "Transit damage rate",
       "破损包裹 ÷ 运输包裹", "Damaged parcels ÷ parcels shipped",
       _i("transit_damage_rate"), _inp("transit_damage_rate", "比例", "a share"), "share"),
    _k("customs_clearance_rate", "supply_chain", "清关成功率", "Customs clearance rate",
       "成功清关订单 ÷ 跨境订单", "Orders cleared through customs ÷ cross-border orders",
       _i("customs_clearance_rate"), _inp("customs_clearance_rate", "比例", "a share"), "share", stages=("launch",)),
    _k("return_processing_days", "supply_chain", "退货处理时效", "Return processing time",
       "从退货申请到退款完成的平均天数", "Average days from return request to refund",
       _i("return_processing_days"), _inp("return_processing_days", "天数", "days"), "days"),
    _k("carrier_on_time_rate", "supply_chain", "3PL服务商准时率", "3PL on-time rate",
       "第三方物流按时送达订单占比", "Share of orders the 3PL delivered on time",
       _i("carrier_on_time_rate"), _inp("carrier_on_time_rate", "比例", "a share"), "share"),
    _k("inventory_accuracy", "supply_chain", "分仓库存准确率", "Warehouse inventory accuracy",
       "1 − |系统库存 − 实盘库存| ÷ 实盘库存", "1 − |system stock − counted stock| ÷ counted stock",
       _i("inventory_accuracy"), _inp("inventory_accuracy", "比例", "a share"), "share"),
    # ---------------------------------------------------------------- 6 financial health and profit (8)
    _k("gross_margin", "finance", "毛利率", "Gross margin",
       "(收入 − 完整落地成本)÷ 收入;落地成本含采购、头程、关税、包装、佣金、支付费、履约", "(Revenue − full landed COGS) ÷ revenue; landed COGS = purchase, freight, duty, packaging, commission, payment fees, fulfilment",
       _m("gross_margin"), (_COST_ZH, _COST_EN), "share"),
    _k("net_margin", "finance", "净利率", "Net margin",
       "净利润 ÷ 收入", "Net profit ÷ revenue", _m("net_margin"),
       (_COST_ZH + " + 费用表", _COST_EN + " + the expenses table"), "share", stages=("mature",)),
    _k("operating_cost_structure", "finance", "运营成本结构(营销占比)", "Operating cost structure (marketing share)",
       "广告花费 ÷ 运营成本(佣金 + 支付费 + 履约 + 平台 + 广告 + 管理费用);完整结构见利润瀑布图",
       "Ad spend ÷ operating costs (commission + payment fees + fulfilment + platform + ads + overheads); the full split is in the profit waterfall",
       _x("operating_cost_structure"), ("费用表(expenses)+ 广告花费", "the expenses table + ad spend"), "share"),
    _k("cash_conversion_cycle", "finance", "现金周转周期", "Cash conversion cycle",
       "库存天数 + 应收账款天数 − 应付账款天数(财务系统)", "Inventory days + receivable days − payable days (accounts)",
       _i("cash_conversion_cycle"), _inp("cash_conversion_cycle", "天数;库存天数可参考本表", "days; inventory days are in this table"),
       "days", stages=("mature",)),
    _k("profit_per_customer", "finance", "客均利润", "Profit per customer",
       "净利润 ÷ 客户数", "Net profit ÷ customers", _x("profit_per_customer"),
       (_COST_ZH + " + customer_id", _COST_EN + " + customer_id"), "money"),
    _k("fx_impact", "finance", "汇率波动影响额", "FX impact on profit",
       "因汇率变动导致的利润增减(财务结汇记录)", "Profit gained or lost through exchange-rate moves (settlement records)",
       _i("fx_impact"), _inp("fx_impact", "本位币金额,亏损为负", "base-currency amount, loss negative"), "money"),
    _k("region_profit_margin", "finance", "分地区利润率(最低地区)", "Profit margin by region (lowest region)",
       "各国家(收入 − 产品成本 − 佣金 − 支付费 − 订单履约费)÷ 收入中最低者", "Lowest country margin: (revenue − product cost − commission − payment fees − order fulfilment) ÷ revenue",
       _x("region_profit_margin"), (_COST_ZH + " + country", _COST_EN + " + country"), "share", stages=("growth",)),
    _k("fixed_cost_share", "finance", "固定成本vs可变成本占比", "Fixed vs variable costs (fixed share)",
       "固定成本(管理费用 + 平台费用)÷ 总成本", "Fixed costs (overheads + platform expenses) ÷ total costs",
       _x("fixed_cost_share"), (_COST_ZH + " + 费用表", _COST_EN + " + the expenses table"), "share"),
    # ---------------------------------------------------------------- 7 customer experience (10)
    _k("nps", "experience", "净推荐值(NPS)", "Net promoter score (NPS)",
       "推荐者占比 − 贬损者占比(−100 到 100,调研)", "Promoters % − detractors % (−100 to 100, survey)",
       _i("nps"), _inp("nps", "−100 到 100 的分数", "a score from −100 to 100"), "score", Target(">", 40.0), ("mature",)),
    _k("csat", "experience", "客户满意度(CSAT)", "Customer satisfaction (CSAT)",
       "订单后调研中“满意/非常满意”的占比", "Share answering satisfied / very satisfied in post-order surveys",
       _i("csat"), _inp("csat", "比例", "a share"), "share"),
    _k("review_rating", "experience", "产品评分(平均星级)", "Average review rating",
       "平台/独立站商品评价的平均星级", "Average star rating of product reviews",
       _i("review_rating"), _inp("review_rating", "1–5 星", "1–5 stars"), "score"),
    _k("positive_review_share", "experience", "正面评论占比", "Positive review share",
       "好评数 ÷ 总评论数", "Positive reviews ÷ reviews",
       _i("positive_review_share"), _inp("positive_review_share", "比例", "a share"), "share", Target(">", 0.85)),
    _k("service_response_minutes", "experience", "客服响应时效(在线聊天)", "Service response time (live chat)",
       "在线聊天首次响应的平均分钟数(邮件目标 < 24 小时,电话 < 30 秒)", "Average minutes to first live-chat reply (e-mail target < 24 h, phone < 30 s)",
       _i("service_response_minutes"), _inp("service_response_minutes", "分钟", "minutes"), "minutes", Target("<", 10.0)),
    _k("complaint_resolution_rate", "experience", "投诉处理解决率", "Complaint first-contact resolution",
       "一次解决的投诉 ÷ 投诉", "Complaints solved at first contact ÷ complaints",
       _i("complaint_resolution_rate"), _inp("complaint_resolution_rate", "比例", "a share"), "share", Target(">", 0.90)),
    _k("mobile_order_share", "experience", "移动端转化率(移动端下单占比)", "Mobile share of orders",
       "移动端下单用户 ÷ 下单用户(网站统计)", "Buyers ordering on mobile ÷ buyers (site analytics)",
       _i("mobile_order_share"), _inp("mobile_order_share", "比例", "a share"), "share"),
    _k("payment_success_rate", "experience", "支付成功率", "Payment success rate",
       "订单 ÷ 发起结账数(流量表)", "Orders ÷ checkouts started (traffic table)",
       _x("payment_success_rate"), ("流量表(traffic)的 checkouts 列", "the checkouts column of the traffic table"), "share"),
    _k("first_screen_load_s", "experience", "网站加载速度(首屏)", "Site speed (first screen)",
       "首屏加载秒数(如 PageSpeed Insights)", "Seconds to load the first screen (e.g. PageSpeed Insights)",
       _i("first_screen_load_s"), _inp("first_screen_load_s", "秒", "seconds"), "seconds", Target("<", 3.0)),
    _k("localisation_quality", "experience", "多语言支持质量", "Localisation quality",
       "翻译准确率/本地客服语言能力评分", "Translation accuracy / local-language service score",
       _i("localisation_quality"), _inp("localisation_quality", "比例或评分", "a share or score"), "score"),
    # ---------------------------------------------------------------- 8 market and competition (5)
    _k("competitor_growth", "market", "竞争对手销售额增长率", "Competitor sales growth",
       "Top3 竞品销售额同比增长率", "YoY sales growth of the top 3 competitors",
       _i("competitor_growth"), _inp("competitor_growth", "增长率,如 0.25", "a growth rate, e.g. 0.25"), "rate"),
    _k("brand_search_growth", "market", "品牌搜索量增长率", "Brand search growth",
       "Google Trends 品牌词搜索量增长率", "Growth of brand-term search volume (Google Trends)",
       _i("brand_search_growth"), _inp("brand_search_growth", "增长率", "a growth rate"), "rate"),
    _k("social_follower_growth", "market", "社交媒体粉丝增长率", "Social follower growth",
       "粉丝数增长率", "Growth of followers", _i("social_follower_growth"),
       _inp("social_follower_growth", "增长率", "a growth rate"), "rate"),
    _k("brand_awareness", "market", "用户对品牌认知度", "Brand awareness",
       "目标市场调研中听说过品牌的比例", "Share of surveyed target-market users who have heard of the brand",
       _i("brand_awareness"), _inp("brand_awareness", "比例", "a share"), "share"),
    _k("trend_fit", "market", "行业趋势匹配度", "Fit with the category trend",
       "自身增长率 − 品类增长率", "Own growth − category growth",
       _i("trend_fit"), _inp("trend_fit", "百分点差,如 −0.05", "difference in points, e.g. −0.05"), "rate"),
    # ---------------------------------------------------------------- 9 compliance and risk (5)
    _k("compliance_cost_share", "compliance", "合规成本占比", "Compliance cost share",
       "费用表中 compliance 类费用(税务、法务、认证)÷ 收入", "Compliance expenses (tax, legal, certification) ÷ revenue",
       _x("compliance_cost_share"), ("费用表(expenses)category=compliance 的行", "expenses rows with category compliance"),
       "share", Target("between", 0.05, 0.10), ("mature",)),
    _k("tax_filing_accuracy", "compliance", "税务申报准确率", "Tax filing accuracy",
       "无差错申报 ÷ 申报次数(如欧盟 VAT、美国销售税)", "Filings without error ÷ filings (EU VAT, US sales tax)",
       _i("tax_filing_accuracy"), _inp("tax_filing_accuracy", "比例", "a share"), "share"),
    _k("data_privacy_incidents", "compliance", "数据合规违规次数", "Data-privacy incidents",
       "GDPR、CCPA 等违规次数", "GDPR, CCPA and similar breaches",
       _i("data_privacy_incidents"), _inp("data_privacy_incidents", "次数", "a count"), "count"),
    _k("certification_pass_rate", "compliance", "产品认证通过率", "Certification pass rate",
       "通过 CE、FDA、CPSC 等认证的申请 ÷ 申请", "Certifications (CE, FDA, CPSC …) passed ÷ applied for",
       _i("certification_pass_rate"), _inp("certification_pass_rate", "比例", "a share"), "share"),
    _k("negative_feedback_hours", "compliance", "负面舆情处理时效", "Negative-feedback handling time",
       "从发现差评/投诉到解决的平均小时数", "Average hours from spotting a bad review or complaint to resolving it",
       _i("negative_feedback_hours"), _inp("negative_feedback_hours", "小时", "hours"), "hours"),
)

_BY_ID = {k.id: k for k in CATALOGUE}


def by_module() -> dict[str, list[Kpi]]:
    """Module id -> its KPIs, both in the seed's order."""
    out: dict[str, list[Kpi]] = {m: [] for m in MODULES}
    for k in CATALOGUE:
        out[k.module].append(k)
    return out


def get(kpi_id: str) -> Kpi:
    """The KPI with this id (KeyError when there is none)."""
    return _BY_ID[kpi_id]


# ------------------------------------------------------------------ computing the extras

def _num(x) -> float | None:
    """x as a finite float, None when missing."""
    if x is None or x is pd.NA:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def ratio(num, den) -> float | None:
    """num ÷ den, None when either is missing or den is 0."""
    n, d = _num(num), _num(den)
    if n is None or d is None or d == 0:
        return None
    return n / d


def _top_share(amounts: pd.Series) -> float | None:
    """Largest group's share of the total (None when the total is not positive)."""
    if amounts.empty:
        return None
    total = amounts.sum()
    return ratio(amounts.max(), total) if total > 0 else None


def _sum_where(df: pd.DataFrame, num: str, den: str, mask=None, scale: float = 1.0) -> float | None:
    """Σnum ÷ Σden × scale over the rows (in ``mask``) where both columns are given."""
    if df is None or df.empty or num not in df or den not in df:
        return None
    d = df if mask is None else df[mask]
    d = d[d[num].notna() & d[den].notna()]
    if d.empty:
        return None
    r = ratio(d[num].astype(float).sum(), d[den].astype(float).sum())
    return None if r is None else r * scale


def _orders_table(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per order with a customer: customer_id, date, channel, and its rank among the customer's orders."""
    lc = lines[lines["customer_id"].notna()]
    o = lc.groupby("order_id", sort=False).agg(customer_id=("customer_id", "first"), date=("order_date", "min"),
                                               channel=("channel", "first"))
    o = o.reset_index().sort_values(["date", "order_id"], kind="stable")
    o["nth"] = o.groupby("customer_id").cumcount()
    return o


def _scale_extras(lines, P, period: Period) -> dict:
    out: dict = {}
    by_month = lines.groupby("month")["revenue"].sum()
    sold = [m for m in period.months if by_month.get(m, 0) > 0]
    if sold:
        last = pd.Period(sold[-1], "M")
        out["revenue_growth_mom"] = ratio(by_month.get(str(last), 0.0), by_month.get(str(last - 1), 0.0))
        if out["revenue_growth_mom"] is not None:
            out["revenue_growth_mom"] -= 1
    else:
        out["revenue_growth_mom"] = None
    known = P[P["country"].notna()]
    out["revenue_share_by_country"] = _top_share(known.groupby("country")["revenue"].sum())
    out["revenue_share_by_channel"] = _top_share(P.groupby("channel")["revenue"].sum())
    last30 = P[P["order_date"] > period.end - pd.Timedelta(days=30)]
    out["active_skus_30d"] = float(last30.loc[last30["quantity"] > 0, "sku"].nunique()) if len(P) else None
    return out


def _product_extras(P, products: pd.DataFrame, period: Period, lines: pd.DataFrame) -> dict:
    out: dict = {"category_share": None, "new_product_share": None, "inventory_days": None, "stockout_rate": None}
    if products is None or products.empty or P.empty:
        return out
    p = products.drop_duplicates("sku").set_index("sku")
    if "category" in p and p["category"].notna().any():
        cat = P["sku"].map(p["category"])
        out["category_share"] = _top_share(P[cat.notna()].groupby(cat[cat.notna()])["revenue"].sum())
    if "launch_date" in p and p["launch_date"].notna().any():
        age = (P["order_date"] - P["sku"].map(p["launch_date"])).dt.days
        new = (age >= 0) & (age < 90)
        out["new_product_share"] = ratio(P.loc[new, "revenue"].sum(), P["revenue"].sum())
    if "stock_on_hand" in p and p["stock_on_hand"].notna().any():
        stock = p["stock_on_hand"].dropna()
        last90 = lines[(lines["order_date"] > period.end - pd.Timedelta(days=90)) & (lines["order_date"] <= period.end)]
        daily = last90.loc[last90["sku"].isin(stock.index), "quantity"].sum() / 90
        out["inventory_days"] = ratio(stock.sum(), daily)
        sold = set(P.loc[P["quantity"] > 0, "sku"])
        out["stockout_rate"] = ratio(((stock == 0) & stock.index.isin(sold)).sum(), len(stock))
    return out


def _customer_extras(lines, P, period: Period) -> dict:
    out = dict.fromkeys(("repeat_order_share", "returning_revenue_share", "top_customer_share",
                         "acquisition_channel_mix", "winback_rate"))
    if "customer_id" not in P or P["customer_id"].isna().all():
        return out
    o = _orders_table(lines)
    in_p = period.contains(o["date"])
    op = o[in_p]
    out["repeat_order_share"] = ratio((op["nth"] > 0).sum(), len(op))
    first = o[o["nth"] == 0].set_index("customer_id")
    pc = P[P["customer_id"].notna()]
    returning = pc["customer_id"].map(first["date"]) < period.start
    out["returning_revenue_share"] = ratio(pc.loc[returning, "revenue"].sum(), pc["revenue"].sum())
    spend = pc.groupby("customer_id")["revenue"].sum().sort_values(ascending=False)
    top_n = max(1, math.ceil(0.2 * len(spend)))
    out["top_customer_share"] = ratio(spend.iloc[:top_n].sum(), spend.sum()) if spend.sum() > 0 else None
    new_first = first[period.contains(first["date"])]
    out["acquisition_channel_mix"] = ratio(new_first["channel"].value_counts().max(), len(new_first)) \
        if len(new_first) else None
    before = o[o["date"] < period.start]
    last_before = before.groupby("customer_id")["date"].max()
    dormant = last_before[(period.start - last_before).dt.days > 90].index
    came_back = set(op["customer_id"])
    out["winback_rate"] = ratio(sum(c in came_back for c in dormant), len(dormant))
    return out


def _has_tag(tags, wanted: set[str]) -> bool:
    if isinstance(tags, str):
        tags = tags.split(";")
    if not isinstance(tags, (list, tuple, np.ndarray)):
        return False
    return any(str(x).strip().lower() in wanted for x in tags)


RETARGETING_TAGS = {"retargeting", "remarketing", "再营销", "重定向"}


def _campaign_extras(c: pd.DataFrame) -> dict:
    if c is None or c.empty:
        return dict.fromkeys(("roas", "ctr", "cpm", "cpc", "email_click_rate", "retargeting_cvr",
                              "content_reach", "kol_roi"))
    typ = c["type"].astype(str).str.lower()
    ads, email, infl = typ.eq("ads"), typ.eq("email"), typ.eq("influencer")
    content = c[typ.eq("content")]
    content = content[content["impressions"].notna()] if "impressions" in content else content.iloc[0:0]
    retarget = (c["tags"].map(lambda x: _has_tag(x, RETARGETING_TAGS)) if "tags" in c
                else pd.Series(False, index=c.index))
    return {
        "roas": _sum_where(c, "attributed_sales", "spend", ads),
        "ctr": _sum_where(c, "clicks", "impressions", ads),
        "cpm": _sum_where(c, "spend", "impressions", ads, scale=1000.0),
        "cpc": _sum_where(c, "spend", "clicks", ads),
        "email_click_rate": _sum_where(c, "clicks", "impressions", email),
        "retargeting_cvr": _sum_where(c, "orders", "clicks", retarget.astype(bool)),
        "content_reach": float(content["impressions"].sum()) if len(content) else None,
        "kol_roi": _sum_where(c, "attributed_sales", "spend", infl),
    }


def _traffic_orders(t: pd.DataFrame, P: pd.DataFrame) -> pd.Series:
    """Orders of each traffic row: its own orders column when given, else counted from the order lines."""
    counted_cm = P.groupby(["channel", "month"])["order_id"].nunique()
    counted_cms = P.groupby(["channel", "month", "sku"])["order_id"].nunique()

    def count(r):
        if pd.notna(r["orders"]):
            return float(r["orders"])
        if pd.notna(r.get("sku")):
            return float(counted_cms.get((r["channel"], r["month"], r["sku"]), 0))
        return float(counted_cm.get((r["channel"], r["month"]), 0))

    return t.apply(count, axis=1) if len(t) else pd.Series(dtype=float)


def _traffic_extras(traffic: pd.DataFrame, P: pd.DataFrame, period: Period) -> dict:
    if traffic is None or traffic.empty or "checkouts" not in traffic:
        return {"payment_success_rate": None}
    t = traffic[traffic["month"].astype(str).isin(period.months) & traffic["checkouts"].notna()]
    if t.empty:
        return {"payment_success_rate": None}
    t = t.assign(orders=_traffic_orders(t, P))
    return {"payment_success_rate": ratio(t["orders"].sum(), t["checkouts"].sum())}


def _expense_sums(expenses: pd.DataFrame, period: Period) -> pd.Series:
    if expenses is None or expenses.empty:
        return pd.Series(dtype=float)
    e = expenses[expenses["month"].astype(str).str[:7].isin(period.months)]
    return e.groupby("category")["amount"].sum()


def _finance_extras(k: dict, P: pd.DataFrame, exp: pd.Series) -> dict:
    rev = k.get("revenue")
    platform = float(exp.get("platform", 0.0))
    parts = [k.get(n) for n in ("commission", "payment_fees", "fulfillment", "ad_spend", "overheads")]
    opex = None if any(_num(x) is None for x in parts) else sum(parts) + platform
    variable = [k.get(n) for n in ("product_cogs", "commission", "payment_fees", "fulfillment", "ad_spend")]
    fixed = None if _num(k.get("overheads")) is None else k["overheads"] + platform
    total = None if fixed is None or any(_num(x) is None for x in variable) else fixed + sum(variable)
    out = {
        "channel_roi": ratio(k.get("contribution_profit"), k.get("ad_spend")),
        "logistics_cost_ratio": ratio(k.get("fulfillment"), rev),
        "storage_cost_ratio": ratio(exp.get("storage", 0.0), rev),
        "compliance_cost_share": ratio(exp.get("compliance", 0.0), rev),
        "operating_cost_structure": ratio(k.get("ad_spend"), opex),
        "profit_per_customer": ratio(k.get("net_profit"), k.get("customers")),
        "fixed_cost_share": ratio(fixed, total),
        "region_profit_margin": None,
    }
    costed = P[P["has_cost"] & P["country"].notna()] if "has_cost" in P else P.iloc[0:0]
    if len(costed):
        profit = costed["revenue"] - costed["product_cogs"] - costed["commission"] - costed["payment_fees"] \
            - costed["fulfillment"]
        g = pd.DataFrame({"revenue": costed["revenue"], "profit": profit}).groupby(costed["country"]).sum()
        g = g[g["revenue"] > 0]
        if len(g):
            out["region_profit_margin"] = float((g["profit"] / g["revenue"]).min())
    return out


def compute_extras(lines: pd.DataFrame, products: pd.DataFrame | None, traffic: pd.DataFrame | None,
                   campaigns: pd.DataFrame | None, expenses: pd.DataFrame | None, kpis: dict, period: Period,
                   prev_kpis: dict | None = None) -> dict[str, float | None]:
    """Every ("extra", name) KPI of the catalogue for ``period``; ratios are fractions, money in base currency.

    ``lines`` are Review.lines over all dates (history is needed for repeat orders and win-back),
    ``campaigns`` already spread to the period, ``kpis`` the SPEC §3 metrics of P and ``prev_kpis``
    those of the same period a year earlier (metrics.kpi_summary's ``kpis_previous``), used for YoY
    growth when ``kpis`` has no ``growth_revenue``. A zero or missing denominator gives None.
    """
    P = lines[period.contains(lines["order_date"])]
    out: dict = {}
    out.update(_scale_extras(lines, P, period))
    out.update(_product_extras(P, products, period, lines))
    out.update(_customer_extras(lines, P, period))
    out.update(_campaign_extras(campaigns))
    out.update(_traffic_extras(traffic, P, period))
    out.update(_finance_extras(kpis, P, _expense_sums(expenses, period)))
    yoy = _num(kpis.get("growth_revenue"))
    if yoy is None and prev_kpis:
        g = ratio(kpis.get("revenue"), prev_kpis.get("revenue"))
        yoy = None if g is None else g - 1
    out["revenue_growth_yoy"] = yoy
    abandon = _num(kpis.get("cart_abandonment_rate"))
    out["cart_conversion_rate"] = None if abandon is None else 1 - abandon
    return {key: _num(v) for key, v in out.items()}


# ------------------------------------------------------------------ evaluating against the targets

def _inputs_for(kpi_inputs: pd.DataFrame | None, period_label: str) -> dict[str, float]:
    """kpi id -> value from kpi_inputs: a row for this period wins over a row with an empty period."""
    if kpi_inputs is None or kpi_inputs.empty:
        return {}
    d = kpi_inputs[kpi_inputs["kpi"].notna() & kpi_inputs["value"].notna()]
    per = d["period"] if "period" in d else pd.Series(pd.NA, index=d.index)
    per = per.astype("string").str.strip().fillna("")
    out: dict[str, float] = {}
    # any-period rows first, so rows for this period overwrite them; later rows win within each group
    for mask in (per.eq(""), per.eq(str(period_label))):
        for kpi, value in zip(d.loc[mask, "kpi"], d.loc[mask, "value"]):
            v = _num(value)
            if v is not None:
                out[str(kpi).strip().lower()] = v
    return out


def _as_unit(v: float, unit: str) -> float:
    # A bounded share typed as a percentage (88 for 88%) is read as a fraction.
    return v / 100 if unit == "share" and 1 < v <= 100 else v


def _fmt_value(v: float, unit: str, lang: str, bare: bool = False) -> str:
    """A target bound as text; ``bare`` leaves off a time unit (the low end of "30–60 days")."""
    if unit in ("share", "rate"):
        return fmt.pct(v, lang, digits=0 if abs(v * 100 - round(v * 100)) < 1e-9 else 1)
    number = fmt.number(v, lang, 0 if float(v).is_integer() else 2)
    if unit in ("days", "hours", "minutes", "seconds") and not bare:
        return t(f"kpi.unit.{unit}", lang, value=number)
    return number


_OP_KEYS = {">": "gt", ">=": "ge", "<": "lt", "<=": "le"}


def target_text(kpi: Kpi, lang: str) -> str:
    """The target as a reader sees it ("> 40", "30–60 天"), empty when the seed gives none."""
    tg = kpi.target
    if tg is None:
        return ""
    if tg.op == "between":
        return t("kpi.target.between", lang, low=_fmt_value(tg.value, kpi.unit, lang, bare=True),
                 high=_fmt_value(tg.high, kpi.unit, lang))
    return t(f"kpi.target.{_OP_KEYS[tg.op]}", lang, value=_fmt_value(tg.value, kpi.unit, lang))


def _status(kpi: Kpi, value: float | None) -> str:
    if value is None:
        return "not_available"
    if kpi.target is None:
        return "no_target"
    return "met" if kpi.target.met(value) else "missed"


def _check_stage(stage: str, lang: str) -> None:
    if stage not in STAGES:
        raise InputError([Problem("settings.yaml", t("kpi.error.stage", lang), column="stage", value=stage,
                                  fix=t("kpi.error.stage_fix", lang, stages=", ".join(STAGES)))])


COLUMNS = ["id", "module", "module_name", "name", "formula", "value", "unit", "target", "status", "needs", "focus",
           "source"]


def evaluate(kpis: dict, extras: dict, kpi_inputs: pd.DataFrame | None, period_label: str, stage: str,
             lang: str) -> pd.DataFrame:
    """One row per KPI: value (fraction / base currency / unit), target text, status, needs, stage focus.

    A metric or extra the data cannot give falls back to a kpi_inputs row (an input-only KPI uses
    only those). status is met / missed against the seed's target, no_target, or not_available;
    ``needs`` (what data would give it) is empty when there is a value. Focus KPIs of ``stage``
    come first, then the modules in the seed's order.
    """
    _check_stage(stage, lang)
    inputs = _inputs_for(kpi_inputs, period_label)
    rows = []
    for pos, k in enumerate(CATALOGUE):
        kind, name = k.source
        value = None
        if kind == "metric":
            value = _num(kpis.get(name))
        elif kind == "extra":
            value = _num(extras.get(name))
        if value is None and k.id in inputs:
            value = _as_unit(inputs[k.id], k.unit)
        status = _status(k, value)
        rows.append({
            "id": k.id, "module": k.module, "module_name": MODULES[k.module][0 if lang == "zh" else 1],
            "name": k.name(lang), "formula": k.formula(lang), "value": value, "unit": k.unit,
            "target": target_text(k, lang),
            "status": status, "needs": k.needs(lang) if status == "not_available" else "",
            "focus": stage in k.stages, "source": kind, "_pos": pos,
        })
    df = pd.DataFrame(rows, columns=COLUMNS + ["_pos"])
    df["value"] = df["value"].astype(float)
    df = df.sort_values(["focus", "_pos"], ascending=[False, True], kind="stable")
    return df.drop(columns="_pos").reset_index(drop=True)


def coverage(df: pd.DataFrame) -> float:
    """Share of the 82 KPIs that have a value (computed or from kpi_inputs)."""
    return float((df["status"] != "not_available").sum()) / len(CATALOGUE)


def to_metrics_json(df: pd.DataFrame) -> dict:
    """metrics.json ``kpi_catalogue``: kpi id -> {value, status, needs} (value None when absent)."""
    return {r.id: {"value": _num(r.value), "status": r.status, "needs": r.needs} for r in df.itertuples()}
