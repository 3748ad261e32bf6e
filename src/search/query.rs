//! The query language people type, parsed by ripen itself and compiled to
//! tantivy queries: tantivy's own `QueryParser` is never given user input.
//!
//! Syntax: words (all must match, in any text field), `"phrases"`, `AND`,
//! `OR`, `NOT` / `-word` (keywords in capitals), parentheses, `field:value`
//! and `field:"a phrase"`, `*` for everything.
//!
//! Invariants: `parse` never panics, never loops and never recurses deeper
//! than `MAX_DEPTH`, whatever the input: the input is capped at
//! `MAX_QUERY_BYTES`, control characters (other than tab and newlines) are
//! refused, and at most `MAX_CLAUSES` leaves are accepted. Every refusal is a
//! one-line `Error::BadInput` saying what to change. `compile` only builds
//! queries that cannot panic in tantivy (a phrase always has two or more
//! terms; a range only on the date field).

use std::collections::BTreeSet;

use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::Term;

use super::schema::{self, DocKind, Fields};
use crate::error::{Error, Result};
use crate::ids::{self, IdKind, Name};
use crate::model::{Badge, Grade, Kind, Status};

/// Longest query accepted, in bytes.
pub(crate) const MAX_QUERY_BYTES: usize = 1000;
/// Deepest nesting of parentheses and NOTs.
pub(crate) const MAX_DEPTH: usize = 12;
/// Most words, phrases and field:value terms in one query.
pub(crate) const MAX_CLAUSES: usize = 48;

/// Fields a person may name in `field:value`.
pub(crate) const FIELD_NAMES: &str =
    "text, title, publisher, beat, topic, badge, earned, grade, kind, status, actor, id";

/// One parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `*`
    All,
    /// A bare word or a quoted phrase, searched in every text field.
    Text(String),
    /// `field:value` on a text field.
    FieldText(TextField, String),
    /// `field:value` on a keyword field, already validated.
    Keyword(Keyword),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    Text,
    Title,
    Publisher,
    Beat,
}

/// A validated `field:value` on an exact-match field.
#[derive(Debug, Clone, PartialEq)]
pub enum Keyword {
    Topic(String),
    Badge(Badge),
    Earned(Badge),
    Grade(Grade),
    DocKind(DocKind),
    SourceKind(Kind),
    Status(Status),
    Actor(String),
    Id(DocKind, i64),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    /// `-` directly before something.
    Minus,
    Word(String),
    Phrase(String),
    /// `field:` directly followed by a word or a phrase.
    Field(String, String),
}

/// Refuses what no query may contain, before any parsing.
pub(crate) fn check_input(input: &str) -> Result<()> {
    if input.len() > MAX_QUERY_BYTES {
        return Err(Error::bad(format!(
            "query is {} bytes, over the limit of {MAX_QUERY_BYTES}: shorten it",
            input.len()
        )));
    }
    if let Some(c) = input.chars().find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        return Err(Error::bad(format!("query contains the control character U+{:04X}: remove it", c as u32)));
    }
    if input.trim().is_empty() {
        return Err(Error::bad("query is empty: give words to search for, or * for everything"));
    }
    Ok(())
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '(' | ')' | '"')
}

fn lex(input: &str) -> Result<Vec<Tok>> {
    let mut toks = Vec::new();
    let mut chars = input.char_indices().peekable();
    let read_phrase = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>| -> Result<String> {
        let mut s = String::new();
        for (_, c) in chars.by_ref() {
            if c == '"' {
                return Ok(s);
            }
            s.push(c);
        }
        Err(Error::bad("query has an unclosed quote: add the closing \""))
    };
    while let Some(&(_, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                toks.push(Tok::LParen);
            }
            ')' => {
                chars.next();
                toks.push(Tok::RParen);
            }
            '"' => {
                chars.next();
                toks.push(Tok::Phrase(read_phrase(&mut chars)?));
            }
            '-' if chars.clone().nth(1).is_some_and(|(_, n)| n == '(' || n == '"' || (is_word_char(n) && n != '-')) => {
                chars.next();
                toks.push(Tok::Minus);
            }
            _ => {
                let mut w = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if !is_word_char(c) {
                        break;
                    }
                    w.push(c);
                    chars.next();
                }
                match w.as_str() {
                    "AND" | "&&" => toks.push(Tok::And),
                    "OR" | "||" => toks.push(Tok::Or),
                    "NOT" => toks.push(Tok::Not),
                    _ => match split_field(&w) {
                        Some((field, "")) if matches!(chars.peek(), Some(&(_, '"'))) => {
                            chars.next();
                            let value = read_phrase(&mut chars)?;
                            toks.push(Tok::Field(field.to_string(), value));
                        }
                        Some((field, value)) if !value.is_empty() => {
                            toks.push(Tok::Field(field.to_string(), value.to_string()))
                        }
                        _ => toks.push(Tok::Word(w)),
                    },
                }
            }
        }
    }
    Ok(toks)
}

