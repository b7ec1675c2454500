//! `lazaret trace PERSON_ID`: the contacts of a case, with tier, rules and
//! evidence, from its positive test in force. Contacts are selected by
//! exposure only (shared rows, household, ride); the policy file can change
//! the numbers but has no field for anything about who a person is.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use lazaret_core::ids::PersonId;
use lazaret_core::tracing_policy::TracingPolicy;
use lazaret_store::{Store, TraceOutcome};
use serde_json::{json, Value};

#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The case to trace
    pub person_id: String,
    /// Tracing policy (TOML); unknown keys are rejected [default: built-in rules]
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// Loads a policy file, or the built-in rules.
pub fn load_policy(path: Option<&Path>) -> Result<TracingPolicy> {
    let Some(path) = path else {
        return Ok(TracingPolicy::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading policy {}", path.display()))?;
    TracingPolicy::from_toml(&text).with_context(|| format!("policy {}", path.display()))
}

pub fn parse_person(raw: &str) -> Result<PersonId> {
    PersonId::parse(raw).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The actor recorded in the audit log for command-line work: the operating
/// system account running the command, from the process's user id (the
/// owner of `/proc/self`) and `/etc/passwd`, never from `$USER`, which any
/// caller can set (security review L11). `cli:uid=1000(ana)`; `cli:unknown`
/// where there is no `/proc`. Named officer accounts replace this later.
pub fn cli_actor() -> String {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(uid) = std::fs::metadata("/proc/self").map(|m| m.uid()) else {
        return "cli:unknown".into();
    };
    let name = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|p| passwd_name(&p, uid));
    match name {
        Some(n) => format!("cli:uid={uid}({n})"),
        None => format!("cli:uid={uid}"),
    }
}

/// The account name of `uid` in a passwd file.
fn passwd_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let id: u32 = f.nth(1)?.parse().ok()?;
        (id == uid).then(|| name.to_owned())
    })
}

/// The `trace` JSON document.
pub fn trace_json(t: &TraceOutcome) -> Value {
    let mut doc = json!({
        "case": t.case_id,
        "test_id": t.test.as_ref().map(|t| &t.id),
        "window": t.window.map(|w| json!({"start": w.start, "end": w.end})),
        "contacts": t.contacts.iter().map(|c| json!({
            "person_id": c.person_id,
            "tier": c.tier,
            "rules": c.rules,
            "last_exposure": c.last_exposure,
            "generation": c.generation,
            "evidence": c.evidence,
        })).collect::<Vec<_>>(),
    });
    if let Some(r) = &t.reason {
        doc["reason"] = json!(r);
    }
    doc
}

pub async fn run(args: TraceArgs, store: &Store) -> Result<()> {
    let case = parse_person(&args.person_id)?;
    let policy = load_policy(args.policy.as_deref())?;
    #[allow(
        clippy::disallowed_methods,
        reason = "a CLI command acts at the wall-clock time it runs"
    )]
    let t = store
        .trace_case(&case, &policy, chrono::Utc::now(), &cli_actor())
        .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&trace_json(&t))?);
        return Ok(());
    }
    match (&t.window, &t.reason) {
        (Some(w), _) => println!(
            "case {}: infectious window {} .. {}",
            t.case_id, w.start, w.end
        ),
        (None, Some(r)) => println!("case {}: {r}", t.case_id),
        (None, None) => {}
    }
    for c in &t.contacts {
        let rules: Vec<&str> = c.rules.iter().map(|r| r.as_str()).collect();
        println!(
            "  {:<20} {:<6} gen {} last {}  {}",
            c.person_id.as_str(),
            serde_json::to_value(c.tier)?.as_str().unwrap_or(""),
            c.generation,
            c.last_exposure.format("%Y-%m-%d %H:%M"),
            rules.join(", ")
        );
    }
    println!("{} contact(s)", t.contacts.len());
    Ok(())
}

#[cfg(test)]
mod actor_tests {
    use super::*;

    #[test]
    fn the_cli_actor_ignores_user_and_names_the_uid() {
        assert_eq!(
            passwd_name(
                "root:x:0:0::/root:/bin/sh\nana:x:1000:1000::/home/ana:/bin/sh\n",
                1000
            ),
            Some("ana".into())
        );
        assert_eq!(passwd_name("root:x:0:0::/root:/bin/sh\n", 7), None);
        let actor = cli_actor();
        assert!(actor.starts_with("cli:uid="), "{actor}");
    }
}
