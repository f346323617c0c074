//! The crate boundaries of ARCHITECTURE.md, checked against `cargo metadata`: the
//! workspace crates depend on each other only along the edges ARCHITECTURE.md allows, and
//! the pure crates pull in no network, storage, screen or async runtime, not even
//! indirectly. And the module rules, checked on the sources: within a crate, modules
//! import each other in no circle, at any level of nesting; `lib.rs` names every module
//! in its `# Layout` docs; there is no `mod.rs`.

// Test code: a panic is a failed test with its line, which is what we want here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
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

// The module rules. Plain string scanning, no parser: comments (doc links included),
// string and character literals are blanked first, then every `use` tree (braces
// expanded) and every path rooted at `crate`, `super` or `self` is read off the tokens
// and followed, through `use` re-exports, to the module it lands in. A reference from
// inside one child of a module to inside another is an edge between those two children;
// a circle of such edges among the children of any module fails. A glob import reaches
// the module it names, not through it. `tests` modules are left out: unit tests use
// their parent by nature.

/// Each module rule as a test of its own for each crate, in a module named after it.
macro_rules! module_rules {
    ($($name:ident: $krate:literal;)*) => {$(
        mod $name {
            #[test]
            fn modules_import_each_other_in_no_circle() {
                super::assert_no_module_circles($krate);
            }

            #[test]
            fn the_layout_of_lib_rs_names_every_module() {
                super::assert_layout_names_every_module($krate);
            }

            #[test]
            fn there_is_no_mod_rs() {
                super::assert_no_mod_rs($krate);
            }
        }
    )*};
}

module_rules! {
    model: "model";
    conflict_rules: "conflict-rules";
    sync_server: "sync-server";
    client_app: "client-app";
}

#[test]
fn the_tests_crate_has_no_mod_rs() {
    assert_no_mod_rs("tests");
}

