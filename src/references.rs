//! Sources from reference managers: CSL-JSON (Zotero's export), BibTeX /
//! BibLaTeX and RIS files read into `Reference`s, then added as sources.
//!
//! Invariants: parsing reads only and fails on the first malformed entry
//! with an error naming the entry (its citation key, id or position) and
//! the field; an import is all-or-nothing in the caller's transaction; an
//! entry is "already present" when a source has its DOI, else its
//! normalised URL (an entry with neither: a source with neither and the
//! same title), and "conflicting" (skipped, listed) when its URL is a
//! source's whose DOI differs; imported sources are graded `F` ("cannot be
//! judged yet") unless a grade is given, so nothing imported looks more
//! reliable than it is.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::db::Tx;
use crate::error::{Error, Result};
use crate::ids::SourceId;
use crate::model::{Grade, Kind};
use crate::sources::NewSource;

/// The formats `source import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[value(name = "csl-json")]
    CslJson,
    Bibtex,
    Ris,
}

impl Format {
    /// The format a file's extension names.
    pub(crate) fn of_path(path: &std::path::Path) -> Result<Format> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        match ext.as_str() {
            "json" => Ok(Format::CslJson),
            "bib" | "bibtex" => Ok(Format::Bibtex),
            "ris" => Ok(Format::Ris),
            _ => Err(Error::bad(format!("cannot tell the format of {} from its extension", path.display()))
                .with_hint(crate::error::Hint::GiveReferenceFormat)),
        }
    }
}

/// One entry of a reference manager's export, mapped to ripen's fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reference {
    /// The citation key or id, else `#N` (1-based position in the file).
    pub entry: String,
    pub title: String,
    pub url: Option<String>,
    /// Normalised.
    pub doi: Option<String>,
    /// The container (journal, proceedings, website), else the publisher.
    pub publisher: Option<String>,
    /// A full date only (`YYYY-MM-DD`); a year or month alone goes into the summary.
    pub published: Option<String>,
    pub kind: Kind,
    /// Authors, a partial issued date and the abstract, as text.
    pub summary: String,
}

/// The table in README.md: the exporter's item type to ripen's kind.
pub(crate) fn kind_of(format: Format, item_type: &str) -> Kind {
    let t = item_type.trim().to_ascii_lowercase();
    match format {
        Format::CslJson => match t.as_str() {
            "article-journal" | "paper-conference" | "article" | "preprint" | "thesis" => Kind::Paper,
            "report" => Kind::Report,
            "webpage" | "post" | "post-weblog" | "article-newspaper" | "article-magazine" => Kind::Article,
            "dataset" => Kind::Dataset,
            _ => Kind::Other,
        },
        Format::Bibtex => match t.as_str() {
            "article" | "inproceedings" | "conference" | "unpublished" | "phdthesis" | "mastersthesis" | "thesis" => {
                Kind::Paper
            }
            "techreport" | "report" => Kind::Report,
            "online" | "www" | "electronic" => Kind::Article,
            "dataset" => Kind::Dataset,
            _ => Kind::Other,
        },
        Format::Ris => match t.as_str() {
            "jour" | "ejour" | "cpaper" | "conf" | "inpr" | "thes" => Kind::Paper,
            "rprt" => Kind::Report,
            "elec" | "web" | "blog" | "news" | "mgzn" => Kind::Article,
            "data" => Kind::Dataset,
            _ => Kind::Other,
        },
    }
}

fn entry_error(entry: &str, field: &str, problem: impl std::fmt::Display) -> Error {
    Error::bad(format!("entry {entry}: {field}: {problem}"))
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|s| !s.is_empty())
}

/// Builds a reference from the fields every format has, checking the ones
/// ripen needs.
struct Fields {
    entry: String,
    kind: Kind,
    title: Option<String>,
    url: Option<String>,
    doi: Option<String>,
    container: Option<String>,
    publisher: Option<String>,
    /// Year, month, day as far as given.
    issued: (Option<i32>, Option<u32>, Option<u32>),
    authors: Vec<String>,
    abstract_: Option<String>,
}

