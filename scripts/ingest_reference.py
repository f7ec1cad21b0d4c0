"""The ingestion work in Python, as the reference the Rust stage is measured against:
read the reviews, drop duplicate pairs, index users and items, split 80/10/10 at random,
assemble per-user and per-item training documents, write Parquet.

usage: ingest_reference.py [--engine polars|pandas] REVIEWS OUT_DIR"""
import argparse
import os

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--engine", choices=["polars", "pandas"], default="polars")
parser.add_argument("reviews")
parser.add_argument("out")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
rng = np.random.default_rng(1)

if args.engine == "polars":
    import polars as pl

    df = pl.read_ndjson(args.reviews, infer_schema_length=10_000).select(
        "reviewerID", "asin", "overall", "unixReviewTime",
        (pl.col("summary").fill_null("") + "\n" + pl.col("reviewText").fill_null("")).alias("text"),
    )
    df = df.unique(["reviewerID", "asin"], keep="last", maintain_order=True)
    df = df.with_columns(
        pl.col("reviewerID").rank("dense").cast(pl.UInt32).alias("user_id") - 1,
        pl.col("asin").rank("dense").cast(pl.UInt32).alias("item_id") - 1,
    ).sort("user_id", "unixReviewTime", "item_id")
    n = df.height
    perm = rng.permutation(n)
    split = np.full(n, "test", dtype=object)
    split[perm[: int(round(0.8 * n))]] = "train"
    split[perm[int(round(0.8 * n)) : int(round(0.9 * n))]] = "valid"
    df = df.with_columns(pl.Series("split", split.astype(str)))
    train = df.filter(pl.col("split") == "train")
    user_docs = train.group_by("user_id").agg(pl.col("text").str.join("\n"))
    item_docs = train.group_by("item_id").agg(pl.col("text").str.join("\n"))
    df.select("user_id", "item_id", "overall", "unixReviewTime", "split").write_parquet(f"{args.out}/interactions.parquet")
    df.select("user_id", "item_id", "unixReviewTime", "split", "text").write_parquet(f"{args.out}/reviews.parquet")
    user_docs.write_parquet(f"{args.out}/user_docs.parquet")
    item_docs.write_parquet(f"{args.out}/item_docs.parquet")
else:
    import pandas as pd

    df = pd.read_json(args.reviews, lines=True, dtype={"reviewerID": str, "asin": str})
    df["text"] = df["summary"].fillna("") + "\n" + df["reviewText"].fillna("")
    df = df[["reviewerID", "asin", "overall", "unixReviewTime", "text"]]
    df = df.drop_duplicates(["reviewerID", "asin"], keep="last")
    df["user_id"] = df["reviewerID"].rank(method="dense").astype("uint32") - 1
    df["item_id"] = df["asin"].rank(method="dense").astype("uint32") - 1
    df = df.sort_values(["user_id", "unixReviewTime", "item_id"]).reset_index(drop=True)
    n = len(df)
    perm = rng.permutation(n)
    split = np.full(n, "test", dtype=object)
    split[perm[: int(round(0.8 * n))]] = "train"
    split[perm[int(round(0.8 * n)) : int(round(0.9 * n))]] = "valid"
    df["split"] = split
    train = df[df["split"] == "train"]
    user_docs = train.groupby("user_id")["text"].agg("\n".join).reset_index()
    item_docs = train.groupby("item_id")["text"].agg("\n".join).reset_index()
    df[["user_id", "item_id", "overall", "unixReviewTime", "split"]].to_parquet(f"{args.out}/interactions.parquet")
    df[["user_id", "item_id", "unixReviewTime", "split", "text"]].to_parquet(f"{args.out}/reviews.parquet")
    user_docs.to_parquet(f"{args.out}/user_docs.parquet")
    item_docs.to_parquet(f"{args.out}/item_docs.parquet")
