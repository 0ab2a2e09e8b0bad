//! The failure budget (SPEC 3.4): how many failed or unreachable targets a run tolerates before
//! it stops starting new work.
//!
//! The rules, each pinned by a test:
//! 1. **Failures** are targets whose final status is `failed` or `unreachable` (unreachable
//!    counts as failed). Skipped and not-started targets are not failures.
//! 2. **Started** targets are those the rollout began work on: their own first step was
//!    issued, or their cluster's sequence failed before reaching them.
//! 3. The budget is **exceeded, not reached**: the run stops when failures are *more than* the
//!    allowance, never when they equal it.
//! 4. A **count** allows that many failures: `Count(0)`, the default, is CDT's behaviour
//!    ("a critical failure stops the deployment"): the first failure stops the run.
//! 5. A **percentage** allows `floor(percent × started / 100)` failures, computed when a
//!    failure is counted: percentages round down.
//! 6. Once exceeded, the run stays stopped (the latch does not reopen as more targets finish).
//!
//! Worked examples:
//!
//! | budget | started | failures | allowed | stops? |
//! |---|---|---|---|---|
//! | `Count(0)` | 40 | 1 | 0 | yes (the first failure) |
//! | `Count(2)` | 40 | 2 | 2 | no: reached, not exceeded |
//! | `Count(2)` | 40 | 3 | 2 | yes |
//! | `Percent(10)` | 25 | 2 | 2 (2.5 rounded down) | no |
//! | `Percent(10)` | 25 | 3 | 2 | yes |
//! | `Percent(10)` | 9 | 1 | 0 (0.9 rounded down) | yes |
//! | `Percent(100)` | 7 | 7 | 7 | no: a run that tolerates every failure never stops |
//!
//! ```
//! use cdt_core::rollout::FailureBudget;
//! assert_eq!(FailureBudget::Percent(10).allowed(25), 2);
//! assert!(!FailureBudget::Percent(10).is_exceeded(2, 25));
//! assert!(FailureBudget::Percent(10).is_exceeded(3, 25));
//! assert!(FailureBudget::default().is_exceeded(1, 40));
//! ```

use serde::{Deserialize, Serialize};

/// How many failed or unreachable targets a run tolerates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureBudget {
    /// At most this many failures.
    Count(usize),
    /// At most this percentage (0 to 100) of the targets started so far, rounded down.
    Percent(u8),
}

impl Default for FailureBudget {
    /// `Count(0)`: CDT's behaviour, the first failure stops the run.
    fn default() -> Self {
        FailureBudget::Count(0)
    }
}

impl FailureBudget {
    /// How many failures are allowed once `started` targets have started.
    pub fn allowed(self, started: usize) -> usize {
        match self {
            FailureBudget::Count(n) => n,
            FailureBudget::Percent(p) => started.saturating_mul(usize::from(p.min(100))) / 100,
        }
    }

    /// Whether `failures` exceed the allowance for `started` targets.
    pub fn is_exceeded(self, failures: usize, started: usize) -> bool {
        failures > self.allowed(started)
    }
}

#[cfg(test)]
mod tests {
    use super::FailureBudget::{Count, Percent};
    use super::*;

    #[test]
    fn the_default_stops_at_the_first_failure() {
        assert!(!FailureBudget::default().is_exceeded(0, 100));
        assert!(FailureBudget::default().is_exceeded(1, 100));
    }

    #[test]
    fn a_count_is_exceeded_not_reached() {
        assert!(!Count(2).is_exceeded(2, 40));
        assert!(Count(2).is_exceeded(3, 40));
    }

    #[test]
    fn a_percentage_rounds_down() {
        assert_eq!(Percent(10).allowed(25), 2);
        assert_eq!(Percent(10).allowed(9), 0);
        assert_eq!(Percent(33).allowed(10), 3);
        assert!(Percent(10).is_exceeded(1, 9));
        assert!(!Percent(10).is_exceeded(2, 25));
        assert!(Percent(10).is_exceeded(3, 25));
    }

    #[test]
    fn a_percentage_over_100_is_taken_as_100() {
        assert_eq!(Percent(250).allowed(7), 7);
        assert!(!Percent(100).is_exceeded(7, 7));
    }

    #[test]
    fn huge_counts_do_not_overflow() {
        assert_eq!(Percent(100).allowed(usize::MAX), usize::MAX / 100);
    }
}
