//! The one conversion of a command line's device ([`DeviceSpec`], parsed in `lrmm_core::cli`)
//! into a candle [`Device`] for the binaries built on this crate (lrmm-train, lrmm-bench-train,
//! lrmm-eval).

use candle_core::Device;
use lrmm_core::cli::DeviceSpec;

use crate::{ModelError, Result};

/// Opens `spec`: the CPU, or CUDA GPU `N`, which needs a build with the `cuda` feature.
pub fn device(spec: DeviceSpec) -> Result<Device> {
    match spec {
        DeviceSpec::Cpu => Ok(Device::Cpu),
        DeviceSpec::Cuda(ordinal) => Device::new_cuda(ordinal).map_err(|e| {
            ModelError::Invalid(lrmm_core::cli::cuda_open_error(
                ordinal,
                &binary_name(),
                cfg!(feature = "cuda"),
                &e,
            ))
        }),
    }
}

/// The running binary's file name, for error messages.
fn binary_name() -> String {
    std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "lrmm".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_opens_and_cuda_errors_name_the_ordinal() {
        assert!(matches!(device(DeviceSpec::Cpu), Ok(Device::Cpu)));
        // Without the cuda feature (or without a GPU) a CUDA device cannot open.
        if let Err(e) = device(DeviceSpec::Cuda(7)) {
            let message = e.to_string();
            assert!(
                message.contains("cannot open CUDA device 7")
                    && (cfg!(feature = "cuda") || message.contains("without the cuda feature")),
                "{message}"
            );
        }
    }
}
