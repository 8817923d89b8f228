//! The crate's layering, checked from its source: every `crate::...` and
//! `super::...` path of every file, in a `use` or written in code, is an
//! edge from that file's module to the module it names. The test fails on a cycle between two files
//! (modules) and on a layer that imports one above it.
//!
//! Hand-written because the checkers that exist (cargo-modules and the like)
//! are binaries to install, not tests that run in `cargo test`; a path
//! reader is enough for a crate that names its own modules by path, as this
//! one does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules, lowest first: each may import only itself and those
/// before it.
const LAYERS: &[&[&str]] = &[
    &["domain"],
    &["jobs"],
    &["ports"],
    &["adapters", "telemetry", "tokenizer", "metrics"],
    // The wiring builds the production retriever.
    &["ingest", "config", "wiring"],
    &["app"],
    &["http"],
];

fn layer_of(module: &str) -> usize {
    let top = module.split("::").next().unwrap_or(module);
    LAYERS
        .iter()
        .position(|layer| layer.contains(&top))
        .unwrap_or_else(|| panic!("module {module} is in no layer; add it to LAYERS"))
}

/// `src/http/auth.rs` -> `http::auth`; `src/ports/mod.rs` -> `ports`.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts.join("::")
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The `use` statements of a file, each joined onto one line, outside test
/// modules (a `#[cfg(test)] mod tests` may reach anywhere).
fn use_statements(text: &str) -> Vec<String> {
    let code = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut statements = Vec::new();
    let mut current: Option<String> = None;
    for line in code.lines().map(str::trim) {
        if let Some(open) = current.as_mut() {
            open.push_str(line);
        } else if line.starts_with("use ") || line.starts_with("pub use ") {
            current = Some(line.to_owned());
        }
        if current.as_ref().is_some_and(|s| s.ends_with(';')) {
            statements.extend(current.take());
        }
    }
    statements
}

/// Every `crate::` or `super::` path written in a file's code outside `use`
/// statements (`super::sms::SmsTables` as a field's type, `crate::x::f()`
/// in a body), each as a statement `targets` reads, outside comments,
/// strings and test modules: an import is an import however it is
/// written.
fn inline_paths(text: &str) -> Vec<String> {
    let code = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut paths = Vec::new();
    for line in code.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("use ") || trimmed.starts_with("pub use ") {
            continue;
        }
        let code = code_of(line);
        let mut rest = code.as_str();
        while let Some(at) = ["crate::", "super::"]
            .iter()
            .filter_map(|root| rest.find(root))
            .min()
        {
            let preceded = rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            if !preceded {
                paths.push(tail[..end].trim_end_matches(':').to_owned());
            }
            rest = &tail[end.max(1)..];
        }
    }
    paths
}

/// A line without its comment and the insides of its string literals.
fn code_of(line: &str) -> String {
    let mut code = String::new();
    let mut chars = line.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_string = false;
                    code.push(c);
                }
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                code.push(c);
            }
            '/' if chars.peek() == Some(&'/') => break,
            _ => code.push(c),
        }
    }
    code
}

/// The modules a `use` names, resolved against the importing module, as
/// far as they are modules of this crate: `use super::x::{A, b::C}` from
/// `http::auth` names `http::x` and `http::x::b`. Names that are items, not
/// modules, are cut off at the longest known module.
fn targets(statement: &str, from: &str, known: &BTreeSet<String>) -> Vec<String> {
    let path = statement
        .trim_start_matches("pub ")
        .trim_start_matches("use ")
        .trim_end_matches(';');
    let (base, rest) = if let Some(rest) = path.strip_prefix("crate::") {
        (Vec::new(), rest)
    } else if path.starts_with("super::") {
        let mut base: Vec<&str> = from.split("::").collect();
        let mut rest = path;
        while let Some(tail) = rest.strip_prefix("super::") {
            base.pop();
            rest = tail;
        }
        (base, rest)
    } else {
        return Vec::new();
    };
    let mut full = Vec::new();
    expand(&base.join("::"), rest, &mut full);
    full.into_iter()
        .filter_map(|candidate| {
            let mut parts: Vec<&str> = candidate.split("::").collect();
            while !parts.is_empty() {
                let joined = parts.join("::");
                if known.contains(&joined) {
                    return Some(joined);
                }
                parts.pop();
            }
            None
        })
        .collect()
}

