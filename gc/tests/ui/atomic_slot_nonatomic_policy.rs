//! `NonAtomic` counts with plain loads and stores: a slot whose retired
//! values are released on another thread must not use it.

use brisk_gc::AtomicSlot;
use brisk_refcount::{Brc, NonAtomic};

fn main() {
    let _slot: AtomicSlot<u8, NonAtomic> = AtomicSlot::new(Some(Brc::new_with_policy(1)));
}
