//! A write transaction whose statements run on a second thread: the thread
//! that decides the change (validation, replay, state JSON, hashing) queues
//! the rows it writes, and a writing thread executes them in order, so SQLite
//! and ripen's own work overlap on two cores. A bulk import uses it
//! (`Db::transact_piped`).
//!
//! Invariants:
//! - The connection is in exactly one place: the deciding thread (`here`)
//!   or the writing thread. Whoever holds it is the only one touching it.
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

use crate::error::{Error, Result};

/// Writes the deciding thread makes in a row while holding the connection
/// before it hands the connection back: reads come in runs (a record that
/// reads usually writes a little, then reads again), writes in long runs.
const HOLD_WRITES: usize = 64;

/// Queued writes handed to the writing thread at a time.
const BATCH: usize = 256;

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

    pub(crate) fn from_values(sql: &'static str, params: Vec<Value>) -> Write {
        Write { sql, params }
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

enum Op {
    /// What the writes after it belong to, for a failure's message.
    Label(u64),
    Write(Write),
}

enum ToWriter<'c> {
    Give(&'c mut Connection),
    Ops(Vec<Op>),
    Lend,
}

enum Back<'c> {
    Lent(&'c mut Connection),
    /// A batch that has run: dropped by the thread that allocated it.
    Spent(Vec<Op>),
    Failed(Option<u64>, Error),
}

/// The deciding thread's end.
pub(crate) struct Pipe<'c> {
    here: OnceCell<&'c mut Connection>,
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
    /// Starts the writing thread in `scope`, with the connection held here.
    pub(crate) fn start<'s>(scope: &'s std::thread::Scope<'s, '_>, conn: &'c mut Connection) -> Pipe<'c>
    where
        'c: 's,
    {
        let (to_writer, orders) = std::sync::mpsc::sync_channel(IN_FLIGHT);
        let (answers, from_writer) = std::sync::mpsc::channel();
        scope.spawn(move || serve(orders, answers));
        let here = OnceCell::new();
        let _ = here.set(conn);
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

    /// The connection, once every write queued so far has run.
    pub(crate) fn conn(&self) -> &Connection {
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

    pub(crate) fn write(&mut self, write: Write) -> Result<()> {
        if self.failed.get_mut().is_some() {
            // Stop deciding: the failure itself is reported by `finish`.
            return Err(Error::Database("the writing thread stopped".to_string()));
        }
        if self.read.take() {
            self.held_writes = 0;
        }
        if let Some(conn) = self.here.get() {
            if self.held_writes < HOLD_WRITES {
                self.held_writes += 1;
                return Ok(write.run(conn)?);
            }
            let conn = self.here.take().expect("held above");
            self.held_writes = 0;
            self.order(ToWriter::Give(conn));
            if let Some(label) = self.label {
                self.queued.get_mut().push(Op::Label(label));
            }
        }
        let queued = self.queued.get_mut();
        queued.push(Op::Write(write));
        if queued.len() >= BATCH {
            self.send_queued();
        }
        Ok(())
    }

    /// Takes the connection back and ends the writing thread; returns the
    /// connection and the first failure of a queued write, if any.
    pub(crate) fn finish(self) -> (&'c mut Connection, Option<Failure>) {
        let mut pipe = self;
        pipe.conn();
        let conn = pipe.here.take().expect("conn() holds it");
        (conn, pipe.failed.into_inner())
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

    fn take_back(&self, back: Back<'c>) -> Option<&'c mut Connection> {
        match back {
            Back::Lent(conn) => return Some(conn),
            Back::Spent(batch) => drop(batch),
            Back::Failed(label, e) => {
                self.failed.borrow_mut().get_or_insert((label, e));
            }
        }
        None
    }

    fn call_back(&self) -> &'c mut Connection {
        self.send_queued();
        self.order(ToWriter::Lend);
        loop {
            let Ok(back) = self.from_writer.recv() else {
                panic!("ripen's writing thread stopped holding the connection");
            };
            if let Some(conn) = self.take_back(back) {
                self.lends.set(self.lends.get() + 1);
                return conn;
            }
        }
    }
}

/// The writing thread: runs batches in order until the deciding end is dropped.
fn serve<'c>(orders: Receiver<ToWriter<'c>>, answers: Sender<Back<'c>>) {
    let mut conn: Option<&'c mut Connection> = None;
    let (mut label, mut failed) = (None, false);
    while let Ok(order) = orders.recv() {
        match order {
            ToWriter::Give(c) => conn = Some(c),
            ToWriter::Lend => {
                if let Some(c) = conn.take() {
                    let _ = answers.send(Back::Lent(c));
                }
            }
            ToWriter::Ops(ops) => {
                if !failed && conn.is_none() {
                    failed = true;
                    let e = Error::Database("internal error: writes were queued while the connection was lent".into());
                    let _ = answers.send(Back::Failed(label, e));
                }
                if let (false, Some(c)) = (failed, conn.as_deref()) {
                    for op in &ops {
                        match op {
                            Op::Label(l) => label = Some(*l),
                            Op::Write(w) => {
                                if let Err(e) = w.run(c) {
                                    failed = true;
                                    let _ = answers.send(Back::Failed(label, e.into()));
                                    break;
                                }
                            }
                        }
                    }
                }
                let _ = answers.send(Back::Spent(ops));
            }
        }
    }
}
