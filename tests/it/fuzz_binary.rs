//! Binary-level fuzzing: random bytes and mutated bundles fed to `ripen
//! import`, random argument lists to every command, each run against a copy
//! of a populated database. Every run exits with a documented code (0-4);
//! a failure writes exactly one line to stderr and never panics; a refusal
//! leaves the database files byte-for-byte as they were. Seeded (set
//! PROPTEST_RNG_SEED to explore) and kept small so CI stays fast.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use proptest::prelude::*;

use crate::util::{snapshot, stderr, stdout, Desk, EDITOR};

fn config(cases: u32) -> ProptestConfig {
    crate::util::proptest_config(cases, 0x6675_7a7a)
}

fn desk_bundle_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/desk.json")
}

/// The desk's bundle imported once; every case works on a copy of its files.
fn template() -> &'static Desk {
    static TEMPLATE: OnceLock<Desk> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let desk = Desk::empty();
        desk.ok(&["import", desk_bundle_path().to_str().unwrap()]);
        desk
    })
}

/// A fresh copy of the populated database.
fn populated() -> Desk {
    let desk = Desk::empty();
    for suffix in ["", "-wal"] {
        let from = PathBuf::from(format!("{}{suffix}", template().db.display()));
        if from.exists() {
            std::fs::copy(&from, format!("{}{suffix}", desk.db.display())).unwrap();
        }
    }
    desk
}

/// The documented exit codes, one stderr line on failure, no panic, and the
/// database files untouched unless the run succeeded.
fn check(desk: &Desk, run: impl FnOnce() -> Output, shown: &str) -> Result<i32, TestCaseError> {
    let before = snapshot(&desk.db);
    let out = run();
    let err = stderr(&out);
    prop_assert!(!err.contains("panicked"), "`{}` panicked: {}", shown, err);
    let code = out.status.code();
    prop_assert!(matches!(code, Some(0..=4)), "`{}` exited with {:?}: {}", shown, code, err);
    let code = code.unwrap_or(-1);
    if code != 0 {
        let line = err.strip_suffix('\n').unwrap_or(&err);
        prop_assert!(!line.trim().is_empty(), "`{}` failed ({}) with nothing on stderr", shown, code);
        prop_assert!(!line.contains('\n'), "`{}` wrote more than one line on stderr: {}", shown, err);
        if code != 3 {
            prop_assert!(out.stdout.is_empty(), "`{}` failed but printed {}", shown, stdout(&out));
        }
        prop_assert!(
            snapshot(&desk.db) == before,
            "`{}` failed ({}) but changed the database files: {}",
            shown,
            code,
            err
        );
    }
    Ok(code)
}

fn import_file(desk: &Desk, who: Option<&str>, bytes: &[u8], shown: &str) -> Result<i32, TestCaseError> {
    let file = desk.dir.path().join("fuzz.bundle");
    std::fs::write(&file, bytes).unwrap();
    let file = file.to_str().unwrap().to_string();
    check(
        desk,
        || match who {
            Some(w) => desk.run_as(w, &["import", &file]),
            None => desk.run(&["import", &file]),
        },
        shown,
    )
}

/// One change to a bundle's bytes: at a fraction of its length, flip a bit,
/// drop a byte, insert one, or cut the rest off.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(f64, u8),
    Drop(f64),
    Insert(f64, u8),
    Truncate(f64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = prop_oneof![any::<u8>(), prop::sample::select(b"{}[]\",:0 \\\n".to_vec())];
    prop_oneof![
        4 => (0.0..1.0f64, 0u8..8).prop_map(|(at, bit)| Mutation::Flip(at, 1 << bit)),
        2 => (0.0..1.0f64).prop_map(Mutation::Drop),
        3 => (0.0..1.0f64, byte).prop_map(|(at, b)| Mutation::Insert(at, b)),
        1 => (0.0..1.0f64).prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let at = |f: f64, len: usize| ((f * len as f64) as usize).min(len.saturating_sub(1));
        match *m {
            Mutation::Flip(f, bit) if !bytes.is_empty() => {
                let i = at(f, bytes.len());
                bytes[i] ^= bit;
            }
            Mutation::Drop(f) if !bytes.is_empty() => {
                bytes.remove(at(f, bytes.len()));
            }
            Mutation::Insert(f, b) => bytes.insert(at(f, bytes.len() + 1), b),
            Mutation::Truncate(f) => bytes.truncate(at(f, bytes.len() + 1)),
            _ => {}
        }
    }
    bytes
}

