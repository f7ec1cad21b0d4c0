//! Conventions every stage binary shares: `-q`/`-v`, one device argument, and a `--version`
//! that names the git commit and the enabled cargo features.
//!
//! ```ignore
//! fn main() -> anyhow::Result<()> {
//!     let args: Args = lrmm_core::cli::parse(&lrmm_core::build_info!("cuda"));
//!     lrmm_core::logging::init(&args.verbosity)?;
//!     tracing::info!("{args:?}");
//!     // …
//! }
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::str::FromStr;

use clap::builder::{PossibleValue, TypedValueParser};
use serde::{Deserialize, Serialize};

/// Help text every binary shows after its options.
pub const RUST_LOG_HELP: &str = "Logging: -q shows warnings only and no progress bars, -v debug, -vv trace. \
RUST_LOG, when set, overrides both with tracing's filter syntax (e.g. RUST_LOG=info,lrmm_model=debug); \
an invalid RUST_LOG is an error.";

/// `-q`/`-v`: how much a stage says on stderr. Flatten into a binary's `Args`.
#[derive(clap::Args, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Verbosity {
    /// No progress bars; log warnings and errors only.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More log detail: -v debug, -vv trace.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl Verbosity {
    /// Whether progress bars are drawn.
    pub fn progress(&self) -> bool {
        !self.quiet
    }

    /// The `tracing` filter these flags ask for (used when `RUST_LOG` is not set).
    pub fn filter(&self) -> &'static str {
        match (self.quiet, self.verbose) {
            (true, _) => "warn",
            (false, 0) => "info",
            (false, 1) => "debug",
            (false, _) => "trace",
        }
    }
}

/// Where tensors live: the CPU or one CUDA GPU. Parsed here, once, for every binary; the candle
/// crates turn it into a `candle_core::Device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DeviceSpec {
    #[default]
    Cpu,
    /// A CUDA GPU by ordinal (`cuda` = `cuda:0`).
    Cuda(usize),
}

/// A device string that is none of `cpu`, `cuda`, `cuda:N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown device `{0}`: use cpu, cuda or cuda:N (N the GPU's ordinal)")]
pub struct DeviceSpecError(String);

impl FromStr for DeviceSpec {
    type Err = DeviceSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(DeviceSpec::Cpu),
            "cuda" => Ok(DeviceSpec::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceSpec::Cuda)
                .ok_or_else(|| DeviceSpecError(s.to_string())),
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl Serialize for DeviceSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DeviceSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The clap parser of a device argument, listing `cpu, cuda, cuda:N` in `--help`:
/// `#[arg(long, default_value = "cpu", value_parser = lrmm_core::cli::device_parser())]`.
pub fn device_parser() -> DeviceParser {
    DeviceParser
}

#[derive(Debug, Clone, Copy)]
pub struct DeviceParser;

impl TypedValueParser for DeviceParser {
    type Value = DeviceSpec;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<DeviceSpec, clap::Error> {
        let text = value.to_string_lossy();
        text.parse().map_err(|e: DeviceSpecError| {
            let name = arg.map_or_else(|| "--device".to_string(), |a| format!("--{}", a.get_id()));
            clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!("invalid value for {name}: {e}\n"),
            )
            .with_cmd(cmd)
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            [
                PossibleValue::new("cpu").help("The CPU (every core)"),
                PossibleValue::new("cuda").help("CUDA GPU 0 (needs a build with --features cuda)"),
                PossibleValue::new("cuda:N").help("CUDA GPU number N"),
            ]
            .into_iter(),
        ))
    }
}

/// What a binary was built from: package, version, git commit and enabled cargo features.
/// Make one with [`build_info!`](crate::build_info) in the binary's crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInfo {
    pub package: &'static str,
    pub version: &'static str,
    pub commit: &'static str,
    /// The cargo features of the binary's crate that are enabled.
    pub features: Vec<&'static str>,
}