impl Fields {
    fn new(entry: String, kind: Kind) -> Fields {
        Fields {
            entry,
            kind,
            title: None,
            url: None,
            doi: None,
            container: None,
            publisher: None,
            issued: (None, None, None),
            authors: Vec::new(),
            abstract_: None,
        }
    }

    fn finish(self) -> Result<Reference> {
        let entry = self.entry;
        let title =
            non_empty(self.title).ok_or_else(|| entry_error(&entry, "title", "missing: every source needs a title"))?;
        let doi = non_empty(self.doi)
            .map(|d| crate::doi::normalize(&d).map_err(|e| entry_error(&entry, "doi", e)))
            .transpose()?;
        let url = non_empty(self.url);
        if let Some(u) = &url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(entry_error(&entry, "url", format!("{u:?} is not an http(s) address")));
            }
        }
        let (published, partial) = match self.issued {
            (Some(y), Some(m), Some(d)) => match chrono::NaiveDate::from_ymd_opt(y, m, d) {
                Some(day) => (Some(day.format("%Y-%m-%d").to_string()), None),
                None => return Err(entry_error(&entry, "issued", format!("{y}-{m}-{d} is not a date"))),
            },
            (Some(y), Some(m), None) => (None, Some(format!("{y}-{m:02}"))),
            (Some(y), _, _) => (None, Some(y.to_string())),
            _ => (None, None),
        };
        let mut summary = Vec::new();
        if !self.authors.is_empty() {
            summary.push(format!("Authors: {}.", self.authors.join("; ")));
        }
        if let Some(p) = partial {
            summary.push(format!("Issued {p}."));
        }
        if let Some(a) = non_empty(self.abstract_) {
            summary.push(a);
        }
        Ok(Reference {
            entry,
            title,
            url,
            doi,
            publisher: non_empty(self.container).or(non_empty(self.publisher)),
            published,
            kind: self.kind,
            summary: summary.join(" "),
        })
    }
}

/// Reads a whole file of one format.
pub fn parse(format: Format, text: &str) -> Result<Vec<Reference>> {
    match format {
        Format::CslJson => parse_csl_json(text),
        Format::Bibtex => parse_bibtex(text),
        Format::Ris => parse_ris(text),
    }
}

// ---- CSL-JSON --------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct CslItem {
    id: Option<Value>,
    #[serde(rename = "type")]
    item_type: String,
    title: Option<String>,
    #[serde(rename = "URL")]
    url: Option<String>,
    #[serde(rename = "DOI")]
    doi: Option<String>,
    #[serde(rename = "container-title")]
    container: Option<String>,
    publisher: Option<String>,
    issued: Option<CslDate>,
    #[serde(rename = "abstract")]
    abstract_: Option<String>,
    #[serde(default)]
    author: Vec<CslName>,
}

#[derive(Debug, Deserialize)]
struct CslDate {
    #[serde(rename = "date-parts")]
    date_parts: Option<Vec<Vec<Value>>>,
    raw: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CslName {
    family: Option<String>,
    given: Option<String>,
    literal: Option<String>,
}

fn csl_part(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn parse_csl_json(text: &str) -> Result<Vec<Reference>> {
    let mut de = serde_json::Deserializer::from_str(text);
    let items: Vec<CslItem> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." { String::new() } else { format!(" at {path}") };
        Error::bad(format!("CSL-JSON{at}: {}: export a list of items (Zotero: Export → CSL JSON)", e.inner()))
    })?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let entry = match &item.id {
            Some(Value::String(s)) => format!("{s:?} (#{})", i + 1),
            Some(Value::Number(n)) => format!("{n} (#{})", i + 1),
            _ => format!("#{}", i + 1),
        };
        let mut f = Fields::new(entry, kind_of(Format::CslJson, &item.item_type));
        f.title = item.title;
        f.url = item.url;
        f.doi = item.doi;
        f.container = item.container;
        f.publisher = item.publisher;
        f.abstract_ = item.abstract_;
        f.authors = item
            .author
            .into_iter()
            .filter_map(|n| {
                n.literal.or_else(|| match (n.given, n.family) {
                    (Some(g), Some(fam)) => Some(format!("{fam}, {g}")),
                    (None, fam) => fam,
                    (g, None) => g,
                })
            })
            .collect();
        if let Some(date) = item.issued {
            if let Some(parts) = date.date_parts.as_ref().and_then(|p| p.first()) {
                let part = |k: usize| parts.get(k).and_then(csl_part);
                f.issued = (
                    part(0).and_then(|y| i32::try_from(y).ok()),
                    part(1).and_then(|m| u32::try_from(m).ok()),
                    part(2).and_then(|d| u32::try_from(d).ok()),
                );
            } else if let Some(raw) = date.raw {
                f.issued = parse_loose_date(&raw);
            }
        }
        out.push(f.finish()?);
    }
    Ok(out)
}