/// Words an argument list is made of: commands, options, names that exist
/// and names that do not, hostile text.
const WORDS: &[&str] = &[
    "init",
    "actor",
    "topic",
    "source",
    "claim",
    "promote",
    "demote",
    "badge",
    "why",
    "review",
    "history",
    "log",
    "diff",
    "revert",
    "verify",
    "import",
    "export",
    "search",
    "reindex",
    "backup",
    "completions",
    "add",
    "edit",
    "list",
    "show",
    "role",
    "grade",
    "mark",
    "map",
    "cite",
    "uncite",
    "--as",
    "--json",
    "--reason",
    "--override",
    "--force",
    "--topic",
    "--title",
    "--grade",
    "--badge",
    "--format",
    "--as-of",
    "--text",
    "--cite",
    "--key",
    "--stance",
    "--since",
    "--until",
    "--limit",
    "--expect-head",
    "--editor",
    "--role",
    "--help",
    "-p",
    "editor",
    "remy",
    "marlo",
    "ines",
    "nobody",
    "@remy",
    "C1",
    "C12",
    "C999",
    "S1",
    "S3",
    "S99",
    "E1",
    "E5",
    "E99999",
    "D1",
    "0",
    "-1",
    "18446744073709551616",
    "cost-of-pass-frontier",
    "compute-economy",
    "no-such-topic",
    "A",
    "B",
    "F",
    "Z",
    "well-sourced",
    "caveat",
    "contested",
    "unsourced",
    "supports",
    "contradicts",
    "html",
    "markdown",
    "json",
    "jsonl",
    "csv",
    "claimreview",
    "2026-05-30",
    "0000-01-01",
    "9999-12-31T23:30:00-01:00",
    "yesterday",
    "-",
    "",
    " ",
    "'; DROP TABLE claims; --",
    "<script>",
    "\u{202E}",
    "🦀",
];

/// Every command path, so that most lists get past the command's name.
const COMMANDS: &[&str] = &[
    "actor add",
    "actor role",
    "actor list",
    "topic add",
    "topic edit",
    "topic list",
    "topic show",
    "topic log",
    "source add",
    "source grade",
    "source mark",
    "source map",
    "source show",
    "source list",
    "claim add",
    "claim edit",
    "claim cite",
    "claim uncite",
    "claim show",
    "promote",
    "demote",
    "badge",
    "why",
    "review",
    "history",
    "log",
    "diff",
    "revert",
    "verify",
    "import",
    "export",
    "search",
    "backup",
    "init",
];

fn argv() -> impl Strategy<Value = Vec<String>> {
    let word = prop_oneof![
        8 => prop::sample::select(WORDS).prop_map(str::to_string),
        1 => "[a-zA-Z0-9@:./_-]{0,12}",
    ];
    let command = prop_oneof![
        6 => prop::sample::select(COMMANDS).prop_map(|c| c.split(' ').map(str::to_string).collect::<Vec<_>>()),
        1 => Just(Vec::new()),
    ];
    (command, prop::collection::vec(word, 0..4)).prop_map(|(mut c, rest)| {
        c.extend(rest);
        c
    })
}

proptest! {
    #![proptest_config(config(32))]

    /// Random bytes as a bundle, alone or behind a valid start.
    #[test]
    fn import_of_random_bytes_keeps_every_promise(
        prefix in prop::sample::select(vec![
            "",
            "{\"type\": \"header\", \"format\": \"ripen-bundle/1\"}\n",
            "{\"format\": \"ripen-bundle/1\", \"claims\": [",
        ]),
        bytes in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        let desk = populated();
        let mut content = prefix.as_bytes().to_vec();
        content.extend_from_slice(&bytes);
        import_file(&desk, Some(EDITOR), &content, "import <random bytes>")?;
    }

    /// The desk's bundle with a few random mutations, into the populated
    /// database and into a new one.
    #[test]
    fn import_of_a_mutated_bundle_keeps_every_promise(mutations in prop::collection::vec(mutation(), 1..6)) {
        let bundle = mutate(std::fs::read(desk_bundle_path()).unwrap(), &mutations);
        let desk = populated();
        import_file(&desk, Some(EDITOR), &bundle, &format!("import <desk.json with {mutations:?}>"))?;
        let fresh = Desk::empty();
        let code = import_file(&fresh, None, &bundle, &format!("import into a new database <{mutations:?}>"))?;
        if code != 0 {
            prop_assert!(!fresh.db.exists(), "a refused import into a new database left {}", fresh.db.display());
        }
    }

}

proptest! {
    // Most random lists are usage errors (exit 2); enough cases get past
    // clap to reach the commands' own refusals.
    #![proptest_config(config(96))]

    /// Random argument lists, as the editor, as a reviewer or as nobody.
    #[test]
    fn random_arguments_keep_every_promise(
        args in argv(),
        who in prop::sample::select(vec![Some("editor"), Some("ines"), None]),
    ) {
        let desk = populated();
        let shown = format!("ripen {} (as {who:?})", args.join(" "));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        check(&desk, || match who {
            Some(w) => desk.run_as(w, &args),
            None => desk.run(&args),
        }, &shown)?;
    }
}
