"""The original notebook analysis, as a script: the baseline reportgen is measured against.

Written the way the one-off analysis did it: pandas, label encoding of the text
columns, StandardScaler, an elbow loop of K-Means (n_init=10) for k = 1..10,
silhouette on all rows for k = 2..10, a final fit, a profile table, and seaborn
box plots saved as PNG. It makes no HTML or PDF.

Usage: python benchmarks/notebook_baseline.py DATA.csv OUT_FOLDER
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import LabelEncoder, StandardScaler


def main(data: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    df = pd.read_csv(data)
    df = df.dropna()
    df["Discount Applied"] = df["Discount Applied"].astype(str)
    encoded = df.copy()
    for column in ["Gender", "City", "Membership Type", "Discount Applied", "Satisfaction Level"]:
        encoded[column] = LabelEncoder().fit_transform(encoded[column])
    features = encoded.drop(columns=["Customer ID"])
    scaled = StandardScaler().fit_transform(features)

    inertia = []
    for k in range(1, 11):
        inertia.append(KMeans(n_clusters=k, n_init=10, random_state=42).fit(scaled).inertia_)
    silhouettes = {}
    for k in range(2, 11):
        labels = KMeans(n_clusters=k, n_init=10, random_state=42).fit_predict(scaled)
        silhouettes[k] = silhouette_score(scaled, labels)
    best_k = max(silhouettes, key=silhouettes.get)

    df["Cluster"] = KMeans(n_clusters=best_k, n_init=10, random_state=42).fit_predict(scaled)
    profile = df.groupby("Cluster")[
        ["Total Spend", "Items Purchased", "Average Rating", "Days Since Last Purchase"]
    ].mean()
    profile.to_csv(out / "profile.csv")

    plt.figure()
    plt.plot(range(1, 11), inertia, marker="o")
    plt.savefig(out / "elbow.png")
    plt.close()
    for column in ["Total Spend", "Items Purchased", "Average Rating", "Days Since Last Purchase"]:
        plt.figure()
        sns.boxplot(data=df, x="Cluster", y=column)
        plt.savefig(out / f"box_{column.replace(' ', '_')}.png")
        plt.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
