//! PNG figures with plotters: learning curves from the training log, per-modality errors from
//! `metrics.json`, and line plots for the experiments (Figures 4 and 6). Text is drawn with the
//! embedded DejaVu Sans (assets/, Bitstream Vera licence), so no system font is needed.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::data::Subset;
use crate::evaluate::{MetricsReport, SETTINGS};

const FONT: &str = "lrmm-sans";
static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },
    #[error("{path}: cannot draw: {message}")]
    Draw { path: PathBuf, message: String },
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font compiled into the binary; failure is a build bug.
        let registered = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
        assert!(registered.is_ok(), "the embedded font does not parse");
    });
}

fn draw_err(path: &Path) -> impl Fn(String) -> PlotError + '_ {
    move |message| PlotError::Draw {
        path: path.to_path_buf(),
        message,
    }
}

/// A numeric CSV with a header row (the training stage's `train_log.csv`).
#[derive(Debug, Clone)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<f64>>,
}

impl Table {
    pub fn read_csv(path: &Path) -> Result<Self, PlotError> {
        let bad = |message: String| PlotError::Input {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let mut lines = text.lines();
        let columns: Vec<String> = lines
            .next()
            .ok_or_else(|| bad("empty file".into()))?
            .split(',')
            .map(|c| c.trim().to_string())
            .collect();
        let mut rows = Vec::new();
        for (n, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let values: Vec<f64> = line
                .split(',')
                .map(|v| v.trim().parse::<f64>().unwrap_or(f64::NAN))
                .collect();
            if values.len() != columns.len() {
                return Err(bad(format!(
                    "line {}: {} fields, header has {}",
                    n + 2,
                    values.len(),
                    columns.len()
                )));
            }
            rows.push(values);
        }
        Ok(Self { columns, rows })
    }

    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let c = self.columns.iter().position(|n| n == name)?;
        Some(self.rows.iter().map(|r| r[c]).collect())
    }
}

/// One named line of an x–y plot.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(1e-3);
    (lo - pad, hi + pad)
}

/// How the x axis is labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XTicks {
    /// plotters' own tick positions and labels (text length L, reviews per item).
    Continuous,
    /// Whole numbers only, each labelled once (epochs).
    Integers,
}

/// The label of an x tick under [`XTicks::Integers`]: the whole number, or nothing between two.
pub fn integer_tick_label(x: f64) -> String {
    if (x - x.round()).abs() < 1e-6 {
        format!("{}", x.round() as i64)
    } else {
        String::new()
    }
}

fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    (x_label, y_label): (&str, &str),
    ticks: XTicks,
    series: &[Series],
) -> Result<(), String> {
    let (x0, x1) = range(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let (y0, y1) = range(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| e.to_string())?;
    // Integer ticks: one candidate per quarter unit, every `step`-th whole number labelled, so
    // at most about a dozen labels whatever the number of epochs.
    let whole = (x1.floor() - x0.ceil()).max(0.0) as usize + 1;
    let step = whole.div_ceil(12).max(1) as i64;
    let integer_labels = move |x: &f64| {
        let label = integer_tick_label(*x);
        match label.parse::<i64>() {
            Ok(n) if n.rem_euclid(step) == 0 => label,
            _ => String::new(),
        }
    };
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(x_label)
        .y_desc(y_label)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14));
    if ticks == XTicks::Integers {
        mesh.x_labels((whole * 4).min(200))
            .x_label_formatter(&integer_labels);
    }
    mesh.draw().map_err(|e| e.to_string())?;
    for (n, s) in series.iter().enumerate() {
        let color = COLORS[n % COLORS.len()];
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|p| p.1.is_finite())
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(s.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, color.filled())),
            )
            .map_err(|e| e.to_string())?;
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// A line plot of `series` into `out` (PNG).
pub fn line_plot(
    out: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<(), PlotError> {
    register_font();
    let tmp = temp_png(out);
    {
        let root = BitMapBackend::new(&tmp, (900, 560)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| draw_err(out)(e.to_string()))?;
        draw_lines(&root, title, (x_label, y_label), XTicks::Continuous, series)
            .map_err(draw_err(out))?;
        root.present().map_err(|e| draw_err(out)(e.to_string()))?;
    }
    persist(&tmp, out)
}

/// One panel of the learning curves: its title, y label and lines.
#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub y_label: String,
    pub series: Vec<Series>,
}

