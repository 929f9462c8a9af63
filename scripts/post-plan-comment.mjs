// Keeps a pull request's Rebound plan as one comment: `node scripts/post-plan-comment.mjs <file>`
// posts the markdown in <file> on pull request $PR_NUMBER of $GITHUB_REPOSITORY, or edits the
// comment an earlier run posted (found by its marker), so the pull request shows the latest plan
// once. Called by scripts/rules-ci.sh plan; Node's fetch only, so a runner needs nothing else.
//
// Environment: GITHUB_TOKEN, GITHUB_REPOSITORY (owner/name), PR_NUMBER, GITHUB_API_URL (default
// https://api.github.com).
import { readFileSync } from "node:fs";

const MARKER = "<!-- rebound-plan -->";
// GitHub refuses comments over 65,536 characters; the whole plan stays in the job log.
const LIMIT = 60_000;

const [file] = process.argv.slice(2);
const { GITHUB_TOKEN: token, GITHUB_REPOSITORY: repository, PR_NUMBER: pr } = process.env;
if (!file || !token || !repository || !pr) {
  console.error(
    "usage: GITHUB_TOKEN=… GITHUB_REPOSITORY=owner/name PR_NUMBER=n node scripts/post-plan-comment.mjs <plan.md>",
  );
  process.exit(2);
}
const api = `${process.env.GITHUB_API_URL ?? "https://api.github.com"}/repos/${repository}/issues`;
const headers = {
  authorization: `Bearer ${token}`,
  accept: "application/vnd.github+json",
  "content-type": "application/json",
};

let body = `${MARKER}\n${readFileSync(file, "utf8").replace(/\n+$/, "")}`;
if (body.length > LIMIT)
  body = `${body.slice(0, LIMIT)}\n\n… (cut: the whole plan is in the log of this job)`;

/** Calls GitHub and fails loudly on anything but a 2xx. */
async function github(method, url, payload) {
  const response = await fetch(url, { method, headers, body: payload && JSON.stringify(payload) });
  if (!response.ok) {
    throw new Error(
      `rules-ci: GitHub answered ${response.status} to ${method} ${url}: ${await response.text()}`,
    );
  }
  return response.json();
}

let existing;
for (let page = 1; ; page++) {
  const comments = await github("GET", `${api}/${pr}/comments?per_page=100&page=${page}`);
  existing = comments.find((comment) => typeof comment.body === "string" && comment.body.startsWith(MARKER));
  if (existing || comments.length < 100) break;
}
if (existing) {
  await github("PATCH", `${api}/comments/${existing.id}`, { body });
  console.error(`rules-ci: updated the plan comment on pull request #${pr}`);
} else {
  await github("POST", `${api}/${pr}/comments`, { body });
  console.error(`rules-ci: posted the plan on pull request #${pr}`);
}
