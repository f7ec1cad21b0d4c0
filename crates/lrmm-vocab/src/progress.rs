//! Progress bars on stderr for the long passes; indicatif hides them when stderr is not a
//! terminal (make logs, CI), where the tracing lines alone say what happened, and `-q` turns
//! them off.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `len` documents, or a hidden one when `enabled` is false (`-q`).
pub fn bar(len: usize, message: &str, enabled: bool) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    let style = ProgressStyle::with_template(
        "{msg:>28} [{bar:40}] {human_pos}/{human_len} ({per_sec}, eta {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(message.to_owned());
    bar
}
