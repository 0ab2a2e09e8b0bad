#!/usr/bin/env bash
# A walk-through of the cdt command-line tool on the sample fleet shipped in fixtures/:
# check a plan and a configuration, generate the candidates list for a Jumbo, edit it the way
# an operator does (semi-automatic cluster upgrade), validate the edit, and see an illegal edit
# refused. Exits non-zero if any step does not behave as shown.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --locked -p cdt-cli
cdt=target/debug/cdt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fleet=fixtures/inventories/sample-fleet.toml
jumbo=/var/packages/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
expect_failure() {
    if "$@"; then
        echo "walk-through: expected this command to fail" >&2
        exit 1
    fi
}

say cdt plan check fixtures/plans/good/full.xml
"$cdt" plan check fixtures/plans/good/full.xml

say cdt config check fixtures/configs/good/basic.xml
"$cdt" config check fixtures/configs/good/basic.xml

say cdt candidates generate --inventory "$fleet" --package "$jumbo" --output candidates.csv
"$cdt" candidates generate --inventory "$fleet" --package "$jumbo" --output "$work/candidates.csv"
cat "$work/candidates.csv"
say cat candidates.reasons.csv
cat "$work/candidates.reasons.csv"

# Semi-automatic upgrade of cl-lyon: leave its Active member for a second run, and move the
# VSLS cluster to batch 2. Only the Upgrade Order column changes.
cp "$work/candidates.csv" "$work/edited.csv"
sed -i -E 's/^(lyon-a .*, )1\r$/\1-\r/; s/^(vienna-[0-9] .*, )1\r$/\12\r/' "$work/edited.csv"
say cdt candidates validate --generated candidates.csv edited.csv "  # lyon-a excluded, cl-vienna in batch 2"
"$cdt" candidates validate --generated "$work/candidates.csv" "$work/edited.csv"

# Excluding the Standby while the Active stays batched would upgrade the Active first: refused,
# with every problem listed.
sed -i -E 's/^(lyon-a .*, )-\r$/\11\r/; s/^(lyon-b .*, )1\r$/\1-\r/; s/^(gw-madrid .*, )N\/A\r$/\13\r/' "$work/edited.csv"
say cdt candidates validate --generated candidates.csv edited.csv "  # lyon-b excluded, gw-madrid N/A -> 3"
expect_failure "$cdt" candidates validate --generated "$work/candidates.csv" "$work/edited.csv"
echo
echo "walk-through: every step behaved as expected"
