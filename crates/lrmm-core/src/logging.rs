//! One logging set-up for every binary: `tracing` to stderr, so progress bars and logs never mix
//! with data on stdout. `-q`/`-v` choose the level; `RUST_LOG`, when set, overrides them.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::Verbosity;
use crate::{Error, Result};

/// The filter in force: `RUST_LOG` when set (an invalid one is an error, not a silent
/// fallback), else what `verbosity` asks for.
pub fn filter(verbosity: &Verbosity, rust_log: Option<&str>) -> Result<EnvFilter> {
    match rust_log.map(str::trim).filter(|s| !s.is_empty()) {
        Some(spec) => EnvFilter::try_new(spec).map_err(|e| {
            Error::Setting(format!("RUST_LOG=`{spec}` is not a valid log filter: {e} (e.g. RUST_LOG=info,lrmm_model=debug)"))
        }),
        None => Ok(EnvFilter::new(verbosity.filter())),
    }
}

/// Installs the stderr subscriber. A second call (tests calling several `main`s) keeps the first.
pub fn init(verbosity: &Verbosity) -> Result<()> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = filter(verbosity, rust_log.as_deref())?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_overrides_flags_and_bad_values_are_errors() {
        let quiet = Verbosity {
            quiet: true,
            verbose: 0,
        };
        assert_eq!(filter(&quiet, None).unwrap().to_string(), "warn");
        assert_eq!(filter(&quiet, Some("  ")).unwrap().to_string(), "warn");
        assert!(filter(&quiet, Some("lrmm_model=debug"))
            .unwrap()
            .to_string()
            .contains("lrmm_model=debug"));
        let err = filter(&quiet, Some("lrmm=notalevel["))
            .unwrap_err()
            .to_string();
        assert!(err.contains("RUST_LOG"), "{err}");
    }
}
