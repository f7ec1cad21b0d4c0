//! Markdown renderings of `metrics.json`: the paper's Table 2 (models × test subsets), example
//! predictions like its Table 5, and the mean ± std table over several seeds.

use std::fmt::Write as _;

use serde::Serialize;

use crate::baselines::BaselineKind;
use crate::data::Subset;
use crate::evaluate::{Entry, MetricsReport, Predictions, SETTINGS};

fn cell(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), |v| format!("{v:.3}"))
}

/// The model rows of a table, in the paper's order, with their display names; only models
/// present in `report`.
pub fn model_rows(report: &MetricsReport) -> Vec<(String, bool, String)> {
    let mut rows = Vec::new();
    for kind in BaselineKind::ALL {
        if report.baselines.contains_key(kind.key()) {
            rows.push((kind.title().to_string(), false, kind.key().to_string()));
        }
    }
    for s in SETTINGS {
        if report.lrmm.contains_key(s.key) {
            rows.push((format!("LRMM({})", s.key), true, s.key.to_string()));
        }
    }
    rows
}

fn lookup<'a>(
    report: &'a MetricsReport,
    subset: &str,
    is_lrmm: bool,
    key: &str,
) -> Option<&'a Entry> {
    let s = report.subsets.get(subset)?;
    if is_lrmm {
        s.lrmm.get(key)
    } else {
        s.baselines.get(key)
    }
}

/// What the baseline rows mean where the table cannot say it: Biases' fallback on cold rows and
/// the content baseline's λ chosen on validation (with every λ's validation RMSE for one run,
/// the choice of each run for several). Empty without either baseline.
pub fn baseline_notes(reports: &[MetricsReport]) -> String {
    let Some(first) = reports.first() else {
        return String::new();
    };
    let mut notes = Vec::new();
    let has = |key: &str| first.baselines.contains_key(key);
    if has(BaselineKind::Bias.key()) || has(BaselineKind::TfIdf.key()) {
        notes.push(
            "Biases on the cold-item rows is the fallback μ + b_u (an item without training \
             ratings has item bias 0), on the cold-user rows μ + b_i (μ where both are cold)."
                .to_string(),
        );
    }
    if has(BaselineKind::BiasValid.key()) {
        notes.push(
            "\"Biases, reg. on valid\" = the same model with (reg_u, reg_i) chosen on the \
             validation split instead of Surprise's (15, 10), as LRMM's offsets with \
             model.baseline_reg = \"validation\"."
                .to_string(),
        );
    }
    if has(BaselineKind::TfIdf.key()) {
        let mut note = String::from(
            "TF-IDF ridge = the same biases + a ridge regression of their training residuals on \
             TF-IDF of the item's metadata and training reviews (a cold item: its metadata only)",
        );
        let selections: Vec<&crate::baselines::ModelSelection> = reports
            .iter()
            .filter_map(|r| r.model_selection.get(BaselineKind::TfIdf.key()))
            .collect();
        match selections[..] {
            [] => {}
            [sel] => {
                let tried: Vec<String> = sel
                    .grid
                    .iter()
                    .zip(&sel.valid_rmse)
                    .map(|(l, r)| format!("{l}: {r:.4}"))
                    .collect();
                let _ = write!(
                    note,
                    "; λ = {} per training rating chosen on validation (RMSE by λ over {} rows: {})",
                    sel.chosen,
                    sel.valid_n,
                    tried.join(", ")
                );
            }
            _ => {
                let chosen: Vec<String> = selections.iter().map(|s| s.chosen.to_string()).collect();
                let _ = write!(
                    note,
                    "; λ per training rating chosen on each run's validation split: {}",
                    chosen.join(", ")
                );
            }
        }
        note.push('.');
        notes.push(note);
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!("{}\n", notes.join(" "))
    }
}