/// `source` with comments, string and character literals replaced by blanks; line breaks
/// stay where they were, so line numbers still count.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let after_ident = i > 0 && ident(chars[i - 1]);
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
        } else if c == '"' {
            blank(&mut out, c);
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
                if i < chars.len() {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
            if i < chars.len() {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if !after_ident && (c == 'r' || ((c == 'b' || c == 'c') && next == Some('r'))) {
            // A raw string (r"…", r#"…"#, br…, cr…), or else an identifier starting with r.
            let start = if c == 'r' { i + 1 } else { i + 2 };
            let hashes = chars[start..].iter().take_while(|&&h| h == '#').count();
            if chars.get(start + hashes) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let mut j = start + hashes + 1;
            while j < chars.len() && !chars[j..].starts_with(&closing) {
                j += 1;
            }
            let end = (j + closing.len()).min(chars.len());
            for &skipped in &chars[i..end] {
                blank(&mut out, skipped);
            }
            i = end;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{1F600}'), or else a lifetime or label.
            let end = if next == Some('\\') {
                chars[i + 3..]
                    .iter()
                    .position(|&q| q == '\'')
                    .map(|p| i + 3 + p + 1)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 3)
            } else {
                None
            };
            match end {
                Some(end) => {
                    for &skipped in &chars[i..end.min(chars.len())] {
                        blank(&mut out, skipped);
                    }
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    line: usize,
}

/// Identifiers (keywords included), `::`, and every other character on its own.
fn tokens(code: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = code.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        if c == '\n' {
            line += 1;
        } else if c.is_whitespace() {
        } else if c.is_alphanumeric() || c == '_' {
            let mut text = c.to_string();
            while let Some(&n) = chars.peek().filter(|n| n.is_alphanumeric() || **n == '_') {
                text.push(n);
                chars.next();
            }
            tokens.push(Token { text, line });
        } else if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            tokens.push(Token {
                text: "::".into(),
                line,
            });
        } else {
            tokens.push(Token {
                text: c.to_string(),
                line,
            });
        }
    }
    tokens
}

fn is_identifier(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// One name a `use` brings into a module, or a glob (`name` is `None`).
#[derive(Debug, Clone)]
struct UseEntry {
    segments: Vec<String>,
    name: Option<String>,
    line: usize,
}

/// Reads one use tree at `tokens[i]` under `prefix`, into `out`; returns where it ended.
fn use_tree(
    tokens: &[Token],
    mut i: usize,
    mut prefix: Vec<String>,
    out: &mut Vec<UseEntry>,
) -> usize {
    while let Some(token) = tokens.get(i) {
        match token.text.as_str() {
            "{" => {
                i += 1;
                while tokens.get(i).is_some_and(|t| t.text != "}") {
                    let before = i;
                    i = use_tree(tokens, i, prefix.clone(), out);
                    if tokens.get(i).is_some_and(|t| t.text == ",") {
                        i += 1;
                    } else if i == before {
                        // Not a use tree after all (a macro's `$x`, say): give up on it.
                        return i;
                    }
                }
                return i + 1;
            }
            "*" => {
                out.push(UseEntry {
                    segments: prefix,
                    name: None,
                    line: token.line,
                });
                return i + 1;
            }
            "::" if prefix.is_empty() => {
                // `::name`: an extern crate.
                prefix.push("::".into());
                i += 1;
            }
            text if is_identifier(text) => {
                prefix.push(text.to_owned());
                i += 1;
                if tokens.get(i).is_some_and(|t| t.text == "::") {
                    i += 1;
                    continue;
                }
                let mut name = text.to_owned();
                if tokens.get(i).is_some_and(|t| t.text == "as") {
                    name = tokens
                        .get(i + 1)
                        .map(|t| t.text.clone())
                        .unwrap_or_default();
                    i += 2;
                }
                if prefix.last().is_some_and(|s| s == "self") {
                    prefix.pop();
                    if name == "self" {
                        name = prefix.last().cloned().unwrap_or_default();
                    }
                }
                out.push(UseEntry {
                    segments: prefix,
                    name: Some(name),
                    line: token.line,
                });
                return i;
            }
            _ => return i,
        }
    }
    i
}

/// A path rooted at `crate`, `super` or `self` outside a `use`.
#[derive(Debug, Clone)]
struct PathRef {
    segments: Vec<String>,
    line: usize,
}

/// What one module's code declares and refers to.
#[derive(Debug, Default)]
struct ModuleScan {
    /// Child modules declared as `mod name;`, with the file each lives in.
    files: Vec<(String, PathBuf)>,
    /// Inline modules (`mod name { … }`), by path relative to the file's module.
    inline: Vec<Vec<String>>,
    /// Uses and paths, each with the path (relative to the file's module) of the inline
    /// module it stands in.
    uses: Vec<(Vec<String>, UseEntry)>,
    paths: Vec<(Vec<String>, PathRef)>,
}

/// Scans one file. `children` is the directory of its child modules' files. `tests`
/// modules, file or inline, are left out: unit tests naturally use their parent.
fn scan_module(file: &Path, children: &Path) -> ModuleScan {
    let source = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let tokens = tokens(&code_only(&source));
    let mut scan = ModuleScan::default();
    // Open inline modules, with the brace depth inside each.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    let here = |inline: &[(String, usize)]| -> Vec<String> {
        inline.iter().map(|(name, _)| name.clone()).collect()
    };
    while i < tokens.len() {
        let text = tokens[i].text.as_str();
        let next = |k: usize| tokens.get(i + k).map(|t| t.text.as_str());
        match text {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if inline.last().is_some_and(|(_, d)| *d > depth) {
                    inline.pop();
                }
            }
            "mod" if next(1).is_some_and(is_identifier) => {
                let name = next(1).unwrap_or_default().to_owned();
                if next(2) == Some(";") {
                    if name != "tests" {
                        let mut dir = children.to_path_buf();
                        dir.extend(here(&inline));
                        let flat = dir.join(format!("{name}.rs"));
                        let nested = dir.join(&name).join("mod.rs");
                        let path = if flat.exists() || !nested.exists() {
                            flat
                        } else {
                            nested
                        };
                        scan.files.push((name, path));
                    }
                    i += 3;
                    continue;
                }
                if next(2) == Some("{") {
                    if name == "tests" {
                        // Skip the whole block.
                        let mut open = 0;
                        i += 2;
                        while i < tokens.len() {
                            match tokens[i].text.as_str() {
                                "{" => open += 1,
                                "}" => open -= 1,
                                _ => {}
                            }
                            i += 1;
                            if open == 0 {
                                break;
                            }
                        }
                        continue;
                    }
                    let mut path = here(&inline);
                    path.push(name.clone());
                    scan.inline.push(path);
                    depth += 1;
                    inline.push((name, depth));
                    i += 3;
                    continue;
                }
            }
            "use" => {
                let mut entries = Vec::new();
                let end = use_tree(&tokens, i + 1, Vec::new(), &mut entries);
                if !entries.is_empty() {
                    let at = here(&inline);
                    scan.uses
                        .extend(entries.into_iter().map(|e| (at.clone(), e)));
                    i = end;
                    continue;
                }
            }
            "crate" | "super" | "self" if next(1) == Some("::") => {
                let line = tokens[i].line;
                let mut segments = vec![text.to_owned()];
                i += 1;
                while tokens.get(i).is_some_and(|t| t.text == "::")
                    && tokens.get(i + 1).is_some_and(|t| is_identifier(&t.text))
                {
                    segments.push(tokens[i + 1].text.clone());
                    i += 2;
                }
                scan.paths.push((here(&inline), PathRef { segments, line }));
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    scan
}

/// One module of a crate's library, found from `src/lib.rs` through its `mod` items.
#[derive(Debug)]
struct ModuleFile {
    /// From the crate root: `["ui", "timeline"]`.
    path: Vec<String>,
    file: PathBuf,
    scan: ModuleScan,
}

/// Every module file of the library whose root is `src/lib.rs`, sorted by path.
fn module_files(src: &Path) -> Vec<ModuleFile> {
    let mut todo = vec![(Vec::new(), src.join("lib.rs"))];
    let mut modules = Vec::new();
    while let Some((path, file)) = todo.pop() {
        assert!(
            file.exists(),
            "module `{}` has no file at {} (#[path] is not supported here)",
            path.join("::"),
            file.display()
        );
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let children = if path.is_empty() || name == "mod.rs" {
            file.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            file.with_extension("")
        };
        let scan = scan_module(&file, &children);
        for (child, child_file) in &scan.files {
            let mut child_path = path.clone();
            child_path.push(child.clone());
            todo.push((child_path, child_file.clone()));
        }
        modules.push(ModuleFile { path, file, scan });
    }
    modules.sort_by(|a, b| a.path.cmp(&b.path));
    modules
}

/// Who uses whom, per level of nesting: for each module, which of its children use which.
struct ModuleGraph {
    modules: BTreeSet<Vec<String>>,
    /// `(module, name)` to the path a `use` in `module` names as `name`, as written there.
    aliases: BTreeMap<(Vec<String>, String), Vec<String>>,
    /// `(parent, from child, to child)` to where the reference is, in words.
    edges: BTreeMap<(Vec<String>, String, String), Vec<String>>,
}

impl ModuleGraph {
    fn new(files: &[ModuleFile]) -> Self {
        let mut modules = BTreeSet::new();
        let mut aliases = BTreeMap::new();
        for m in files {
            modules.insert(m.path.clone());
            for inline in &m.scan.inline {
                modules.insert([m.path.clone(), inline.clone()].concat());
            }
            for (at, entry) in &m.scan.uses {
                if let Some(name) = &entry.name {
                    let module = [m.path.clone(), at.clone()].concat();
                    aliases.insert((module, name.clone()), entry.segments.clone());
                }
            }
        }
        let mut graph = Self {
            modules,
            aliases,
            edges: BTreeMap::new(),
        };
        let root = workspace_root();
        for m in files {
            let file = m
                .file
                .strip_prefix(&root)
                .unwrap_or(&m.file)
                .display()
                .to_string();
            let refs = m
                .scan
                .uses
                .iter()
                .map(|(at, e)| (at, &e.segments, e.line))
                .chain(m.scan.paths.iter().map(|(at, p)| (at, &p.segments, p.line)));
            for (at, segments, line) in refs {
                let from = [m.path.clone(), at.clone()].concat();
                let Some(to) = graph.target_module(&from, segments) else {
                    continue;
                };
                let level = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
                if level < from.len() && level < to.len() {
                    let key = (
                        from[..level].to_vec(),
                        from[level].clone(),
                        to[level].clone(),
                    );
                    let sites = graph.edges.entry(key).or_default();
                    // One site per line: a `use` of several names is one reference.
                    let at = format!("{file}:{line}: ");
                    if !sites.last().is_some_and(|s| s.starts_with(&at)) {
                        sites.push(format!("{at}{}", segments.join("::")));
                    }
                }
            }
        }
        graph
    }

    /// The module a path written in `from` lands in (the deepest module it names, through
    /// `use` aliases), or `None` for a path outside the crate.
    fn target_module(&self, from: &[String], segments: &[String]) -> Option<Vec<String>> {
        let (mut module, mut rest) = self.start(from, segments)?;
        let mut i = 0;
        // Aliases may lead to aliases; a bound keeps a cycle of them from looping.
        for _ in 0..64 {
            let Some(segment) = rest.get(i) else {
                break;
            };
            let child = [module.clone(), vec![segment.clone()]].concat();
            if self.modules.contains(&child) {
                module = child;
                i += 1;
            } else if let Some(target) = self.aliases.get(&(module.clone(), segment.clone())) {
                let tail = rest[i + 1..].to_vec();
                let (base, start) = self.start(&module, target)?;
                module = base;
                rest = [start, tail].concat();
                i = 0;
            } else {
                break;
            }
        }
        Some(module)
    }

    /// Where a path written in `from` starts, and the segments after its root.
    fn start(&self, from: &[String], segments: &[String]) -> Option<(Vec<String>, Vec<String>)> {
        let first = segments.first()?;
        match first.as_str() {
            "crate" => Some((Vec::new(), segments[1..].to_vec())),
            "self" => Some((from.to_vec(), segments[1..].to_vec())),
            "super" => {
                let supers = segments.iter().take_while(|s| *s == "super").count();
                let base = from.get(..from.len().checked_sub(supers)?)?.to_vec();
                Some((base, segments[supers..].to_vec()))
            }
            "::" => None,
            name => {
                let child = [from.to_vec(), vec![name.to_owned()]].concat();
                let local = self.modules.contains(&child)
                    || self.aliases.contains_key(&(from.to_vec(), name.to_owned()));
                local.then(|| (from.to_vec(), segments.to_vec()))
            }
        }
    }

    /// The circles among the children of each module: one per tangle of modules that all
    /// reach each other, the shortest through its first module.
    fn circles(&self) -> Vec<Circle> {
        let mut by_level: BTreeMap<&Vec<String>, BTreeMap<&String, BTreeSet<&String>>> =
            BTreeMap::new();
        for (level, from, to) in self.edges.keys() {
            by_level
                .entry(level)
                .or_default()
                .entry(from)
                .or_default()
                .insert(to);
        }
        let mut circles = Vec::new();
        for (level, graph) in by_level {
            let reach = |start: &String| -> BTreeSet<String> {
                let mut seen = BTreeSet::new();
                let mut todo = vec![start.clone()];
                while let Some(n) = todo.pop() {
                    for next in graph.get(&n).into_iter().flatten() {
                        if seen.insert((*next).clone()) {
                            todo.push((*next).clone());
                        }
                    }
                }
                seen
            };
            let mut reported = BTreeSet::new();
            for &start in graph.keys() {
                if reported.contains(start) || !reach(start).contains(start) {
                    continue;
                }
                // The shortest way back to `start`, breadth first.
                let mut previous: BTreeMap<String, String> = BTreeMap::new();
                let mut queue = std::collections::VecDeque::from([start.clone()]);
                'search: while let Some(n) = queue.pop_front() {
                    for next in graph.get(&n).into_iter().flatten() {
                        if *next == start {
                            previous.insert(start.clone(), n.clone());
                            break 'search;
                        }
                        if !previous.contains_key(*next) {
                            previous.insert((*next).clone(), n.clone());
                            queue.push_back((*next).clone());
                        }
                    }
                }
                let mut circle = vec![start.clone()];
                let mut at = previous[start].clone();
                while at != *start {
                    circle.push(at.clone());
                    at = previous[&at].clone();
                }
                circle.push(start.clone());
                circle.reverse();
                // Everything on a circle through `start` belongs to this report.
                let back: BTreeSet<String> = reach(start)
                    .into_iter()
                    .filter(|n| reach(n).contains(start))
                    .collect();
                reported.extend(back.iter().cloned());
                circles.push(Circle {
                    level: level.clone(),
                    modules: circle,
                    tangle: back,
                });
            }
        }
        circles
    }
}

/// Children of `level` that import each other in a circle.
#[derive(Debug)]
struct Circle {
    level: Vec<String>,
    /// The modules it runs through, in order, the first one repeated at the end.
    modules: Vec<String>,
    /// Every child of `level` that is on some circle with these.
    tangle: BTreeSet<String>,
}

fn assert_no_module_circles(krate: &str) {
    let report = circle_report(krate, &workspace_root().join(krate).join("src"));
    assert!(
        report.is_empty(),
        "modules must not import each other in a circle (move what both need into a module \
         of its own, or down into the one that is used){report}"
    );
}

/// Every circle among the modules of the library in `src`, with where each step of it
/// is written, or nothing.
fn circle_report(krate: &str, src: &Path) -> String {
    let files = module_files(src);
    let graph = ModuleGraph::new(&files);
    let mut report = String::new();
    for Circle {
        level,
        modules: circle,
        tangle,
    } in graph.circles()
    {
        let name = |m: &String| [level.clone(), vec![m.clone()]].concat().join("::");
        let among = if level.is_empty() {
            "the top-level modules".to_owned()
        } else {
            format!("the children of `{}`", level.join("::"))
        };
        let names: Vec<String> = circle.iter().map(|m| format!("`{}`", name(m))).collect();
        report.push_str(&format!(
            "\n{krate}: {among} import each other in a circle: {}\n",
            names.join(" -> ")
        ));
        if tangle.len() + 1 > circle.len() {
            report.push_str(&format!(
                "  one of the circles among these {} modules, which all reach each other:\n",
                tangle.len()
            ));
            for from in &tangle {
                let used: Vec<String> = tangle
                    .iter()
                    .filter(|to| {
                        graph
                            .edges
                            .contains_key(&(level.clone(), from.clone(), (*to).clone()))
                    })
                    .map(|to| format!("`{to}`"))
                    .collect();
                report.push_str(&format!("    `{from}` uses {}\n", used.join(", ")));
            }
        }
        for pair in circle.windows(2) {
            let sites = &graph.edges[&(level.clone(), pair[0].clone(), pair[1].clone())];
            report.push_str(&format!(
                "  `{}` uses `{}`:\n",
                name(&pair[0]),
                name(&pair[1])
            ));
            for site in sites.iter().take(3) {
                report.push_str(&format!("    {site}\n"));
            }
            if sites.len() > 3 {
                report.push_str(&format!("    … and {} more\n", sites.len() - 3));
            }
        }
    }
    report
}

fn assert_layout_names_every_module(krate: &str) {
    let report = layout_report(krate, &workspace_root().join(krate).join("src"));
    assert!(report.is_empty(), "{report}");
}

/// What the `# Layout` section of `src/lib.rs`'s `//!` docs fails to mention of the
/// modules `lib.rs` declares (`mod name;`, any visibility, `tests` aside), or nothing.
fn layout_report(krate: &str, src: &Path) -> String {
    let lib = src.join("lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    let docs: Vec<&str> = source
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("//!"))
        .map(str::trim)
        .collect();
    if !docs.contains(&"# Layout") {
        return format!("{krate}/src/lib.rs has no `# Layout` section in its `//!` docs");
    }
    let layout: Vec<&str> = docs
        .iter()
        .skip_while(|l| **l != "# Layout")
        .skip(1)
        .take_while(|l| !l.starts_with("# "))
        .copied()
        .collect();
    let text = layout.join("\n");
    let missing: Vec<String> = scan_module(&lib, src)
        .files
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !text.contains(&format!("`{name}`")))
        .collect();
    match missing.first() {
        None => String::new(),
        Some(first) => format!(
            "{krate}/src/lib.rs declares modules its `# Layout` section does not mention: \
             {}; add a line for each, like \"- [`{first}`]: what lives there\"",
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    }
}

/// Whether `path` is `tests/<dir>/mod.rs` or `benches/<dir>/mod.rs`: Cargo's own way to
/// share helpers between test or benchmark targets, since a `tests/<dir>.rs` would be
/// built as a target of its own.
fn shared_by_targets(path: &std::path::Path) -> bool {
    let target_dir = path
        .parent()
        .and_then(|dir| dir.parent())
        .and_then(|dir| dir.file_name())
        .and_then(|name| name.to_str());
    matches!(target_dir, Some("tests" | "benches"))
}

/// Every `mod.rs` under `krate`, outside build output, installed packages and the
/// helpers Cargo's targets share ([`shared_by_targets`]).
fn assert_no_mod_rs(krate: &str) {
    let root = workspace_root();
    let mut found = Vec::new();
    let mut todo = vec![root.join(krate)];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if path.is_dir() {
                if !matches!(name, "target" | "node_modules") && !name.starts_with('.') {
                    todo.push(path);
                }
            } else if name == "mod.rs" && !shared_by_targets(&path) {
                found.push(path.strip_prefix(&root).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    assert!(
        found.is_empty(),
        "no `mod.rs` in the workspace: `foo.rs` beside `foo/` instead. Found: {}{}",
        found.join(", "),
        if found
            .iter()
            .any(|f| f.contains("/tests/") || f.contains("/benches/"))
        {
            " (under tests/ and benches/, Cargo builds a `foo.rs` as a target of its own: \
             share helpers from a directory beside a target's `main.rs`, or name the \
             targets in Cargo.toml)"
        } else {
            ""
        }
    );
}

/// The checks themselves, on a small crate written for them: references in comments,
/// strings and tests do not count; a re-export at the root, `super` and nested modules
/// do.
#[test]
fn the_module_checks_find_circles_and_gaps_in_a_crate_made_for_them() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let files = [
        (
            "lib.rs",
            "//! A crate.\n//!\n//! # Layout\n//! - [`a`]: one.\n//! - `b`: two.\n\
             //! - [`c`] and [`d::D`].\n//!\n//! # Other\n//! - `d`\n\
             pub mod a;\nmod b;\npub(crate) mod c;\n#[cfg(test)]\nmod tests;\nmod d;\n\
             pub use b::Thing;\n",
        ),
        (
            "a.rs",
            "use crate::Thing;\npub mod x;\npub mod y;\npub fn f() {}\n",
        ),
        ("a/x.rs", "use super::y::Y;\npub fn h() {}\n"),
        ("a/y.rs", "pub struct Y;\npub fn g() { crate::a::x::h() }\n"),
        ("b.rs", "pub struct Thing;\npub fn f() { super::a::f() }\n"),
        (
            "c.rs",
            "/* crate::d::D /* nested */ crate::d */\n// super::d::D\n\
             const S: &str = \"crate::d::D \\\" super::d\";\n\
             const R: &str = r#\"crate::d::D \" super::d\"#;\n\
             const Q: char = '\"';\nfn f<'a>(s: &'a str) -> &'a str { s }\n\
             pub struct C;\n#[cfg(test)]\nmod tests;\n\
             #[cfg(test)]\nmod tests {\n    use crate::d::D;\n}\n",
        ),
        ("c/tests.rs", "use crate::d::D;\n"),
        ("d.rs", "pub struct D(crate::c::C);\n"),
        ("tests.rs", "use crate::a::*;\n"),
    ];
    for (path, text) in files {
        let path = src.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    let circles = circle_report("made", &src);
    assert!(
        circles.contains("the top-level modules import each other in a circle: `a` -> `b` -> `a`"),
        "{circles}"
    );
    assert!(
        circles.contains("src/a.rs:1: crate::Thing") && circles.contains("src/b.rs:2: super::a::f"),
        "{circles}"
    );
    assert!(
        circles.contains(
            "the children of `a` import each other in a circle: `a::x` -> `a::y` -> `a::x`"
        ),
        "{circles}"
    );
    assert_eq!(circles.matches("in a circle").count(), 2, "{circles}");

    let layout = layout_report("made", &src);
    assert!(
        layout.contains("does not mention: `d`;"),
        "only `d` is missing, mentioned below the section: {layout}"
    );
}
