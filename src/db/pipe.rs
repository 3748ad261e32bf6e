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
    /// Runs one queued write (either thread runs them the same way). It
    /// borrows what it can: the batch goes back to the deciding thread,
    /// whose allocator frees it.
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
    /// A batch that has run: dropped by the thread that allocated it.
    Spent(Vec<Op>),
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
    held_writes: usize,
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
            held_writes: 0,
            label: None,
            lends: Cell::new(0),
        }
    }

    /// The connection and chain, once every write queued so far has run.
    pub(crate) fn held(&self) -> &Held<'c> {
        self.read.set(true);
        self.here.get_or_init(|| self.call_back())
    }

    /// How many times the connection came back for a read.
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
            self.held_writes = 0;
        }
        if let Some(held) = self.here.get_mut() {
            if self.held_writes < HOLD_WRITES {
                self.held_writes += 1;
                let mut op = op;
                return held.apply(&mut op);
            }
            let held = self.here.take().expect("held above");
            self.held_writes = 0;
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
        pipe.held();
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
        // Free spent batches here, where they were allocated.
        while let Ok(back) = self.from_writer.try_recv() {
            self.take_back(back);
        }
    }

    fn take_back(&self, back: Back<'c>) -> Option<Held<'c>> {
        match back {
            Back::Lent(held) => return Some(*held),
            Back::Spent(batch) => drop(batch),
            Back::Failed(label, e) => {
                self.failed.borrow_mut().get_or_insert((label, e));
            }
        }
        None
    }

    fn call_back(&self) -> Held<'c> {
        self.send_queued();
        self.order(ToWriter::Lend);
        loop {
            let Ok(back) = self.from_writer.recv() else {
                panic!("ripen's writing thread stopped holding the connection");
            };
            if let Some(held) = self.take_back(back) {
                self.lends.set(self.lends.get() + 1);
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
                let _ = answers.send(Back::Spent(ops));
            }
        }
    }
}
