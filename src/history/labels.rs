//! Labels for a recorded run: `--label key=value`, plus what the CI
//! environment says (GitHub Actions, GitLab CI, Jenkins, Buildkite): `ci`,
//! `commit`, `branch`, `pull_request`, `run_url`.

use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// Parse `key=value` (the key non-empty, without `=`).
pub fn parse_label(s: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(Error::Malformed {
            what: format!("label {s:?}"),
            reason: "expected key=value".into(),
        }),
    }
}

/// The labels the CI system's environment gives (`env` looks a variable up;
/// empty values count as unset). Nothing outside a known CI system.
pub fn ci_labels(env: impl Fn(&str) -> Option<String>) -> BTreeMap<String, String> {
    let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let mut l = BTreeMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            l.insert(k.to_string(), v);
        }
    };
    if get("GITHUB_ACTIONS").as_deref() == Some("true") {
        put("ci", Some("github-actions".into()));
        put("commit", get("GITHUB_SHA"));
        put(
            "branch",
            get("GITHUB_HEAD_REF").or_else(|| get("GITHUB_REF_NAME")),
        );
        put(
            "pull_request",
            get("GITHUB_REF").and_then(|r| {
                r.strip_prefix("refs/pull/")
                    .and_then(|x| x.split('/').next())
                    .map(str::to_string)
            }),
        );
        if let (Some(server), Some(repo), Some(run)) = (
            get("GITHUB_SERVER_URL"),
            get("GITHUB_REPOSITORY"),
            get("GITHUB_RUN_ID"),
        ) {
            put(
                "run_url",
                Some(format!("{server}/{repo}/actions/runs/{run}")),
            );
        }
    } else if get("GITLAB_CI").as_deref() == Some("true") {
        put("ci", Some("gitlab-ci".into()));
        put("commit", get("CI_COMMIT_SHA"));
        put(
            "branch",
            get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME").or_else(|| get("CI_COMMIT_BRANCH")),
        );
        put("pull_request", get("CI_MERGE_REQUEST_IID"));
        put(
            "run_url",
            get("CI_PIPELINE_URL").or_else(|| get("CI_JOB_URL")),
        );
    } else if get("BUILDKITE").as_deref() == Some("true") {
        put("ci", Some("buildkite".into()));
        put("commit", get("BUILDKITE_COMMIT"));
        put("branch", get("BUILDKITE_BRANCH"));
        put(
            "pull_request",
            get("BUILDKITE_PULL_REQUEST").filter(|p| p != "false"),
        );
        put("run_url", get("BUILDKITE_BUILD_URL"));
    } else if get("JENKINS_URL").is_some() {
        put("ci", Some("jenkins".into()));
        put("commit", get("GIT_COMMIT"));
        put(
            "branch",
            get("CHANGE_BRANCH")
                .or_else(|| get("BRANCH_NAME"))
                .or_else(|| get("GIT_BRANCH")),
        );
        put("pull_request", get("CHANGE_ID"));
        put("run_url", get("BUILD_URL"));
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn github_pull_request() {
        let l = ci_labels(env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", "abc"),
            ("GITHUB_HEAD_REF", "feature"),
            ("GITHUB_REF_NAME", "12/merge"),
            ("GITHUB_REF", "refs/pull/12/merge"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "o/r"),
            ("GITHUB_RUN_ID", "99"),
        ]));
        assert_eq!(l["ci"], "github-actions");
        assert_eq!(l["commit"], "abc");
        assert_eq!(l["branch"], "feature");
        assert_eq!(l["pull_request"], "12");
        assert_eq!(l["run_url"], "https://github.com/o/r/actions/runs/99");
    }

    #[test]
    fn gitlab_jenkins_buildkite_and_none() {
        let l = ci_labels(env(&[
            ("GITLAB_CI", "true"),
            ("CI_COMMIT_SHA", "c1"),
            ("CI_COMMIT_BRANCH", "main"),
            ("CI_PIPELINE_URL", "https://gitlab.example/p/1"),
        ]));
        assert_eq!(
            (
                l["ci"].as_str(),
                l["branch"].as_str(),
                l.get("pull_request")
            ),
            ("gitlab-ci", "main", None)
        );
        let l = ci_labels(env(&[
            ("JENKINS_URL", "https://j/"),
            ("GIT_COMMIT", "c2"),
            ("BRANCH_NAME", "PR-7"),
            ("CHANGE_ID", "7"),
            ("CHANGE_BRANCH", "fix"),
            ("BUILD_URL", "https://j/job/1/"),
        ]));
        assert_eq!(l["branch"], "fix");
        assert_eq!(l["pull_request"], "7");
        let l = ci_labels(env(&[
            ("BUILDKITE", "true"),
            ("BUILDKITE_COMMIT", "c3"),
            ("BUILDKITE_BRANCH", "main"),
            ("BUILDKITE_PULL_REQUEST", "false"),
        ]));
        assert_eq!(l["commit"], "c3");
        assert!(!l.contains_key("pull_request"));
        assert!(ci_labels(env(&[("CI", "true")])).is_empty());
    }

    #[test]
    fn labels_parse() {
        assert_eq!(
            parse_label("branch=main").unwrap(),
            ("branch".into(), "main".into())
        );
        assert_eq!(parse_label("k=a=b").unwrap().1, "a=b");
        assert!(parse_label("=x").is_err() && parse_label("nokey").is_err());
    }
}
