//! A deterministic synthetic corpus for benchmarks and scale tests: topics,
//! sources with mixed grades, statuses and publishers, claims of 100–300
//! bytes drawn from a Zipf-distributed vocabulary, citations, badge history
//! and dispatches, written as a JSON Lines ripen bundle.
//!
//! Invariant: the same `seed` and `claims` give byte-identical output.

use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Zipf};

use crate::bundle::{
    BundleActor, BundleCitation, BundleClaim, BundleDispatch, BundleMove, BundleSource, BundleTopic, Record, FORMAT,
};
use crate::error::Result;
use crate::model::{Badge, Grade, Kind, Role, Stance, Status};
use crate::topics::Section;

/// Size of the generated vocabulary.
pub(crate) const VOCABULARY: usize = 30_000;

#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub claims: usize,
    pub seed: u64,
}

impl Spec {
    /// About fifty claims a page, like a real desk's topic pages.
    pub(crate) fn topics(&self) -> usize {
        (self.claims / 50).max(4)
    }
    pub(crate) fn sources(&self) -> usize {
        (self.claims / 10).max(20)
    }
    pub(crate) fn dispatches(&self) -> usize {
        (self.claims / 100).max(4)
    }
}

/// Pronounceable pseudo-words, most frequent first.
pub fn vocabulary(seed: u64) -> Vec<String> {
    const ONSETS: &[&str] = &[
        "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br", "cr", "st", "tr",
        "pl", "gr", "sh", "ch",
    ];
    const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ea", "io", "ou"];
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0076_6f63_6162);
    let mut seen = std::collections::HashSet::new();
    let mut words = Vec::with_capacity(VOCABULARY);
    while words.len() < VOCABULARY {
        let syllables = 1 + (words.len() * 4 / VOCABULARY) + rng.gen_range(0..2);
        let mut w = String::new();
        for _ in 0..syllables {
            w.push_str(ONSETS[rng.gen_range(0..ONSETS.len())]);
            w.push_str(VOWELS[rng.gen_range(0..VOWELS.len())]);
        }
        if rng.gen_bool(0.3) {
            w.push_str(ONSETS[rng.gen_range(0..ONSETS.len())]);
        }
        if seen.insert(w.clone()) {
            words.push(w);
        }
    }
    words
}

/// The vocabulary with a Zipf distribution over it, like running text.
pub struct Words {
    /// Most frequent first.
    pub words: Vec<String>,
    zipf: Zipf<f64>,
}

impl Words {
    pub fn new(seed: u64) -> Words {
        Words { words: vocabulary(seed), zipf: Zipf::new(VOCABULARY as u64, 1.07).expect("valid Zipf parameters") }
    }

    pub(crate) fn word(&self, rng: &mut ChaCha8Rng) -> &str {
        let rank = self.zipf.sample(rng) as usize;
        &self.words[(rank - 1).min(self.words.len() - 1)]
    }

    /// A capitalised sentence of `min..=max` words.
    pub fn sentence(&self, rng: &mut ChaCha8Rng, min: usize, max: usize) -> String {
        let n = rng.gen_range(min..=max).max(1);
        let words: Vec<&str> = (0..n).map(|_| self.word(rng)).collect();
        capitalise(&words.join(" "))
    }

    /// A capitalised sentence of `min` to `max` bytes.
    pub(crate) fn text(&self, rng: &mut ChaCha8Rng, min: usize, max: usize) -> String {
        let target = rng.gen_range(min..=max);
        let mut s = String::with_capacity(max + 16);
        while s.len() < target {
            let w = self.word(rng);
            if s.len() + w.len() + 2 > max {
                break;
            }
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(w);
        }
        capitalise(&s)
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or('X');
    format!("{first}{}.", chars.as_str())
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, weighted: &[(T, u32)]) -> T {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total);
    for (value, w) in weighted {
        if roll < *w {
            return *value;
        }
        roll -= w;
    }
    weighted[0].0
}

fn day(rng: &mut ChaCha8Rng) -> String {
    let d = rng.gen_range(0..300);
    let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default() + chrono::Duration::days(d);
    format!("{}T{:02}:{:02}:00Z", date.format("%Y-%m-%d"), rng.gen_range(7..20), rng.gen_range(0..60))
}

