//! Sign-in tokens from the command line: `token add` prints the secret once
//! and stores only its digest, `token list` never shows it, `token revoke`
//! ends it; both changes are audited events that hold no secret, and
//! `verify` covers the token table (a swapped digest is noticed).

use crate::util::*;

fn add(desk: &Desk, handle: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["token", "add", handle];
    args.extend_from_slice(extra);
    desk.json_as(EDITOR, &args)
}

#[test]
fn a_token_is_shown_once_and_stored_only_as_a_digest() {
    let desk = Desk::with_topic();
    let made = add(&desk, RESEARCHER, &["--name", "marlo's laptop", "--expires", "90d"]);
    let token = s(&made, "token").to_string();
    let prefix = s(&made, "id").to_string();
    assert!(token.starts_with("ripen_") && token.len() == 49, "{token}");
    assert!(token.starts_with(&prefix) && prefix.len() < 20, "{prefix}");
    assert_eq!(s(&made, "actor"), RESEARCHER);
    assert_eq!(s(&made, "expires_at"), "2026-08-28T09:00:00Z");
    assert!(s(&made, "event").starts_with('E'));

    // The text form prints it too, on a line of its own.
    let text = desk.text_as(EDITOR, &["token", "add", REVIEWER]);
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("ripen_") && first.len() == 49, "{text}");
    assert!(text.contains("not shown again"), "{text}");

    // Nowhere in the file: not in the tables, not in any event.
    let bytes = std::fs::read(&desk.db).unwrap();
    let wal = std::fs::read(format!("{}-wal", desk.db.display())).unwrap_or_default();
    let random = &token["ripen_".len() + 10..];
    for hay in [&bytes, &wal] {
        assert!(!hay.windows(random.len()).any(|w| w == random.as_bytes()), "the secret is stored");
    }
    for e in desk.events() {
        let all = format!("{:?}", e);
        assert!(!all.contains(&token) && !all.contains(random), "{all}");
    }
    let digest: String =
        desk.conn().query_row("SELECT digest FROM tokens WHERE prefix = ?1", [&prefix], |r| r.get(0)).unwrap();
    use sha2::Digest as _;
    assert_eq!(digest, hex(&sha2::Sha256::digest(token.as_bytes())));

    // The event says who made what for whom, with the label.
    let e = desk.events().into_iter().find(|e| e.action == "token.add").unwrap();
    assert_eq!(e.entity, format!("token:{prefix}"));
    assert_eq!(e.actor, EDITOR);
    let after = e.after_json().unwrap();
    assert_eq!(after["actor"], RESEARCHER);
    assert_eq!(after["label"], "marlo's laptop");

    // list: every field but the secret.
    let rows = desk.jsonl(&["token", "list"]);
    assert_eq!(rows.len(), 2);
    let row = rows.iter().find(|r| r["id"] == prefix.as_str()).unwrap();
    assert_eq!(row["label"], "marlo's laptop");
    assert_eq!(row["actor"], RESEARCHER);
    assert_eq!(row["created_at"], NOW);
    assert!(row["last_used"].is_null() && row["revoked_at"].is_null());
    assert_eq!(row["expires_at"], "2026-08-28T09:00:00Z");
    let listed = desk.text(&["token", "list"]);
    assert!(listed.contains(&prefix) && !listed.contains(random), "{listed}");
    assert!(!serde_json::to_string(&rows).unwrap().contains(random));
    desk.ok(&["verify"]);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn revoking_is_an_event_with_its_reason_and_happens_once() {
    let desk = Desk::with_topic();
    let prefix = s(&add(&desk, RESEARCHER, &[]), "id").to_string();
    let done = desk.json_as(EDITOR, &["token", "revoke", &prefix, "--reason", "laptop lost"]);
    assert_eq!(s(&done, "id"), prefix);
    let e = desk.last_event();
    assert_eq!((e.action.as_str(), e.reason.as_deref()), ("token.revoke", Some("laptop lost")));
    assert_eq!(e.after_json().unwrap()["revoked_by"], EDITOR);
    let row = desk.jsonl(&["token", "list"]).remove(0);
    assert_eq!(row["revoked_at"], NOW);

    let before = desk.file_bytes();
    let msg = desk.refused(Some(EDITOR), &["token", "revoke", &prefix, "--reason", "again"], 1);
    assert!(msg.contains("already revoked"), "{msg}");
    let msg = desk.refused(Some(EDITOR), &["token", "revoke", "ripen_nosuchtoke", "--reason", "r"], 1);
    assert!(msg.contains("no token"), "{msg}");
    desk.refused(Some(EDITOR), &["token", "revoke", &prefix, "--reason", " "], 1);
    // A token's own actor may revoke it; nobody else but an editor.
    let own = s(&add(&desk, REVIEWER, &[]), "id").to_string();
    let before_own = desk.file_bytes();
    desk.refused(Some(RESEARCHER), &["token", "revoke", &own, "--reason", "r"], 4);
    assert_eq!(desk.file_bytes(), before_own);
    desk.ok_as(REVIEWER, &["token", "revoke", &own, "--reason", "mine, not needed"]);
    // Reverting a token change is refused: a revoked secret does not come back.
    let msg = desk.refused(Some(EDITOR), &["revert", &e.id().to_string(), "--reason", "undo"], 1);
    assert!(msg.contains("not reverted"), "{msg}");
    let _ = before;
    desk.ok(&["verify"]);
}

#[test]
fn bad_token_input_is_refused_and_writes_nothing() {
    let desk = Desk::with_topic();
    let before = desk.file_bytes();
    for (who, args, code) in [
        (EDITOR, vec!["token", "add", "ghost"], 1),
        (EDITOR, vec!["token", "add", RESEARCHER, "--expires", "soon"], 1),
        (EDITOR, vec!["token", "add", RESEARCHER, "--expires", "0d"], 1),
        (EDITOR, vec!["token", "add", "Not A Handle"], 1),
        (RESEARCHER, vec!["token", "add", RESEARCHER], 4),
        (REVIEWER, vec!["token", "add", REVIEWER], 4),
    ] {
        desk.refused(Some(who), &args, code);
    }
    assert_eq!(desk.file_bytes(), before);
}

#[test]
fn verify_covers_tokens_and_finds_a_swapped_digest() {
    let desk = Desk::with_topic();
    let prefix = s(&add(&desk, RESEARCHER, &[]), "id").to_string();
    desk.ok(&["verify"]);
    // Someone with write access to the file swaps in the digest of a token they know.
    desk.conn_rw().execute("UPDATE tokens SET digest = ?1 WHERE prefix = ?2", [&"0".repeat(64), &prefix]).unwrap();
    let out = desk.run(&["--json", "verify"]);
    assert_eq!(out.status.code(), Some(3));
    let report = parse_json(&out);
    assert!(report["problems"].to_string().contains(&format!("token:{prefix}")), "{report}");
    // `last used` is not audited: changing it is not a problem.
    let desk = Desk::with_topic();
    let prefix = s(&add(&desk, RESEARCHER, &[]), "id").to_string();
    desk.conn_rw()
        .execute("INSERT INTO token_uses (prefix, last_used) VALUES (?1, '2026-06-01T00:00:00Z')", [&prefix])
        .unwrap();
    desk.ok(&["verify"]);
    assert_eq!(desk.jsonl(&["token", "list"])[0]["last_used"], "2026-06-01T00:00:00Z");
}
