//! What the bench harnesses share: running a real `ripen` process and
//! reading its wall time, CPU time and peak memory from `wait4`.

// Each harness reads only the fields it reports.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Measured {
    pub wall: Duration,
    /// User plus system time.
    pub cpu: Duration,
    pub max_rss_kib: i64,
    pub ok: bool,
}

pub fn cpu_of(usage: &libc::rusage) -> Duration {
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Runs `ripen ARGS` to completion (stdin from `stdin` when given); a
/// failure's stderr is printed.
pub fn measure(args: &[&str], stdin: Option<&Path>) -> Measured {
    measure_program(Path::new(env!("CARGO_BIN_EXE_ripen")), args, stdin)
}

/// Runs any `PROGRAM ARGS` to completion, measured like [`measure`]; the
/// benches use it to time a peer tool (the `sqlite3` shell) the same way.
// wait4 reaps the child, which clippy cannot see.
#[allow(clippy::zombie_processes)]
pub fn measure_program(program: &Path, args: &[&str], stdin: Option<&Path>) -> Measured {
    let mut cmd = Command::new(program);
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    if let Some(p) = stdin {
        cmd.stdin(std::fs::File::open(p).expect("stdin file"));
    }
    let start = Instant::now();
    let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()));
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(waited, pid, "wait4 failed");
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if !ok {
        let mut err = String::new();
        if let Some(mut e) = child.stderr {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        eprintln!("{} {args:?} failed: {err}", program.display());
    }
    Measured { wall, cpu: cpu_of(&usage), max_rss_kib: usage.ru_maxrss, ok }
}