/// The panels of the learning curves, each with its own y axis: the loss parts differ by orders
/// of magnitude (MSE ≈ 0.5 beside a KL term in the hundreds), so each has its own panel, then
/// the validation errors and the learned loss weights α, β when the log has them.
pub fn learning_panels(table: &Table, log: &Path) -> Result<Vec<Panel>, PlotError> {
    let epoch = table.column("epoch").ok_or_else(|| PlotError::Input {
        path: log.to_path_buf(),
        message: "no `epoch` column".into(),
    })?;
    let series = |column: &str, name: &str| -> Option<Series> {
        table.column(column).map(|values| Series {
            name: name.to_string(),
            points: epoch.iter().copied().zip(values).collect(),
        })
    };
    let panel = |title: &str, y_label: &str, series: Vec<Series>| Panel {
        title: title.to_string(),
        y_label: y_label.to_string(),
        series,
    };
    let mut panels = Vec::new();
    for (column, title) in [
        ("train_loss", "Training loss (total, eq. 22)"),
        ("train_mse", "Training MSE (eq. 19)"),
        ("train_recon", "Reconstruction error (eq. 21)"),
        ("train_kl", "Sparsity penalty (KL, eq. 20)"),
    ] {
        if let Some(s) = series(column, column) {
            panels.push(panel(title, "per sample", vec![s]));
        }
    }
    let valid: Vec<Series> = [("valid_rmse", "RMSE"), ("valid_mae", "MAE")]
        .into_iter()
        .filter_map(|(c, n)| series(c, n))
        .collect();
    if valid.is_empty() {
        return Err(PlotError::Input {
            path: log.to_path_buf(),
            message: "no valid_rmse/valid_mae column".into(),
        });
    }
    panels.push(panel("Validation error", "rating error", valid));
    let weights: Vec<Series> = [
        ("alpha", "α (MSE weight)"),
        ("beta", "β (reconstruction weight)"),
    ]
    .into_iter()
    .filter_map(|(c, n)| series(c, n))
    .collect();
    if !weights.is_empty() {
        panels.push(panel("Learned loss weights", "weight", weights));
    }
    Ok(panels)
}

/// Learning curves from `train_log.csv`: [`learning_panels`] in a grid of three columns, epochs
/// as whole numbers.
pub fn learning_curves(log: &Path, out: &Path) -> Result<(), PlotError> {
    register_font();
    let table = Table::read_csv(log)?;
    let panels = learning_panels(&table, log)?;
    let columns = panels.len().min(3);
    let rows = panels.len().div_ceil(columns);
    let tmp = temp_png(out);
    {
        let root =
            BitMapBackend::new(&tmp, (500 * columns as u32, 380 * rows as u32)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| draw_err(out)(e.to_string()))?;
        for (area, panel) in root.split_evenly((rows, columns)).iter().zip(&panels) {
            draw_lines(
                area,
                &panel.title,
                ("epoch", &panel.y_label),
                XTicks::Integers,
                &panel.series,
            )
            .map_err(draw_err(out))?;
        }
        root.present().map_err(|e| draw_err(out)(e.to_string()))?;
    }
    persist(&tmp, out)
}

/// The test subsets that have rows and an LRMM error: the bars and legend entries of
/// [`modality_errors`] (a cold-user subset with n = 0 gets neither).
pub fn plotted_subsets(report: &MetricsReport) -> Vec<Subset> {
    Subset::ALL
        .into_iter()
        .filter(|s| {
            report
                .subsets
                .get(s.key())
                .is_some_and(|r| r.n > 0 && r.lrmm.values().any(|e| e.rmse.is_some()))
        })
        .collect()
}

