//! The root crate's map holds: `src/` is layered (panel → views → analysis/spot → day → csv →
//! io), dependencies point down only, and no two modules use each other in a circle.
//!
//! The check reads the sources: every `crate::…` path outside a file's `#[cfg(test)] mod tests`
//! is an edge from the file's module to the longest module it names (names the crate root
//! re-exports count as the module they come from). Tests may reach anywhere, so they are left
//! out.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Each layer's rank: a module may use modules of a lower rank, or of its own layer.
const LAYERS: &[(&str, u8)] = &[
    ("error", 0),
    ("synthetic", 0),
    ("io", 1),
    ("csv", 2),
    ("day", 3),
    ("analysis", 4),
    ("spot", 4),
    ("views", 5),
    ("panel", 6),
];

type Graph = BTreeMap<String, BTreeSet<String>>;

fn rank(module: &str) -> u8 {
    let layer = module.split("::").next().unwrap_or_default();
    LAYERS
        .iter()
        .find(|(name, _)| *name == layer)
        .map(|(_, rank)| *rank)
        .unwrap_or_else(|| panic!("module {module} is in no layer: add its folder to LAYERS"))
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/day/recovery/mod.rs` → `day::recovery`; `src/lib.rs` → `` (the root).
fn module_name(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts.join("::")
}

/// The code of a file without comments and without its unit tests.
fn code_without_tests(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path written after `crate::`, with `crate::{a::b, c}` groups expanded.
fn crate_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            paths.extend(inner.split(',').map(|item| path_prefix(item.trim())));
        } else {
            paths.push(path_prefix(rest));
        }
    }
    paths
}

fn path_prefix(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect::<String>()
        .trim_end_matches(':')
        .to_string()
}

/// Names the crate root re-exports (`pub use day::paths::{DayPaths, …}`) → their module.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for line in lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub use "))
    {
        let line = line.trim_end_matches(';');
        let (module, items) = match line.split_once("::{") {
            Some((module, items)) => (module, items.trim_end_matches('}')),
            None => line.rsplit_once("::").unwrap(),
        };
        for item in items.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            names.insert(item.to_string(), module.to_string());
        }
    }
    names
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let modules: BTreeMap<String, PathBuf> = files
        .iter()
        .map(|file| (module_name(&src, file), file.clone()))
        .collect();
    let reexports = root_reexports(&fs::read_to_string(src.join("lib.rs")).unwrap());
    let resolve = |path: &str| -> Option<String> {
        let path = match reexports.get(path.split("::").next()?) {
            Some(module) => module.clone(),
            None => path.to_string(),
        };
        let parts: Vec<&str> = path.split("::").collect();
        (1..=parts.len())
            .rev()
            .map(|n| parts[..n].join("::"))
            .find(|candidate| modules.contains_key(candidate))
    };
    let mut graph = Graph::new();
    for (module, file) in modules.iter().filter(|(m, _)| !m.is_empty()) {
        let code = code_without_tests(&fs::read_to_string(file).unwrap());
        let used = crate_paths(&code)
            .iter()
            .filter_map(|path| resolve(path))
            .filter(|used| used != module)
            .collect();
        graph.insert(module.clone(), used);
    }
    graph
}

/// A circle of modules reachable from `start` back to it, if there is one.
fn circle_through(graph: &Graph, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((module, path)) = stack.pop() {
        for next in graph.get(&module).into_iter().flatten() {
            if next == start {
                return Some(path.clone());
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn no_module_uses_a_module_of_a_higher_layer() {
    let upward: Vec<String> = graph()
        .iter()
        .flat_map(|(module, used)| {
            used.iter()
                .filter(|target| rank(target) > rank(module))
                .map(move |target| format!("{module} -> {target}"))
        })
        .collect();
    assert!(upward.is_empty(), "dependencies pointing up: {upward:#?}");
}

#[test]
fn analysis_and_spot_do_not_know_each_other() {
    let graph = graph();
    let across: Vec<String> = graph
        .iter()
        .flat_map(|(module, used)| {
            used.iter()
                .filter(|target| {
                    let (a, b) = (module.split("::").next(), target.split("::").next());
                    a != b && rank(module) == rank(target) && rank(module) == 4
                })
                .map(move |target| format!("{module} -> {target}"))
        })
        .collect();
    assert!(across.is_empty(), "{across:#?}");
}

#[test]
fn no_modules_use_each_other_in_a_circle() {
    let graph = graph();
    let circles: Vec<Vec<String>> = graph
        .keys()
        .filter_map(|module| circle_through(&graph, module))
        .collect();
    assert!(circles.is_empty(), "module circles: {circles:#?}");
}

#[test]
fn the_check_sees_the_crate() {
    // Guards the parser: if it stopped finding edges, the tests above would pass vacuously.
    let graph = graph();
    assert!(graph["day::update"].contains("day::recovery"));
    assert!(
        graph["analysis::heuristics"].contains("day"),
        "root re-export of Day"
    );
    assert!(graph["panel::investigation"].contains("spot::upload"));
}

#[test]
fn src_root_holds_at_most_eight_files() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let root_files: Vec<String> = fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(root_files.len() <= 8, "{root_files:?}");
}
