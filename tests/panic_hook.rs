//! Issue 19 item 13: `search::sync::guarded` catches a panic inside tantivy
//! without swapping the process-wide panic hook, so a panic on another
//! thread meanwhile (a server's) is still reported. Its own binary: the test
//! installs a panic hook, which is process-wide.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ripen::search::sync::guarded;

#[test]
fn a_panic_on_another_thread_is_reported_while_guarded_runs() {
    let reported = Arc::new(AtomicUsize::new(0));
    let seen = reported.clone();
    std::panic::set_hook(Box::new(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    }));

    // Another thread panics while this one is inside `guarded`.
    let got = guarded("testing", || {
        let other = std::thread::spawn(|| panic!("a server thread failed"));
        assert!(other.join().is_err());
        Ok(7)
    });
    assert_eq!(got.unwrap(), 7);
    assert_eq!(reported.load(Ordering::SeqCst), 1, "the other thread's panic went unreported");

    // A panic `guarded` catches becomes an error and is not reported as a crash.
    let err = guarded::<()>("searching", || panic!("tantivy broke")).unwrap_err();
    assert!(err.to_string().contains("searching failed (tantivy broke)"), "{err}");
    assert_eq!(reported.load(Ordering::SeqCst), 1, "a caught panic reached the hook");

    // Nested guards and threads after it: still reported, still quiet inside.
    let err = guarded::<()>("outer", || guarded("inner", || panic!("deep"))).unwrap_err();
    assert!(err.to_string().contains("inner failed (deep)"), "{err}");
    assert!(std::thread::spawn(|| panic!("later")).join().is_err());
    assert_eq!(reported.load(Ordering::SeqCst), 2);
}
