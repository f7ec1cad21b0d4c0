//! Batch prediction in evaluation mode (no m-drop, no dropout, no backward pass): the one loop
//! that both the validation pass of training and the [`crate::inference::Predictor`] run.

use candle_core::DType;
use lrmm_core::Modality;

use crate::config::DataConfig;
use crate::data::{assemble, Dataset};
use crate::error::{ModelError, Result};
use crate::lstm::InferenceGuard;
use crate::model::{Forward, Lrmm};

/// Ratings are clamped to this range at evaluation.
pub const RATING_RANGE: (f32, f32) = (1.0, 5.0);

/// Runs the model over `rows` in batches of `batch_size`, in evaluation mode (no m-drop, no
/// dropout), with `drop` removed from every sample; calls `visit` with each batch's rows and output.
pub fn run_batches(
    model: &Lrmm,
    ds: &Dataset,
    rows: &[usize],
    drop: &[Modality],
    docs: &DataConfig,
    batch_size: usize,
    mut visit: impl FnMut(&[usize], &Forward) -> Result<()>,
) -> Result<()> {
    if let Some(&bad) = rows.iter().find(|&&r| r >= ds.len()) {
        return Err(ModelError::Invalid(format!(
            "row {bad} is out of range: the dataset has {} interactions",
            ds.len()
        )));
    }
    let _no_backward = InferenceGuard::new();
    for chunk in rows.chunks(batch_size.max(1)) {
        let batch = assemble(ds, chunk, docs, drop, None);
        let dev = batch.to_device(model.device(), model.dtype())?;
        let out = model.forward(&dev)?;
        visit(chunk, &out)?;
    }
    Ok(())
}

/// Predicted ratings of `rows`, clamped to [`RATING_RANGE`].
pub fn predict_rows(
    model: &Lrmm,
    ds: &Dataset,
    rows: &[usize],
    drop: &[Modality],
    docs: &DataConfig,
    batch_size: usize,
) -> Result<Vec<f32>> {
    let mut out = Vec::with_capacity(rows.len());
    run_batches(model, ds, rows, drop, docs, batch_size, |_, f| {
        let p = f.prediction.to_dtype(DType::F32)?.to_vec1::<f32>()?;
        out.extend(
            p.into_iter()
                .map(|x| x.clamp(RATING_RANGE.0, RATING_RANGE.1)),
        );
        Ok(())
    })?;
    Ok(out)
}
