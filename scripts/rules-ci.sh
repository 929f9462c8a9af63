#!/usr/bin/env bash
# The CI recipe of a rules pull request, one stage per call. .github/workflows/rules.yml only calls
# it with its secrets, so what CI does can be run, and is tested, here (test/smoke/rules-ci.test.ts).
#
#   scripts/rules-ci.sh validate [rules-dir]  every rule and test file checks (rebound validate)
#   scripts/rules-ci.sh test [rules-dir]      the rule tests pass (rebound test)
#   scripts/rules-ci.sh plan [rules-dir]      what the change does to production's customers
#                                             (rebound plan --format markdown), printed, and posted as
#                                             one pull-request comment, updated on each push, when
#                                             GITHUB_TOKEN, GITHUB_REPOSITORY and PR_NUMBER are set
#   scripts/rules-ci.sh deploy                remote migrations, wrangler deploy, then /healthz must
#                                             report the ruleset `rebound build` wrote (npm run deploy)
#
# plan needs REBOUND_URL and REBOUND_ADMIN_KEY (an admin key: the plan route is admin-only);
# deploy needs CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID (REBOUND_URL: where to check /healthz,
# when not the workers.dev URL). docs/deploy.md describes the secrets.
set -euo pipefail

usage() {
  echo "usage: scripts/rules-ci.sh validate|test|plan [rules-dir] | deploy" >&2
  exit 2
}

stage=${1:-}
case $stage in
validate | test | plan) [[ $# -le 2 ]] || usage ;;
deploy) [[ $# -eq 1 ]] || usage ;;
*) usage ;;
esac
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# A rules directory given here is relative to where the script was called from.
rules=rules
if [[ $# -ge 2 ]]; then
  if [[ ! -d $2 ]]; then
    echo "rules-ci: $2 is not a directory of rules" >&2
    exit 2
  fi
  rules=$(cd "$2" && pwd)
fi
cd "$root"

rebound() {
  node dsl/cli/bin.mjs "$@"
}

case $stage in
validate)
  rebound validate "$rules"
  ;;
test)
  rebound test "$rules"
  ;;
plan)
  : "${REBOUND_URL:?rules-ci plan: set REBOUND_URL to the production Worker, e.g. https://rebound.example.workers.dev}"
  : "${REBOUND_ADMIN_KEY:?rules-ci plan: set REBOUND_ADMIN_KEY to an admin key of that Worker}"
  plan_file=$(mktemp)
  trap 'rm -f "$plan_file"' EXIT
  rebound plan "$rules" --url "$REBOUND_URL" --key "$REBOUND_ADMIN_KEY" --format markdown >"$plan_file"
  cat "$plan_file"
  if [[ -n ${GITHUB_TOKEN:-} && -n ${PR_NUMBER:-} && -n ${GITHUB_REPOSITORY:-} ]]; then
    # One comment per pull request, the latest plan (scripts/post-plan-comment.mjs).
    node scripts/post-plan-comment.mjs "$plan_file"
  fi
  ;;
deploy)
  npm run --silent deploy
  ;;
*)
  usage
  ;;
esac
