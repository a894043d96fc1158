//! A retired slot value is dropped on whichever thread collects, so a slot
//! must not hold a value that may not move to another thread.

use std::rc::Rc;

use brisk_gc::AtomicSlot;
use brisk_refcount::{Biased, Brc};

fn main() {
    let _slot: AtomicSlot<Rc<u8>, Biased> = AtomicSlot::new(Some(Brc::new_with_policy(Rc::new(1))));
}
