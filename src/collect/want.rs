//! The extensions a collection asks for, known when it starts or decided by another thread
//! while it starts: a scan loads its rules (which say what they read, 10-20 ms for the default
//! pack) while the collection runs. With the default pack alone (no rule files, no overrides),
//! a table whose dump starts before the answer is dumped with a guess, the pack's needs, which
//! switching rules off or on cannot exceed; should the answer need more, the table is dumped
//! again (collect::tables). With rule files the dump waits for the answer instead: a second
//! dump of a million sockets costs far more than the wait.

use std::sync::{Arc, Condvar, Mutex};

use crate::model::Extensions;

/// The extensions to collect: fixed, or awaited from a [`Promise`].
#[derive(Debug, Clone)]
pub struct Want(Inner);

#[derive(Debug, Clone)]
enum Inner {
    Now(Extensions),
    Later(Arc<Slot>, Option<Extensions>),
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

    /// A value another thread decides through the returned [`Promise`]; `guess`, when there is
    /// one, is what to collect until it answers (without one, [`Want::now_or_guess`] waits).
    pub fn later(guess: Option<Extensions>) -> (Want, Promise) {
        let slot = Arc::new(Slot::default());
        (Want(Inner::Later(slot.clone(), guess)), Promise(slot))
    }

    /// The answer when there is one (`true`), else the guess (`false`); waits for the answer
    /// only when there is no guess.
    pub fn now_or_guess(&self) -> (Extensions, bool) {
        match &self.0 {
            Inner::Now(e) => (*e, true),
            Inner::Later(slot, guess) => {
                let answer = *slot.value.lock().unwrap_or_else(|p| p.into_inner());
                match (answer, guess) {
                    (Some(e), _) => (e, true),
                    (None, Some(g)) => (*g, false),
                    (None, None) => (self.get(), true),
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
        let (w, p) = Want::later(Some(Extensions::CONGESTION));
        assert_eq!(w.now_or_guess(), (Extensions::CONGESTION, false));
        let w2 = w.clone();
        let t = std::thread::spawn(move || w2.get());
        p.fulfil(Extensions::MEMORY);
        assert_eq!(t.join().unwrap(), Extensions::MEMORY);
        assert_eq!(w.now_or_guess(), (Extensions::MEMORY, true));
    }

    #[test]
    fn a_promise_dropped_unanswered_collects_everything() {
        let (w, p) = Want::later(None);
        drop(p);
        assert_eq!(w.now_or_guess(), (Extensions::ALL, true));
        assert_eq!(w.get(), Extensions::ALL);
        assert_eq!(Want::now(Extensions::NONE).get(), Extensions::NONE);
    }
}
