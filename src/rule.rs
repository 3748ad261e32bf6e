//! The evidence rule: from a claim's citations to the badge its evidence
//! earns, with an explanation a reviewer can read line by line.
//!
//! Pure: no database, no clock. Counting only citations whose source is not
//! hallucinated, retracted or dead-link:
//! 1. `contested` if an A/B source contradicts the claim;
//! 2. else `well-sourced` if at least two independent A/B sources support it
//!    (independent = different publisher; no publisher counts as its own);
//! 3. else `caveat` if any source supports it;
//! 4. else `unsourced`.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::model::{Badge, Grade, Role, Stance, Status};

/// What the rule needs to know about one citation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Evidence {
    /// Shown id, e.g. `S3`.
    pub source: crate::ids::SourceId,
    pub title: String,
    pub publisher: Option<String>,
    pub grade: Grade,
    pub status: Status,
    pub stance: Stance,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Earned {
    pub badge: Badge,
    /// One line per citation, then the verdict (`earned: ...`).
    pub explanation: Vec<String>,
    /// The verdict alone: "caveat: only one independent A/B source ...".
    pub verdict: String,
}

fn short_title(title: &str) -> String {
    const MAX: usize = 60;
    if title.chars().count() <= MAX {
        title.to_string()
    } else {
        let cut: String = title.chars().take(MAX - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

fn describe(e: &Evidence) -> String {
    let publisher = e.publisher.as_deref().filter(|p| !p.trim().is_empty()).unwrap_or("no publisher");
    format!("{} {} ({}, {}, {})", e.source, short_title(&e.title), e.grade, publisher, e.status)
}

/// Who stands behind a source, for independence: its publisher, or the
/// source itself when it names none.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Independence {
    Publisher(String),
    Source(crate::ids::SourceId),
}

/// Publishers compare case-insensitively; a source without one is its own.
/// No text is built for a source without a publisher: the rule runs for
/// every claim an import adds.
fn independence_key(e: &Evidence) -> Independence {
    match e.publisher.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Independence::Publisher(p.to_lowercase()),
        None => Independence::Source(e.source),
    }
}

/// What the rule made of one citation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finding {
    Ignored,
    StrongContradiction,
    WeakContradiction,
    IndependentSupport,
    SamePublisherSupport,
    WeakSupport,
    Context,
}

struct Assessment {
    badge: Badge,
    findings: Vec<Finding>,
    independent: usize,
}

/// The rule itself, without any words: one pass over the citations.
fn assess(citations: &[Evidence]) -> Assessment {
    let mut strong_support = BTreeSet::new();
    let mut findings = Vec::with_capacity(citations.len());
    for e in citations {
        let finding = if e.status.is_excluded() {
            Finding::Ignored
        } else {
            match (e.stance, e.grade.is_strong()) {
                (Stance::Contradicts, true) => Finding::StrongContradiction,
                (Stance::Contradicts, false) => Finding::WeakContradiction,
                (Stance::Supports, true) if strong_support.insert(independence_key(e)) => Finding::IndependentSupport,
                (Stance::Supports, true) => Finding::SamePublisherSupport,
                (Stance::Supports, false) => Finding::WeakSupport,
                (Stance::Context, _) => Finding::Context,
            }
        };
        findings.push(finding);
    }
    let has = |f: Finding| findings.contains(&f);
    let independent = strong_support.len();
    let badge = if has(Finding::StrongContradiction) {
        Badge::Contested
    } else if independent >= 2 {
        Badge::WellSourced
    } else if has(Finding::IndependentSupport) || has(Finding::WeakSupport) {
        Badge::Caveat
    } else {
        Badge::Unsourced
    };
    Assessment { badge, findings, independent }
}

/// Just the earned badge, for hot paths (imports, re-evaluation).
pub(crate) fn earned_only(citations: &[Evidence]) -> Badge {
    assess(citations).badge
}

