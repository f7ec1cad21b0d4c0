//! The validation pass after each epoch: predictions on the validation split (never the test
//! split) and their RMSE and MAE, which early stopping and the best-model choice read.

use crate::config::Config;
use crate::data::Dataset;
use crate::error::{ModelError, Result};
use crate::model::Lrmm;
use crate::predict::predict_rows;

/// RMSE and MAE of predictions against the ratings of `rows` (0 for no rows).
pub fn rmse_mae(pred: &[f32], ds: &Dataset, rows: &[usize]) -> (f64, f64) {
    let truth: Vec<f32> = rows.iter().map(|&r| ds.rating[r]).collect();
    let m = lrmm_core::metrics::error_metrics(&pred[..truth.len()], &truth);
    (m.rmse.unwrap_or(0.0), m.mae.unwrap_or(0.0))
}

/// RMSE of the training mean on `valid_rows`: the bar a model must clear.
pub fn global_mean_rmse(ds: &Dataset, valid_rows: &[usize], mean: f64) -> f64 {
    let global_mean = vec![mean as f32; valid_rows.len()];
    rmse_mae(&global_mean, ds, valid_rows).0
}

/// Validation RMSE and MAE of `model` after epoch `epoch`; a non-finite RMSE is an error.
pub fn validate(
    model: &Lrmm,
    ds: &Dataset,
    valid_rows: &[usize],
    cfg: &Config,
    epoch: usize,
) -> Result<(f64, f64)> {
    let pred = predict_rows(
        model,
        ds,
        valid_rows,
        &[],
        &cfg.data,
        cfg.train.eval_batch_size,
    )?;
    let (rmse, mae) = rmse_mae(&pred, ds, valid_rows);
    if !rmse.is_finite() {
        return Err(ModelError::NonFinite(format!("epoch {epoch}: validation RMSE is {rmse}; lower train.learning_rate in the config or check the inputs")));
    }
    Ok((rmse, mae))
}
