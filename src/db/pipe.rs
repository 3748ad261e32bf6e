//! A write transaction whose writes run on a second thread: the thread that
//! decides the change (validation, replay, state JSON) queues the rows and
//! events it writes, and a writing thread stores them in order (encoding
//! states, hashing the chain, SQLite), so the two overlap on two cores. An
//! import into an empty database uses it (`Db::transact_piped`).
//!
//! Invariants:
//! - The connection and the chain (`Held`) are in exactly one place: the
//!   deciding thread (`here`) or the writing thread. Whoever holds them is
//!   the only one touching them.
//! - Queued writes run in the order they were queued, and every read sees
//!   every write queued before it: `conn()` first sends what is queued, then
//!   asks for the connection back and waits until the writing thread has run
//!   all of it and returned the connection.
//! - While the deciding thread holds the connection (it has just read), its
//!   writes run at once; after `HOLD_WRITES` writes with no read between,
//!   the connection goes back to the writing thread and writes queue again.
//! - The first write that fails stops the writing thread's work; the failure
//!   is kept (with the label of the record that queued it) and wins over
//!   whatever the deciding thread returns.

use std::cell::{Cell, OnceCell, RefCell};
use std::sync::mpsc::{Receiver, Sender, SyncSender};

use rusqlite::types::{ToSqlOutput, Value};
use rusqlite::{Connection, ToSql};

use super::chain::{Chain, FreshClaim, Sealed};
use crate::error::{Error, Result};

/// Writes the deciding thread makes in a row while holding the connection
/// before it hands the connection back: reads come in runs (a record that
/// reads usually writes a little, then reads again), writes in long runs.
const HOLD_WRITES: usize = 64;

/// Queued writes handed to the writing thread at a time: each hand-over
/// may wake it.
const BATCH: usize = 1024;

/// Batches in flight: enough to keep the writing thread busy, few enough
/// that memory stays flat.
const IN_FLIGHT: usize = 16;

/// One row to write: a statement (cached by the writing thread) and its
/// parameters, owned.
pub(crate) struct Write {
    sql: &'static str,
    params: Vec<Value>,
}

impl Write {
    pub(crate) fn new(sql: &'static str, params: &[&dyn ToSql]) -> Result<Write> {
        let params = params.iter().map(|p| owned(p.to_sql()?)).collect::<Result<_>>()?;
        Ok(Write { sql, params })
    }

    pub(crate) fn run(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.prepare_cached(self.sql)?.execute(rusqlite::params_from_iter(self.params.iter()))?;
        Ok(())
    }
}

fn owned(out: ToSqlOutput<'_>) -> Result<Value> {
    match out {
        ToSqlOutput::Borrowed(v) => Ok(Value::from(v)),
        ToSqlOutput::Owned(v) => Ok(v),
        _ => Err(Error::Database("internal error: a queued write's parameter has no plain value".to_string())),
    }
}

// Most queued writes are events: boxing them would cost an allocation each.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Op {
    /// What the writes after it belong to, for a failure's message.
    Label(u64),
    Write(Write),
    Event(Sealed),
    Fresh(FreshClaim),
}

/// The connection and the chain, which go together.
pub(crate) struct Held<'c> {
    pub conn: &'c mut Connection,
    pub chain: Chain,
}

impl Held<'_> {
    /// Runs one queued write (either thread runs them the same way).
    fn apply(&mut self, op: &mut Op) -> Result<()> {
        match op {
            Op::Label(_) => Ok(()),
            Op::Write(w) => {
                self.chain.forget();
                Ok(w.run(self.conn)?)
            }
            Op::Event(e) => self.chain.append(self.conn, e),
            Op::Fresh(f) => {
                self.chain.inserted_claim(std::mem::take(f));
                Ok(())
            }
        }
    }
}

enum ToWriter<'c> {
    Give(Box<Held<'c>>),
    Ops(Vec<Op>),
    Lend,
}

enum Back<'c> {
    Lent(Box<Held<'c>>),
    Failed(Option<u64>, Error),
}

/// The deciding thread's end.
pub(crate) struct Pipe<'c> {
    here: OnceCell<Held<'c>>,
    queued: RefCell<Vec<Op>>,
    to_writer: SyncSender<ToWriter<'c>>,
    from_writer: Receiver<Back<'c>>,
    failed: RefCell<Option<(Option<u64>, Error)>>,
    /// Set by every `conn()`: the deciding thread has read since.
    read: Cell<bool>,
    held_writes: Cell<usize>,
    label: Option<u64>,
    lends: Cell<u64>,
}

