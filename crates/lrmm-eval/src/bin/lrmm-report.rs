//! Reports from evaluation results: `render` turns one dataset's metrics.json and training log
//! into Markdown and PNG figures; `aggregate` averages several runs (seeds) into the paper's
//! Table 2 with mean ± std; `sweep` plots a metric against an experiment variable (Figures 4, 6).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use lrmm_eval::data::Subset;
use lrmm_eval::output;
use lrmm_eval::plots::{self, Series};
use lrmm_eval::report;

#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// report.md + learning_curves.png + modality_errors.png for one evaluated dataset.
    Render {
        /// Dataset folder holding metrics.json (and examples.md).
        #[arg(long)]
        data: PathBuf,
        /// Model folder with train_log.csv [default: <data>/model].
        #[arg(long)]
        model: Option<PathBuf>,
        /// Output folder [default: <data>/report].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Mean ± std over several metrics.json (one per seed): Markdown table + JSON cells.
    Aggregate {
        /// Table title.
        #[arg(long)]
        title: String,
        /// Output Markdown file; the cells go to the same name with .json.
        #[arg(long)]
        out: PathBuf,
        /// Test subsets as columns (all, warm, cold_item, cold_user), comma-separated.
        #[arg(long, default_value = "all,warm,cold_item,cold_user")]
        subsets: String,
        /// metrics.json files.
        #[arg(required = true)]
        metrics: Vec<PathBuf>,
    },
    /// A metric against an experiment variable: `X=path/metrics.json` per point.
    Sweep {
        #[arg(long)]
        title: String,
        /// Output PNG; a Markdown table goes next to it with .md.
        #[arg(long)]
        out: PathBuf,
        /// Name of the x variable.
        #[arg(long)]
        x_label: String,
        /// Models to plot: lrmm:+F, lrmm:-V, baseline:svdpp, …
        #[arg(long, value_delimiter = ',', default_value = "lrmm:+F,lrmm:-M,lrmm:-V,baseline:svdpp")]
        series: Vec<String>,
        /// Test subset the metric is taken on.
        #[arg(long, default_value = "all")]
        subset: String,
        /// rmse or mae.
        #[arg(long, default_value = "rmse")]
        metric: String,
        /// Points as X=metrics.json.
        #[arg(required = true)]
        points: Vec<String>,
    },
}

fn parse_subsets(list: &str) -> anyhow::Result<Vec<Subset>> {
    list.split(',')
        .map(|k| Subset::ALL.into_iter().find(|s| s.key() == k.trim()).with_context(|| format!("unknown subset `{k}`")))
        .collect()
}

fn render(data: &Path, model: Option<PathBuf>, out: Option<PathBuf>) -> anyhow::Result<()> {
    let metrics = output::read_metrics(&data.join("metrics.json"))?;
    let out = out.unwrap_or_else(|| data.join("report"));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut md = report::metrics_markdown(&metrics);
    let log = model.unwrap_or_else(|| data.join("model")).join("train_log.csv");
    if log.exists() {
        plots::learning_curves(&log, &out.join("learning_curves.png"))?;
        md.push_str("\n## Learning curves\n\n![learning curves](learning_curves.png)\n");
    } else {
        let _ = writeln!(md, "\n(no training log at {}: no learning curves)", log.display());
    }
    if !metrics.lrmm.is_empty() {
        plots::modality_errors(&metrics, &out.join("modality_errors.png"))?;
        md.push_str("\n## Errors per modality setting\n\n![per-modality errors](modality_errors.png)\n");
    }
    if let Ok(examples) = std::fs::read_to_string(data.join("examples.md")) {
        md.push_str("\n## Example predictions\n\n");
        md.push_str(examples.lines().skip_while(|l| !l.starts_with('|')).collect::<Vec<_>>().join("\n").as_str());
        md.push('\n');
    }
    output::write_text(&out.join("report.md"), &md)?;
    tracing::info!("wrote {}", out.join("report.md").display());
    Ok(())
}

fn aggregate(title: &str, out: &Path, subsets: &str, paths: &[PathBuf]) -> anyhow::Result<()> {
    let reports = paths.iter().map(|p| output::read_metrics(p)).collect::<anyhow::Result<Vec<_>>>()?;
    let (md, cells) = report::aggregate_markdown(title, &reports, &parse_subsets(subsets)?);
    output::write_text(out, &md)?;
    lrmm_core::atomic::write_json(&out.with_extension("json"), &cells)?;
    tracing::info!("wrote {}", out.display());
    Ok(())
}

fn sweep(title: &str, out: &Path, x_label: &str, series: &[String], subset: &str, metric: &str, points: &[String]) -> anyhow::Result<()> {
    anyhow::ensure!(metric == "rmse" || metric == "mae", "--metric must be rmse or mae");
    let mut runs = Vec::new();
    for p in points {
        let (x, path) = p.split_once('=').with_context(|| format!("point `{p}` is not X=metrics.json"))?;
        let x: f64 = x.parse().with_context(|| format!("point `{p}`: x is not a number"))?;
        runs.push((x, output::read_metrics(Path::new(path))?));
    }
    let mut lines = Vec::new();
    let mut md = format!("# {title}\n\n| {x_label} |");
    for s in series {
        let _ = write!(md, " {s} {metric} ({subset}) |");
    }
    md.push_str(&format!("\n|---:|{}\n", "---:|".repeat(series.len())));
    for s in series {
        let (family, key) = s.split_once(':').with_context(|| format!("series `{s}` is not lrmm:KEY or baseline:KEY"))?;
        let mut pts = Vec::new();
        for (x, r) in &runs {
            let sub = r.subsets.get(subset).with_context(|| format!("no subset `{subset}`"))?;
            let e = match family {
                "lrmm" => sub.lrmm.get(key),
                "baseline" => sub.baselines.get(key),
                _ => anyhow::bail!("series `{s}`: family must be lrmm or baseline"),
            };
            if let Some(v) = e.and_then(|e| if metric == "rmse" { e.rmse } else { e.mae }) {
                pts.push((*x, v));
            }
        }
        lines.push(Series { name: s.clone(), points: pts });
    }
    for (x, _) in &runs {
        let _ = write!(md, "| {x} |");
        for l in &lines {
            let v = l.points.iter().find(|p| p.0 == *x).map_or("–".to_string(), |p| format!("{:.3}", p.1));
            let _ = write!(md, " {v} |");
        }
        md.push('\n');
    }
    plots::line_plot(out, title, x_label, &metric.to_uppercase(), &lines)?;
    output::write_text(&out.with_extension("md"), &md)?;
    tracing::info!("wrote {}", out.display());
    Ok(())
}

fn main() -> anyhow::Result<()> {
    lrmm_core::logging::init();
    match Args::parse().command {
        Command::Render { data, model, out } => render(&data, model, out),
        Command::Aggregate { title, out, subsets, metrics } => aggregate(&title, &out, &subsets, &metrics),
        Command::Sweep { title, out, x_label, series, subset, metric, points } => {
            sweep(&title, &out, &x_label, &series, &subset, &metric, &points)
        }
    }
}
