"""The plain pandas way to segment an order log: the reference for bench_orders.py.

Reads the whole Parquet file into pandas, computes recency, frequency and
monetary per customer with groupby, scales them and fits one K-Means. No
validation, no report.

Usage: python benchmarks/orders_baseline.py ORDERS.parquet
"""

import sys

import pandas as pd
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler


def main(path: str) -> None:
    orders = pd.read_parquet(path)
    orders = orders.dropna(subset=["CustomerID"])
    orders["InvoiceDate"] = pd.to_datetime(orders["InvoiceDate"])
    orders["Amount"] = orders["Quantity"] * orders["UnitPrice"]
    as_of = orders["InvoiceDate"].max() + pd.Timedelta(days=1)
    rfm = orders.groupby("CustomerID").agg(
        last=("InvoiceDate", "max"),
        frequency=("InvoiceNo", "nunique"),
        monetary=("Amount", "sum"),
    )
    rfm["recency"] = (as_of - rfm["last"]).dt.days
    scaled = StandardScaler().fit_transform(rfm[["recency", "frequency", "monetary"]])
    labels = KMeans(n_clusters=5, random_state=42).fit_predict(scaled)
    print(pd.Series(labels).value_counts().sort_index().to_dict())


if __name__ == "__main__":
    main(sys.argv[1])