/// The earned badge with its explanation, line by line.
pub(crate) fn earned_badge(citations: &[Evidence]) -> Earned {
    let Assessment { badge, findings, independent } = assess(citations);
    let mut lines = Vec::with_capacity(citations.len() + 1);
    let mut contradiction: Option<&Evidence> = None;
    for (e, finding) in citations.iter().zip(&findings) {
        let who = describe(e);
        lines.push(match finding {
            Finding::Ignored => format!("{who} {}: ignored, the source is {}", e.stance, e.status),
            Finding::StrongContradiction => {
                contradiction.get_or_insert(e);
                format!("{who} contradicts: an A/B source against the claim makes it contested")
            }
            Finding::WeakContradiction => {
                format!("{who} contradicts: grade {} is too weak to make the claim contested", e.grade)
            }
            Finding::IndependentSupport => format!("{who} supports: counts as an independent A/B source"),
            Finding::SamePublisherSupport => {
                format!("{who} supports: same publisher as an earlier A/B source, not independent")
            }
            Finding::WeakSupport => format!("{who} supports: grade {} counts towards caveat only", e.grade),
            Finding::Context => format!("{who} gives context: does not count either way"),
        });
    }
    let verdict = match (badge, contradiction) {
        (Badge::Contested, Some(e)) => format!("contested: {} (grade {}) contradicts the claim", e.source, e.grade),
        (Badge::WellSourced, _) => format!("well-sourced: {independent} independent A/B sources support the claim"),
        (Badge::Caveat, _) if independent == 1 => {
            "caveat: only one independent A/B source supports the claim; well-sourced needs two".to_string()
        }
        (Badge::Caveat, _) => {
            "caveat: no A/B source supports the claim; well-sourced needs two independent ones".to_string()
        }
        _ if citations.is_empty() => "unsourced: the claim cites no source".to_string(),
        _ => "unsourced: no counted source supports the claim".to_string(),
    };
    lines.push(format!("earned: {verdict}"));
    Earned { badge, explanation: lines, verdict }
}

/// What would move the earned badge, in words: the evidence that would
/// raise it, then, citation by citation, the regrading or status change that
/// would move it (found by re-running the rule on the changed evidence, so
/// the sentences cannot disagree with the rule). Pure, like the rule.
pub(crate) fn next_moves(citations: &[Evidence]) -> Vec<String> {
    let Assessment { badge, findings, independent } = assess(citations);
    let mut out = Vec::new();
    let strong_publishers: Vec<&Evidence> =
        citations.iter().zip(&findings).filter(|(_, f)| **f == Finding::IndependentSupport).map(|(e, _)| e).collect();
    match badge {
        Badge::Unsourced => {
            out.push("any source that supports it would earn caveat".to_string());
            out.push("two A/B sources from different publishers that support it would earn well-sourced".to_string());
        }
        Badge::Caveat if independent == 1 => {
            let e = strong_publishers[0];
            let other = match e.publisher.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                Some(p) => format!(" from a publisher other than {p}"),
                None => String::new(),
            };
            out.push(format!("one more A/B source{other} that supports it would earn well-sourced"));
        }
        Badge::Caveat => {
            out.push("two A/B sources from different publishers that support it would earn well-sourced".to_string());
        }
        Badge::WellSourced | Badge::Contested => {}
    }
    if badge != Badge::Contested {
        out.push("an A/B source that contradicts it would make it contested".to_string());
    }
    for (i, (e, finding)) in citations.iter().zip(&findings).enumerate() {
        let mut changes: Vec<(String, Badge)> = Vec::new();
        let mut try_change = |what: String, change: &dyn Fn(&mut Evidence)| {
            let mut changed = citations.to_vec();
            change(&mut changed[i]);
            let moved = assess(&changed).badge;
            if moved != badge {
                changes.push((what, moved));
            }
        };
        if *finding == Finding::Ignored {
            try_change(format!("were no longer {}", e.status), &|c| c.status = Status::Verified);
        } else if e.stance != Stance::Context {
            if e.grade.is_strong() {
                try_change("were regraded below B".to_string(), &|c| c.grade = Grade::C);
            } else {
                try_change("were regraded A or B".to_string(), &|c| c.grade = Grade::B);
            }
            try_change("were marked retracted".to_string(), &|c| c.status = Status::Retracted);
        }
        if changes.is_empty() {
            continue;
        }
        let role = match finding {
            Finding::StrongContradiction => "makes it contested",
            Finding::IndependentSupport | Finding::WeakSupport if badge != Badge::Contested => "counts towards it",
            Finding::Ignored => "is ignored",
            _ => "does not move it now",
        };
        // "regraded below B or marked retracted" when both lead to the same badge.
        let mut clauses: Vec<(Vec<String>, Badge)> = Vec::new();
        for (what, to) in changes {
            match clauses.iter_mut().find(|(_, b)| *b == to) {
                Some((whats, _)) => whats.push(what),
                None => clauses.push((vec![what], to)),
            }
        }
        let clauses: Vec<String> = clauses
            .into_iter()
            .map(|(whats, to)| {
                let whats: Vec<String> = whats
                    .iter()
                    .enumerate()
                    .map(|(j, w)| if j == 0 { w.clone() } else { w.replacen("were ", "", 1) })
                    .collect();
                format!("if {} {}, the claim would earn {to}", e.source, whats.join(" or "))
            })
            .collect();
        out.push(format!("{} ({}, {}) {role}; {}", e.source, e.grade, e.stance, clauses.join("; ")));
    }
    if badge == Badge::Contested && !out.iter().any(|l| l.contains("makes it contested")) {
        let against: Vec<String> = citations
            .iter()
            .zip(&findings)
            .filter(|(_, f)| **f == Finding::StrongContradiction)
            .map(|(e, _)| e.source.to_string())
            .collect();
        out.push(format!("{} each make it contested: it stays contested while any of them counts", against.join(", ")));
    }
    out
}

