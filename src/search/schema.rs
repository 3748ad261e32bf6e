//! The search index's schema and how each entity becomes one document.
//!
//! Invariants: every document carries exactly one `key` (kind and row id
//! packed into a u64, see `doc_key`), which is how a document is found again
//! to be deleted and re-added; free text goes through one analyzer
//! (`ANALYZER`), registered on every `tantivy::Index` handle this module
//! hands out, so the query side tokenizes exactly like the indexing side.
//! Changing any field or the analyzer means bumping `FORMAT`, which makes
//! every existing index rebuild itself on next use.

use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STRING};
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};
use tantivy::{DateTime, TantivyDocument};

use crate::claims::ClaimState;
use crate::dispatches::DispatchState;
use crate::model::Badge;
use crate::sources::SourceState;

/// Version of the schema and analysis; recorded in every commit's payload.
pub(crate) const FORMAT: u32 = 1;

/// Name of the text analyzer: words split on non-alphanumerics, lowercased,
/// folded to ASCII, tokens over 40 bytes dropped.
pub(crate) const ANALYZER: &str = "ripen_text";

/// What kind of entity a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocKind {
    Claim,
    Source,
    Dispatch,
}

impl DocKind {
    pub const ALL: [DocKind; 3] = [DocKind::Claim, DocKind::Source, DocKind::Dispatch];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DocKind::Claim => "claim",
            DocKind::Source => "source",
            DocKind::Dispatch => "dispatch",
        }
    }

    fn code(self) -> u64 {
        match self {
            DocKind::Claim => 1,
            DocKind::Source => 2,
            DocKind::Dispatch => 3,
        }
    }

    pub fn parse(text: &str) -> Option<DocKind> {
        DocKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

const KEY_SHIFT: u32 = 48;

/// A key no document has (every kind's code is above zero): what an id too
/// large to be packed looks up.
pub(crate) const NO_DOC_KEY: u64 = 0;

/// Packs kind and row id into the document key; `None` for ids that do not fit.
pub(crate) fn doc_key(kind: DocKind, n: i64) -> Option<u64> {
    let n = u64::try_from(n).ok().filter(|n| *n > 0 && *n < (1 << KEY_SHIFT))?;
    Some((kind.code() << KEY_SHIFT) | n)
}

/// Unpacks a document key.
pub(crate) fn split_key(key: u64) -> Option<(DocKind, i64)> {
    let n = (key & ((1 << KEY_SHIFT) - 1)) as i64;
    let kind = match key >> KEY_SHIFT {
        1 => DocKind::Claim,
        2 => DocKind::Source,
        3 => DocKind::Dispatch,
        _ => return None,
    };
    Some((kind, n))
}

/// The index's fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// `doc_key`: indexed (to delete by) and fast (to read hits by).
    pub key: Field,
    /// `claim`, `source` or `dispatch`.
    pub doctype: Field,
    /// Source title, dispatch headline.
    pub title: Field,
    /// Claim text, source summary, dispatch body.
    pub text: Field,
    pub publisher: Field,
    pub beat: Field,
    /// Claim and dispatch topic; every topic a source is mapped to.
    pub topic: Field,
    /// Claim and dispatch badge.
    pub badge: Field,
    /// The badge a claim's evidence earns.
    pub earned: Field,
    /// Source grade, kind (`paper`, ...) and status.
    pub grade: Field,
    pub srckind: Field,
    pub status: Field,
    /// Claim author, source author, dispatch voice.
    pub actor: Field,
    /// When it was added (claims, sources) or dated (dispatches).
    pub date: Field,
}

fn text_options() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(ANALYZER).set_index_option(IndexRecordOption::WithFreqsAndPositions),
    )
}

/// The schema and its fields.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        key: b.add_u64_field("key", INDEXED | FAST),
        doctype: b.add_text_field("doctype", STRING),
        title: b.add_text_field("title", text_options()),
        text: b.add_text_field("text", text_options()),
        publisher: b.add_text_field("publisher", text_options()),
        beat: b.add_text_field("beat", text_options()),
        topic: b.add_text_field("topic", STRING),
        badge: b.add_text_field("badge", STRING),
        earned: b.add_text_field("earned", STRING),
        grade: b.add_text_field("grade", STRING),
        srckind: b.add_text_field("srckind", STRING),
        status: b.add_text_field("status", STRING),
        actor: b.add_text_field("actor", STRING),
        date: b.add_date_field("date", INDEXED | FAST),
    };
    (b.build(), fields)
}

