//! The binary's [`Reporter`]: indicatif bars on stderr for people, log lines otherwise.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Instant;

use bptmig_model::Reporter;
use indicatif::{
    HumanCount, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle,
};

/// A table's bar with a known total: a bar and the time left. `{rate}` ([`write_rate`]), not
/// indicatif's `{per_sec:>12}`, whose width is also its precision.
const WITH_TOTAL: &str =
    "{prefix:>9} {msg:<32} {bar:20} {human_pos:>10}/{human_len} rows  {rate:>12}  ETA {eta}";
/// A table's bar without a known total: rows and rate only.
const WITHOUT_TOTAL: &str = "{prefix:>9} {msg:<32} {human_pos:>10} rows  {rate:>12}  {elapsed}";

/// Draws one bar per table (rows, rows/s) when stderr is a terminal and bars are wanted;
/// otherwise writes one structured log line when a table finishes.
pub struct Progress {
    bars: Option<MultiProgress>,
    tables: Mutex<HashMap<String, (ProgressBar, Instant, u64)>>,
}

impl Progress {
    pub fn new(draw: bool) -> Self {
        let bars = draw.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Self {
            bars,
            tables: Mutex::new(HashMap::new()),
        }
    }
}

impl Reporter for Progress {
    fn table_started(&self, stage: &str, table: &str, expected_rows: Option<u64>) {
        let bar = match &self.bars {
            Some(m) => {
                let bar =
                    m.add(expected_rows.map_or_else(ProgressBar::no_length, ProgressBar::new));
                let template = if expected_rows.is_some() {
                    WITH_TOTAL
                } else {
                    WITHOUT_TOTAL
                };
                let style = ProgressStyle::with_template(template).map_or_else(
                    |_| ProgressStyle::default_bar(),
                    |s| s.with_key("rate", write_rate),
                );
                bar.set_style(style);
                bar.set_prefix(stage.to_owned());
                bar.set_message(table.to_owned());
                bar
            }
            None => ProgressBar::hidden(),
        };
        if let Ok(mut t) = self.tables.lock() {
            t.insert(table.to_owned(), (bar, Instant::now(), 0));
        }
    }

    fn rows(&self, table: &str, rows: u64) {
        if let Ok(mut t) = self.tables.lock() {
            if let Some((bar, _, n)) = t.get_mut(table) {
                bar.inc(rows);
                *n += rows;
            }
        }
    }

    fn table_finished(&self, table: &str, total_rows: u64) {
        if let Ok(mut t) = self.tables.lock() {
            if let Some((bar, started, _)) = t.remove(table) {
                bar.finish();
                let secs = started.elapsed().as_secs_f64();
                let rate = if secs > 0.0 {
                    total_rows as f64 / secs
                } else {
                    0.0
                };
                tracing::info!(
                    table,
                    rows = total_rows,
                    rows_per_sec = whole(rate),
                    "table done"
                );
            }
        }
    }

    fn note(&self, message: &str) {
        match &self.bars {
            Some(m) => {
                let _ = m.println(message);
            }
            None => tracing::info!("{message}"),
        }
    }
}

/// Rows per second as a person reads them: whole, with thousands separators (`478,654/s`).
pub fn rate(rows_per_sec: f64) -> String {
    format!("{}/s", HumanCount(whole(rows_per_sec)))
}

/// `rows_per_sec` rounded to a whole number; 0 for anything not a positive number.
pub fn whole(rows_per_sec: f64) -> u64 {
    if rows_per_sec.is_finite() && rows_per_sec > 0.0 {
        rows_per_sec.round() as u64
    } else {
        0
    }
}

/// The bars' `{rate}` key.
fn write_rate(state: &ProgressState, w: &mut dyn fmt::Write) {
    let _ = w.write_str(&rate(state.per_sec()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_whole_numbers_with_thousands_separators() {
        assert_eq!(rate(478_654.283_181_474), "478,654/s");
        assert_eq!(rate(1_234_567.5), "1,234,568/s");
        assert_eq!(rate(999.4), "999/s");
        assert_eq!(rate(0.0), "0/s");
        for nonsense in [f64::NAN, f64::INFINITY, -3.0] {
            assert_eq!(rate(nonsense), "0/s");
        }
    }

    #[test]
    fn the_bars_draw_the_rate_key_not_indicatifs_per_sec() {
        for template in [WITH_TOTAL, WITHOUT_TOTAL] {
            assert!(template.contains("{rate:>12}"), "{template}");
            assert!(!template.contains("per_sec"), "{template}");
            assert!(ProgressStyle::with_template(template).is_ok(), "{template}");
        }
    }
}