/// RMSE of LRMM in each setting (+F, −U, −O, −M, −V) on each test subset that has rows, as
/// grouped bars, with the Offset and SVD++ RMSE on the whole test set as reference lines.
pub fn modality_errors(report: &MetricsReport, out: &Path) -> Result<(), PlotError> {
    register_font();
    let settings: Vec<&str> = SETTINGS
        .iter()
        .map(|s| s.key)
        .filter(|k| report.lrmm.contains_key(*k))
        .collect();
    let subsets = plotted_subsets(report);
    let mut bars = Vec::new(); // (setting index, subset index, rmse)
    for (x, key) in settings.iter().enumerate() {
        for (g, subset) in subsets.iter().enumerate() {
            if let Some(rmse) = report
                .subsets
                .get(subset.key())
                .and_then(|s| s.lrmm.get(*key))
                .and_then(|e| e.rmse)
            {
                bars.push((x, g, rmse));
            }
        }
    }
    let references: Vec<(&str, f64)> = [("offset", "Offset (all)"), ("svdpp", "SVD++ (all)")]
        .into_iter()
        .filter_map(|(k, name)| {
            report
                .baselines
                .get(k)
                .and_then(|e| e.rmse)
                .map(|r| (name, r))
        })
        .collect();
    let y_max = bars
        .iter()
        .map(|b| b.2)
        .chain(references.iter().map(|r| r.1))
        .fold(0.0, f64::max)
        * 1.4
        + 1e-3; // headroom for the legend above the tallest bar
    let tmp = temp_png(out);
    {
        let root = BitMapBackend::new(&tmp, (1000, 560)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| draw_err(out)(e.to_string()))?;
        let draw = || -> Result<(), String> {
            let n = settings.len().max(1) as f64;
            let mut chart = ChartBuilder::on(&root)
                .caption(
                    format!("LRMM RMSE per modality setting — {}", report.dataset),
                    (FONT, 20),
                )
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(56)
                .build_cartesian_2d(0f64..n, 0f64..y_max)
                .map_err(|e| e.to_string())?;
            let labels = settings.clone();
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(settings.len().max(1) * 2 + 1)
                .x_label_formatter(&|x| {
                    let centre = x - x.floor();
                    if (centre - 0.5).abs() < 0.01 {
                        labels
                            .get(x.floor() as usize)
                            .map_or(String::new(), |s| s.to_string())
                    } else {
                        String::new()
                    }
                })
                .y_desc("RMSE")
                .label_style((FONT, 13))
                .axis_desc_style((FONT, 14))
                .draw()
                .map_err(|e| e.to_string())?;
            let width = 0.8 / subsets.len().max(1) as f64;
            for (g, subset) in subsets.iter().enumerate() {
                let color = COLORS[Subset::ALL.iter().position(|s| s == subset).unwrap_or(g)];
                chart
                    .draw_series(bars.iter().filter(|b| b.1 == g).map(|&(x, _, rmse)| {
                        let left = x as f64 + 0.1 + g as f64 * width;
                        Rectangle::new([(left, 0.0), (left + width * 0.92, rmse)], color.filled())
                    }))
                    .map_err(|e| e.to_string())?
                    .label(subset.title())
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                    });
            }
            for (r, (name, value)) in references.iter().enumerate() {
                let color = COLORS[4 + r % 2];
                chart
                    .draw_series(LineSeries::new(
                        vec![(0.0, *value), (n, *value)],
                        color.stroke_width(2),
                    ))
                    .map_err(|e| e.to_string())?
                    .label(*name)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font((FONT, 13))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(|e| e.to_string())?;
            root.present().map_err(|e| e.to_string())
        };
        draw().map_err(draw_err(out))?;
    }
    persist(&tmp, out)
}

/// One panel of Figure 5: a modality's embeddings (blue) and their reconstructions (red) in 2-d.
#[derive(Debug, Clone)]
pub struct ScatterPanel {
    pub title: String,
    pub embeddings: Vec<[f64; 2]>,
    pub reconstructions: Vec<[f64; 2]>,
}

/// The paper's Figure 5: one scatter panel per modality, in a 2 × 2 grid.
pub fn embedding_scatter(out: &Path, panels: &[ScatterPanel]) -> Result<(), PlotError> {
    register_font();
    let tmp = temp_png(out);
    {
        let root = BitMapBackend::new(&tmp, (1000, 900)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| draw_err(out)(e.to_string()))?;
        let areas = root.split_evenly((2, 2));
        for (area, panel) in areas.iter().zip(panels) {
            let draw = || -> Result<(), String> {
                let all = panel.embeddings.iter().chain(&panel.reconstructions);
                let (x0, x1) = range(all.clone().map(|p| p[0]));
                let (y0, y1) = range(all.map(|p| p[1]));
                let mut chart = ChartBuilder::on(area)
                    .caption(&panel.title, (FONT, 18))
                    .margin(10)
                    .x_label_area_size(24)
                    .y_label_area_size(36)
                    .build_cartesian_2d(x0..x1, y0..y1)
                    .map_err(|e| e.to_string())?;
                chart
                    .configure_mesh()
                    .label_style((FONT, 11))
                    .draw()
                    .map_err(|e| e.to_string())?;
                for (points, color, name) in [
                    (&panel.embeddings, COLORS[0], "embedding"),
                    (&panel.reconstructions, COLORS[3], "reconstruction"),
                ] {
                    chart
                        .draw_series(
                            points
                                .iter()
                                .map(|p| Circle::new((p[0], p[1]), 3, color.filled())),
                        )
                        .map_err(|e| e.to_string())?
                        .label(name)
                        .legend(move |(x, y)| Circle::new((x + 6, y), 3, color.filled()));
                }
                chart
                    .configure_series_labels()
                    .label_font((FONT, 12))
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .draw()
                    .map_err(|e| e.to_string())
            };
            draw().map_err(draw_err(out))?;
        }
        root.present().map_err(|e| draw_err(out)(e.to_string()))?;
    }
    persist(&tmp, out)
}

