//! Reports from evaluation results: `render` turns one dataset's metrics.json and training log
//! into Markdown and PNG figures; `aggregate` averages several runs (seeds) into the paper's
//! Table 2 with mean ± std; `sweep` plots a metric against an experiment variable (Figures 4, 6).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::builder::PossibleValue;
use clap::{Parser, Subcommand, ValueEnum};
use lrmm_core::cli::{Verbosity, RUST_LOG_HELP};
use lrmm_eval::data::Subset;
use lrmm_eval::output;
use lrmm_eval::plots::{self, Series};
use lrmm_eval::report;

/// Reports from evaluation results: one dataset's report, a table over seeds, a metric
/// against an experiment variable.
///
/// `render` reads --data's metrics.json and examples.md and the model's train_log.csv, and
/// writes report.md, learning_curves.png and modality_errors.png into --out. `aggregate` reads
/// several metrics.json (one per seed) and writes a Markdown table of mean ± std (the paper's
/// Table 2) to --out, with its cells beside it as .json. `sweep` reads one metrics.json per
/// value of a variable and writes a PNG line plot to --out with its Markdown table beside it as
/// .md (the paper's Figures 4 and 6).
///
/// Examples:
///
///   lrmm-report render --data build/default
///   lrmm-report aggregate --title "Table 2" --out table2.md build/mi-seed1/metrics.json \
///     build/mi-seed2/metrics.json build/mi-seed3/metrics.json
///   lrmm-report sweep --title "Figure 6" --x-label L --series lrmm:+F,baseline:svdpp \
///     --out fig6.png 25=build/L25/metrics.json 50=build/L50/metrics.json
#[derive(Parser, Debug)]
#[command(name = "lrmm-report", verbatim_doc_comment)]
struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    verbosity: Verbosity,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// report.md + learning_curves.png + modality_errors.png for one evaluated dataset.
    #[command(after_help = RUST_LOG_HELP)]
    Render {
        /// Dataset folder read: metrics.json (and examples.md).
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// Model folder read, with train_log.csv [default: <DATA>/model].
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// Folder written [default: <DATA>/report].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Mean ± std over several metrics.json (one per seed): Markdown table + JSON cells.
    #[command(after_help = RUST_LOG_HELP)]
    Aggregate {
        /// Table title.
        #[arg(long)]
        title: String,
        /// Markdown file written; the cells go to the same name with .json.
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
        /// Test subsets as columns, comma-separated.
        #[arg(
            long,
            value_enum,
            value_delimiter = ',',
            default_value = "all,warm,cold_item,cold_user"
        )]
        subsets: Vec<Subset>,
        /// metrics.json files read.
        #[arg(required = true)]
        metrics: Vec<PathBuf>,
    },
    /// A metric against an experiment variable: `X=path/metrics.json` per point.
    #[command(after_help = RUST_LOG_HELP)]
    Sweep {
        /// Figure title.
        #[arg(long)]
        title: String,
        /// PNG file written; a Markdown table goes next to it with .md.
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
        /// Name of the x variable.
        #[arg(long)]
        x_label: String,
        /// Models to plot, comma-separated.
        #[arg(
            long,
            value_enum,
            value_delimiter = ',',
            default_value = "lrmm:+F,lrmm:-M,lrmm:-V,baseline:svdpp"
        )]
        series: Vec<SeriesArg>,
        /// Test subset the metric is taken on.
        #[arg(long, value_enum, default_value_t = Subset::All)]
        subset: Subset,
        /// The metric plotted.
        #[arg(long, value_enum, default_value_t = MetricArg::Rmse)]
        metric: MetricArg,
        /// Points read, each X=metrics.json with X a number.
        #[arg(required = true, value_name = "X=METRICS_JSON", value_parser = parse_point)]
        points: Vec<(f64, PathBuf)>,
    },
}

/// `--metric`: an error metric of metrics.json.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MetricArg {
    Rmse,
    Mae,
}

impl MetricArg {
    fn name(self) -> &'static str {
        match self {
            MetricArg::Rmse => "rmse",
            MetricArg::Mae => "mae",
        }
    }
}

