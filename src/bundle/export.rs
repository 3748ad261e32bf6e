//! Exporting: the whole database (or one topic) as a bundle — the JSON
//! document, JSON Lines, CSV (one row per claim) or schema.org ClaimReview.
//! Records come out in id order, so an export is deterministic.

use rusqlite::Connection;
use serde::Serialize;
use serde_json::{json, Value};

use super::{
    Bundle, BundleActor, BundleCitation, BundleClaim, BundleDispatch, BundleMove, BundleRevision, BundleSource,
    BundleTopic, Record, FORMAT,
};
use crate::claims::{self, ClaimState};
use crate::entity::EntityRef;
use crate::error::Result;
use crate::events;
use crate::model::Stance;
use crate::sources::{self, SourceFilter, SourceState};

/// Hands every record of the export to `emit`, in bundle order.
pub fn visit(conn: &Connection, topic: Option<&str>, emit: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
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
            let cited: Vec<i64> = stmt.query_map([t], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            all_sources.iter().filter(|s| s.topics.iter().any(|x| x == t) || cited.contains(&s.number())).collect()
        }
    };
    for s in wanted {
        let topics = match topic {
            Some(t) => s.topics.iter().filter(|x| *x == t).cloned().collect(),
            None => s.topics.clone(),
        };
        emit(Record::Source(BundleSource {
            id: Some(s.id.clone()),
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
            added_by: Some(s.created_by.clone()),
            added_at: Some(s.created_at.clone()),
        }))?;
    }
    let mut keys = std::collections::HashMap::new();
    for s in &all_sources {
        keys.insert(s.id.clone(), s.key.clone().unwrap_or_else(|| s.id.clone()));
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
    Ok(())
}

fn claim_record(
    conn: &Connection,
    c: ClaimState,
    keys: &std::collections::HashMap<String, String>,
) -> Result<BundleClaim> {
    let history: Vec<BundleMove> = claims::history(conn, c.number())?
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
    let revisions = crate::audit::revisions(conn, c.number())?;
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
        key: c.key,
        topic: c.topic,
        text: c.text,
        created_by: c.created_by,
        created_at: c.created_at,
        citations: c
            .citations
            .into_iter()
            .map(|cit| BundleCitation {
                source: keys.get(&cit.source).cloned().unwrap_or(cit.source),
                stance: cit.stance,
                note: cit.note,
            })
            .collect(),
        history,
        revisions,
    })
}

/// The whole export as one document.
pub fn bundle(conn: &Connection, topic: Option<&str>) -> Result<Bundle> {
    let mut b = Bundle {
        format: FORMAT.to_string(),
        actors: vec![],
        topics: vec![],
        sources: vec![],
        claims: vec![],
        dispatches: vec![],
    };
    visit(conn, topic, &mut |r| {
        match r {
            Record::Header { .. } => {}
            Record::Actor(a) => b.actors.push(a),
            Record::Topic(t) => b.topics.push(t),
            Record::Source(s) => b.sources.push(s),
            Record::Claim(c) => b.claims.push(c),
            Record::Dispatch(d) => b.dispatches.push(d),
        }
        Ok(())
    })?;
    Ok(b)
}

/// One CSV row per claim.
#[derive(Debug, Serialize)]
pub struct CsvRow {
    pub id: String,
    pub key: String,
    pub topic: String,
    pub badge: String,
    pub earned_badge: String,
    pub text: String,
    pub sources: String,
    pub created_by: String,
    pub created_at: String,
}

pub fn csv_rows(conn: &Connection, topic: Option<&str>, emit: &mut dyn FnMut(CsvRow) -> Result<()>) -> Result<()> {
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
pub struct ReviewSite {
    /// Claims get `{base_url}/{topic}#{id}`; without one, `urn:ripen:{topic}:{id}`.
    pub base_url: Option<String>,
    pub desk: String,
}

/// schema.org ClaimReview objects, one per claim.
pub fn claim_reviews(conn: &Connection, topic: Option<&str>, site: &ReviewSite) -> Result<Vec<Value>> {
    if let Some(t) = topic {
        crate::topics::require(conn, t)?;
    }
    let ids = claims::ids(conn, topic)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(c) = claims::load(conn, id)? else { continue };
        out.push(claim_review(conn, &c, site)?);
    }
    Ok(out)
}

/// One claim's schema.org ClaimReview: what `export --format claimreview`
/// writes and what a claim's web page embeds as JSON-LD.
pub fn claim_review(conn: &Connection, c: &claims::ClaimState, site: &ReviewSite) -> Result<Value> {
    let url = match &site.base_url {
        Some(b) => format!("{}/{}#{}", b.trim_end_matches('/'), c.topic, c.id),
        None => format!("urn:ripen:{}:{}", c.topic, c.id),
    };
    let reviewed =
        claims::history(conn, c.number())?.last().map(|m| m.at.clone()).unwrap_or_else(|| c.created_at.clone());
    let first_support = c
        .citations
        .iter()
        .find(|x| x.stance == Stance::Supports)
        .and_then(|x| sources::load(conn, x.source[1..].parse().unwrap_or(0)).ok().flatten());
    let mut item = json!({"@type": "Claim"});
    if let Some(s) = &first_support {
        if let Some(p) = &s.publisher {
            item["author"] = json!({"@type": "Organization", "name": p});
        }
        if let Some(d) = &s.published {
            item["datePublished"] = json!(d);
        }
        let mut appearance = json!({"@type": "CreativeWork", "headline": s.title});
        if let Some(u) = &s.url {
            appearance["url"] = json!(u);
        }
        item["appearance"] = appearance;
    }
    Ok(json!({
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": url,
        "claimReviewed": c.text,
        "datePublished": crate::clock::day_of(&reviewed),
        "author": {"@type": "Organization", "name": site.desk},
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": c.badge.rank(),
            "worstRating": 0,
            "bestRating": 3,
            "alternateName": c.badge.as_str(),
        },
        "itemReviewed": item,
    }))
}
