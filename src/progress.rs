//! The binary's [`Reporter`]: indicatif bars on stderr for people, log lines otherwise.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use bptmig_model::Reporter;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

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
                // With a known total: a bar and the time left; otherwise rows and rate only.
                let template = if expected_rows.is_some() {
                    "{prefix:>9} {msg:<32} {bar:20} {human_pos:>10}/{human_len} rows  {per_sec:>12}  ETA {eta}"
                } else {
                    "{prefix:>9} {msg:<32} {human_pos:>10} rows  {per_sec:>12}  {elapsed}"
                };
                let style = ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
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
                    rows_per_sec = rate.round(),
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