/// `--series`: one model of metrics.json, `lrmm:<setting>` or `baseline:<baseline>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SeriesArg {
    name: &'static str,
    lrmm: bool,
    key: &'static str,
}

impl SeriesArg {
    const fn new(name: &'static str, lrmm: bool, key: &'static str) -> Self {
        Self { name, lrmm, key }
    }
}

/// Every LRMM setting (`lrmm_eval::evaluate::SETTINGS`) and every baseline (`BaselineKind`).
const SERIES: [SeriesArg; 12] = [
    SeriesArg::new("lrmm:+F", true, "+F"),
    SeriesArg::new("lrmm:-U", true, "-U"),
    SeriesArg::new("lrmm:-O", true, "-O"),
    SeriesArg::new("lrmm:-M", true, "-M"),
    SeriesArg::new("lrmm:-V", true, "-V"),
    SeriesArg::new("baseline:offset", false, "offset"),
    SeriesArg::new("baseline:bias", false, "bias"),
    SeriesArg::new("baseline:bias_valid", false, "bias_valid"),
    SeriesArg::new("baseline:nmf", false, "nmf"),
    SeriesArg::new("baseline:svd", false, "svd"),
    SeriesArg::new("baseline:svdpp", false, "svdpp"),
    SeriesArg::new("baseline:tfidf", false, "tfidf"),
];

impl ValueEnum for SeriesArg {
    fn value_variants<'a>() -> &'a [Self] {
        &SERIES
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name))
    }
}

/// `X=path/metrics.json`, X a number.
fn parse_point(p: &str) -> Result<(f64, PathBuf), String> {
    let (x, path) = p
        .split_once('=')
        .ok_or_else(|| format!("point `{p}` is not X=metrics.json"))?;
    let x: f64 = x
        .parse()
        .map_err(|_| format!("point `{p}`: x is not a number"))?;
    Ok((x, PathBuf::from(path)))
}

fn render(data: &Path, model: Option<PathBuf>, out: Option<PathBuf>) -> anyhow::Result<()> {
    let metrics = output::read_metrics(&data.join("metrics.json"))?;
    let out = out.unwrap_or_else(|| data.join("report"));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut md = report::metrics_markdown(&metrics);
    let log = model
        .unwrap_or_else(|| data.join("model"))
        .join("train_log.csv");
    if log.exists() {
        plots::learning_curves(&log, &out.join("learning_curves.png"))?;
        md.push_str("\n## Learning curves\n\n![learning curves](learning_curves.png)\n");
    } else {
        let _ = writeln!(
            md,
            "\n(no training log at {}: no learning curves)",
            log.display()
        );
    }
    if !metrics.lrmm.is_empty() {
        plots::modality_errors(&metrics, &out.join("modality_errors.png"))?;
        md.push_str(
            "\n## Errors per modality setting\n\n![per-modality errors](modality_errors.png)\n",
        );
    }
    if let Ok(examples) = std::fs::read_to_string(data.join("examples.md")) {
        md.push_str("\n## Example predictions\n\n");
        md.push_str(
            examples
                .lines()
                .skip_while(|l| !l.starts_with('|'))
                .collect::<Vec<_>>()
                .join("\n")
                .as_str(),
        );
        md.push('\n');
    }
    output::write_text(&out.join("report.md"), &md)?;
    tracing::info!("wrote {}", out.join("report.md").display());
    Ok(())
}