/// `2020`, `2020-05`, `2020-05-17`, `2020/05/17/` as far as they go.
fn parse_loose_date(text: &str) -> (Option<i32>, Option<u32>, Option<u32>) {
    let mut parts = text.trim().split(['-', '/']).map(str::trim).filter(|p| !p.is_empty());
    let year = parts.next().and_then(|y| y.parse().ok());
    let month = parts.next().and_then(|m| m.parse().ok());
    let day = parts.next().and_then(|d| d.parse().ok());
    (year, month.filter(|_| year.is_some()), day.filter(|_| month.is_some()))
}

// ---- BibTeX ----------------------------------------------------------------

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len())).map_or(1, |t| t.matches('\n').count() + 1)
}

fn month_number(text: &str) -> Option<u32> {
    const NAMES: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let t = text.trim().to_ascii_lowercase();
    t.parse().ok().or_else(|| NAMES.iter().position(|n| t.starts_with(n)).map(|i| i as u32 + 1))
}

fn parse_bibtex(text: &str) -> Result<Vec<Reference>> {
    use biblatex::ChunksExt;
    let bib = biblatex::Bibliography::parse(text).map_err(|e| {
        let line = line_of(text, e.span.start);
        let entry = text
            .get(..e.span.start)
            .unwrap_or("")
            .rfind('@')
            .and_then(|at| text[at..].split_once('{'))
            .and_then(|(_, rest)| rest.split([',', '\n']).next())
            .map(|k| format!("entry {}: ", k.trim()))
            .unwrap_or_default();
        Error::bad(format!("BibTeX line {line}: {entry}{}", e.kind))
    })?;
    let mut out = Vec::new();
    for entry in bib.into_iter() {
        let field = |name: &str| entry.get(name).map(|c| c.format_verbatim());
        let mut f = Fields::new(entry.key.clone(), kind_of(Format::Bibtex, &entry.entry_type.to_string()));
        f.title = field("title");
        f.url = field("url");
        f.doi = field("doi");
        f.container = field("journaltitle").or_else(|| field("journal")).or_else(|| field("booktitle"));
        f.publisher = field("publisher").or_else(|| field("institution")).or_else(|| field("organization"));
        f.abstract_ = field("abstract");
        f.authors = field("author")
            .map(|a| a.split(" and ").map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect())
            .unwrap_or_default();
        f.issued = match field("date") {
            Some(d) => parse_loose_date(&d),
            None => {
                let year = field("year").and_then(|y| y.trim().parse().ok());
                let month = field("month").and_then(|m| month_number(&m)).filter(|_| year.is_some());
                let day = field("day").and_then(|d| d.trim().parse().ok()).filter(|_| month.is_some());
                (year, month, day)
            }
        };
        out.push(f.finish()?);
    }
    Ok(out)
}

// ---- RIS -------------------------------------------------------------------

/// `TY  - JOUR` as (`TY`, `JOUR`).
fn ris_tag(line: &str) -> Option<(&str, &str)> {
    let b = line.as_bytes();
    let tag_ok = b.len() >= 5 && b[..2].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    (tag_ok && &b[2..5] == b"  -").then(|| (&line[..2], line[5..].trim()))
}

