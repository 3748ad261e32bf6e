//! Child rows read beside their parents in one ordered pass (a merge join):
//! the parent query and the child query are both sorted by the parent key,
//! so each parent takes the run of children with its key. One pass over each
//! table instead of one query per parent, which matters at a million rows.

use rusqlite::{Row, Rows};

/// Reads one child row as its parent key and its value.
pub(super) type ReadChild<K, T> = fn(&Row<'_>) -> rusqlite::Result<(K, T)>;

pub struct Children<'s, K, T> {
    rows: Rows<'s>,
    read: ReadChild<K, T>,
    pending: Option<(K, T)>,
}

impl<'s, K: Ord, T> Children<'s, K, T> {
    /// `rows` must be sorted by parent key, in the parents' order.
    pub fn new(rows: Rows<'s>, read: ReadChild<K, T>) -> Self {
        Children { rows, read, pending: None }
    }

    /// The children of `parent`, in query order. Parents must be asked for
    /// in ascending key order; children of keys never asked for (rows whose
    /// parent is gone) are skipped.
    pub(crate) fn of(&mut self, parent: &K) -> rusqlite::Result<Vec<T>> {
        let mut found = Vec::new();
        loop {
            if self.pending.is_none() {
                self.pending = match self.rows.next()? {
                    Some(row) => Some((self.read)(row)?),
                    None => return Ok(found),
                };
            }
            match self.pending.take() {
                Some((key, child)) if key == *parent => found.push(child),
                Some((key, _)) if key < *parent => {}
                other => {
                    self.pending = other;
                    return Ok(found);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    #[test]
    fn each_parent_takes_its_run_and_orphans_are_skipped() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE c (parent INTEGER, v TEXT);
             INSERT INTO c VALUES (1, 'a'), (1, 'b'), (2, 'orphan'), (3, 'c'), (5, 'late');",
        )
        .unwrap();
        let mut stmt = conn.prepare("SELECT parent, v FROM c ORDER BY parent, v").unwrap();
        let mut children: Children<'_, i64, String> =
            Children::new(stmt.query([]).unwrap(), |r| Ok((r.get(0)?, r.get(1)?)));
        assert_eq!(children.of(&1).unwrap(), ["a", "b"]);
        assert_eq!(children.of(&3).unwrap(), ["c"]);
        assert!(children.of(&4).unwrap().is_empty());
        assert_eq!(children.of(&5).unwrap(), ["late"]);
        assert!(children.of(&6).unwrap().is_empty());
    }
}