/// A failure of a queued write: the label of the record that queued it,
/// and the error.
pub(crate) type Failure = (Option<u64>, Error);

impl<'c> Pipe<'c> {
    /// Starts the writing thread in `scope`, with the connection and chain held here.
    pub(crate) fn start<'s>(scope: &'s std::thread::Scope<'s, '_>, held: Held<'c>) -> Pipe<'c>
    where
        'c: 's,
    {
        let (to_writer, orders) = std::sync::mpsc::sync_channel(IN_FLIGHT);
        let (answers, from_writer) = std::sync::mpsc::channel();
        scope.spawn(move || serve(orders, answers));
        let here = OnceCell::new();
        let _ = here.set(held);
        Pipe {
            here,
            queued: RefCell::new(Vec::with_capacity(BATCH)),
            to_writer,
            from_writer,
            failed: RefCell::new(None),
            read: Cell::new(false),
            held_writes: Cell::new(0),
            label: None,
            lends: Cell::new(0),
        }
    }

    /// The connection and chain, once every write queued so far has run.
    pub(crate) fn held(&self) -> &Held<'c> {
        self.read.set(true);
        self.here.get_or_init(|| self.call_back(true))
    }

    /// `held` for a check of debug builds: it neither keeps the connection
    /// here (the writes after it still go to the writing thread) nor counts
    /// as a wait, so that tests run the pipeline as release builds do.
    #[cfg(debug_assertions)]
    pub(crate) fn held_for_check(&self) -> &Held<'c> {
        self.here.get_or_init(|| {
            self.held_writes.set(HOLD_WRITES);
            self.call_back(false)
        })
    }

    /// How many times a read had to wait for the connection to come back.
    pub(crate) fn lends(&self) -> u64 {
        self.lends.get()
    }

    /// Labels the writes queued from now on (a record's line).
    pub(crate) fn label(&mut self, label: u64) {
        self.label = Some(label);
        if self.here.get().is_none() {
            self.queued.get_mut().push(Op::Label(label));
        }
    }

    /// Runs `op` here while this thread holds the connection and has read
    /// lately; else queues it for the writing thread.
    pub(crate) fn push(&mut self, op: Op) -> Result<()> {
        if self.failed.get_mut().is_some() {
            // Stop deciding: the failure itself is reported by `finish`.
            return Err(Error::Database("the writing thread stopped".to_string()));
        }
        if self.read.take() {
            self.held_writes.set(0);
        }
        if let Some(held) = self.here.get_mut() {
            if self.held_writes.get() < HOLD_WRITES {
                self.held_writes.set(self.held_writes.get() + 1);
                let mut op = op;
                return held.apply(&mut op);
            }
            let held = self.here.take().expect("held above");
            self.held_writes.set(0);
            self.order(ToWriter::Give(Box::new(held)));
            if let Some(label) = self.label {
                self.queued.get_mut().push(Op::Label(label));
            }
        }
        let queued = self.queued.get_mut();
        queued.push(op);
        if queued.len() >= BATCH {
            self.send_queued();
        }
        Ok(())
    }

    /// Takes the connection back and ends the writing thread; returns the
    /// connection and the first failure of a queued write, if any.
    pub(crate) fn finish(self) -> (Held<'c>, Option<Failure>) {
        let mut pipe = self;
        pipe.here.get_or_init(|| pipe.call_back(false));
        let held = pipe.here.take().expect("held() holds it");
        (held, pipe.failed.into_inner())
        // Dropping `to_writer` ends the writing thread's loop.
    }

    fn order(&self, order: ToWriter<'c>) {
        // The writing thread only stops when this end is dropped.
        if self.to_writer.send(order).is_err() {
            panic!("ripen's writing thread stopped while a transaction was open");
        }
    }

    fn send_queued(&self) {
        let batch = std::mem::replace(&mut *self.queued.borrow_mut(), Vec::with_capacity(BATCH));
        if !batch.is_empty() {
            self.order(ToWriter::Ops(batch));
        }
        // Learn of a failure early, to stop deciding.
        while let Ok(back) = self.from_writer.try_recv() {
            self.take_back(back);
        }
    }

    fn take_back(&self, back: Back<'c>) -> Option<Held<'c>> {
        match back {
            Back::Lent(held) => return Some(*held),
            Back::Failed(label, e) => {
                self.failed.borrow_mut().get_or_insert((label, e));
            }
        }
        None
    }

    fn call_back(&self, counted: bool) -> Held<'c> {
        self.send_queued();
        self.order(ToWriter::Lend);
        loop {
            let Ok(back) = self.from_writer.recv() else {
                panic!("ripen's writing thread stopped holding the connection");
            };
            if let Some(held) = self.take_back(back) {
                self.lends.set(self.lends.get() + u64::from(counted));
                return held;
            }
        }
    }
}

