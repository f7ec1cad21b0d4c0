//! Evaluates a dataset's test split: the Surprise-equivalent baselines and, given a trained
//! model, LRMM with all modalities (+F) and each one removed (−U, −O, −M, −V), on all / warm /
//! cold-item / cold-user test rows. Writes metrics.json, metrics.md, predictions.parquet and
//! examples.md (docs/evaluation.md).

use std::path::PathBuf;

#[cfg(feature = "lrmm")]
use anyhow::Context;
use clap::{Parser, ValueEnum};
use lrmm_core::cli::{DeviceSpec, Verbosity};
use lrmm_core::{ArtifactDir, Split};
use lrmm_eval::baselines::BaselineKind;
use lrmm_eval::data::Ratings;
use lrmm_eval::evaluate::{self, EvalOptions, RatingModel};
use lrmm_eval::output::{self, EvalPaths};
use lrmm_eval::ranking::Protocol;
use lrmm_eval::report;
use lrmm_eval::text::ItemTexts;

/// Evaluate a dataset: the Surprise-equivalent baselines and, given a trained model, LRMM with
/// all modalities (+F) and each one removed (-U, -O, -M, -V), on all / warm / cold-item /
/// cold-user rows of the test split.
///
/// Reads interactions.parquet (and items.parquet, for the example titles) from --data, the token
/// ids of the vocabulary stage (item_tokens.parquet, review_tokens.parquet) for the tfidf
/// baseline, and, with --model, the trained model folder, whose inputs (token ids, image
/// features) are read from --data too. Writes metrics.json (written last), metrics.md, predictions.parquet and
/// examples.md into --out, which defaults to --data (docs/evaluation.md).
///
/// Examples:
///
///   lrmm-eval --data build/default --model build/default/model --k 10 --seed 1
///   lrmm-eval --data build/mi --out build/mi/baselines --baselines offset,svdpp
///   lrmm-eval --data build/mi --model build/mi/model --out build/mi/valid --split valid \
///     --baselines none
#[derive(Parser, Debug)]
#[command(name = "lrmm-eval", verbatim_doc_comment)]
struct Args {
    /// Artifact folder read (build/<NAME>): interactions.parquet, and the model's inputs.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Trained model folder (build/<NAME>/model). Without it only the baselines are evaluated.
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Folder written: metrics.json, metrics.md, predictions.parquet, examples.md [default: --data].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Cut-off of Recall@K and NDCG@K.
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// A test item counts as relevant for Recall@K when its rating is at least this.
    #[arg(long, default_value_t = 4.0)]
    relevance_threshold: f32,
    /// Seeds the baselines' initial factors and the choice of example rows.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Baselines to fit, comma-separated; `none` alone fits none. tfidf reads the vocabulary
    /// stage's token ids and chooses its ridge strength on the validation split.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "offset,bias,bias-valid,nmf,svd,svdpp,tfidf"
    )]
    baselines: Vec<BaselineArg>,
    /// Number of example predictions in examples.md (the paper's Table 5).
    #[arg(long, default_value_t = 5)]
    examples: usize,
    /// Also draw the paper's Figure 5 (embeddings_tsne.png): t-SNE of each modality's embeddings
    /// and their autoencoder reconstructions for this many random test rows (needs --model).
    #[arg(long, value_name = "N")]
    tsne: Option<usize>,
    /// Split to evaluate: valid inspects a model without looking at test.
    #[arg(long, value_enum, default_value_t = SplitArg::Test)]
    split: SplitArg,
    /// Candidates of HR@K / NDCG@K: each test item ranked among items its user never rated,
    /// --ranking-negatives of them drawn with --seed (sampled), all of them (all; affordable on
    /// small catalogues), or no ranking (none).
    #[arg(long, value_enum, default_value_t = RankingArg::Sampled)]
    ranking: RankingArg,
    /// Negatives per test item with --ranking sampled.
    #[arg(long, default_value_t = 99, value_name = "N")]
    ranking_negatives: usize,
    /// Device for LRMM inference (cuda needs a build with `--features cuda`).
    #[arg(long, default_value = "cpu", value_parser = lrmm_core::cli::device_parser())]
    device: DeviceSpec,
    #[command(flatten)]
    verbosity: Verbosity,
}

/// `--baselines`: the rating-only baselines of the paper's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BaselineArg {
    /// Global mean of the training ratings (the paper's Offset).
    Offset,
    /// User and item biases (Surprise BaselineOnly).
    Bias,
    /// The same biases, their regularisation chosen on the validation split (metrics.json key
    /// bias_valid, also accepted here).
    #[value(alias = "bias_valid")]
    BiasValid,
    /// Non-negative matrix factorisation (Surprise NMF).
    Nmf,
    /// Biased matrix factorisation (Surprise SVD).
    Svd,
    /// SVD++ (Surprise SVDpp).
    Svdpp,
    /// Biases + ridge regression on TF-IDF of the item's metadata and training reviews.
    Tfidf,
    /// No baseline (given alone).
    None,
}

