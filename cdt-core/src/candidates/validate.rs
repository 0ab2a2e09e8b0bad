//! Validating an operator's edits of a candidates list against the generated list (SPEC 2.3).
//!
//! Rows are matched by `Object Name` (an operator may sort the list). Rejected, each reported
//! (all of them, not only the first) as `FILE:LINE: object NAME: message`, where LINE is the
//! row's line in the edited file, or in the generated file for a removed row:
//! - a row added or removed;
//! - a column other than `Upgrade Order` changed;
//! - `N/A` or `Installed` changed, or set where the generated list did not have it;
//! - members of one cluster in different batches;
//! - a partial exclusion of a cluster that would upgrade its last member (the Active, Master or
//!   `VSLS active member`) while a member of its first wave is excluded.
//!
//! Allowed partial exclusions, from the SPEC's table:
//!
//! | cluster rows | allowed |
//! |---|---|
//! | every member `-` | yes (the cluster is not touched) |
//! | only the last member `-`, the first wave batched | yes: semi-automatic, first run |
//! | the first wave `Installed`, the last member batched | yes: semi-automatic, second run |
//! | any first-wave member `-` while the last member is batched | no |
//! | some first-wave members `-`, others batched, last member `-` | yes |
//!
//! (A batch that is not a positive integer, and a duplicate object name, are refused when the
//! list is read.)

use std::collections::HashMap;

use crate::candidates::{Candidate, CandidatesList, UpgradeOrder};
use crate::error::{Diagnostic, Diagnostics, Error, Location, Result};

/// Checks `edited` against `generated` by every rule of SPEC 2.3; the error lists every
/// problem found.
pub fn validate_edit(generated: &CandidatesList, edited: &CandidatesList) -> Result<()> {
    let mut errors = Vec::new();
    let at_edited =
        |index: usize| Location::new(edited.source.path.as_deref(), edited.line_of(index), None);
    // Rows are matched by name. An operator rarely re-sorts the list, so first try matching by
    // position, which needs no index; fall back to indexes by name when the order differs.
    let same_order = generated.rows.len() == edited.rows.len()
        && generated
            .rows
            .iter()
            .zip(&edited.rows)
            .all(|(g, e)| g.object_name == e.object_name);
    let generated_index = if same_order {
        HashMap::new()
    } else {
        index_by_name(generated)
    };
    let edited_index = if same_order {
        HashMap::new()
    } else {
        index_by_name(edited)
    };
    let in_generated = |i: usize, name: &str| {
        if same_order {
            Some(i)
        } else {
            generated_index.get(name).copied()
        }
    };
    let in_edited = |i: usize, name: &str| {
        if same_order {
            Some(i)
        } else {
            edited_index.get(name).copied()
        }
    };

    for (i, row) in edited.rows.iter().enumerate() {
        let problem =
            |message: String| Diagnostic::new(at_edited(i), message).with_object(&row.object_name);
        let Some(g) = in_generated(i, &row.object_name) else {
            errors.push(problem(
                "row added: the object is not in the generated list".into(),
            ));
            continue;
        };
        let original = &generated.rows[g];
        for message in changed_columns(original, row) {
            errors.push(problem(message));
        }
        if let Some(message) = order_change_problem(original.order, row.order) {
            errors.push(problem(message));
        }
    }
    for (i, row) in generated.rows.iter().enumerate() {
        if in_edited(i, &row.object_name).is_none() {
            errors.push(
                Diagnostic::new(
                    Location::new(generated.source.path.as_deref(), generated.line_of(i), None),
                    "row removed: every row of the generated list must stay (mark it - to exclude it)",
                )
                .with_object(&row.object_name),
            );
        }
    }

    // Cluster rules, judged on the generated roles and the edited orders.
    let mut clusters: HashMap<&str, Vec<(usize, &Candidate, UpgradeOrder)>> = HashMap::new();
    for (g, original) in generated.rows.iter().enumerate() {
        let (Some(cluster), Some(e)) = (
            original.cluster_name.as_deref(),
            in_edited(g, &original.object_name),
        ) else {
            continue;
        };
        clusters
            .entry(cluster)
            .or_default()
            .push((e, original, edited.rows[e].order));
    }
    for (cluster, members) in &clusters {
        cluster_problems(cluster, members, &at_edited, &mut errors);
    }

    if errors.is_empty() {
        Ok(())
    } else {
        errors.sort_by(|a, b| {
            (&a.location.path, a.location.line, &a.message).cmp(&(
                &b.location.path,
                b.location.line,
                &b.message,
            ))
        });
        Err(Error::Candidates(Diagnostics(errors)))
    }
}