/// `name:rest` where `name` is ASCII letters (a candidate field name).
fn split_field(word: &str) -> Option<(&str, &str)> {
    let (name, rest) = word.split_once(':')?;
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphabetic())).then_some((name, rest))
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
    clauses: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::bad(format!("query nests parentheses or NOTs more than {MAX_DEPTH} deep: simplify it")));
        }
        Ok(())
    }

    fn leaf(&mut self) -> Result<()> {
        self.clauses += 1;
        if self.clauses > MAX_CLAUSES {
            return Err(Error::bad(format!("query has more than {MAX_CLAUSES} terms: use fewer words")));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Node> {
        let mut items = vec![self.and_expr()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            if matches!(self.peek(), None | Some(Tok::RParen) | Some(Tok::Or) | Some(Tok::And)) {
                return Err(Error::bad(
                    "OR needs something on both sides (to search for the word, write it in lowercase)",
                ));
            }
            items.push(self.and_expr()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Node::Or(items) })
    }

    fn and_expr(&mut self) -> Result<Node> {
        let mut items = vec![self.unary()?];
        loop {
            match self.peek() {
                Some(Tok::And) => {
                    self.pos += 1;
                    if matches!(self.peek(), None | Some(Tok::RParen) | Some(Tok::Or) | Some(Tok::And)) {
                        return Err(Error::bad(
                            "AND needs something on both sides (to search for the word, write it in lowercase)",
                        ));
                    }
                    items.push(self.unary()?);
                }
                None | Some(Tok::RParen) | Some(Tok::Or) => break,
                Some(_) => items.push(self.unary()?),
            }
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Node::And(items) })
    }

    fn unary(&mut self) -> Result<Node> {
        match self.peek() {
            Some(Tok::Not) | Some(Tok::Minus) => {
                let minus = self.peek() == Some(&Tok::Minus);
                self.pos += 1;
                if matches!(self.peek(), None | Some(Tok::RParen) | Some(Tok::Or) | Some(Tok::And)) {
                    let what = if minus { "-" } else { "NOT" };
                    return Err(Error::bad(format!(
                        "{what} needs something after it (to search for the word, write it in lowercase)"
                    )));
                }
                self.enter()?;
                let inner = self.unary()?;
                self.depth -= 1;
                Ok(Node::Not(Box::new(inner)))
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Node> {
        let Some(tok) = self.toks.get(self.pos).cloned() else {
            return Err(Error::bad("query ends too early: finish it or remove the last operator"));
        };
        self.pos += 1;
        match tok {
            Tok::LParen => {
                self.enter()?;
                if self.peek() == Some(&Tok::RParen) {
                    return Err(Error::bad("query has empty parentheses: put words inside or remove them"));
                }
                let inner = self.or_expr()?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err(Error::bad("query has an unclosed parenthesis: add the closing )"));
                }
                self.pos += 1;
                self.depth -= 1;
                Ok(inner)
            }
            Tok::RParen => Err(Error::bad("query has a ) without its (: remove it or add the opening one")),
            Tok::Word(w) if w == "*" => Ok(Node::All),
            Tok::Word(w) | Tok::Phrase(w) => {
                self.leaf()?;
                Ok(Node::Text(w))
            }
            Tok::Field(name, value) => {
                self.leaf()?;
                field_node(&name, &value)
            }
            Tok::And | Tok::Or | Tok::Not | Tok::Minus => {
                Err(Error::bad("query has an operator where a word belongs: check AND, OR and NOT"))
            }
        }
    }
}

fn field_node(name: &str, value: &str) -> Result<Node> {
    let value = value.trim();
    let lower = name.to_ascii_lowercase();
    let text = |f| Ok(Node::FieldText(f, value.to_string()));
    match lower.as_str() {
        "text" => text(TextField::Text),
        "title" | "headline" => text(TextField::Title),
        "publisher" => text(TextField::Publisher),
        "beat" => text(TextField::Beat),
        "topic" => Ok(Node::Keyword(Keyword::Topic(value.to_string()))),
        "badge" => Ok(Node::Keyword(Keyword::Badge(value.parse()?))),
        "earned" => Ok(Node::Keyword(Keyword::Earned(value.parse()?))),
        "grade" => Ok(Node::Keyword(Keyword::Grade(value.to_ascii_uppercase().parse()?))),
        "status" => Ok(Node::Keyword(Keyword::Status(value.parse()?))),
        "kind" => Ok(Node::Keyword(parse_kind(value)?)),
        "actor" | "author" | "voice" => {
            Ok(Node::Keyword(Keyword::Actor(value.strip_prefix('@').unwrap_or(value).to_string())))
        }
        "id" => Ok(Node::Keyword(parse_id(value)?)),
        _ => Err(Error::bad(format!(
            "unknown field {name:?} in {name}:{value}: the fields are {FIELD_NAMES}; to search the words, put them in quotes"
        ))),
    }
}

/// `claim`, `source`, `dispatch`, or a source kind (`paper`, ...).
pub fn parse_kind(value: &str) -> Result<Keyword> {
    if let Some(k) = DocKind::parse(value) {
        return Ok(Keyword::DocKind(k));
    }
    value
        .parse::<Kind>()
        .map(Keyword::SourceKind)
        .map_err(|_| Error::bad(format!("kind {value:?} is not one of: claim, source, dispatch, {}", Kind::choices())))
}

fn parse_id(value: &str) -> Result<Keyword> {
    let bad = || Error::bad(format!("id:{value} is not an id: write id:C12, id:S3 or id:D2"));
    let kind = match value.chars().next().map(|c| c.to_ascii_uppercase()) {
        Some('C') => (DocKind::Claim, IdKind::Claim),
        Some('S') => (DocKind::Source, IdKind::Source),
        Some('D') => (DocKind::Dispatch, IdKind::Dispatch),
        _ => return Err(bad()),
    };
    match ids::parse(kind.1, value, false).map_err(|_| bad())? {
        Name::Number(n) => Ok(Keyword::Id(kind.0, n)),
        Name::Key(_) => Err(bad()),
    }
}

/// Parses a query. Never panics; refuses with a one-line message.
pub fn parse(input: &str) -> Result<Node> {
    check_input(input)?;
    let toks = lex(input)?;
    let mut p = Parser { toks, pos: 0, depth: 0, clauses: 0 };
    let node = p.or_expr()?;
    if p.pos != p.toks.len() {
        return Err(Error::bad("query has a ) without its (: remove it or add the opening one"));
    }
    Ok(node)
}

/// Compiles parsed queries against the index's fields.
pub(crate) struct Compiler {
    pub fields: Fields,
    pub analyzer: TextAnalyzer,
}

/// Text fields searched by a bare word, with their boosts.
fn default_fields(f: &Fields) -> [(Field, f32); 4] {
    [(f.title, 1.5), (f.text, 1.0), (f.publisher, 0.5), (f.beat, 0.5)]
}

fn boxed(q: impl Query) -> Box<dyn Query> {
    Box::new(q)
}

/// A query matching `tokens` (in order) in `field`, or nothing when no tokens.
pub(crate) fn tokens_query(field: Field, tokens: &[String]) -> Option<Box<dyn Query>> {
    match tokens {
        [] => None,
        [one] => Some(boxed(TermQuery::new(Term::from_field_text(field, one), IndexRecordOption::WithFreqs))),
        many => Some(boxed(PhraseQuery::new(many.iter().map(|t| Term::from_field_text(field, t)).collect()))),
    }
}

fn keyword_term(f: &Fields, k: &Keyword) -> Term {
    match k {
        Keyword::Topic(t) => Term::from_field_text(f.topic, t),
        Keyword::Badge(b) => Term::from_field_text(f.badge, b.as_str()),
        Keyword::Earned(b) => Term::from_field_text(f.earned, b.as_str()),
        Keyword::Grade(g) => Term::from_field_text(f.grade, g.as_str()),
        Keyword::DocKind(k) => Term::from_field_text(f.doctype, k.as_str()),
        Keyword::SourceKind(k) => Term::from_field_text(f.srckind, k.as_str()),
        Keyword::Status(s) => Term::from_field_text(f.status, s.as_str()),
        Keyword::Actor(a) => Term::from_field_text(f.actor, a),
        // An id too large to be a key matches nothing.
        Keyword::Id(kind, n) => Term::from_field_u64(f.key, schema::doc_key(*kind, *n).unwrap_or(schema::NO_DOC_KEY)),
    }
}

/// An exact-match filter that does not change scores.
pub(crate) fn keyword_filter(f: &Fields, k: &Keyword) -> Box<dyn Query> {
    boxed(ConstScoreQuery::new(boxed(TermQuery::new(keyword_term(f, k), IndexRecordOption::Basic)), 0.0))
}

fn must_not_only(negatives: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, boxed(AllQuery))];
    clauses.extend(negatives.into_iter().map(|q| (Occur::MustNot, q)));
    boxed(BooleanQuery::new(clauses))
}

