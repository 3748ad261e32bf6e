//! Exporting: the whole database (or one topic) as a bundle — the JSON
//! document, JSON Lines, CSV (one row per claim) or schema.org ClaimReview.
//! Records come out in id order, so an export is deterministic.

use rusqlite::Connection;
use serde::Serialize;
use serde_json::{json, Value};

use super::{
    Bundle, BundleActor, BundleCitation, BundleClaim, BundleDispatch, BundleMove, BundlePath, BundleRevision,
    BundleSource, BundleTopic, Record, FORMAT,
};
use crate::claims::{self, ClaimState};
use crate::entity::EntityRef;
use crate::error::Result;
use crate::events;
use crate::ids::{ClaimId, SourceId};
use crate::model;
use crate::sources::{self, SourceFilter, SourceState};

/// Hands every record of the export to `emit`, in bundle order.
pub(crate) fn visit(conn: &Connection, topic: Option<&str>, emit: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
    if let Some(t) = topic {
        crate::topics::require(conn, t)?;
    }
    emit(Record::Header { format: FORMAT.to_string() })?;
    for a in crate::actors::list(conn)? {
        emit(Record::Actor(BundleActor { handle: a.handle, name: Some(a.name), role: a.role }))?;
    }
    for t in crate::topics::list(conn)? {
        if topic.is_some_and(|only| only != t.slug) {
            continue;
        }
        let Some(state) = crate::topics::load(conn, &t.slug)? else { continue };
        let created = events::for_entity(conn, &EntityRef::Topic(t.slug.clone()).to_string())?.into_iter().next();
        emit(Record::Topic(BundleTopic {
            slug: state.slug,
            title: state.title,
            summary: state.summary,
            sections: state.sections,
            related: state.related,
            notes: state.notes,
            created_by: created.as_ref().map(|e| e.actor.clone()),
            created_at: created.map(|e| e.at),
        }))?;
    }
    let all_sources = sources::list(conn, &SourceFilter::default())?;
    let wanted: Vec<&SourceState> = match topic {
        None => all_sources.iter().collect(),
        Some(t) => {
            let mut stmt = conn.prepare(
                "SELECT DISTINCT c.source FROM citations c JOIN claims cl ON cl.id = c.claim WHERE cl.topic = ?1",
            )?;
            let cited: Vec<SourceId> = stmt.query_map([t], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            all_sources.iter().filter(|s| s.topics.iter().any(|x| x == t) || cited.contains(&s.id)).collect()
        }
    };
    for s in wanted {
        let topics = match topic {
            Some(t) => s.topics.iter().filter(|x| *x == t).cloned().collect(),
            None => s.topics.clone(),
        };
        emit(Record::Source(BundleSource {
            id: Some(s.id.to_string()),
            key: s.key.clone(),
            title: s.title.clone(),
            url: s.url.clone(),
            publisher: s.publisher.clone(),
            kind: Some(s.kind),
            grade: s.grade,
            status: Some(s.status),
            tier: s.tier.clone(),
            summary: s.summary.clone(),
            published: s.published.clone(),
            topics,
            doi: s.doi.clone(),
            archive_url: s.archive_url.clone(),
            added_by: Some(s.created_by.clone()),
            added_at: Some(s.created_at.clone()),
        }))?;
    }
    let mut keys = std::collections::HashMap::new();
    for s in &all_sources {
        keys.insert(s.id, s.key.clone().unwrap_or_else(|| s.id.to_string()));
    }
    let ids = claims::ids(conn, topic)?;
    for id in ids {
        let Some(c) = claims::load(conn, id)? else { continue };
        emit(Record::Claim(claim_record(conn, c, &keys)?))?;
    }
    let ids = crate::dispatches::ids(conn, topic)?;
    for id in ids {
        let Some(d) = crate::dispatches::load(conn, id)? else { continue };
        emit(Record::Dispatch(BundleDispatch {
            key: d.key,
            topic: d.topic,
            voice: d.voice,
            beat: d.beat,
            badge: d.badge,
            headline: d.headline,
            body: d.body,
            at: d.at,
        }))?;
    }
    // A path walks through other topics: a one-topic export leaves paths out.
    if topic.is_none() {
        visit_paths(conn, emit)?;
    }
    Ok(())
}

fn visit_paths(conn: &Connection, emit: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
    let mut paths = Vec::new();
    crate::paths::for_each(conn, |p| {
        paths.push(p);
        Ok(())
    })?;
    for p in paths {
        let created = events::for_entity(conn, &EntityRef::Path(p.slug.clone()).to_string())?.into_iter().next();
        emit(Record::Path(BundlePath {
            slug: p.slug,
            title: p.title,
            summary: p.summary,
            audience: p.audience,
            level: p.level,
            minutes: p.minutes,
            steps: p.steps,
            created_by: created.as_ref().map(|e| e.actor.clone()),
            created_at: created.map(|e| e.at),
        }))?;
    }
    Ok(())
}

fn claim_record(
    conn: &Connection,
    c: ClaimState,
    keys: &std::collections::HashMap<SourceId, String>,
) -> Result<BundleClaim> {
    let history: Vec<BundleMove> = claims::history(conn, c.id)?
        .into_iter()
        .map(|m| BundleMove {
            at: m.at,
            actor: m.actor,
            from: m.from,
            to: m.to,
            reason: m.reason,
            is_override: m.is_override,
        })
        .collect();
    let revisions = crate::audit::revisions(conn, c.id)?;
    let revisions = if revisions.len() > 1 {
        revisions
            .into_iter()
            .enumerate()
            // The first revision's reason is the creation's, which belongs to the badge history.
            .map(|(i, r)| BundleRevision {
                reason: if i == 0 { None } else { r.reason },
                at: r.at,
                actor: r.actor,
                text: r.text,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(BundleClaim {
        claimant: c.claimant,
        claim_date: c.claim_date,
        appearances: c.appearances,
        key: c.key,
        topic: c.topic,
        text: c.text,
        created_by: Some(c.created_by),
        created_at: Some(c.created_at),
        citations: c
            .citations
            .into_iter()
            .map(|cit| BundleCitation {
                source: keys.get(&cit.source).cloned().unwrap_or_else(|| cit.source.to_string()),
                stance: cit.stance,
                note: cit.note,
            })
            .collect(),
        history,
        revisions,
    })
}

/// The whole export as one document.
pub(crate) fn bundle(conn: &Connection, topic: Option<&str>) -> Result<Bundle> {
    let mut b = Bundle {
        format: FORMAT.to_string(),
        actors: vec![],
        topics: vec![],
        sources: vec![],
        claims: vec![],
        dispatches: vec![],
        paths: vec![],
    };
    visit(conn, topic, &mut |r| {
        match r {
            Record::Header { .. } => {}
            Record::Actor(a) => b.actors.push(a),
            Record::Topic(t) => b.topics.push(t),
            Record::Source(s) => b.sources.push(s),
            Record::Claim(c) => b.claims.push(c),
            Record::Dispatch(d) => b.dispatches.push(d),
            Record::Path(p) => b.paths.push(p),
        }
        Ok(())
    })?;
    Ok(b)
}

/// One CSV row per claim.
#[derive(Debug, Serialize)]
pub(crate) struct CsvRow {
    pub id: ClaimId,
    pub key: String,
    pub topic: String,
    pub badge: String,
    pub earned_badge: String,
    pub text: String,
    pub sources: String,
    pub created_by: String,
    pub created_at: String,
}

pub(crate) fn csv_rows(
    conn: &Connection,
    topic: Option<&str>,
    emit: &mut dyn FnMut(CsvRow) -> Result<()>,
) -> Result<()> {
    if let Some(t) = topic {
        crate::topics::require(conn, t)?;
    }
    let ids = claims::ids(conn, topic)?;
    for id in ids {
        let Some(c) = claims::load(conn, id)? else { continue };
        let earned = claims::earned(conn, &c)?.badge;
        let sources = c.citations.iter().map(|s| format!("{}:{}", s.source, s.stance)).collect::<Vec<_>>().join(" ");
        emit(CsvRow {
            id: c.id,
            key: c.key.unwrap_or_default(),
            topic: c.topic,
            badge: c.badge.to_string(),
            earned_badge: earned.to_string(),
            text: c.text,
            sources,
            created_by: c.created_by,
            created_at: c.created_at,
        })?;
    }
    Ok(())
}

/// Where ClaimReview objects point and who signs them.
#[derive(Debug, Clone)]
pub(crate) struct ReviewSite {
    /// The published desk: claim pages are `{base_url}/claims/{id}`.
    base_url: String,
    pub desk: String,
    pub desk_url: Option<String>,
}

impl ReviewSite {
    /// A site whose pages live under `base_url` (http or https).
    pub(crate) fn new(base_url: &str, desk: &str, desk_url: Option<&str>) -> Result<ReviewSite> {
        model::check_web_url("base URL", base_url)?;
        if let Some(u) = desk_url {
            model::check_web_url("desk URL", u)?;
        }
        model::check_text("desk name", desk, model::MAX_SHORT_TEXT)?;
        Ok(ReviewSite {
            base_url: base_url.trim_end_matches('/').to_string(),
            desk: desk.to_string(),
            desk_url: desk_url.map(str::to_string),
        })
    }

    /// The published page of a claim: the fact check itself.
    pub(crate) fn claim_url(&self, claim_id: &str) -> String {
        format!("{}/claims/{claim_id}", self.base_url)
    }
}

/// Longest `claimReviewed` Google shows in full.
pub(crate) const SHORT_CLAIM: usize = 75;

/// The claim's text for `claimReviewed`: whole when short enough, else cut
/// at the last word that fits, with `…`. Only this field is cut; pages keep
/// the whole text.
pub(crate) fn short_claim(text: &str) -> String {
    let text = crate::output::one_line(text);
    if text.chars().count() <= SHORT_CLAIM {
        return text;
    }
    let room: String = text.chars().take(SHORT_CLAIM - 1).collect();
    let cut = match room.rfind(char::is_whitespace) {
        Some(i) if i > 0 => &room[..i],
        _ => room.as_str(),
    };
    format!("{}…", cut.trim_end_matches(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == ':'))
}

/// schema.org ClaimReview objects, one per claim, in id order.
pub(crate) fn claim_reviews(conn: &Connection, topic: Option<&str>, site: &ReviewSite) -> Result<Vec<Value>> {
    if let Some(t) = topic {
        crate::topics::require(conn, t)?;
    }
    let ids = claims::ids(conn, topic)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(c) = claims::load(conn, id)? else { continue };
        out.push(claim_review(&c, site));
    }
    Ok(out)
}

/// One claim's ClaimReview, as exports and published pages embed it.
///
/// The badge is a statement about the evidence, not a verdict on truth, so
/// the rating carries the badge in words (`alternateName`, `name`) and no
/// `ratingValue`: a number on a true/false scale would read `contested` or
/// `unsourced` as "false". `itemReviewed` describes who made the claim and
/// where (its claimant and appearances), never the desk's own sources; a
/// claim without a claimant is the desk's own statement, authored by the desk.
pub(crate) fn claim_review(c: &ClaimState, site: &ReviewSite) -> Value {
    let mut desk = json!({"@type": "Organization", "name": site.desk});
    if let Some(u) = &site.desk_url {
        desk["url"] = json!(u);
    }
    let mut item = json!({"@type": "Claim"});
    match &c.claimant {
        Some(who) => {
            let kind = match who.kind {
                model::ClaimantKind::Person => "Person",
                model::ClaimantKind::Organization => "Organization",
            };
            let mut author = json!({"@type": kind, "name": who.name});
            if let Some(u) = &who.url {
                author["url"] = json!(u);
            }
            item["author"] = author;
        }
        None => item["author"] = desk.clone(),
    }
    if let Some(d) = &c.claim_date {
        item["datePublished"] = json!(d);
    }
    if let Some((first, _)) = c.appearances.split_first() {
        item["firstAppearance"] = json!({"@type": "CreativeWork", "url": first});
        item["appearance"] =
            Value::Array(c.appearances.iter().map(|u| json!({"@type": "CreativeWork", "url": u})).collect());
    }
    json!({
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": site.claim_url(&c.id.to_string()),
        "claimReviewed": short_claim(&c.text),
        "datePublished": crate::clock::day_of(&c.created_at),
        "author": desk,
        "reviewRating": {
            "@type": "Rating",
            "alternateName": c.badge.in_words(),
            "name": c.badge.in_words(),
        },
        "itemReviewed": item,
    })
}

/// What a ClaimReview object lacks of Google's fact-check fields.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ReviewGaps {
    /// Without these, Google refuses the object.
    pub required: Vec<&'static str>,
    /// Without these, Google accepts it but shows less.
    pub recommended: Vec<&'static str>,
}

/// Checks one object against Google's required and recommended ClaimReview
/// fields. The rating's numeric fields (`ratingValue`, `bestRating`,
/// `worstRating`) are left out on purpose (see `claim_review`) and not
/// counted as gaps.
pub(crate) fn review_gaps(review: &Value) -> ReviewGaps {
    let present = |pointer: &str| match review.pointer(pointer) {
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Null) | None => false,
        Some(_) => true,
    };
    let mut gaps = ReviewGaps::default();
    let web_url = review["url"].as_str().is_some_and(|u| model::check_web_url("url", u).is_ok());
    for (field, ok) in [
        ("url", web_url),
        ("claimReviewed", present("/claimReviewed")),
        ("reviewRating", review["reviewRating"]["@type"] == "Rating"),
        ("reviewRating.alternateName", present("/reviewRating/alternateName")),
    ] {
        if !ok {
            gaps.required.push(field);
        }
    }
    for (field, ok) in [
        ("author", present("/author/name")),
        ("datePublished", present("/datePublished")),
        ("itemReviewed", review["itemReviewed"]["@type"] == "Claim"),
        ("itemReviewed.author", present("/itemReviewed/author/name")),
        ("itemReviewed.datePublished", present("/itemReviewed/datePublished")),
        ("itemReviewed.appearance", present("/itemReviewed/appearance") || present("/itemReviewed/firstAppearance")),
    ] {
        if !ok {
            gaps.recommended.push(field);
        }
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_claims_are_cut_at_a_word() {
        assert_eq!(short_claim("Short and whole."), "Short and whole.");
        let long = "The cost-of-pass frontier moved meaningfully in a year, driven by cheaper open-weights inference";
        let short = short_claim(long);
        assert_eq!(short, "The cost-of-pass frontier moved meaningfully in a year, driven by cheaper…");
        assert!(short.chars().count() <= SHORT_CLAIM);
        let one_word = "x".repeat(200);
        assert_eq!(short_claim(&one_word).chars().count(), SHORT_CLAIM);
        assert_eq!(short_claim("line\nbreak"), "line break");
    }

    #[test]
    fn gaps_name_required_and_recommended_fields() {
        let site = ReviewSite::new("https://d.example", "Desk", None).unwrap();
        assert!(ReviewSite::new("ftp://d.example", "Desk", None).is_err());
        let claim: ClaimState = serde_json::from_value(json!({
            "id": "C1", "key": null, "topic": "t", "text": "T.", "revision": 1, "badge": "contested",
            "badge_override": false, "citations": [], "created_by": "ed", "created_at": "2026-05-30T09:00:00Z"
        }))
        .unwrap();
        let review = claim_review(&claim, &site);
        assert_eq!(review["reviewRating"]["alternateName"], "Contested");
        let gaps = review_gaps(&review);
        assert!(gaps.required.is_empty());
        assert_eq!(gaps.recommended, ["itemReviewed.datePublished", "itemReviewed.appearance"]);
        let gaps = review_gaps(&json!({"url": "urn:x", "reviewRating": {"@type": "Rating"}}));
        assert_eq!(gaps.required, ["url", "claimReviewed", "reviewRating.alternateName"]);
    }
}