/// Table 2 of the paper for one run: RMSE and MAE on every test subset, and the ranking
/// metrics on the whole test set.
pub fn metrics_markdown(report: &MetricsReport) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Evaluation of `{}` (seed {})\n",
        report.dataset, report.seed
    );
    let _ = writeln!(
        md,
        "{} training and {} {} ratings. LRMM: {}. '+F': all modalities; '-X': modality X removed at \
         inference (U user reviews, O item reviews, M metadata, V image). Recall@{k} and NDCG@{k} rank each \
         user's test items; relevant = rating ≥ {}.\n",
        report.n_train, report.n_test, report.split, report.lrmm_status, report.relevance_threshold, k = report.k
    );
    if let Some(protocol) = &report.ranking_protocol {
        let _ = writeln!(
            md,
            "Ranking ({protocol}; ties broken at random in expectation, so a constant predictor \
             scores the chance level): columns HR@{k} and NDCG@{k} (ranked).\n",
            k = report.k
        );
    }
    let mut header = String::from("| Model |");
    let mut rule = String::from("|---|");
    for subset in Subset::ALL {
        let n = report.subsets.get(subset.key()).map_or(0, |s| s.n);
        let _ = write!(header, " RMSE {t} (n={n}) | MAE {t} |", t = subset.title());
        rule.push_str("---:|---:|");
    }
    let _ = write!(header, " Recall@{k} | NDCG@{k} |", k = report.k);
    rule.push_str("---:|---:|");
    let ranked = report.ranking_protocol.is_some();
    if ranked {
        let _ = write!(header, " HR@{k} | NDCG@{k} (ranked) |", k = report.k);
        rule.push_str("---:|---:|");
    }
    let _ = writeln!(md, "{header}\n{rule}");
    for (title, is_lrmm, key) in model_rows(report) {
        let mut line = format!("| {title} |");
        for subset in Subset::ALL {
            let e = lookup(report, subset.key(), is_lrmm, &key);
            let _ = write!(
                line,
                " {} | {} |",
                cell(e.and_then(|e| e.rmse)),
                cell(e.and_then(|e| e.mae))
            );
        }
        let e = lookup(report, Subset::All.key(), is_lrmm, &key);
        let _ = write!(
            line,
            " {} | {} |",
            cell(e.and_then(|e| e.recall_at_k)),
            cell(e.and_then(|e| e.ndcg_at_k))
        );
        if ranked {
            let _ = write!(
                line,
                " {} | {} |",
                cell(e.and_then(|e| e.hr_at_k)),
                cell(e.and_then(|e| e.ranked_ndcg_at_k))
            );
        }
        let _ = writeln!(md, "{line}");
    }
    let notes = baseline_notes(std::slice::from_ref(report));
    if !notes.is_empty() {
        let _ = write!(md, "\n{notes}");
    }
    md
}

/// Example predictions like the paper's Table 5: the true rating and each LRMM setting (or,
/// without LRMM, each baseline) for the chosen test rows. `label` names a row's item.
pub fn examples_markdown(p: &Predictions, rows: &[usize], label: impl Fn(u32) -> String) -> String {
    let columns: Vec<(String, &Vec<f32>)> = if p.lrmm.is_empty() {
        BaselineKind::ALL
            .iter()
            .filter_map(|k| p.baselines.get(k.key()).map(|v| (k.title().to_string(), v)))
            .collect()
    } else {
        SETTINGS
            .iter()
            .filter_map(|s| p.lrmm.get(s.key).map(|v| (s.key.to_string(), v)))
            .collect()
    };
    let mut md = String::from("| Row | Item | T |");
    let mut rule = String::from("|---:|---|---:|");
    for (name, _) in &columns {
        let _ = write!(md, " {name} |");
        rule.push_str("---:|");
    }
    let _ = writeln!(md, "\n{rule}");
    for &r in rows {
        let _ = write!(
            md,
            "| {} | {} | {} |",
            p.rows[r],
            label(p.item[r]).replace('|', "/"),
            p.truth[r]
        );
        for (_, v) in &columns {
            let _ = write!(md, " {:.2} |", v[r]);
        }
        md.push('\n');
    }
    md
}

/// Mean and population standard deviation of the present values.
pub fn mean_std(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    Some((mean, var.sqrt()))
}

/// One cell of an aggregated table, kept for `table.json` next to the Markdown.
#[derive(Debug, Clone, Serialize)]
pub struct AggregateCell {
    pub model: String,
    pub subset: String,
    pub metric: String,
    pub mean: f64,
    pub std: f64,
    pub runs: usize,
}