/// Expands `a::{b, c::{d}}` into `a::b`, `a::c::d`.
fn expand(prefix: &str, tree: &str, out: &mut Vec<String>) {
    let join = |p: &str, s: &str| match (p.is_empty(), s.is_empty()) {
        (true, _) => s.to_owned(),
        (_, true) => p.to_owned(),
        _ => format!("{p}::{s}"),
    };
    match tree.find('{') {
        None => out.push(join(prefix, tree.trim())),
        Some(open) => {
            let head = tree[..open].trim().trim_end_matches("::");
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let prefix = join(prefix, head);
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&prefix, &inner[start..i], out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            if !inner[start..].trim().is_empty() {
                expand(&prefix, &inner[start..], out);
            }
        }
    }
}

fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeMap<String, PathBuf> = files
        .into_iter()
        .map(|f| (module_of(&src, &f), f))
        .filter(|(m, _)| !m.is_empty() && !m.ends_with("tests") && !m.ends_with("_test"))
        .collect();
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(module, file)| {
            let text = std::fs::read_to_string(file).unwrap();
            let edges = use_statements(&text)
                .into_iter()
                .chain(inline_paths(&text))
                .flat_map(|s| targets(&s, module, &known))
                // A module's own children and itself are not dependencies.
                .filter(|t| t != module && !t.starts_with(&format!("{module}::")))
                .collect();
            (module.clone(), edges)
        })
        .collect()
}

#[test]
fn no_layer_imports_a_layer_above_it() {
    let mut upward = Vec::new();
    for (module, targets) in import_graph() {
        for target in targets {
            if layer_of(&target) > layer_of(&module) {
                upward.push(format!("{module} -> {target}"));
            }
        }
    }
    assert!(upward.is_empty(), "imports pointing up: {upward:#?}");
}

#[test]
fn no_two_modules_import_each_other_even_through_others() {
    let graph = import_graph();
    // Depth-first search for a back edge; reports the first cycle found.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        if let Some(cycle) = visit(module, &graph, &mut Vec::new(), &mut done) {
            panic!("an import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_checker_sees_nested_and_relative_imports() {
    let known: BTreeSet<String> = ["http", "http::auth", "http::error", "ports", "ports::store"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let found = targets(
        "use super::{auth::Caller, error::ApiError};",
        "http::member",
        &known,
    );
    assert_eq!(found, ["http::auth", "http::error"]);
    let found = targets(
        "use crate::ports::{StoreError, store::{KeyStore}};",
        "app::x",
        &known,
    );
    assert_eq!(found, ["ports", "ports::store"]);
}

#[test]
fn the_checker_sees_paths_written_in_code_and_not_in_comments_or_strings() {
    let text = "pub(super) sms: super::sms::SmsTables, // crate::http::x\n\
                let x = crate::app::widget::refused(w, \"super::y\");\n\
                let y = a_super::z;\n";
    assert_eq!(
        inline_paths(text),
        ["super::sms::SmsTables", "crate::app::widget::refused"]
    );
}

#[test]
fn the_domain_and_the_ports_name_no_aws_http_or_storage_type() {
    const FOREIGN: &[&str] = &["aws_", "axum", "lambda_http", "http::", "reqwest", "hyper"];
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut leaks = Vec::new();
    for layer in ["domain", "ports", "jobs/mod.rs"] {
        let mut files = Vec::new();
        let path = src.join(layer);
        if path.is_dir() {
            rust_files(&path, &mut files);
        } else {
            files.push(path);
        }
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for statement in use_statements(&text) {
                let path = statement
                    .trim_start_matches("pub ")
                    .trim_start_matches("use ");
                if FOREIGN.iter().any(|f| path.starts_with(f)) {
                    leaks.push(format!("{}: {statement}", module_of(&src, &file)));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
}

#[test]
fn handlers_workers_and_services_know_the_ports_only() {
    let leaks: Vec<String> = import_graph()
        .into_iter()
        .filter(|(module, _)| {
            ["http", "app", "ingest"].contains(&module.split("::").next().unwrap_or(""))
        })
        .flat_map(|(module, targets)| {
            targets
                .into_iter()
                .filter(|t| t.starts_with("adapters"))
                .map(move |t| format!("{module} -> {t}"))
        })
        .collect();
    assert!(leaks.is_empty(), "{leaks:#?}");
}
