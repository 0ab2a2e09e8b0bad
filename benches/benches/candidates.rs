//! Candidates lists at scale: generating one for a 100,000-gateway inventory, and parsing plus
//! validating a 100,000-row edited list against the generated one.

use std::hint::black_box;
use std::time::Duration;

use cdt_benches::fleet;
use cdt_core::candidates::CandidatesList;
use cdt_core::candidates::generate::{GenerateOptions, generate};
use cdt_core::candidates::validate::validate_edit;
use cdt_core::model::Package;
use criterion::{Criterion, criterion_group, criterion_main};

const JUMBO_89: &str = "/var/packages/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz";
const TARGETS: usize = 100_000;

fn benches(c: &mut Criterion) {
    let inventory = fleet(TARGETS);
    let package = Package::from_path(JUMBO_89).expect("a Jumbo name");
    let options = GenerateOptions::default();

    let mut group = c.benchmark_group("candidates_100k");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("generate", |b| {
        b.iter(|| generate(black_box(&inventory), &package, &options))
    });

    let generated = generate(&inventory, &package, &options).list;
    assert_eq!(generated.rows.len(), TARGETS);
    // The operator's edit: every tenth standalone gateway moved to batch 2.
    let edited_text: String = generated
        .to_csv()
        .split_inclusive("\r\n")
        .enumerate()
        .map(|(i, line)| {
            if i % 10 == 7 && line.starts_with("gw-") && line.ends_with(", 1\r\n") {
                line.replace(", 1\r\n", ", 2\r\n")
            } else {
                line.to_string()
            }
        })
        .collect();
    group.bench_function("parse_and_validate", |b| {
        b.iter(|| {
            let edited =
                CandidatesList::parse_csv(black_box(&edited_text), None).expect("valid CSV");
            validate_edit(&generated, &edited).expect("a valid edit");
        })
    });
    // The same edit on a list the operator sorted (rows in reverse order): matched by name.
    let mut lines: Vec<&str> = edited_text.split_inclusive("\r\n").collect();
    lines[1..].reverse();
    let sorted_text: String = lines.concat();
    group.bench_function("parse_and_validate_resorted", |b| {
        b.iter(|| {
            let edited =
                CandidatesList::parse_csv(black_box(&sorted_text), None).expect("valid CSV");
            validate_edit(&generated, &edited).expect("a valid edit");
        })
    });
    group.bench_function("write_csv", |b| b.iter(|| black_box(&generated).to_csv()));
    group.finish();
}

criterion_group!(candidates, benches);
criterion_main!(candidates);
