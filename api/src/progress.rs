//! Progress of long work on the command line (`relm seed`, `relm export -o`, `relm bench`),
//! drawn on stderr when it is a terminal; elsewhere (a pipe, a log file, CI, the HTTP
//! exports) nothing is drawn.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar toward a known total, or a counter when the total is unknown.
#[derive(Clone)]
pub struct Progress(ProgressBar);

impl Progress {
    /// Draws nothing.
    pub fn hidden() -> Self {
        Self(ProgressBar::hidden())
    }

    /// Whether progress is drawn at all: only on a terminal.
    pub fn drawn() -> bool {
        std::io::stderr().is_terminal()
    }

    /// `done` of `total` `unit`s, their rate, the time taken and the time left; the
    /// message (see [`Progress::say`]) follows. A counter without a total or time left
    /// when `total` is `None`.
    pub fn of(total: Option<u64>, unit: &str) -> Self {
        if !Self::drawn() {
            return Self::hidden();
        }
        let (bar, template) = match total {
            Some(total) => (
                ProgressBar::new(total),
                format!(
                    "{{bar:30}} {{human_pos}}/{{human_len}} {unit} ({{per_sec}}) {{msg}} \
                     {{elapsed}} taken, {{eta}} left"
                ),
            ),
            None => (
                ProgressBar::no_length(),
                format!("{{spinner}} {{human_pos}} {unit} ({{per_sec}}) {{msg}} {{elapsed}} taken"),
            ),
        };
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(4));
        bar.enable_steady_tick(Duration::from_millis(250));
        Self(bar)
    }

    pub fn add(&self, done: u64) {
        self.0.inc(done);
    }

    pub fn set(&self, done: u64) {
        self.0.set_position(done);
    }

    /// Text after the counts, e.g. the rows written so far.
    pub fn say(&self, message: String) {
        self.0.set_message(message);
    }

    /// Removes the bar, leaving the terminal to what is printed next.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