fn parse_ris(text: &str) -> Result<Vec<Reference>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    // The record being read: its fields and the line it started on.
    let mut record: Option<(usize, Vec<(String, String)>)> = None;
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        let line = line.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        match (ris_tag(line), record.as_mut()) {
            (Some(("TY", ty)), None) => record = Some((n, vec![("TY".into(), ty.to_string())])),
            (Some(("TY", _)), Some((start, _))) => {
                return Err(Error::bad(format!(
                    "RIS entry #{} (line {start}): line {n} starts a new record before an ER line ended this one",
                    out.len() + 1
                )))
            }
            (Some(("ER", _)), Some(_)) => {
                let (start, fields) = record.take().unwrap_or_default();
                out.push(ris_reference(out.len() + 1, start, fields)?);
            }
            (Some((tag, value)), Some((_, fields))) => fields.push((tag.to_string(), value.to_string())),
            // A long value wrapped onto the next line.
            (None, Some((_, fields))) if !fields.is_empty() => {
                if let Some((_, v)) = fields.last_mut() {
                    v.push(' ');
                    v.push_str(line.trim());
                }
            }
            (_, _) => {
                return Err(Error::bad(format!(
                    "RIS line {n}: {:?} is outside a record: each record starts with a \"TY  - \" line",
                    crate::output::truncate(line, 40)
                )))
            }
        }
    }
    if let Some((start, _)) = record {
        return Err(Error::bad(format!(
            "RIS entry #{} (line {start}): ER: missing: the file ended before an ER line ended the record",
            out.len() + 1
        )));
    }
    Ok(out)
}

fn ris_reference(index: usize, start: usize, fields: Vec<(String, String)>) -> Result<Reference> {
    let first = |tags: &[&str]| {
        tags.iter().find_map(|t| fields.iter().find(|(tag, v)| tag == t && !v.is_empty()).map(|(_, v)| v.clone()))
    };
    let ty = first(&["TY"]).unwrap_or_default();
    let id = first(&["ID"]);
    let entry = match &id {
        Some(id) => format!("{id} (#{index}, line {start})"),
        None => format!("#{index} (line {start})"),
    };
    let mut f = Fields::new(entry, kind_of(Format::Ris, &ty));
    f.title = first(&["TI", "T1", "CT"]);
    f.url = first(&["UR"]);
    f.doi = first(&["DO"]);
    f.container = first(&["T2", "JO", "JF", "JA", "BT"]);
    f.publisher = first(&["PB"]);
    f.abstract_ = first(&["AB", "N2"]);
    f.authors =
        fields.iter().filter(|(t, v)| (t == "AU" || t == "A1") && !v.is_empty()).map(|(_, v)| v.clone()).collect();
    if let Some(d) = first(&["DA", "PY", "Y1"]) {
        f.issued = parse_loose_date(&d);
    }
    f.finish()
}

// ---- Import ----------------------------------------------------------------

/// `HTTPS://www.Example.org/a/#x` and `http://example.org/a` compare equal.
pub fn normalize_url(url: &str) -> String {
    let url = url.trim();
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split('#').next().unwrap_or("");
    let (host, path) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = host.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let path = path.trim_end_matches('/');
    format!("{host}{path}")
}

/// What happened to one entry.
#[derive(Debug, Clone, Serialize)]
pub struct ImportedEntry {
    pub entry: String,
    /// The source added, or the one already present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceId>,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    pub kind: Kind,
    /// Why it was not added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub added: Vec<ImportedEntry>,
    pub present: Vec<ImportedEntry>,
    pub conflicting: Vec<ImportedEntry>,
}