/// plotters writes by path, so the figure goes to a sibling temporary name and is renamed
/// into place: a failed draw never leaves a half-written PNG under the real name.
fn temp_png(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.with_file_name(format!(".tmp-{}-{name}", std::process::id()))
}

fn persist(tmp: &Path, out: &Path) -> Result<(), PlotError> {
    std::fs::rename(tmp, out).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        draw_err(out)(e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_curve_png_is_written_from_a_training_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("train_log.csv");
        std::fs::write(
            &log,
            "epoch,train_loss,train_mse,valid_rmse,valid_mae,seconds,samples_per_s\n\
             1,2.0,1.5,1.10,0.90,3.0,100\n2,1.5,1.1,1.00,0.80,3.1,101\n3,1.2,0.9,0.97,0.78,3.0,99\n",
        )
        .unwrap();
        let png = dir.path().join("curves.png");
        learning_curves(&log, &png).unwrap();
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        assert!(
            bytes.len() > 5_000,
            "suspiciously small PNG: {} bytes",
            bytes.len()
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "temporary file left: {names:?}");
    }

    #[test]
    fn each_loss_part_has_its_own_panel_and_epochs_are_whole_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("train_log.csv");
        std::fs::write(
            &log,
            "epoch,train_loss,train_mse,train_recon,train_kl,alpha,beta,valid_rmse,valid_mae,seconds,train_samples_per_s\n\
             1,40.0,0.9,35.0,480.0,1.0,1.0,0.81,0.56,3.0,100\n\
             2,20.0,0.5,20.0,300.0,1.1,0.9,0.76,0.52,3.0,100\n",
        )
        .unwrap();
        let panels = learning_panels(&Table::read_csv(&log).unwrap(), &log).unwrap();
        let names: Vec<Vec<&str>> = panels
            .iter()
            .map(|p| p.series.iter().map(|s| s.name.as_str()).collect())
            .collect();
        // MSE (≈ 0.5) never shares an axis with the KL term (hundreds); timings are not plotted.
        assert_eq!(
            names,
            [
                vec!["train_loss"],
                vec!["train_mse"],
                vec!["train_recon"],
                vec!["train_kl"],
                vec!["RMSE", "MAE"],
                vec!["α (MSE weight)", "β (reconstruction weight)"],
            ]
        );
        assert_eq!(integer_tick_label(2.0), "2");
        assert_eq!(integer_tick_label(2.5), "");
        assert_eq!(integer_tick_label(12.000_000_1), "12");
        learning_curves(&log, &dir.path().join("curves.png")).unwrap();
    }

    #[test]
    fn empty_subsets_get_no_bars_and_no_legend_entry() {
        use crate::evaluate::{Entry, SubsetReport};
        use std::collections::BTreeMap;
        let entry = |rmse: Option<f64>, n: usize| Entry {
            rmse,
            mae: rmse,
            n,
            recall_at_k: None,
            ndcg_at_k: None,
            ..Default::default()
        };
        let subset = |n: usize| SubsetReport {
            n,
            lrmm: [("+F".to_string(), entry((n > 0).then_some(0.7), n))].into(),
            baselines: BTreeMap::new(),
        };
        let report = MetricsReport {
            dataset: "d".into(),
            split: "test".into(),
            seed: 1,
            k: 10,
            relevance_threshold: 4.0,
            n_train: 80,
            n_test: 10,
            lrmm_status: "evaluated".into(),
            lrmm: [("+F".to_string(), entry(Some(0.7), 10))].into(),
            baselines: [("offset".to_string(), entry(Some(1.0), 10))].into(),
            subsets: [
                ("all".to_string(), subset(10)),
                ("warm".to_string(), subset(7)),
                ("cold_item".to_string(), subset(3)),
                ("cold_user".to_string(), subset(0)),
            ]
            .into(),
            ranking_protocol: None,
            model_selection: BTreeMap::new(),
        };
        assert_eq!(
            plotted_subsets(&report),
            [Subset::All, Subset::Warm, Subset::ColdItem]
        );
        let dir = tempfile::tempdir().unwrap();
        modality_errors(&report, &dir.path().join("bars.png")).unwrap();
    }

    #[test]
    fn malformed_log_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("train_log.csv");
        std::fs::write(&log, "epoch,valid_rmse\n1,0.9\n2\n").unwrap();
        let err = learning_curves(&log, &dir.path().join("x.png"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("train_log.csv") && err.contains("line 3"),
            "{err}"
        );
        assert!(!dir.path().join("x.png").exists());
    }
}
