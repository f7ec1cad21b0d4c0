//! Koren's baseline estimates r̂ = μ + b_u + b_i (Koren 2008, sec. 2.1), fitted as Surprise's
//! `BaselineOnly` does by default. The evaluation stage's Biases baseline and the model's optional
//! baseline biases (`model.baseline_biases`) are this one fit.

/// Surprise's default `bsl_options` for ALS.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineParams {
    pub n_epochs: usize,
    pub reg_u: f64,
    pub reg_i: f64,
}

impl Default for BaselineParams {
    fn default() -> Self {
        Self {
            n_epochs: 10,
            reg_u: 15.0,
            reg_i: 10.0,
        }
    }
}

/// μ and the per-user and per-item offsets; an id without training ratings keeps offset 0.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineEstimates {
    pub global_mean: f64,
    pub bu: Vec<f64>,
    pub bi: Vec<f64>,
}

/// Alternating least squares as Surprise's `baseline_als`: each epoch sets every b_i given b_u,
/// then every b_u given b_i, each a ridge-regularised mean of residuals. `by_user[u]` lists
/// (item, rating) of user u's training ratings, `by_item[i]` (user, rating) of item i's.
pub fn fit_baseline(
    by_user: &[Vec<(usize, f64)>],
    by_item: &[Vec<(usize, f64)>],
    global_mean: f64,
    params: &BaselineParams,
) -> BaselineEstimates {
    let mu = global_mean;
    let mut bu = vec![0.0; by_user.len()];
    let mut bi = vec![0.0; by_item.len()];
    for _ in 0..params.n_epochs {
        for (i, ratings) in by_item.iter().enumerate() {
            let dev: f64 = ratings.iter().map(|&(u, r)| r - mu - bu[u]).sum();
            bi[i] = dev / (params.reg_i + ratings.len() as f64);
        }
        for (u, ratings) in by_user.iter().enumerate() {
            let dev: f64 = ratings.iter().map(|&(i, r)| r - mu - bi[i]).sum();
            bu[u] = dev / (params.reg_u + ratings.len() as f64);
        }
    }
    BaselineEstimates {
        global_mean: mu,
        bu,
        bi,
    }
}
