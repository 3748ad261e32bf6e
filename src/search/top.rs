//! The best `k` documents of a query over every segment, with one bound
//! shared by all segments.
//!
//! tantivy's `TopDocs` collects each segment on its own, each from no bound
//! at all, and merges the lists: block-max WAND (the pruning of OR queries)
//! then starts again with nothing to prune against in every segment. Here
//! the segments are collected in order into one heap, and each segment's
//! pruning starts from the k-th best score found so far.
//!
//! Invariant: the result is exactly what `TopDocs::with_limit(k)
//! .order_by_score()` returns, scores bit for bit, order included: best
//! score first, ties by ascending `DocAddress`. Documents arrive in
//! ascending address order and one only enters a full heap with a score
//! strictly above the k-th (as tantivy's per-segment heap does), so among
//! equal scores the lowest address stays; tantivy's pruning only skips
//! documents that cannot beat the bound it is given, which is never above
//! the score of the k-th best found so far.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use tantivy::query::{EnableScoring, Query};
use tantivy::{DocAddress, Score, Searcher};

/// A heap entry: a higher score is greater; among equal scores the lower
/// address is greater (it wins the tie).
struct Entry {
    score: Score,
    addr: DocAddress,
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score.total_cmp(&other.score).then_with(|| other.addr.cmp(&self.addr))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

/// The best `k` documents for `query`, best first, as `searcher.search(query,
/// &TopDocs::with_limit(k).order_by_score())` finds them.
pub(crate) fn top_k(searcher: &Searcher, query: &dyn Query, k: usize) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    if k == 0 {
        return Ok(Vec::new());
    }
    let weight = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
    let mut heap: BinaryHeap<Reverse<Entry>> = BinaryHeap::with_capacity(k);
    // The k-th best score once the heap is full: what a document must beat.
    let mut bound: Option<Score> = None;
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let segment_ord = u32::try_from(ord).map_err(|_| tantivy::TantivyError::InternalError("segments".into()))?;
        let alive = reader.alive_bitset();
        weight.for_each_pruning(bound.unwrap_or(Score::MIN), reader, &mut |doc, score| {
            if alive.is_some_and(|a| a.is_deleted(doc)) {
                return bound.unwrap_or(Score::MIN);
            }
            let entry = Entry { score, addr: DocAddress::new(segment_ord, doc) };
            if heap.len() < k {
                heap.push(Reverse(entry));
                if heap.len() == k {
                    bound = heap.peek().map(|Reverse(e)| e.score);
                }
            } else if bound.is_some_and(|b| score > b) {
                if let Some(mut least) = heap.peek_mut() {
                    *least = Reverse(entry);
                }
                bound = heap.peek().map(|Reverse(e)| e.score);
            }
            bound.unwrap_or(Score::MIN)
        })?;
    }
    let mut out: Vec<Entry> = heap.into_iter().map(|Reverse(e)| e).collect();
    out.sort_by(|a, b| b.cmp(a));
    Ok(out.into_iter().map(|e| (e.score, e.addr)).collect())
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use tantivy::collector::TopDocs;
    use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, Occur, PhraseQuery, TermQuery};
    use tantivy::schema::{IndexRecordOption, Schema, TEXT};
    use tantivy::{doc, Index, IndexWriter, Term};

    use super::*;

    /// Several segments, deleted documents and many tied scores (short
    /// documents of few words): every query, every k, the same list as
    /// tantivy's own collector.
    #[test]
    fn top_k_is_what_top_docs_finds() {
        let mut b = Schema::builder();
        let title = b.add_text_field("title", TEXT);
        let body = b.add_text_field("body", TEXT);
        let index = Index::create_in_ram(b.build());
        let words = ["a", "b", "c", "d", "e", "f"];
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        for segment in 0..4 {
            for n in 0..(300 + segment * 150) {
                let mut text =
                    |len: usize| (0..len).map(|_| words[rng.gen_range(0..words.len())]).collect::<Vec<_>>().join(" ");
                let (t, x) = (text(1 + n % 3), text(1 + n % 5));
                writer.add_document(doc!(title => t, body => x)).unwrap();
            }
            if segment == 2 {
                writer.delete_term(Term::from_field_text(body, "f"));
            }
            writer.commit().unwrap();
        }
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() >= 3, "the test needs several segments");
        let term = |f, w: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(f, w), IndexRecordOption::WithFreqsAndPositions))
        };
        let word = |w: &str| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(vec![
                (Occur::Should, Box::new(BoostQuery::new(term(title, w), 1.5)) as Box<dyn Query>),
                (Occur::Should, term(body, w)),
            ]))
        };
        let queries: Vec<Box<dyn Query>> = vec![
            term(body, "a"),
            Box::new(BooleanQuery::new(vec![(Occur::Should, term(body, "a")), (Occur::Should, term(title, "b"))])),
            Box::new(BooleanQuery::new(vec![(Occur::Should, word("c")), (Occur::Should, word("d"))])),
            Box::new(BooleanQuery::new(vec![(Occur::Must, word("a")), (Occur::Must, word("e"))])),
            Box::new(BooleanQuery::new(vec![(Occur::Must, term(body, "a")), (Occur::Must, term(body, "b"))])),
            Box::new(PhraseQuery::new(vec![Term::from_field_text(body, "a"), Term::from_field_text(body, "b")])),
            Box::new(BooleanQuery::new(vec![(Occur::Must, word("b")), (Occur::MustNot, term(title, "c"))])),
            Box::new(AllQuery),
            term(body, "absent"),
        ];
        for q in &queries {
            for k in [1, 3, 10, 57, 5_000] {
                let ours = top_k(&searcher, q.as_ref(), k).unwrap();
                let theirs = searcher.search(q.as_ref(), &TopDocs::with_limit(k).order_by_score()).unwrap();
                let bits = |v: &[(Score, DocAddress)]| v.iter().map(|(s, a)| (s.to_bits(), *a)).collect::<Vec<_>>();
                assert_eq!(bits(&ours), bits(&theirs), "{q:?}, k = {k}");
            }
        }
        assert!(top_k(&searcher, &AllQuery, 0).unwrap().is_empty());
    }
}