/// Adds the references that are new, in the caller's transaction.
pub fn import(tx: &mut Tx<'_>, refs: Vec<Reference>, topics: &[String], grade: Option<Grade>) -> Result<ImportReport> {
    tx.require_role(&[crate::model::Role::Editor, crate::model::Role::Researcher], "import sources")?;
    for t in topics {
        crate::topics::require(tx.conn(), t)?;
    }
    let mut dois: HashMap<String, SourceId> = HashMap::new();
    let mut urls: HashMap<String, (SourceId, Option<String>)> = HashMap::new();
    // Sources with neither DOI nor URL, by lower-case title.
    let mut bare: HashMap<String, SourceId> = HashMap::new();
    {
        let mut stmt = tx.conn().prepare("SELECT id, doi, url, title FROM sources")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (id, doi, url): (SourceId, Option<String>, Option<String>) = (r.get(0)?, r.get(1)?, r.get(2)?);
            if let Some(d) = &doi {
                dois.insert(d.clone(), id);
            }
            match url {
                Some(u) => {
                    urls.entry(normalize_url(&u)).or_insert((id, doi));
                }
                None if doi.is_none() => {
                    bare.entry(r.get::<_, String>(3)?.to_lowercase()).or_insert(id);
                }
                None => {}
            }
        }
    }
    let mut report = ImportReport::default();
    for r in refs {
        let mut shown = ImportedEntry {
            entry: r.entry.clone(),
            source: None,
            title: r.title.clone(),
            doi: r.doi.clone(),
            kind: r.kind,
            note: None,
        };
        if let Some(&id) = r.doi.as_ref().and_then(|d| dois.get(d)) {
            shown.source = Some(id);
            shown.note = Some(format!("same DOI as {id}"));
            report.present.push(shown);
            continue;
        }
        let url_key = r.url.as_deref().map(normalize_url);
        if let Some((id, their_doi)) = url_key.as_ref().and_then(|u| urls.get(u)) {
            let id = *id;
            shown.source = Some(id);
            match (their_doi, &r.doi) {
                (Some(theirs), Some(ours)) if theirs != ours => {
                    shown.note = Some(format!("same URL as {id}, whose DOI is {theirs}, not {ours}"));
                    report.conflicting.push(shown);
                }
                _ => {
                    shown.note = Some(format!("same URL as {id}"));
                    report.present.push(shown);
                }
            }
            continue;
        }
        let title_key = (r.doi.is_none() && r.url.is_none()).then(|| r.title.to_lowercase());
        if let Some(&id) = title_key.as_ref().and_then(|t| bare.get(t)) {
            shown.source = Some(id);
            shown.note = Some(format!("same title as {id}, and neither has a DOI or URL"));
            report.present.push(shown);
            continue;
        }
        let new = NewSource {
            title: r.title,
            url: r.url,
            publisher: r.publisher,
            kind: Some(r.kind),
            grade: Some(grade.unwrap_or(Grade::F)),
            summary: Some(r.summary),
            published: r.published,
            topics: topics.to_vec(),
            doi: r.doi.clone(),
            ..NewSource::default()
        };
        let done = crate::sources::add(tx, new, None)
            .map_err(|e| e.map_inner(|e| Error::bad(format!("entry {}: {e}", r.entry))))?;
        let id = done.id;
        if let Some(d) = &r.doi {
            dois.insert(d.clone(), id);
        }
        if let Some(u) = url_key {
            urls.insert(u, (id, r.doi));
        }
        if let Some(t) = title_key {
            bare.insert(t, id);
        }
        shown.source = Some(done.id);
        report.added.push(shown);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_normalise() {
        assert_eq!(normalize_url("HTTPS://www.Example.org/a/#x"), normalize_url("http://example.org/a"));
        assert_ne!(normalize_url("https://example.org/a"), normalize_url("https://example.org/b"));
        assert_eq!(normalize_url("https://example.org/a?x=1"), "example.org/a?x=1");
    }

    #[test]
    fn ris_needs_er() {
        let err = parse_ris("TY  - JOUR\nTI  - A\n").unwrap_err().to_string();
        assert!(err.contains("ER: missing"), "{err}");
        let ok = parse_ris("TY  - JOUR\nTI  - A title\n  wrapped\nAU  - X\nAU  - Y\nER  - \n").unwrap();
        assert_eq!(ok[0].title, "A title wrapped");
        assert_eq!(ok[0].summary, "Authors: X; Y.");
    }

    #[test]
    fn loose_dates() {
        assert_eq!(parse_loose_date("2020/05/17/"), (Some(2020), Some(5), Some(17)));
        assert_eq!(parse_loose_date("2020"), (Some(2020), None, None));
        assert_eq!(parse_loose_date("x"), (None, None, None));
    }
}
