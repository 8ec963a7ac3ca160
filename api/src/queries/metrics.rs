//! The window of a metrics query (`Query.metrics`) or a trend report: one checked type for
//! GraphQL and the exports, so both refuse the same windows with the same words.

use analytics::Granularity;

use crate::error::ApiError;
use crate::metrics::MAX_BUCKETS;

/// `[from, to)` cut into buckets of `granularity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: i64,
    pub to: i64,
    pub granularity: Granularity,
}

/// Why a window was refused: the field at fault and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowError {
    pub field: &'static str,
    pub message: String,
}

impl From<WindowError> for ApiError {
    fn from(err: WindowError) -> Self {
        ApiError::bad_input(err.field, err.message)
    }
}

impl Window {
    /// `to` must be after `from`, and the window cut into at most [`MAX_BUCKETS`] buckets.
    pub fn new(from: i64, to: i64, granularity: Granularity) -> Result<Self, WindowError> {
        if to <= from {
            return Err(WindowError {
                field: "to",
                message: "must be after from".into(),
            });
        }
        let window = Self {
            from,
            to,
            granularity,
        };
        if window.buckets() > MAX_BUCKETS {
            return Err(WindowError {
                field: "granularity",
                message: format!(
                    "the window would have more than {MAX_BUCKETS} buckets; choose a coarser one"
                ),
            });
        }
        Ok(window)
    }

    /// How many buckets the window has.
    pub fn buckets(&self) -> usize {
        analytics::buckets(self.from, self.to, self.granularity).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_runs_forward_and_has_few_enough_buckets() {
        let day = crate::time::DAY_MICROS;
        assert!(Window::new(0, 30 * day, Granularity::Day).is_ok());
        assert_eq!(
            Window::new(day, day, Granularity::Day).unwrap_err().field,
            "to"
        );
        let long = Window::new(0, 3_000 * day, Granularity::Day).unwrap_err();
        assert_eq!(long.field, "granularity");
        assert!(Window::new(0, 3_000 * day, Granularity::Month).is_ok());
    }
}