impl BuildInfo {
    /// `features`: each feature the crate declares, with whether it is enabled.
    pub fn new(
        package: &'static str,
        version: &'static str,
        features: &[(&'static str, bool)],
    ) -> Self {
        Self {
            package,
            version,
            commit: env!("LRMM_GIT_COMMIT"),
            features: features
                .iter()
                .filter(|(_, on)| *on)
                .map(|(f, _)| *f)
                .collect(),
        }
    }

    /// E.g. `0.1.0 (git 1a2b3c4d5e6f, features: cuda)`, or `features: none`.
    pub fn version(&self) -> String {
        let features = if self.features.is_empty() {
            "none".to_string()
        } else {
            self.features.join(", ")
        };
        format!(
            "{} (git {}, features: {features})",
            self.version, self.commit
        )
    }
}

/// The [`BuildInfo`] of the calling crate; name every cargo feature the crate declares, so
/// `--version` says which are on: `lrmm_core::build_info!("cuda")`.
#[macro_export]
macro_rules! build_info {
    ($($feature:literal),* $(,)?) => {
        $crate::cli::BuildInfo::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            &[$(($feature, cfg!(feature = $feature))),*],
        )
    };
}

/// The message for a CUDA device that would not open: a build without the `cuda` feature says
/// how to get one, a CUDA build passes on the driver's error.
pub fn cuda_open_error(
    ordinal: usize,
    binary: &str,
    built_with_cuda: bool,
    error: &dyn std::fmt::Display,
) -> String {
    if built_with_cuda {
        format!("cannot open CUDA device {ordinal} (is there such a GPU, with a CUDA 13 driver?): {error}")
    } else {
        format!(
            "cannot open CUDA device {ordinal}: {binary} was built without the cuda feature \
             (`make build-cuda` builds the GPU stages with it)"
        )
    }
}

/// Parses the command line into `A`, with `--version` telling `info`. Exits with clap's message
/// (and code 2) on a bad command line, as `A::parse()` does.
///
/// Every binary starts here, so this is also where the process is set up before any thread or
/// large allocation exists: freed memory is kept for reuse ([`crate::memory::keep_freed_memory`]).
pub fn parse<A: clap::Parser>(info: &BuildInfo) -> A {
    crate::memory::keep_freed_memory();
    parse_from(info, std::env::args_os())
}

/// As [`parse`], from given arguments (tests).
pub fn parse_from<A, I, T>(info: &BuildInfo, args: I) -> A
where
    A: clap::Parser,
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    // clap keeps `&'static str` versions without its `string` feature; a binary parses once.
    let version: &'static str = Box::leak(info.version().into_boxed_str());
    let matches = A::command()
        .version(version)
        .long_version(version)
        .after_help(RUST_LOG_HELP)
        .get_matches_from(args);
    A::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Parser, Debug)]
    struct Args {
        #[command(flatten)]
        verbosity: Verbosity,
        #[arg(long, default_value = "cpu", value_parser = device_parser())]
        device: DeviceSpec,
    }

    #[test]
    fn device_grammar() {
        assert_eq!("cpu".parse(), Ok(DeviceSpec::Cpu));
        assert_eq!("cuda".parse(), Ok(DeviceSpec::Cuda(0)));
        assert_eq!("cuda:3".parse(), Ok(DeviceSpec::Cuda(3)));
        for bad in ["gpu", "cuda:", "cuda:x", "CPU", "cuda:-1"] {
            assert!(bad.parse::<DeviceSpec>().is_err(), "{bad}");
        }
        for spec in [DeviceSpec::Cpu, DeviceSpec::Cuda(2)] {
            assert_eq!(spec.to_string().parse(), Ok(spec));
            let json = serde_json::to_string(&spec).unwrap();
            assert_eq!(serde_json::from_str::<DeviceSpec>(&json).unwrap(), spec);
        }
    }

    #[test]
    fn flags_parse_and_help_lists_devices() {
        let info = crate::build_info!();
        let args: Args = parse_from(&info, ["x", "-vv", "--device", "cuda:1"]);
        assert_eq!(args.device, DeviceSpec::Cuda(1));
        assert_eq!(args.verbosity.filter(), "trace");
        let args: Args = parse_from(&info, ["x", "-q"]);
        assert!(!args.verbosity.progress());
        assert_eq!(args.verbosity.filter(), "warn");
        assert!(Args::try_parse_from(["x", "--device", "tpu"]).is_err());
        let help = Args::command().render_long_help().to_string();
        assert!(help.contains("cuda:N"), "{help}");
    }

    #[test]
    fn version_names_commit_and_features() {
        let info = BuildInfo::new("p", "1.2.3", &[("cuda", false), ("bf16", true)]);
        assert_eq!(info.features, ["bf16"]);
        let v = info.version();
        assert!(
            v.starts_with("1.2.3 (git ") && v.ends_with("features: bf16)"),
            "{v}"
        );
        assert!(BuildInfo::new("p", "1", &[])
            .version()
            .ends_with("features: none)"));
    }
}
