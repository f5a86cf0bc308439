#!/usr/bin/env bash
# Static checks of template.yaml, each of which must report nothing:
#   cfn-lint template.yaml
#   sam validate --lint
#   checkov -f template.yaml   (findings are fixed or skipped in the template with a reason)
# checkov evaluates conditions with the parameters' defaults, so it also scans variants of
# the template whose defaults select the other branches (AuthMode jwt, a KMS key,
# versioning on, the idle-session sweeper, SnapStart on): every conditional resource is
# checked.
#
# Usage: infra/lint.sh            Needs: infra/install-tools.sh (run here when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
VENVS=${INFRA_VENV_DIR:-$PWD/.venv-infra}
[[ -x "$VENVS/sam/bin/sam" ]] || infra/install-tools.sh sam
[[ -x "$VENVS/checkov/bin/checkov" ]] || infra/install-tools.sh checkov
export SAM_CLI_TELEMETRY=0

status=0
step() {  # step NAME COMMAND...: run, report, remember a failure
    local name=$1; shift
    echo "== $name"
    if "$@"; then echo "== $name: ok"; else echo "== $name: FAILED"; status=1; fi
}

variants=$(mktemp -d)
trap 'rm -rf "$variants"' EXIT
# The same template with other parameter defaults (text edits; each must apply once).
"$VENVS/sam/bin/python" - "$variants" <<'EOF'
import pathlib, sys
source = pathlib.Path("template.yaml").read_text()
edits = {
    "AuthMode": ("    Default: iam\n", "    Default: jwt\n"),
    "JwtIssuer": ('  JwtIssuer:\n    Type: String\n    Default: ""\n',
                  '  JwtIssuer:\n    Type: String\n    Default: https://issuer.example.com\n'),
    "JwtAudience": ('  JwtAudience:\n    Type: CommaDelimitedList\n    Default: ""\n',
                    '  JwtAudience:\n    Type: CommaDelimitedList\n    Default: example\n'),
    "KmsKeyArn": ('  KmsKeyArn:\n    Type: String\n    Default: ""\n',
                  '  KmsKeyArn:\n    Type: String\n    Default: arn:aws:kms:eu-west-1:'
                  '123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\n'),
    "VersioningEnabled": ('  VersioningEnabled:\n    Type: String\n    Default: "false"\n',
                          '  VersioningEnabled:\n    Type: String\n    Default: "true"\n'),
    "IdleSessionDays": ('  IdleSessionDays:\n    Type: Number\n    Default: 0\n',
                        '  IdleSessionDays:\n    Type: Number\n    Default: 30\n'),
    # not a parameter (docs/service.md, "SnapStart"): the one-line opt-in
    "SnapStart": ("    SnapStart:\n      ApplyOn: None\n",
                  "    SnapStart:\n      ApplyOn: PublishedVersions\n"),
}
variant = source
for name, (old, new) in edits.items():
    if variant.count(old) != 1:
        sys.exit(f"infra/lint.sh: cannot set the default of {name}: template.yaml changed")
    variant = variant.replace(old, new)
(pathlib.Path(sys.argv[1]) / "template-jwt-kms-versioned-sweeper-snapstart.yaml").write_text(variant)
EOF

step "cfn-lint" "$VENVS/sam/bin/cfn-lint" template.yaml
step "sam validate --lint" "$VENVS/sam/bin/sam" validate --lint --template-file template.yaml
for template in template.yaml "$variants"/template-jwt-kms-versioned-sweeper-snapstart.yaml; do
    # --skip-download: no calls to the vendor's API (guidelines, severities).
    step "checkov $(basename "$template")" "$VENVS/checkov/bin/checkov" --quiet --compact \
        --skip-download --framework cloudformation -f "$template"
done
exit $status