fn index_by_name(list: &CandidatesList) -> HashMap<&str, usize> {
    list.rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.object_name.as_str(), i))
        .collect()
}

fn changed_columns(original: &Candidate, row: &Candidate) -> Vec<String> {
    let mut out = Vec::new();
    let mut changed = |column: &str, was: &dyn std::fmt::Display, now: &dyn std::fmt::Display| {
        out.push(format!(
            "{column} changed from \"{was}\" to \"{now}\": only Upgrade Order may be edited"
        ));
    };
    // Compared as typed values; formatted only when they differ.
    if original.cluster_name != row.cluster_name {
        let name = |c: &Candidate| c.cluster_name.clone().unwrap_or_default();
        changed("Cluster Name", &name(original), &name(row));
    }
    if original.address != row.address {
        changed("IP Address", &original.address, &row.address);
    }
    if original.version != row.version {
        changed("Version/JHF Take", &original.version, &row.version);
    }
    if original.state != row.state {
        let state = |c: &Candidate| c.state.map(|s| s.as_str()).unwrap_or_default();
        changed("State", &state(original), &state(row));
    }
    out
}

fn order_change_problem(was: UpgradeOrder, now: UpgradeOrder) -> Option<String> {
    use UpgradeOrder::*;
    match (was, now) {
        (NotApplicable, NotApplicable) | (Installed, Installed) => None,
        (NotApplicable | Installed, _) => Some(format!(
            "Upgrade Order {was} must not be changed (now {now})"
        )),
        (_, NotApplicable | Installed) => Some(format!(
            "Upgrade Order {now} may only come from generation (was {was})"
        )),
        _ => None,
    }
}

fn cluster_problems(
    cluster: &str,
    members: &[(usize, &Candidate, UpgradeOrder)],
    at_edited: &dyn Fn(usize) -> Location,
    errors: &mut Vec<Diagnostic>,
) {
    // One batch per cluster: report every member whose batch differs from the first batched
    // member's (in file order).
    let mut batched: Vec<_> = members
        .iter()
        .filter_map(|&(e, c, o)| o.batch_number().map(|b| (e, c, b)))
        .collect();
    batched.sort_by_key(|&(e, _, _)| e);
    if let Some(&(_, first, batch)) = batched.first() {
        for &(e, c, b) in &batched[1..] {
            if b != batch {
                errors.push(
                    Diagnostic::new(
                        at_edited(e),
                        format!(
                            "cluster {cluster}: member in batch {b} but {} is in batch {batch}: all members of a cluster go in one batch",
                            first.object_name
                        ),
                    )
                    .with_object(&c.object_name),
                );
            }
        }
    }
    // The last member must not go while any of its first wave is excluded.
    let last = members
        .iter()
        .find(|(_, c, _)| c.state.is_some_and(|s| s.is_last()));
    let Some(&(_, last, last_order)) = last else {
        return;
    };
    if last_order.batch_number().is_none() {
        return;
    }
    for &(e, c, o) in members {
        if std::ptr::eq(c, last) || o != UpgradeOrder::Excluded {
            continue;
        }
        errors.push(
            Diagnostic::new(
                at_edited(e),
                format!(
                    "cluster {cluster}: excluded while {} ({}) is batched: the last member would go before its first wave; exclude {} too, or batch this member",
                    last.object_name,
                    last.state.map(|s| s.as_str()).unwrap_or_default(),
                    last.object_name
                ),
            )
            .with_object(&c.object_name),
        );
    }
}