impl BaselineArg {
    fn kind(self) -> Option<BaselineKind> {
        match self {
            BaselineArg::Offset => Some(BaselineKind::Offset),
            BaselineArg::Bias => Some(BaselineKind::Bias),
            BaselineArg::BiasValid => Some(BaselineKind::BiasValid),
            BaselineArg::Nmf => Some(BaselineKind::Nmf),
            BaselineArg::Svd => Some(BaselineKind::Svd),
            BaselineArg::Svdpp => Some(BaselineKind::SvdPp),
            BaselineArg::Tfidf => Some(BaselineKind::TfIdf),
            BaselineArg::None => None,
        }
    }
}

/// The baselines `--baselines` asks for, in its order.
fn baseline_kinds(list: &[BaselineArg]) -> anyhow::Result<Vec<BaselineKind>> {
    anyhow::ensure!(
        !list.contains(&BaselineArg::None) || list.len() == 1,
        "--baselines none cannot be combined with other baselines"
    );
    Ok(list.iter().filter_map(|b| b.kind()).collect())
}

/// `--ranking`: the ranking protocol's candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RankingArg {
    /// --ranking-negatives unrated items per test item, drawn with the seed.
    Sampled,
    /// Every item the user never rated.
    All,
    /// No HR@K / NDCG@K.
    None,
}

/// `--split`: the evaluated split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SplitArg {
    Test,
    Valid,
}

impl SplitArg {
    fn split(self) -> Split {
        match self {
            SplitArg::Test => Split::Test,
            SplitArg::Valid => Split::Valid,
        }
    }
}

#[cfg(feature = "lrmm")]
type Model = lrmm_eval::lrmm::LrmmModel;

#[cfg(feature = "lrmm")]
fn load_model(args: &Args, model: &std::path::Path) -> anyhow::Result<Model> {
    let device = lrmm_model::device::device(args.device)?;
    Model::load(model, &args.data, &device)
}

/// Figure 5: per modality, t-SNE of the embeddings (where the modality exists) and the
/// reconstructions of `n` seeded random test rows, embedded jointly.
#[cfg(feature = "lrmm")]
fn draw_tsne(
    model: &Model,
    test_rows: &[usize],
    n: usize,
    seed: u64,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    use lrmm_eval::plots::{embedding_scatter, ScatterPanel};
    use lrmm_eval::tsne::{tsne, TsneParams};
    let mut rows = test_rows.to_vec();
    lrmm_core::SeededRng::derive(seed, "tsne-rows").shuffle(&mut rows);
    rows.truncate(n);
    rows.sort_unstable();
    let emb = model.embeddings(&rows, &[])?;
    let mut panels = Vec::new();
    for m in &emb.modalities {
        let vectors = |flat: &[f32]| -> Vec<Vec<f64>> {
            flat.chunks(emb.dim)
                .map(|c| c.iter().map(|&x| f64::from(x)).collect())
                .collect()
        };
        let embedded: Vec<Vec<f64>> = vectors(&m.embedding)
            .into_iter()
            .zip(&m.available)
            .filter(|(_, &a)| a)
            .map(|(v, _)| v)
            .collect();
        let reconstructed = vectors(&m.reconstruction);
        let n_embedded = embedded.len();
        let points: Vec<Vec<f64>> = embedded.into_iter().chain(reconstructed).collect();
        let params = TsneParams {
            perplexity: 30f64.min(points.len() as f64 / 4.0),
            ..TsneParams::default()
        };
        let y = tsne(&points, &params, seed);
        panels.push(ScatterPanel {
            title: format!(
                "{:?} ({} embeddings, {} reconstructions)",
                m.modality,
                n_embedded,
                y.len() - n_embedded
            ),
            embeddings: y[..n_embedded].to_vec(),
            reconstructions: y[n_embedded..].to_vec(),
        });
    }
    embedding_scatter(out, &panels)?;
    tracing::info!("wrote {}", out.display());
    Ok(())
}

/// Without the `lrmm` feature no model can be loaded.
#[cfg(not(feature = "lrmm"))]
enum Model {}

#[cfg(not(feature = "lrmm"))]
impl RatingModel for Model {
    fn predict(&self, _: &[usize], _: &[lrmm_core::Modality]) -> anyhow::Result<Vec<f32>> {
        match *self {}
    }
}

#[cfg(not(feature = "lrmm"))]
fn load_model(_: &Args, model: &std::path::Path) -> anyhow::Result<Model> {
    anyhow::bail!(
        "cannot evaluate {}: lrmm-eval was built without the `lrmm` feature",
        model.display()
    )
}