/// What the rules make of one badge transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Judgement {
    /// Allowed; `is_override` when the new badge is above what the evidence earns.
    Allowed { is_override: bool },
    /// Only editors may do this: any move after creation, or a badge above
    /// the evidence at creation.
    EditorsOnly,
    /// Raising a badge above the evidence needs an explicit override.
    NeedsOverride,
}

/// The one decision on a badge transition, for every path that sets a badge
/// (a live move, a claim created with a badge, a revert, imported history):
/// `from` is `None` at creation; `earned` is what the evidence earns at that
/// moment; `with_override` whether an override was asked for. Moving down
/// towards the evidence never needs an override, even when the new badge is
/// still above what the evidence earns. Reasons are checked by the callers
/// (each says how to give one).
pub(crate) fn judge(role: Role, from: Option<Badge>, to: Badge, earned: Badge, with_override: bool) -> Judgement {
    let is_override = to.is_above(earned);
    if (from.is_some() || is_override) && role != Role::Editor {
        return Judgement::EditorsOnly;
    }
    let raises = from.is_none_or(|f| to.rank() >= f.rank());
    if is_override && raises && !with_override {
        return Judgement::NeedsOverride;
    }
    Judgement::Allowed { is_override }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(source: &str, publisher: Option<&str>, grade: Grade, status: Status, stance: Stance) -> Evidence {
        Evidence {
            source: source.parse().expect("test source ids are well formed"),
            title: format!("Title of {source}"),
            publisher: publisher.map(Into::into),
            grade,
            status,
            stance,
        }
    }

    fn sup(source: &str, publisher: Option<&str>, grade: Grade) -> Evidence {
        ev(source, publisher, grade, Status::Verified, Stance::Supports)
    }

    #[test]
    fn no_citations_is_unsourced() {
        let e = earned_badge(&[]);
        assert_eq!(e.badge, Badge::Unsourced);
        assert!(e.explanation.last().unwrap().contains("cites no source"));
    }

    #[test]
    fn single_grade_b_is_caveat() {
        let e = earned_badge(&[sup("S3", Some("arXiv"), Grade::B)]);
        assert_eq!(e.badge, Badge::Caveat);
        assert!(e.explanation[0].starts_with("S3 Title of S3 (B, arXiv, verified) supports"));
        assert!(e.explanation[1].contains("only one independent A/B source"));
    }

    #[test]
    fn two_publishers_are_well_sourced() {
        let e = earned_badge(&[sup("S1", Some("arXiv"), Grade::B), sup("S2", Some("Nature"), Grade::A)]);
        assert_eq!(e.badge, Badge::WellSourced);
    }

    #[test]
    fn same_publisher_is_not_independent() {
        let e = earned_badge(&[sup("S1", Some("arXiv"), Grade::B), sup("S2", Some(" ARXIV "), Grade::A)]);
        assert_eq!(e.badge, Badge::Caveat);
        assert!(e.explanation[1].contains("not independent"));
    }

    #[test]
    fn sources_without_publisher_count_as_their_own() {
        let e = earned_badge(&[sup("S1", None, Grade::B), sup("S2", None, Grade::B)]);
        assert_eq!(e.badge, Badge::WellSourced);
        let e = earned_badge(&[sup("S1", None, Grade::B), sup("S2", Some(""), Grade::B)]);
        assert_eq!(e.badge, Badge::WellSourced);
    }

    #[test]
    fn excluded_statuses_do_not_count() {
        for status in [Status::Hallucinated, Status::Retracted, Status::DeadLink] {
            let e = earned_badge(&[
                sup("S1", Some("arXiv"), Grade::B),
                ev("S2", Some("Nature"), Grade::A, status, Stance::Supports),
            ]);
            assert_eq!(e.badge, Badge::Caveat, "{status}");
            assert!(e.explanation[1].contains("ignored"));
            let e = earned_badge(&[ev("S2", Some("Nature"), Grade::A, status, Stance::Contradicts)]);
            assert_eq!(e.badge, Badge::Unsourced, "{status}");
        }
    }

    #[test]
    fn suspicious_and_unchecked_still_count() {
        let e = earned_badge(&[
            ev("S1", Some("a"), Grade::B, Status::Suspicious, Stance::Supports),
            ev("S2", Some("b"), Grade::A, Status::Unchecked, Stance::Supports),
        ]);
        assert_eq!(e.badge, Badge::WellSourced);
    }

    #[test]
    fn context_does_not_count() {
        let e = earned_badge(&[ev("S1", Some("a"), Grade::A, Status::Verified, Stance::Context)]);
        assert_eq!(e.badge, Badge::Unsourced);
        assert!(e.explanation[0].contains("context"));
    }

    #[test]
    fn contested_takes_precedence() {
        let e = earned_badge(&[
            sup("S1", Some("a"), Grade::A),
            sup("S2", Some("b"), Grade::A),
            ev("S3", Some("c"), Grade::B, Status::Verified, Stance::Contradicts),
        ]);
        assert_eq!(e.badge, Badge::Contested);
        assert!(e.explanation.last().unwrap().contains("S3"));
    }

    #[test]
    fn weak_contradiction_does_not_contest() {
        let e = earned_badge(&[
            sup("S1", Some("a"), Grade::B),
            ev("S2", Some("b"), Grade::C, Status::Verified, Stance::Contradicts),
        ]);
        assert_eq!(e.badge, Badge::Caveat);
    }

    #[test]
    fn badge_alone_agrees_with_the_explained_badge() {
        let cases = [
            vec![],
            vec![sup("S1", Some("a"), Grade::B)],
            vec![sup("S1", Some("a"), Grade::B), sup("S2", Some("b"), Grade::A)],
            vec![ev("S1", Some("a"), Grade::A, Status::Verified, Stance::Contradicts)],
            vec![ev("S1", Some("a"), Grade::C, Status::Verified, Stance::Context)],
        ];
        for c in cases {
            assert_eq!(earned_only(&c), earned_badge(&c).badge);
        }
    }

    #[test]
    fn weak_grades_support_caveat_only() {
        for grade in [Grade::C, Grade::D, Grade::F] {
            let e = earned_badge(&[sup("S1", Some("a"), grade), sup("S2", Some("b"), grade)]);
            assert_eq!(e.badge, Badge::Caveat, "{grade}");
            assert!(e.explanation.last().unwrap().contains("no A/B source"));
        }
    }

    #[test]
    fn next_for_unsourced_names_what_would_earn_each_badge() {
        let next = next_moves(&[]);
        assert_eq!(
            next,
            [
                "any source that supports it would earn caveat",
                "two A/B sources from different publishers that support it would earn well-sourced",
                "an A/B source that contradicts it would make it contested",
            ]
        );
        // An ignored source that would count again is named.
        let next = next_moves(&[ev("S4", Some("a"), Grade::A, Status::Retracted, Stance::Supports)]);
        assert!(
            next.contains(
                &"S4 (A, supports) is ignored; if S4 were no longer retracted, the claim would earn caveat".to_string()
            ),
            "{next:?}"
        );
    }

    #[test]
    fn next_for_caveat_with_one_strong_source_asks_for_another_publisher() {
        let next = next_moves(&[sup("S3", Some("arXiv"), Grade::B)]);
        assert_eq!(
            next[0],
            "one more A/B source from a publisher other than arXiv that supports it would earn well-sourced"
        );
        assert_eq!(next[1], "an A/B source that contradicts it would make it contested");
        assert_eq!(
            next[2],
            "S3 (B, supports) counts towards it; if S3 were marked retracted, the claim would earn unsourced"
        );
        assert_eq!(next.len(), 3, "{next:?}");
        // Without a publisher any other source is independent.
        let next = next_moves(&[sup("S3", None, Grade::A)]);
        assert_eq!(next[0], "one more A/B source that supports it would earn well-sourced");
    }

    #[test]
    fn next_for_caveat_without_strong_support_names_the_regrade() {
        let next = next_moves(&[sup("S1", Some("a"), Grade::C), sup("S2", Some("b"), Grade::A)]);
        // S2 alone is one independent A/B source; regrading S1 would make two.
        assert!(
            next.contains(
                &"S1 (C, supports) counts towards it; if S1 were regraded A or B, the claim would earn well-sourced"
                    .to_string()
            ),
            "{next:?}"
        );
        let next = next_moves(&[sup("S1", Some("a"), Grade::D)]);
        assert_eq!(next[0], "two A/B sources from different publishers that support it would earn well-sourced");
        assert!(
            next.contains(
                &"S1 (D, supports) counts towards it; if S1 were marked retracted, the claim would earn unsourced"
                    .to_string()
            ),
            "{next:?}"
        );
    }

    #[test]
    fn next_for_well_sourced_names_what_would_drop_it() {
        let next = next_moves(&[
            sup("S1", Some("arXiv"), Grade::B),
            sup("S2", Some("Nature"), Grade::A),
            ev("S3", Some("c"), Grade::C, Status::Verified, Stance::Contradicts),
        ]);
        assert_eq!(next[0], "an A/B source that contradicts it would make it contested");
        assert!(next.contains(&"S1 (B, supports) counts towards it; if S1 were regraded below B or marked retracted, the claim would earn caveat".to_string()), "{next:?}");
        assert!(next.iter().any(|l| l.starts_with("S2 (A, supports)")), "{next:?}");
        assert!(
            next.contains(
                &"S3 (C, contradicts) does not move it now; if S3 were regraded A or B, the claim would earn contested"
                    .to_string()
            ),
            "{next:?}"
        );
        // A third independent source: no single one drops it.
        let next = next_moves(&[
            sup("S1", Some("a"), Grade::B),
            sup("S2", Some("b"), Grade::A),
            sup("S4", Some("d"), Grade::A),
        ]);
        assert_eq!(next, ["an A/B source that contradicts it would make it contested"]);
    }

    #[test]
    fn next_for_contested_names_the_contradiction_that_would_stop_counting() {
        let next = next_moves(&[
            sup("S1", Some("a"), Grade::B),
            ev("S3", Some("c"), Grade::A, Status::Verified, Stance::Contradicts),
        ]);
        assert_eq!(
            next,
            ["S3 (A, contradicts) makes it contested; if S3 were regraded below B or marked retracted, the claim would earn caveat"]
        );
        let next = next_moves(&[
            ev("S3", Some("c"), Grade::A, Status::Verified, Stance::Contradicts),
            ev("S5", Some("e"), Grade::B, Status::Verified, Stance::Contradicts),
        ]);
        assert_eq!(next, ["S3, S5 each make it contested: it stays contested while any of them counts"]);
    }

    #[test]
    fn next_agrees_with_the_rule_for_every_earned_badge() {
        let cases = [
            vec![],
            vec![sup("S1", Some("a"), Grade::B)],
            vec![sup("S1", Some("a"), Grade::B), sup("S2", Some("b"), Grade::A)],
            vec![ev("S1", Some("a"), Grade::A, Status::Verified, Stance::Contradicts)],
        ];
        let mut seen = BTreeSet::new();
        for c in cases {
            let earned = earned_only(&c);
            seen.insert(earned.rank());
            let next = next_moves(&c);
            assert!(!next.is_empty(), "{earned}: nothing said");
            for line in &next {
                assert!(!line.contains(&format!("would earn {earned}")), "{earned}: {line}");
            }
        }
        assert_eq!(seen.len(), 4, "every earned badge is covered");
    }
}
