//! The progress bar on standard error (indicatif), drawn only when stderr is
//! a terminal and `--quiet` is not given. Sizes use the reports' own units
//! (`imgaudit::units::human`: decimal kB, MB, GB), so the bar and the report
//! never disagree on what "1.2 GB" means.

use imgaudit::run::Progress;
use imgaudit::units::human;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// A byte-count progress bar on stderr.
pub struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, layers: usize, total: u64) {
        self.0.set_length(total);
        let s = if layers == 1 { "" } else { "s" };
        self.0.set_message(format!("decoding {layers} layer{s}"));
    }
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// The template, with sizes and speed in the reports' units.
pub fn style() -> ProgressStyle {
    ProgressStyle::with_template("{msg} [{bar:30}] {done}/{all} ({speed}, {eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("done", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&human(s.pos()));
        })
        .with_key("all", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&human(s.len().unwrap_or(0)));
        })
        .with_key("speed", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_fmt(format_args!("{}/s", human(s.per_sec() as u64)));
        })
        .progress_chars("=> ")
}

/// A bar that draws when `show`, else a hidden one.
pub fn bar(show: bool) -> Bar {
    if !show {
        return Bar(ProgressBar::hidden());
    }
    let pb = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    pb.set_style(style());
    Bar(pb)
}

#[cfg(test)]
mod tests {
    use indicatif::{ProgressBar, ProgressDrawTarget, TermLike};
    use std::sync::{Arc, Mutex};

    /// A terminal that records what is drawn on it.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<String>>);
    impl TermLike for Screen {
        fn width(&self) -> u16 {
            120
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn bar_speaks_the_report_units() {
        let screen = Screen::default();
        let pb = ProgressBar::with_draw_target(
            Some(2_500_000_000),
            ProgressDrawTarget::term_like(Box::new(screen.clone())),
        );
        pb.set_style(super::style());
        pb.set_message("decoding 3 layers");
        pb.set_position(1_234_000_000);
        pb.tick();
        let drawn = screen.0.lock().unwrap().clone();
        assert!(drawn.contains("decoding 3 layers"), "{drawn}");
        // The reports' units, not indicatif's binary ones (1.15 GiB).
        assert!(drawn.contains("1.2 GB/2.5 GB"), "{drawn}");
        assert!(!drawn.contains("GiB"), "{drawn}");
    }
}