/// Table 2 over several runs (seeds): mean ± std of RMSE and MAE per model and subset.
pub fn aggregate_markdown(
    title: &str,
    reports: &[MetricsReport],
    subsets: &[Subset],
) -> (String, Vec<AggregateCell>) {
    let mut md = String::new();
    let mut cells = Vec::new();
    let _ = writeln!(md, "# {title}\n");
    let seeds: Vec<String> = reports
        .iter()
        .map(|r| format!("{} (seed {})", r.dataset, r.seed))
        .collect();
    let _ = writeln!(
        md,
        "Mean ± std over {} run(s): {}.\n",
        reports.len(),
        seeds.join(", ")
    );
    let Some(first) = reports.first() else {
        return (md, cells);
    };
    let ranked = first.ranking_protocol.is_some();
    if let Some(protocol) = &first.ranking_protocol {
        let _ = writeln!(md, "Ranking on the whole test set: {protocol}.\n");
    }
    let mut header = String::from("| Model |");
    let mut rule = String::from("|---|");
    for s in subsets {
        let _ = write!(header, " RMSE {t} | MAE {t} |", t = s.title());
        rule.push_str("---:|---:|");
    }
    if ranked {
        let _ = write!(header, " HR@{k} | NDCG@{k} (ranked) |", k = first.k);
        rule.push_str("---:|---:|");
    }
    let _ = writeln!(md, "{header}\n{rule}");
    type Get = fn(&Entry) -> Option<f64>;
    let errors: [(&str, Get); 2] = [("rmse", |e| e.rmse), ("mae", |e| e.mae)];
    let ranking: [(&str, Get); 2] = [
        ("hr", |e| e.hr_at_k),
        ("ranked_ndcg", |e| e.ranked_ndcg_at_k),
    ];
    let mut columns: Vec<(Subset, &str, Get)> = subsets
        .iter()
        .flat_map(|&s| errors.iter().map(move |&(m, g)| (s, m, g)))
        .collect();
    if ranked {
        columns.extend(ranking.iter().map(|&(m, g)| (Subset::All, m, g)));
    }
    for (title, is_lrmm, key) in model_rows(first) {
        let mut line = format!("| {title} |");
        for &(s, metric, get) in &columns {
            let values: Vec<f64> = reports
                .iter()
                .filter_map(|r| lookup(r, s.key(), is_lrmm, &key).and_then(get))
                .collect();
            match mean_std(&values) {
                Some((mean, std)) => {
                    // A subset can be empty in some runs (no cold user in that split): say so.
                    let partial = if values.len() < reports.len() {
                        format!(" ({}/{} runs)", values.len(), reports.len())
                    } else {
                        String::new()
                    };
                    let _ = write!(line, " {mean:.3} ± {std:.3}{partial} |");
                    cells.push(AggregateCell {
                        model: title.clone(),
                        subset: s.key().to_string(),
                        metric: metric.to_string(),
                        mean,
                        std,
                        runs: values.len(),
                    });
                }
                None => line.push_str(" – |"),
            }
        }
        let _ = writeln!(md, "{line}");
    }
    let notes = baseline_notes(reports);
    if !notes.is_empty() {
        let _ = write!(md, "\n{notes}");
    }
    (md, cells)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn report(seed: u64, rmse: f64) -> MetricsReport {
        let e = Entry {
            rmse: Some(rmse),
            mae: Some(rmse / 2.0),
            n: 10,
            recall_at_k: None,
            ndcg_at_k: Some(1.0),
            ..Default::default()
        };
        let map: BTreeMap<String, Entry> = [("offset".to_string(), e)].into();
        let lrmm: BTreeMap<String, Entry> = [("+F".to_string(), e)].into();
        let subsets = Subset::ALL
            .iter()
            .map(|s| {
                let sr = crate::evaluate::SubsetReport {
                    n: 10,
                    lrmm: lrmm.clone(),
                    baselines: map.clone(),
                };
                (s.key().to_string(), sr)
            })
            .collect();
        MetricsReport {
            dataset: "d".into(),
            split: "test".into(),
            seed,
            k: 10,
            relevance_threshold: 4.0,
            n_train: 80,
            n_test: 10,
            lrmm_status: "evaluated".into(),
            lrmm,
            baselines: map,
            subsets,
            ranking_protocol: None,
            model_selection: BTreeMap::new(),
        }
    }

    #[test]
    fn aggregate_gives_mean_and_std_per_model() {
        let (md, cells) = aggregate_markdown(
            "T2",
            &[report(1, 1.0), report(2, 0.8), report(3, 0.9)],
            &[Subset::All],
        );
        assert!(
            md.contains("| Offset | 0.900 ± 0.082 | 0.450 ± 0.041 |"),
            "{md}"
        );
        assert!(md.contains("| LRMM(+F) |"), "{md}");
        let c = cells
            .iter()
            .find(|c| c.model == "Offset" && c.metric == "rmse")
            .unwrap();
        assert_eq!(c.runs, 3);
        assert!((c.std - (0.02f64 / 3.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn tables_name_the_ranking_protocol_and_show_hr_and_ndcg() {
        let with_ranking = |seed, hr| {
            let mut r = report(seed, 1.0);
            r.ranking_protocol = Some("HR@10/NDCG@10: 99 sampled".into());
            for s in r.subsets.values_mut() {
                for e in s.baselines.values_mut().chain(s.lrmm.values_mut()) {
                    e.hr_at_k = Some(hr);
                    e.ranked_ndcg_at_k = Some(hr / 2.0);
                }
            }
            r
        };
        let one = metrics_markdown(&with_ranking(1, 0.3));
        assert!(one.contains("Ranking (HR@10/NDCG@10: 99 sampled"), "{one}");
        assert!(one.contains("| HR@10 | NDCG@10 (ranked) |"), "{one}");
        assert!(one.contains(" 0.300 | 0.150 |"), "{one}");
        let (md, cells) = aggregate_markdown(
            "T2",
            &[with_ranking(1, 0.2), with_ranking(2, 0.4)],
            &[Subset::All],
        );
        assert!(
            md.contains("Ranking on the whole test set: HR@10/NDCG@10: 99 sampled."),
            "{md}"
        );
        assert!(md.contains("0.300 ± 0.100 | 0.150 ± 0.050 |"), "{md}");
        assert!(cells.iter().any(|c| c.metric == "hr" && c.runs == 2));
        // Without the protocol (older metrics.json), no ranking columns.
        assert!(!metrics_markdown(&report(1, 1.0)).contains("HR@"));
    }

    #[test]
    fn tables_say_what_biases_is_on_cold_rows_and_which_lambda_tfidf_chose() {
        let with = |seed: u64, lambda: f64| {
            let mut r = report(seed, 1.0);
            let e = r.baselines["offset"];
            for key in ["bias", "tfidf"] {
                r.baselines.insert(key.to_string(), e);
                for s in r.subsets.values_mut() {
                    s.baselines.insert(key.to_string(), e);
                }
            }
            r.model_selection.insert(
                "tfidf".to_string(),
                crate::baselines::ModelSelection {
                    parameter: "lambda_per_rating".into(),
                    grid: vec![1.0, 10.0],
                    valid_rmse: vec![0.9, 0.8],
                    chosen: lambda,
                    valid_n: 7,
                },
            );
            r
        };
        let md = metrics_markdown(&with(1, 10.0));
        let (biases, tfidf, lrmm) = (
            md.find("| Biases |").unwrap(),
            md.find("| TF-IDF ridge |").unwrap(),
            md.find("| LRMM(+F) |").unwrap(),
        );
        assert!(biases < tfidf && tfidf < lrmm, "{md}");
        assert!(
            md.contains("Biases on the cold-item rows is the fallback μ + b_u"),
            "{md}"
        );
        assert!(
            md.contains(
                "λ = 10 per training rating chosen on validation (RMSE by λ over 7 rows: 1: 0.9000, 10: 0.8000)"
            ),
            "{md}"
        );
        let (t2, _) = aggregate_markdown("T2", &[with(1, 10.0), with(2, 1.0)], &[Subset::All]);
        assert!(
            t2.contains("| TF-IDF ridge |") && t2.contains("μ + b_u"),
            "{t2}"
        );
        assert!(
            t2.contains("λ per training rating chosen on each run's validation split: 10, 1."),
            "{t2}"
        );
        // Without those baselines, no note.
        assert!(!metrics_markdown(&report(1, 1.0)).contains("μ + b_u"));
    }

    #[test]
    fn table_lists_models_in_paper_order_with_missing_cells_dashed() {
        let mut r = report(1, 1.0);
        r.subsets.get_mut("cold_user").unwrap().lrmm.clear();
        let md = metrics_markdown(&r);
        let offset = md.find("| Offset |").unwrap();
        let lrmm = md.find("| LRMM(+F) |").unwrap();
        assert!(offset < lrmm);
        let lrmm_line = md[lrmm..].lines().next().unwrap();
        // Two for the emptied cold-user cells, one for Recall@K (no relevant item in the fixture).
        assert_eq!(lrmm_line.matches('–').count(), 3, "{lrmm_line}");
    }
}