fn main() -> anyhow::Result<()> {
    let args: Args = lrmm_core::cli::parse(&lrmm_core::build_info!("lrmm", "cuda"));
    lrmm_core::logging::init(&args.verbosity)?;
    tracing::info!("{args:?}");
    let options = EvalOptions {
        k: args.k,
        relevance_threshold: args.relevance_threshold,
        seed: args.seed,
        baselines: baseline_kinds(&args.baselines)?,
        n_examples: args.examples,
        split: args.split.split(),
        progress: args.verbosity.progress(),
        ranking: match args.ranking {
            RankingArg::Sampled => Some(Protocol::Sampled(args.ranking_negatives)),
            RankingArg::All => Some(Protocol::All),
            RankingArg::None => None,
        },
        ..EvalOptions::default()
    };
    let artifacts = ArtifactDir::new(&args.data);
    let ratings = Ratings::from_parquet(&artifacts.interactions())?;
    let texts = if options.baselines.iter().any(|b| b.needs_texts()) {
        Some(ItemTexts::read(&artifacts, &ratings).map_err(|e| {
            anyhow::anyhow!(
                "{e}\nthe tfidf baseline reads the token ids of the vocabulary stage: run \
                 lrmm-vocab on {} (make vocab), or leave tfidf out of --baselines",
                args.data.display()
            )
        })?)
    } else {
        None
    };
    let model = args
        .model
        .as_deref()
        .map(|m| load_model(&args, m))
        .transpose()?;
    let status = match &args.model {
        Some(m) => format!("evaluated ({})", m.display()),
        None => "not evaluated: no --model given".to_string(),
    };
    let predictions = evaluate::predict_test_with_texts(
        &ratings,
        texts.as_ref(),
        model.as_ref().map(|m| m as &dyn RatingModel),
        &options,
    )?;
    let dataset = args.data.file_name().map_or_else(
        || args.data.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let metrics = evaluate::metrics_report(&dataset, &ratings, &predictions, &status, &options);

    let out_dir = args.out.clone().unwrap_or_else(|| args.data.clone());
    let paths = EvalPaths::new(&out_dir);
    if let Some(n) = args.tsne {
        #[cfg(feature = "lrmm")]
        {
            let model = model.as_ref().context("--tsne needs --model")?;
            std::fs::create_dir_all(&out_dir)
                .with_context(|| format!("cannot create {}", out_dir.display()))?;
            draw_tsne(
                model,
                &predictions.rows,
                n,
                options.seed,
                &out_dir.join("embeddings_tsne.png"),
            )?;
        }
        #[cfg(not(feature = "lrmm"))]
        anyhow::bail!("--tsne {n} needs lrmm-eval built with the `lrmm` feature");
    }
    output::write_predictions(&paths.predictions(), &predictions)?;
    let labels = output::item_labels(&artifacts.items());
    let rows = evaluate::example_rows(&predictions, options.n_examples, options.seed);
    let examples = report::examples_markdown(&predictions, &rows, |i| {
        labels
            .get(&i)
            .cloned()
            .unwrap_or_else(|| format!("item {i}"))
    });
    output::write_text(
        &paths.examples_md(),
        &format!("# Example predictions ({dataset})\n\n{examples}"),
    )?;
    // metrics.json last: it is the make target, so it only appears once everything else is written.
    output::write_metrics(&paths, &metrics)?;
    for (title, is_lrmm, key) in report::model_rows(&metrics) {
        let e = if is_lrmm {
            &metrics.lrmm[&key]
        } else {
            &metrics.baselines[&key]
        };
        tracing::info!(
            "{title:10} RMSE {:.4} MAE {:.4} (n={})",
            e.rmse.unwrap_or(f64::NAN),
            e.mae.unwrap_or(f64::NAN),
            e.n
        );
    }
    tracing::info!("wrote {}", paths.metrics_json().display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_baselines_are_all_of_them_and_none_is_given_alone() {
        let args = Args::try_parse_from(["lrmm-eval", "--data", "d"]).unwrap();
        assert_eq!(baseline_kinds(&args.baselines).unwrap(), BaselineKind::ALL);
        let args =
            Args::try_parse_from(["lrmm-eval", "--data", "d", "--baselines", "none"]).unwrap();
        assert!(baseline_kinds(&args.baselines).unwrap().is_empty());
        let args = Args::try_parse_from(["lrmm-eval", "--data", "d", "--baselines", "svdpp,none"])
            .unwrap();
        assert!(baseline_kinds(&args.baselines).is_err());
        let args =
            Args::try_parse_from(["lrmm-eval", "--data", "d", "--baselines", "svdpp,offset"])
                .unwrap();
        assert_eq!(
            baseline_kinds(&args.baselines).unwrap(),
            [BaselineKind::SvdPp, BaselineKind::Offset]
        );
        // The metrics.json key is accepted beside the command-line spelling.
        for spelling in ["bias-valid", "bias_valid"] {
            let args = Args::try_parse_from(["lrmm-eval", "--data", "d", "--baselines", spelling])
                .unwrap();
            assert_eq!(
                baseline_kinds(&args.baselines).unwrap(),
                [BaselineKind::BiasValid]
            );
        }
        assert!(Args::try_parse_from(["lrmm-eval", "--data", "d", "--baselines", "knn"]).is_err());
    }
}
