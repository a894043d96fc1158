//! An empty slot takes no payload at all, and `store` must still refuse one
//! that may not move to another thread.

use std::rc::Rc;

use brisk_gc::AtomicSlot;
use brisk_refcount::{Biased, Brc};

fn main() {
    let slot: AtomicSlot<Rc<u8>, Biased> = AtomicSlot::default();
    slot.store(Some(Brc::new_with_policy(Rc::new(1))));
}