/// Writes the corpus as JSON Lines records.
pub fn write(spec: Spec, out: &mut dyn Write) -> Result<()> {
    let mut emit = |r: &Record| -> Result<()> {
        serde_json::to_writer(&mut *out, r)?;
        out.write_all(b"\n")?;
        Ok(())
    };
    let words = Words::new(spec.seed);
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    emit(&Record::Header { format: FORMAT.to_string() })?;
    let editors: Vec<String> = (1..=3).map(|i| format!("editor{i}")).collect();
    let researchers: Vec<String> = (1..=20).map(|i| format!("researcher{i}")).collect();
    for (handle, role) in editors
        .iter()
        .map(|h| (h, Role::Editor))
        .chain(researchers.iter().map(|h| (h, Role::Researcher)))
        .chain(std::iter::once((&"reviewer1".to_string(), Role::Reviewer)))
    {
        emit(&Record::Actor(BundleActor { handle: handle.clone(), name: None, role }))?;
    }
    let topics: Vec<String> = (1..=spec.topics()).map(|i| format!("topic-{i:05}")).collect();
    for slug in &topics {
        emit(&Record::Topic(BundleTopic {
            slug: slug.clone(),
            title: words.text(&mut rng, 15, 40),
            summary: words.text(&mut rng, 60, 120),
            sections: vec![Section { heading: "What's happening".into(), body: words.text(&mut rng, 200, 400) }],
            related: Vec::new(),
            notes: String::new(),
            created_by: Some(editors[0].clone()),
            created_at: Some("2026-01-01T08:00:00Z".into()),
        }))?;
    }
    let publishers: Vec<String> = (0..200).map(|i| format!("Publisher {i}")).collect();
    let per_topic = spec.sources() / topics.len();
    for i in 0..spec.sources() {
        let topic = &topics[(i / per_topic.max(1)).min(topics.len() - 1)];
        let grade = pick(&mut rng, &[(Grade::A, 10), (Grade::B, 30), (Grade::C, 35), (Grade::D, 15), (Grade::F, 10)]);
        let status = pick(
            &mut rng,
            &[
                (Status::Verified, 50),
                (Status::Unchecked, 35),
                (Status::Suspicious, 8),
                (Status::Hallucinated, 3),
                (Status::DeadLink, 2),
                (Status::Retracted, 2),
            ],
        );
        let kind = pick(
            &mut rng,
            &[
                (Kind::Paper, 30),
                (Kind::Report, 20),
                (Kind::Article, 30),
                (Kind::Thread, 5),
                (Kind::Lead, 10),
                (Kind::Dataset, 5),
            ],
        );
        emit(&Record::Source(BundleSource {
            id: None,
            key: Some(format!("src-{i}")),
            title: words.text(&mut rng, 30, 80),
            url: Some(format!("https://example.org/s/{i}")),
            publisher: (rng.gen_range(0..10) > 0).then(|| publishers[rng.gen_range(0..publishers.len())].clone()),
            kind: Some(kind),
            grade,
            status: Some(status),
            tier: (kind == Kind::Lead).then(|| format!("T{}", rng.gen_range(1..4))),
            summary: words.text(&mut rng, 100, 250),
            published: Some(day(&mut rng)[..10].to_string()),
            topics: vec![topic.clone()],
            doi: None,
            archive_url: None,
            added_by: Some(researchers[rng.gen_range(0..researchers.len())].clone()),
            added_at: Some("2026-01-02T08:00:00Z".into()),
        }))?;
    }
    for i in 0..spec.claims {
        let t = rng.gen_range(0..topics.len());
        let first_source = t * per_topic;
        let citations = (0..rng.gen_range(0..=3))
            .map(|_| rng.gen_range(first_source..first_source + per_topic.max(1)).min(spec.sources() - 1))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|s| BundleCitation {
                source: format!("src-{s}"),
                stance: pick(&mut rng, &[(Stance::Supports, 80), (Stance::Context, 12), (Stance::Contradicts, 8)]),
                note: None,
            })
            .collect();
        let created_at = day(&mut rng);
        let history = if rng.gen_range(0..5) == 0 {
            let first = pick(&mut rng, &[(Badge::Caveat, 5), (Badge::WellSourced, 3), (Badge::Unsourced, 2)]);
            let second = if first == Badge::WellSourced { Badge::Caveat } else { Badge::WellSourced };
            vec![
                // Lawful whatever the citations earn: editors, with an
                // override (and a reason) for a badge above the evidence.
                BundleMove {
                    at: created_at.clone(),
                    actor: editors[0].clone(),
                    from: None,
                    to: first,
                    reason: Some(words.text(&mut rng, 30, 80)),
                    is_override: true,
                },
                BundleMove {
                    at: created_at.replacen(":00Z", ":30Z", 1),
                    actor: editors[rng.gen_range(0..editors.len())].clone(),
                    from: Some(first),
                    to: second,
                    reason: Some(words.text(&mut rng, 30, 120)),
                    is_override: true,
                },
            ]
        } else {
            Vec::new()
        };
        emit(&Record::Claim(BundleClaim {
            key: None,
            topic: topics[t].clone(),
            text: format!("{} {}", words.text(&mut rng, 90, 290), i),
            created_by: Some({
                let researcher = researchers[rng.gen_range(0..researchers.len())].clone();
                // The creator sets the first badge: the editor who may override.
                if history.is_empty() {
                    researcher
                } else {
                    editors[0].clone()
                }
            }),
            created_at: Some(created_at),
            citations,
            history,
            revisions: Vec::new(),
            claimant: None,
            claim_date: None,
            appearances: Vec::new(),
        }))?;
    }
    for _ in 0..spec.dispatches() {
        emit(&Record::Dispatch(BundleDispatch {
            key: None,
            topic: topics[rng.gen_range(0..topics.len())].clone(),
            voice: researchers[rng.gen_range(0..researchers.len())].clone(),
            beat: "Claims & evidence".into(),
            badge: Badge::Caveat,
            headline: words.text(&mut rng, 40, 100),
            body: words.text(&mut rng, 300, 900),
            at: day(&mut rng),
        }))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic() {
        let spec = Spec { claims: 200, seed: 7 };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write(spec, &mut a).unwrap();
        write(spec, &mut b).unwrap();
        assert_eq!(a, b);
        let other = Spec { claims: 200, seed: 8 };
        let mut c = Vec::new();
        write(other, &mut c).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn claims_are_100_to_300_bytes() {
        let mut out = Vec::new();
        write(Spec { claims: 300, seed: 1 }, &mut out).unwrap();
        let mut claims = 0;
        for line in String::from_utf8(out).unwrap().lines() {
            if let Ok(Record::Claim(c)) = serde_json::from_str::<Record>(line) {
                assert!((90..=310).contains(&c.text.len()), "{} bytes", c.text.len());
                claims += 1;
            }
        }
        assert_eq!(claims, 300);
    }
}