fn aggregate(title: &str, out: &Path, subsets: &[Subset], paths: &[PathBuf]) -> anyhow::Result<()> {
    let reports = paths
        .iter()
        .map(|p| output::read_metrics(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (md, cells) = report::aggregate_markdown(title, &reports, subsets);
    output::write_text(out, &md)?;
    lrmm_core::atomic::write_json(&out.with_extension("json"), &cells)?;
    tracing::info!("wrote {}", out.display());
    Ok(())
}

fn sweep(
    title: &str,
    out: &Path,
    x_label: &str,
    series: &[SeriesArg],
    subset: Subset,
    metric: MetricArg,
    points: &[(f64, PathBuf)],
) -> anyhow::Result<()> {
    let mut runs = Vec::new();
    for (x, path) in points {
        runs.push((*x, output::read_metrics(path)?));
    }
    let subset = subset.key();
    let mut lines = Vec::new();
    let mut md = format!("# {title}\n\n| {x_label} |");
    for s in series {
        let _ = write!(md, " {} {} ({subset}) |", s.name, metric.name());
    }
    md.push_str(&format!("\n|---:|{}\n", "---:|".repeat(series.len())));
    for s in series {
        let mut pts = Vec::new();
        for (x, r) in &runs {
            let sub = r
                .subsets
                .get(subset)
                .with_context(|| format!("no subset `{subset}`"))?;
            let e = if s.lrmm {
                sub.lrmm.get(s.key)
            } else {
                sub.baselines.get(s.key)
            };
            let value = e.and_then(|e| match metric {
                MetricArg::Rmse => e.rmse,
                MetricArg::Mae => e.mae,
            });
            if let Some(v) = value {
                pts.push((*x, v));
            }
        }
        lines.push(Series {
            name: s.name.to_string(),
            points: pts,
        });
    }
    for (x, _) in &runs {
        let _ = write!(md, "| {x} |");
        for l in &lines {
            let v = l
                .points
                .iter()
                .find(|p| p.0 == *x)
                .map_or("–".to_string(), |p| format!("{:.3}", p.1));
            let _ = write!(md, " {v} |");
        }
        md.push('\n');
    }
    plots::line_plot(out, title, x_label, &metric.name().to_uppercase(), &lines)?;
    output::write_text(&out.with_extension("md"), &md)?;
    tracing::info!("wrote {}", out.display());
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Args = lrmm_core::cli::parse(&lrmm_core::build_info!("lrmm", "cuda"));
    lrmm_core::logging::init(&args.verbosity)?;
    tracing::info!("{args:?}");
    match args.command {
        Command::Render { data, model, out } => render(&data, model, out),
        Command::Aggregate {
            title,
            out,
            subsets,
            metrics,
        } => aggregate(&title, &out, &subsets, &metrics),
        Command::Sweep {
            title,
            out,
            x_label,
            series,
            subset,
            metric,
            points,
        } => sweep(&title, &out, &x_label, &series, subset, metric, &points),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lrmm_eval::baselines::BaselineKind;
    use lrmm_eval::evaluate::SETTINGS;

    #[test]
    fn defaults_parse_to_every_subset_and_the_usual_series() {
        let args = Args::try_parse_from([
            "lrmm-report",
            "aggregate",
            "--title",
            "t",
            "--out",
            "t.md",
            "m.json",
        ])
        .unwrap();
        let Command::Aggregate { subsets, .. } = args.command else {
            panic!("not aggregate")
        };
        assert_eq!(subsets, Subset::ALL);
        let args = Args::try_parse_from([
            "lrmm-report",
            "sweep",
            "--title",
            "t",
            "--out",
            "f.png",
            "--x-label",
            "L",
            "25=m.json",
        ])
        .unwrap();
        let Command::Sweep {
            series,
            subset,
            metric,
            points,
            ..
        } = args.command
        else {
            panic!("not sweep")
        };
        let names: Vec<&str> = series.iter().map(|s| s.name).collect();
        assert_eq!(names, ["lrmm:+F", "lrmm:-M", "lrmm:-V", "baseline:svdpp"]);
        assert_eq!((subset, metric), (Subset::All, MetricArg::Rmse));
        assert_eq!(points, [(25.0, PathBuf::from("m.json"))]);
    }

    #[test]
    fn series_are_every_setting_and_baseline() {
        let lrmm: Vec<&str> = SERIES.iter().filter(|s| s.lrmm).map(|s| s.key).collect();
        assert_eq!(lrmm, SETTINGS.map(|s| s.key));
        let mut baselines: Vec<&str> = SERIES.iter().filter(|s| !s.lrmm).map(|s| s.key).collect();
        let mut kinds: Vec<&str> = BaselineKind::ALL.map(BaselineKind::key).to_vec();
        baselines.sort_unstable();
        kinds.sort_unstable();
        assert_eq!(baselines, kinds);
        for s in SERIES {
            let family = if s.lrmm { "lrmm" } else { "baseline" };
            assert_eq!(s.name, format!("{family}:{}", s.key));
        }
    }
}
