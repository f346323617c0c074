//! The crate boundaries of ARCHITECTURE.md, checked against `cargo metadata`: the
//! workspace crates depend on each other only along the edges ARCHITECTURE.md allows, and
//! the pure crates pull in no network, storage, screen or async runtime, not even
//! indirectly.

// Test code: a panic is a failed test with its line, which is what we want here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap()
}

/// This machine's target triple, from `rustc -vV`.
fn host() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let output = Command::new(rustc).arg("-vV").output().unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc names its host")
        .to_owned()
}

/// The dependency graph for this machine's platform: offline, a full graph would need
/// the sources of every other platform's crates (accesskit_ios, …), which a build
/// never downloads.
fn metadata() -> Value {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", &host()])
        .current_dir(workspace_root())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The edges ARCHITECTURE.md allows, from its `allowed-edges` block.
fn allowed_edges() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(workspace_root().join("ARCHITECTURE.md")).unwrap();
    let block = text
        .split("<!-- allowed-edges")
        .nth(1)
        .and_then(|rest| rest.split("-->").next())
        .expect("ARCHITECTURE.md has an allowed-edges block");
    block
        .lines()
        .filter_map(|line| line.split_once("->"))
        .map(|(from, to)| {
            let targets = to
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect();
            (from.trim().to_owned(), targets)
        })
        .collect()
}

fn workspace_packages(meta: &Value) -> BTreeMap<String, &Value> {
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| members.contains(p["id"].as_str().unwrap()))
        .map(|p| (p["name"].as_str().unwrap().to_owned(), p))
        .collect()
}

#[test]
fn workspace_crates_depend_on_each_other_only_as_architecture_md_allows() {
    let meta = metadata();
    let packages = workspace_packages(&meta);
    let allowed = allowed_edges();
    assert_eq!(
        packages.keys().collect::<BTreeSet<_>>(),
        allowed.keys().collect::<BTreeSet<_>>(),
        "ARCHITECTURE.md lists every workspace crate, and only those"
    );
    for (name, package) in &packages {
        for dep in package["dependencies"].as_array().unwrap() {
            let dep_name = dep["name"].as_str().unwrap();
            // Tests may start the real server in-process: dev-dependencies are free.
            if dep["kind"].as_str() == Some("dev") {
                continue;
            }
            if packages.contains_key(dep_name) {
                assert!(
                    allowed[name].contains(dep_name),
                    "{name} depends on {dep_name}, which ARCHITECTURE.md does not allow"
                );
            }
        }
    }
}

/// Everything `root` depends on for its library (normal dependencies), transitively.
fn normal_closure(meta: &Value, root: &str) -> BTreeSet<String> {
    let nodes: BTreeMap<&str, &Value> = meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n))
        .collect();
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let start = names
        .iter()
        .find(|(_, n)| **n == root)
        .map(|(id, _)| *id)
        .unwrap();
    let mut seen = BTreeSet::new();
    let mut todo = vec![start];
    while let Some(id) = todo.pop() {
        for dep in nodes[id]["deps"].as_array().unwrap() {
            let normal = dep["dep_kinds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kind"].is_null());
            let dep_id = dep["pkg"].as_str().unwrap();
            if normal && seen.insert(names[dep_id].to_owned()) {
                todo.push(dep_id);
            }
        }
    }
    seen
}

#[test]
fn the_pure_crates_know_no_network_storage_screen_or_runtime() {
    let meta = metadata();
    let forbidden = [
        "tokio",
        "mio",
        "axum",
        "hyper",
        "tungstenite",
        "rusqlite",
        "libsqlite3-sys",
        "egui",
        "eframe",
        "samod",
    ];
    for root in ["model", "conflict-rules"] {
        let closure = normal_closure(&meta, root);
        for name in forbidden {
            assert!(
                !closure.contains(name),
                "{root} depends on {name}, directly or not"
            );
        }
    }
}

#[test]
fn the_conflict_rules_depend_on_no_source_of_randomness_or_time() {
    let meta = metadata();
    let packages = workspace_packages(&meta);
    for dep in packages["conflict-rules"]["dependencies"]
        .as_array()
        .unwrap()
    {
        let kind_is_normal = dep["kind"].is_null();
        let name = dep["name"].as_str().unwrap();
        assert!(
            !(kind_is_normal
                && ["rand", "getrandom", "fastrand", "chrono", "time", "uuid"].contains(&name)),
            "conflict-rules depends on {name}: the fold must not see randomness or a clock"
        );
    }
}