impl Compiler {
    pub(crate) fn new(fields: Fields) -> Self {
        Compiler { fields, analyzer: schema::analyzer() }
    }

    /// The tantivy query for `node`; `None` when it has nothing searchable
    /// (only punctuation, say).
    pub(crate) fn compile(&mut self, node: &Node) -> Option<Box<dyn Query>> {
        match node {
            Node::All => Some(boxed(AllQuery)),
            Node::Text(text) => {
                let tokens = schema::tokens(&mut self.analyzer, text);
                if tokens.is_empty() {
                    return None;
                }
                let clauses = default_fields(&self.fields)
                    .into_iter()
                    .filter_map(|(field, boost)| {
                        tokens_query(field, &tokens).map(|q| (Occur::Should, boxed(BoostQuery::new(q, boost))))
                    })
                    .collect();
                Some(boxed(BooleanQuery::new(clauses)))
            }
            Node::FieldText(which, text) => {
                let field = match which {
                    TextField::Text => self.fields.text,
                    TextField::Title => self.fields.title,
                    TextField::Publisher => self.fields.publisher,
                    TextField::Beat => self.fields.beat,
                };
                let tokens = schema::tokens(&mut self.analyzer, text);
                tokens_query(field, &tokens)
            }
            Node::Keyword(k) => Some(boxed(TermQuery::new(keyword_term(&self.fields, k), IndexRecordOption::Basic))),
            Node::And(items) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for item in items {
                    match item {
                        Node::Not(inner) => {
                            if let Some(q) = self.compile(inner) {
                                clauses.push((Occur::MustNot, q));
                            }
                        }
                        other => {
                            if let Some(q) = self.compile(other) {
                                clauses.push((Occur::Must, q));
                            }
                        }
                    }
                }
                if clauses.is_empty() {
                    None
                } else if clauses.iter().all(|(o, _)| *o == Occur::MustNot) {
                    Some(must_not_only(clauses.into_iter().map(|(_, q)| q).collect()))
                } else {
                    Some(boxed(BooleanQuery::new(clauses)))
                }
            }
            Node::Or(items) => {
                // Single words join this union directly (not as nested
                // unions), so tantivy can prune with block-max WAND.
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for item in items {
                    if let Node::Text(text) = item {
                        if let [token] = schema::tokens(&mut self.analyzer, text).as_slice() {
                            clauses.extend(self.word_clauses(token));
                            continue;
                        }
                    }
                    if let Some(q) = self.compile(item) {
                        clauses.push((Occur::Should, q));
                    }
                }
                (!clauses.is_empty()).then(|| boxed(BooleanQuery::new(clauses)))
            }
            Node::Not(inner) => self.compile(inner).map(|q| must_not_only(vec![q])),
        }
    }

    /// One word in every default field, boosted, as union clauses.
    fn word_clauses(&self, token: &str) -> Vec<(Occur, Box<dyn Query>)> {
        default_fields(&self.fields)
            .into_iter()
            .map(|(field, boost)| {
                let term = TermQuery::new(Term::from_field_text(field, token), IndexRecordOption::WithFreqs);
                (Occur::Should, boxed(BoostQuery::new(boxed(term), boost)))
            })
            .collect()
    }

    /// The analyzed words a hit may show highlighted: those of every word,
    /// phrase and text field in `node` that is not under a NOT.
    pub(crate) fn highlight_terms(&mut self, node: &Node) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.collect_terms(node, &mut out);
        out
    }

    fn collect_terms(&mut self, node: &Node, out: &mut BTreeSet<String>) {
        match node {
            Node::Text(t) | Node::FieldText(_, t) => out.extend(schema::tokens(&mut self.analyzer, t)),
            Node::And(items) | Node::Or(items) => {
                for i in items {
                    self.collect_terms(i, out);
                }
            }
            Node::All | Node::Keyword(_) | Node::Not(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Node {
        Node::Text(s.to_string())
    }

    #[test]
    fn words_are_anded_and_or_binds_looser() {
        assert_eq!(parse("a b").unwrap(), Node::And(vec![text("a"), text("b")]));
        assert_eq!(parse("a b OR c").unwrap(), Node::Or(vec![Node::And(vec![text("a"), text("b")]), text("c")]));
        assert_eq!(parse("a AND (b OR c)").unwrap(), Node::And(vec![text("a"), Node::Or(vec![text("b"), text("c")])]));
    }

    #[test]
    fn phrases_negation_and_fields() {
        assert_eq!(parse("\"cost of pass\"").unwrap(), text("cost of pass"));
        assert_eq!(parse("-gpu").unwrap(), Node::Not(Box::new(text("gpu"))));
        assert_eq!(parse("a NOT b").unwrap(), Node::And(vec![text("a"), Node::Not(Box::new(text("b")))]));
        assert_eq!(parse("badge:caveat").unwrap(), Node::Keyword(Keyword::Badge(Badge::Caveat)));
        assert_eq!(parse("grade:b").unwrap(), Node::Keyword(Keyword::Grade(Grade::B)));
        assert_eq!(parse("kind:paper").unwrap(), Node::Keyword(Keyword::SourceKind(Kind::Paper)));
        assert_eq!(parse("kind:claim").unwrap(), Node::Keyword(Keyword::DocKind(DocKind::Claim)));
        assert_eq!(parse("actor:@remy").unwrap(), Node::Keyword(Keyword::Actor("remy".into())));
        assert_eq!(parse("id:c12").unwrap(), Node::Keyword(Keyword::Id(DocKind::Claim, 12)));
        assert_eq!(parse("title:\"cost of\"").unwrap(), Node::FieldText(TextField::Title, "cost of".into()));
        assert_eq!(parse("3:1").unwrap(), text("3:1"));
        assert_eq!(parse("a - b").unwrap(), Node::And(vec![text("a"), text("-"), text("b")]));
    }

    #[test]
    fn refusals_are_one_line() {
        for bad in [
            "",
            "   ",
            "a\u{7}b",
            "\"open",
            "(a",
            "a)",
            "()",
            "a AND",
            "OR b",
            "NOT",
            "badge:shiny",
            "nosuch:x",
            "id:X1",
            "kind:poem",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(matches!(e, Error::BadInput(_)), "{bad:?}: {e:?}");
            assert!(!e.to_string().contains('\n'), "{bad:?}: {e}");
        }
    }

    #[test]
    fn depth_length_and_clauses_are_capped() {
        assert!(parse(&"(".repeat(MAX_DEPTH + 1)).is_err());
        assert!(parse(&format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH))).is_ok());
        assert!(parse(&"NOT ".repeat(200)).is_err());
        assert!(parse(&"-".repeat(400)).is_ok());
        assert_eq!(parse("--a").unwrap(), text("--a"));
        assert!(parse(&"a ".repeat(MAX_CLAUSES + 1)).is_err());
        assert!(parse(&"a".repeat(MAX_QUERY_BYTES + 1)).is_err());
    }

    #[test]
    fn compile_drops_unsearchable_parts() {
        let (_, fields) = schema::build();
        let mut c = Compiler::new(fields);
        assert!(c.compile(&parse("!!!").unwrap()).is_none());
        assert!(c.compile(&parse("!!! gpu").unwrap()).is_some());
        assert!(c.compile(&parse("NOT gpu").unwrap()).is_some());
        let terms = c.highlight_terms(&parse("Cost \"of PASS\" NOT gpu title:Café").unwrap());
        assert_eq!(terms.into_iter().collect::<Vec<_>>(), vec!["cafe", "cost", "of", "pass"]);
    }
}
