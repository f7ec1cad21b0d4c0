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

fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<(), String> {
    let (x0, x1) = range(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let (y0, y1) = range(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .draw()
        .map_err(|e| e.to_string())?;
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
        draw_lines(&root, title, x_label, y_label, series).map_err(draw_err(out))?;
        root.present().map_err(|e| draw_err(out)(e.to_string()))?;
    }
    persist(&tmp, out)
}

/// Learning curves from `train_log.csv`: training loss parts (left) and validation RMSE/MAE
/// (right) per epoch.
pub fn learning_curves(log: &Path, out: &Path) -> Result<(), PlotError> {
    register_font();
    let table = Table::read_csv(log)?;
    let epoch = table.column("epoch").ok_or_else(|| PlotError::Input {
        path: log.to_path_buf(),
        message: "no `epoch` column".into(),
    })?;
    let series_of = |pred: &dyn Fn(&str) -> bool| -> Vec<Series> {
        table
            .columns
            .iter()
            .filter(|c| pred(c))
            .map(|c| Series {
                name: c.clone(),
                points: epoch
                    .iter()
                    .copied()
                    .zip(table.column(c).unwrap_or_default())
                    .collect(),
            })
            .collect()
    };
    // Loss parts only: throughput columns (samples_per_s) share the prefix but not the scale.
    let train =
        series_of(&|c| c.starts_with("train") && !c.contains("per_s") && !c.contains("seconds"));
    let valid = series_of(&|c| c == "valid_rmse" || c == "valid_mae");
    if valid.is_empty() {
        return Err(PlotError::Input {
            path: log.to_path_buf(),
            message: "no valid_rmse/valid_mae column".into(),
        });
    }
    let tmp = temp_png(out);
    {
        let root = BitMapBackend::new(&tmp, (1200, 480)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| draw_err(out)(e.to_string()))?;
        let (left, right) = root.split_horizontally(600);
        draw_lines(&left, "Training loss", "epoch", "loss", &train).map_err(draw_err(out))?;
        draw_lines(&right, "Validation error", "epoch", "rating error", &valid)
            .map_err(draw_err(out))?;
        root.present().map_err(|e| draw_err(out)(e.to_string()))?;
    }
    persist(&tmp, out)
}

/// RMSE of LRMM in each setting (+F, −U, −O, −M, −V) on each test subset, as grouped bars, with
/// the Offset and SVD++ RMSE on the whole test set as reference lines.
pub fn modality_errors(report: &MetricsReport, out: &Path) -> Result<(), PlotError> {
    register_font();
    let settings: Vec<&str> = SETTINGS
        .iter()
        .map(|s| s.key)
        .filter(|k| report.lrmm.contains_key(*k))
        .collect();
    let mut bars = Vec::new(); // (setting index, subset index, rmse)
    for (x, key) in settings.iter().enumerate() {
        for (g, subset) in Subset::ALL.iter().enumerate() {
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
        * 1.15
        + 1e-3;
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
            let width = 0.8 / Subset::ALL.len() as f64;
            for (g, subset) in Subset::ALL.iter().enumerate() {
                let color = COLORS[g];
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
                .position(SeriesLabelPosition::LowerRight)
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
