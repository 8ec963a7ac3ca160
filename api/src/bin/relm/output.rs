//! What the commands print: through [`print_out`], never `print!`.

use std::io::Write;

/// Writes a command's output to stdout. A reader that stops early (`relm schema | head`)
/// ends the output, not the process, where `print!` would panic on the closed pipe.
pub fn print_out(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// `println!` for a command's output, through [`print_out`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::print_out(&format!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use outln;
