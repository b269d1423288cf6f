//! The extensions a collection asks for, known when it starts or decided by another thread
//! while it starts: a scan loads its rules (which say what they read, 10-20 ms for the default
//! pack) while the collection runs. A table whose dump starts before the answer is dumped with
//! a guess (the default pack's needs); if the answer then needs something the guess did not
//! ask for, that table is dumped again (collect::tables), so nothing a rule reads is missing
//! and the default pack's scan never waits.

use std::sync::{Arc, Condvar, Mutex};

use crate::model::Extensions;

/// The extensions to collect: fixed, or awaited from a [`Promise`].
#[derive(Debug, Clone)]
pub struct Want(Inner);

#[derive(Debug, Clone)]
enum Inner {
    Now(Extensions),
    Later(Arc<Slot>, Extensions),
}

#[derive(Debug, Default)]
struct Slot {
    value: Mutex<Option<Extensions>>,
    ready: Condvar,
}

/// The other end of an awaited [`Want`]: dropped without an answer, it answers
/// [`Extensions::ALL`], so a failure on the deciding side never leaves a value uncollected.
#[derive(Debug)]
pub struct Promise(Arc<Slot>);

impl Want {
    /// `e`, known now.
    pub fn now(e: Extensions) -> Want {
        Want(Inner::Now(e))
    }

    /// A value another thread decides through the returned [`Promise`]; `guess` is what to
    /// collect until it answers.
    pub fn later(guess: Extensions) -> (Want, Promise) {
        let slot = Arc::new(Slot::default());
        (Want(Inner::Later(slot.clone(), guess)), Promise(slot))
    }

    /// The answer when there is one (`true`), else the guess (`false`); never waits.
    pub fn now_or_guess(&self) -> (Extensions, bool) {
        match &self.0 {
            Inner::Now(e) => (*e, true),
            Inner::Later(slot, guess) => {
                match *slot.value.lock().unwrap_or_else(|p| p.into_inner()) {
                    Some(e) => (e, true),
                    None => (*guess, false),
                }
            }
        }
    }

    /// The extensions, waiting for the promise's answer if there is none yet.
    pub fn get(&self) -> Extensions {
        match &self.0 {
            Inner::Now(e) => *e,
            Inner::Later(slot, _) => {
                let mut v = slot.value.lock().unwrap_or_else(|p| p.into_inner());
                loop {
                    if let Some(e) = *v {
                        return e;
                    }
                    v = slot.ready.wait(v).unwrap_or_else(|p| p.into_inner());
                }
            }
        }
    }
}

impl Promise {
    /// Answers `e`.
    pub fn fulfil(self, e: Extensions) {
        self.set(e);
    }

    fn set(&self, e: Extensions) {
        let mut v = self.0.value.lock().unwrap_or_else(|p| p.into_inner());
        if v.is_none() {
            *v = Some(e);
            self.0.ready.notify_all();
        }
    }
}

impl Drop for Promise {
    fn drop(&mut self) {
        self.set(Extensions::ALL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_awaited_value_arrives_from_another_thread() {
        let (w, p) = Want::later(Extensions::CONGESTION);
        assert_eq!(w.now_or_guess(), (Extensions::CONGESTION, false));
        let w2 = w.clone();
        let t = std::thread::spawn(move || w2.get());
        p.fulfil(Extensions::MEMORY);
        assert_eq!(t.join().unwrap(), Extensions::MEMORY);
        assert_eq!(w.now_or_guess(), (Extensions::MEMORY, true));
    }

    #[test]
    fn a_promise_dropped_unanswered_collects_everything() {
        let (w, p) = Want::later(Extensions::NONE);
        drop(p);
        assert_eq!(w.get(), Extensions::ALL);
        assert_eq!(Want::now(Extensions::NONE).get(), Extensions::NONE);
    }
}
