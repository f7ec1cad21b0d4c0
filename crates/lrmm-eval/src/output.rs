//! The evaluation's artifacts: `metrics.json`, `metrics.md`, `predictions.parquet`,
//! `examples.md`, each written atomically into the output folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::baselines::BaselineKind;
use crate::evaluate::{MetricsReport, Predictions, SETTINGS};

/// Where the evaluation writes, by default next to the dataset's artifacts (`build/<NAME>/`).
#[derive(Debug, Clone)]
pub struct EvalPaths {
    root: PathBuf,
}

impl EvalPaths {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    pub fn metrics_json(&self) -> PathBuf {
        self.root.join("metrics.json")
    }
    pub fn metrics_md(&self) -> PathBuf {
        self.root.join("metrics.md")
    }
    pub fn predictions(&self) -> PathBuf {
        self.root.join("predictions.parquet")
    }
    pub fn examples_md(&self) -> PathBuf {
        self.root.join("examples.md")
    }
}

/// `predictions.parquet`: one row per test interaction — `row` (index into
/// `interactions.parquet`), `user_id`, `item_id`, `rating`, `cold_user`, `cold_item`, then one
/// f32 column per model: `lrmm_full`, `lrmm_drop_user`, … and `baseline_<key>`.
pub fn predictions_frame(p: &Predictions) -> PolarsResult<DataFrame> {
    let mut columns = vec![
        Column::new(
            "row".into(),
            p.rows.iter().map(|&r| r as u32).collect::<Vec<u32>>(),
        ),
        Column::new("user_id".into(), &p.user),
        Column::new("item_id".into(), &p.item),
        Column::new("rating".into(), &p.truth),
        Column::new("cold_user".into(), &p.cold_user),
        Column::new("cold_item".into(), &p.cold_item),
    ];
    for s in SETTINGS {
        if let Some(v) = p.lrmm.get(s.key) {
            columns.push(Column::new(s.column.into(), v));
        }
    }
    for kind in BaselineKind::ALL {
        if let Some(v) = p.baselines.get(kind.key()) {
            columns.push(Column::new(format!("baseline_{}", kind.key()).into(), v));
        }
    }
    DataFrame::new_infer_height(columns)
}

pub fn write_predictions(path: &Path, p: &Predictions) -> anyhow::Result<()> {
    let mut df = predictions_frame(p)?;
    lrmm_core::parquet::write_atomic(path, &mut df)?;
    Ok(())
}

pub fn write_text(path: &Path, text: &str) -> anyhow::Result<()> {
    lrmm_core::atomic::write_atomic(path, |w| std::io::Write::write_all(w, text.as_bytes()))?;
    Ok(())
}

pub fn write_metrics(paths: &EvalPaths, report: &MetricsReport) -> anyhow::Result<()> {
    lrmm_core::atomic::write_json(&paths.metrics_json(), report)?;
    write_text(
        &paths.metrics_md(),
        &crate::report::metrics_markdown(report),
    )
}

pub fn read_metrics(path: &Path) -> anyhow::Result<MetricsReport> {
    Ok(lrmm_core::atomic::read_json(path)?)
}

/// Item labels for the examples table: "asin — title" from `items.parquet` when it is there,
/// else the item id.
pub fn item_labels(items: &Path) -> HashMap<u32, String> {
    let read = || -> Option<HashMap<u32, String>> {
        let df = lrmm_core::parquet::read_checked(items, lrmm_core::schema::ITEMS).ok()?;
        let ids = df.column("item_id").ok()?.u32().ok()?.clone();
        let asins = df.column("asin").ok()?.str().ok()?.clone();
        let titles = df.column("title").ok()?.str().ok()?.clone();
        let mut out = HashMap::new();
        for r in 0..df.height() {
            let (Some(id), Some(asin)) = (ids.get(r), asins.get(r)) else {
                continue;
            };
            let title: String = titles.get(r).unwrap_or("").chars().take(40).collect();
            let label = if title.is_empty() {
                asin.to_string()
            } else {
                format!("{asin} — {title}")
            };
            out.insert(id, label);
        }
        Some(out)
    };
    read().unwrap_or_default()
}
