//! The paper's error metrics (eqs. 23–24), in one place: training's early stopping and the
//! evaluation stage must compute the same number for the same predictions.

use serde::{Deserialize, Serialize};

/// RMSE, MAE and how many predictions they cover. `None` metrics mean an empty set (a subset
/// with no test rows), which JSON shows as `null` rather than a misleading 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ErrorMetrics {
    pub rmse: Option<f64>,
    pub mae: Option<f64>,
    pub n: usize,
}

/// Root mean square error, eq. 23. `None` for no predictions.
pub fn rmse(predicted: &[f32], truth: &[f32]) -> Option<f64> {
    assert_eq!(
        predicted.len(),
        truth.len(),
        "predictions and ratings differ in length"
    );
    if truth.is_empty() {
        return None;
    }
    let sum: f64 = predicted
        .iter()
        .zip(truth)
        .map(|(&p, &t)| (f64::from(p) - f64::from(t)).powi(2))
        .sum();
    Some((sum / truth.len() as f64).sqrt())
}

/// Mean absolute error, eq. 24. `None` for no predictions.
pub fn mae(predicted: &[f32], truth: &[f32]) -> Option<f64> {
    assert_eq!(
        predicted.len(),
        truth.len(),
        "predictions and ratings differ in length"
    );
    if truth.is_empty() {
        return None;
    }
    let sum: f64 = predicted
        .iter()
        .zip(truth)
        .map(|(&p, &t)| (f64::from(p) - f64::from(t)).abs())
        .sum();
    Some(sum / truth.len() as f64)
}

pub fn error_metrics(predicted: &[f32], truth: &[f32]) -> ErrorMetrics {
    ErrorMetrics {
        rmse: rmse(predicted, truth),
        mae: mae(predicted, truth),
        n: truth.len(),
    }
}