/// The one analyzer for free text, at indexing and at query time.
pub(crate) fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The analyzed tokens of `text`, in order.
pub(crate) fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// A stored time (`2026-05-30T09:00:00Z`) or date (`2025-04-16`) as a tantivy date.
pub(crate) fn date_of(text: &str) -> Option<DateTime> {
    crate::clock::parse_time(text).ok().map(|t| DateTime::from_timestamp_secs(t.timestamp()))
}

/// A claim's document; `earned` is what its evidence earns now.
pub(crate) fn claim_doc(f: &Fields, c: &ClaimState, earned: Badge) -> Option<TantivyDocument> {
    let mut d = TantivyDocument::default();
    d.add_u64(f.key, doc_key(DocKind::Claim, c.id.get())?);
    d.add_text(f.doctype, DocKind::Claim.as_str());
    d.add_text(f.text, &c.text);
    d.add_text(f.topic, &c.topic);
    d.add_text(f.badge, c.badge.as_str());
    d.add_text(f.earned, earned.as_str());
    d.add_text(f.actor, &c.created_by);
    if let Some(t) = date_of(&c.created_at) {
        d.add_date(f.date, t);
    }
    Some(d)
}

pub(crate) fn source_doc(f: &Fields, s: &SourceState) -> Option<TantivyDocument> {
    let mut d = TantivyDocument::default();
    d.add_u64(f.key, doc_key(DocKind::Source, s.id.get())?);
    d.add_text(f.doctype, DocKind::Source.as_str());
    d.add_text(f.title, &s.title);
    d.add_text(f.text, &s.summary);
    if let Some(p) = &s.publisher {
        d.add_text(f.publisher, p);
    }
    for t in &s.topics {
        d.add_text(f.topic, t);
    }
    d.add_text(f.grade, s.grade.as_str());
    d.add_text(f.srckind, s.kind.as_str());
    d.add_text(f.status, s.status.as_str());
    d.add_text(f.actor, &s.created_by);
    if let Some(t) = date_of(&s.created_at) {
        d.add_date(f.date, t);
    }
    Some(d)
}

pub(crate) fn dispatch_doc(f: &Fields, x: &DispatchState) -> Option<TantivyDocument> {
    let mut d = TantivyDocument::default();
    d.add_u64(f.key, doc_key(DocKind::Dispatch, x.id.get())?);
    d.add_text(f.doctype, DocKind::Dispatch.as_str());
    d.add_text(f.title, &x.headline);
    d.add_text(f.text, &x.body);
    d.add_text(f.beat, &x.beat);
    d.add_text(f.topic, &x.topic);
    d.add_text(f.badge, x.badge.as_str());
    d.add_text(f.actor, &x.voice);
    if let Some(t) = date_of(&x.at) {
        d.add_date(f.date, t);
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_stay_apart() {
        for kind in DocKind::ALL {
            for n in [1, 12, (1 << KEY_SHIFT) - 1] {
                assert_eq!(split_key(doc_key(kind, n).unwrap()), Some((kind, n)));
            }
        }
        assert_ne!(doc_key(DocKind::Claim, 3), doc_key(DocKind::Source, 3));
        assert_eq!(doc_key(DocKind::Claim, 0), None);
        assert_eq!(doc_key(DocKind::Claim, -1), None);
        assert_eq!(doc_key(DocKind::Claim, 1 << KEY_SHIFT), None);
        assert_eq!(split_key(7), None);
    }

    #[test]
    fn analyzer_folds_and_splits() {
        let mut a = analyzer();
        assert_eq!(tokens(&mut a, "Café GPU-4, naïve"), vec!["cafe", "gpu", "4", "naive"]);
        assert!(tokens(&mut a, &"x".repeat(41)).is_empty());
    }
}