/// The writing thread: runs batches in order until the deciding end is dropped.
fn serve<'c>(orders: Receiver<ToWriter<'c>>, answers: Sender<Back<'c>>) {
    let mut held: Option<Box<Held<'c>>> = None;
    let (mut label, mut failed) = (None, false);
    while let Ok(order) = orders.recv() {
        match order {
            ToWriter::Give(h) => held = Some(h),
            ToWriter::Lend => {
                if let Some(h) = held.take() {
                    // The deciding thread may write through the connection.
                    h.chain.forget();
                    let _ = answers.send(Back::Lent(h));
                }
            }
            ToWriter::Ops(mut ops) => {
                if !failed && held.is_none() {
                    failed = true;
                    let e = Error::Database("internal error: writes were queued while the connection was lent".into());
                    let _ = answers.send(Back::Failed(label, e));
                }
                if let (false, Some(h)) = (failed, held.as_mut()) {
                    for op in ops.iter_mut() {
                        if let Op::Label(l) = op {
                            label = Some(*l);
                        }
                        if let Err(e) = h.apply(op) {
                            failed = true;
                            let _ = answers.send(Back::Failed(label, e));
                            break;
                        }
                    }
                }
                // Freed here: the deciding thread has enough to do.
                drop(ops);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::db::{Actor, Db};
    use crate::error::Error;
    use crate::model::Role;

    const PUT: &str = "INSERT INTO t (id, v) VALUES (?1, ?2)";

    fn scratch() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::create(&dir.path().join("t.db")).unwrap();
        db.conn().execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)").unwrap();
        (dir, db)
    }

    fn editor() -> Actor {
        Actor { handle: "editor".into(), name: "Editor".into(), role: Role::Editor }
    }

    fn count(db: &Db) -> i64 {
        db.conn().query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_read_sees_every_write_queued_before_it_and_waits_once() {
        let (_dir, mut db) = scratch();
        let (seen, waits) = db
            .transact_piped(
                &editor(),
                "fill t",
                |_, e| e,
                |tx| {
                    let mut seen = Vec::new();
                    for i in 0..5000i64 {
                        tx.write(PUT, rusqlite::params![i, "x"])?;
                        if i % 1000 == 999 {
                            seen.push(tx.conn().query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))?);
                        }
                    }
                    Ok((seen, tx.waits()))
                },
            )
            .unwrap();
        assert_eq!(seen, [1000, 2000, 3000, 4000, 5000]);
        // The reads come after long runs of writes, which went to the writing thread.
        assert_eq!(waits, 5);
        assert_eq!(count(&db), 5000);
    }

    #[test]
    fn a_queued_write_that_fails_is_reported_with_its_label_and_nothing_stays() {
        let (_dir, mut db) = scratch();
        let failed = |label: Option<u64>, e: Error| Error::BadInput(format!("record {label:?}: {e}"));
        let err = db
            .transact_piped(&editor(), "fill t", failed, |tx| {
                for i in 0..3000i64 {
                    tx.label(i as u64);
                    // Record 2000 repeats record 0's key.
                    tx.write(PUT, rusqlite::params![i % 2000, "x"])?;
                }
                Ok(())
            })
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("record Some(2000): "), "{err}");
        assert!(err.contains("UNIQUE"), "{err}");
        assert_eq!(count(&db), 0);
        // The database is left usable, with no transaction open.
        db.transact_piped(&editor(), "fill t", |_, e| e, |tx| tx.write(PUT, rusqlite::params![1, "y"])).unwrap();
        assert_eq!(count(&db), 1);
    }

    #[test]
    fn a_change_that_fails_after_queuing_writes_leaves_nothing() {
        let (_dir, mut db) = scratch();
        let err = db
            .transact_piped(
                &editor(),
                "fill t",
                |_, e| e,
                |tx| {
                    for i in 0..3000i64 {
                        tx.write(PUT, rusqlite::params![i, "x"])?;
                    }
                    Err::<(), _>(Error::bad("the bundle's last line is bad"))
                },
            )
            .unwrap_err();
        assert_eq!(err.to_string(), "the bundle's last line is bad");
        assert_eq!(count(&db), 0);
    }
}
