//! The TCP program's rings of fixed slots, one per CPU, for `sockwarden watch` (docs/watch.md,
//! "Records and rings"; issue 18, session 14).
//!
//! Why not the BPF ring buffer: its reserve takes the ring's spin lock with interrupts off and
//! its submit exchanges the record's header atomically, so that any number of producers can
//! share a ring. A ring per CPU written by the TCP program has one producer at a time: the
//! program runs from the tracepoint with preemption off, and the kernel does not nest a
//! tracing program on a CPU (a run that would is skipped and counted, `recursion_misses`). A
//! ring of fixed-size slots in an mmapable array (`BPF_F_MMAPABLE`, Linux 5.5) then needs
//! neither the lock nor the exchange: the program writes the record into the slot of its CPU's
//! producer count and publishes the count with a store-release; watch reads the slots below
//! the count it loads with acquire, and publishes its consumer count the same way.
//!
//! Layout: one array per record layout (`tracepoint::COMPACT` in 64-byte slots,
//! `tracepoint::FULL` in 128-byte ones), each element a slot. CPU `c`'s ring is the elements
//! from `c × (1 + slots)`: a control element (the producer count at byte 0, written by the
//! program; the consumer count at byte 8, written by watch), then `slots` record slots (a
//! power of two), the record of count `n` in slot `n mod slots`. A record is written only while
//! the producer count is less than `slots` ahead of the consumer count, so no slot is written
//! before watch has read it; otherwise it is counted as lost, as a full ring buffer's is.
//!
//! Ordering: the store-release and load-acquire instructions (`BPF_STORE_REL`, `BPF_LOAD_ACQ`:
//! Linux 6.15). On x86-64 every store is a release and every load an acquire (TSO), and the JIT
//! emits each BPF load and store as one `mov`, in program order: plain loads and stores give
//! the same guarantee there on older kernels ([`Publish::Plain`]). Other architectures before
//! 6.15 use the BPF ring buffers per CPU.
//!
//! Wake-up: an array cannot wake a reader. The record that takes a ring to a quarter full also
//! writes an 8-byte doorbell ([`DOORBELL`]) with `BPF_RB_FORCE_WAKEUP` into the shared BPF ring
//! buffer that watch's epoll waits on; otherwise watch reads every 50 ms, as it reads the ring
//! buffers.
//!
//! `unsafe` is needed to read what the kernel writes into the mapped array (mapped by
//! `tracepoint::map_shared`) and to unmap it; each block says why it is sound.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};

use super::bpfsys::{
    BPF_MAP_TYPE_ARRAY, BPF_RB_FORCE_WAKEUP, FN_GET_SMP_PROCESSOR_ID, FN_RINGBUF_OUTPUT,
};
use super::taskfiles::{Attr, bpf};
use super::tracepoint::{Asm, FP, R0, R1, R2, R3, R4, R7, TraceError, ins, map_shared};

/// `BPF_F_MMAPABLE`: an array whose values user space can mmap (Linux 5.5).
const BPF_F_MMAPABLE: u32 = 1 << 10;
const BPF_MAP_CREATE: u32 = 0;
/// `BPF_STX | BPF_ATOMIC | BPF_DW`, with `BPF_LOAD_ACQ` or `BPF_STORE_REL` in the immediate.
const ATOMIC_DW: u8 = 0xdb;
const BPF_LOAD_ACQ: i32 = 0x100;
const BPF_STORE_REL: i32 = 0x110;
/// Where the counts sit in a ring's control element.
const PRODUCED: i16 = 0;
const CONSUMED: i16 = 8;
/// The length of a doorbell record in the shared ring buffer: watch skips it.
pub const DOORBELL: usize = 8;

/// Stack slots of the program while it writes a record: the element's index (4 bytes), the
/// control element's address, and the producer count it read. Below the TCP program's own.
const KEY_SLOT: i16 = -84;
const CTL_SLOT: i16 = -96;
const HEAD_SLOT: i16 = -104;

/// How the counts are published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publish {
    /// Store-release and load-acquire instructions (Linux 6.15).
    AcquireRelease,
    /// Plain stores and loads: acquire and release on x86-64 (TSO) only.
    Plain,
}

/// One array of slots, as the program addresses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotMap {
    /// The array's fd.
    pub fd: i32,
    /// The bytes of a slot (an element): 64 or 128.
    pub slot: u32,
    /// Slots per CPU (a power of two).
    pub slots: u32,
}

impl SlotMap {
    /// Elements per CPU: the control element and the slots.
    fn stride(&self) -> u32 {
        1 + self.slots
    }
}

/// What the TCP program needs to write into rings of slots: the two arrays, how the counts
/// are published, and the shared ring buffer its doorbell goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotMaps {
    /// The array of [`super::tracepoint::COMPACT`] records.
    pub compact: SlotMap,
    /// The array of [`super::tracepoint::FULL`] records.
    pub full: SlotMap,
    /// How the counts are published.
    pub publish: Publish,
    /// The shared ring buffer (watch's epoll waits on it).
    pub doorbell: i32,
}

impl SlotMaps {
    /// The array for records of `len` bytes.
    fn of(&self, len: usize) -> SlotMap {
        let m = if len <= self.compact.slot as usize {
            self.compact
        } else {
            self.full
        };
        assert!(len <= m.slot as usize, "a {len}-byte record has no slot");
        m
    }
}

/// `dst = *(u64 *)(src + off)`, with acquire.
fn load_acquire(a: &mut Asm, publish: Publish, dst: u8, src: u8, off: i16) {
    match publish {
        Publish::AcquireRelease => a.push(ins(ATOMIC_DW, dst, src, off, BPF_LOAD_ACQ)),
        Publish::Plain => a.ldx(8, dst, src, off),
    };
}

/// `*(u64 *)(dst + off) = src`, with release.
fn store_release(a: &mut Asm, publish: Publish, dst: u8, off: i16, src: u8) {
    match publish {
        Publish::AcquireRelease => a.push(ins(ATOMIC_DW, dst, src, off, BPF_STORE_REL)),
        Publish::Plain => a.stx(8, dst, off, src),
    };
}

/// r7 = this CPU's next slot for a record of `len` bytes, or to `lost` when its ring is full
/// (or the array lookup fails, which an index below its size never does). The control
/// element's address and the producer count are kept on the stack for [`submit`]. The record
/// that takes the ring to a quarter full rings the doorbell first. `label`: a label of its own
/// for each use. Both array lookups are inlined by the verifier.
pub(super) fn reserve(a: &mut Asm, m: &SlotMaps, len: usize, label: &'static str) {
    let map = m.of(len);
    a.call(FN_GET_SMP_PROCESSOR_ID)
        .push(ins(0x24, R0, 0, 0, map.stride() as i32)) // w0 *= stride
        .stx(4, FP, KEY_SLOT, R0)
        .lookup(map.fd, KEY_SLOT)
        .jump(0x15, R0, 0, "lost")
        .stx(8, FP, CTL_SLOT, R0)
        .ldx(8, R1, R0, PRODUCED); // only this CPU's runs write it
    load_acquire(a, m.publish, R2, R0, CONSUMED);
    a.stx(8, FP, HEAD_SLOT, R1)
        .mov(R3, R1)
        .push(ins(0x1f, R3, R2, 0, 0)) // r3 -= r2: the records not read yet
        .jump(0x35, R3, map.slots as i32, "lost") // r3 >= slots (unsigned): full
        .jump(0x55, R3, (map.slots / 4) as i32, label)
        .ld_map(R1, m.doorbell)
        .mov(R2, FP)
        .add_imm(R2, i32::from(HEAD_SLOT))
        .mov_imm(R3, DOORBELL as i32)
        .mov_imm(R4, BPF_RB_FORCE_WAKEUP)
        .call(FN_RINGBUF_OUTPUT)
        .label(label)
        .ldx(8, R1, FP, HEAD_SLOT)
        .push(ins(0x54, R1, 0, 0, (map.slots - 1) as i32)) // w1 &= slots - 1
        .push(ins(0x04, R1, 0, 0, 1)) // w1 += 1: past the control element
        .ldx(4, R2, FP, KEY_SLOT)
        .push(ins(0x0c, R1, R2, 0, 0)) // w1 += w2
        .stx(4, FP, KEY_SLOT, R1)
        .lookup(map.fd, KEY_SLOT)
        .jump(0x15, R0, 0, "lost")
        .mov(R7, R0);
}

/// Publishes the record [`reserve`] gave: the producer count plus one, with release.
pub(super) fn submit(a: &mut Asm, m: &SlotMaps) {
    a.ldx(8, R1, FP, CTL_SLOT)
        .ldx(8, R2, FP, HEAD_SLOT)
        .add_imm(R2, 1);
    store_release(a, m.publish, R1, PRODUCED, R2);
}

/// Slots per CPU for records in `slot`-byte slots, given `bytes` per CPU for both arrays
/// (half each), a power of two, at least 16.
pub(super) fn slots_for(bytes: usize, slot: u32) -> u32 {
    let n = (bytes / 2 / slot as usize).max(16).next_power_of_two();
    u32::try_from(n).unwrap_or(1 << 24).min(1 << 24)
}

/// One array of slots, created and mapped: every CPU's ring of one record layout.
pub(super) struct SlotArray {
    /// Kept open while the program runs.
    _fd: OwnedFd,
    base: *mut u8,
    len: usize,
    map: SlotMap,
    record: usize,
    cpus: usize,
}

impl SlotArray {
    /// An array for `cpus` rings (possible CPU ids `0..cpus`) of `slots` slots of `slot`
    /// bytes, handing over records of `record` bytes, mapped into this process.
    pub(super) fn create(
        record: usize,
        slot: u32,
        slots: u32,
        cpus: usize,
    ) -> Result<SlotArray, TraceError> {
        assert!(
            record <= slot as usize,
            "a {record}-byte record in {slot}-byte slots"
        );
        let map_error = |error: io::Error| TraceError::Map {
            what: "rings of slots",
            error,
        };
        let entries = u32::try_from(cpus)
            .ok()
            .and_then(|c| c.checked_mul(1 + slots))
            .ok_or_else(|| map_error(io::Error::from(io::ErrorKind::InvalidInput)))?;
        let mut attr = Attr::new();
        attr.u32(0, BPF_MAP_TYPE_ARRAY)
            .u32(4, 4)
            .u32(8, slot)
            .u32(12, entries)
            .u32(16, BPF_F_MMAPABLE);
        let fd = bpf(BPF_MAP_CREATE, &mut attr).map_err(|e| match e.raw_os_error() {
            Some(libc::EPERM) => TraceError::NotPermitted,
            _ => map_error(e),
        })?;
        let len = entries as usize * slot as usize;
        // An mmapable array's values, read-write from offset 0 (at most their size);
        // unmapped in `Drop`.
        let base = map_shared(&fd, len, 0, true)?;
        Ok(SlotArray {
            map: SlotMap {
                fd: fd.as_raw_fd(),
                slot,
                slots,
            },
            _fd: fd,
            base,
            len,
            record,
            cpus,
        })
    }

    /// The array as the program addresses it.
    pub(super) fn map(&self) -> SlotMap {
        self.map
    }

    /// Every CPU's ring. They point into this array's mapping: they must not outlive it.
    pub(super) fn rings(&self) -> Vec<SlotRing> {
        let stride = self.map.stride() as usize * self.map.slot as usize;
        (0..self.cpus)
            .map(|cpu| SlotRing {
                ctl: self.base.wrapping_add(cpu * stride),
                slot: self.map.slot as usize,
                slots: u64::from(self.map.slots),
                record: self.record,
            })
            .collect()
    }
}

impl Drop for SlotArray {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping `create` made, with its length; the rings that point
        // into it are dropped before it (a field declared before this one in `Tracer`).
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

/// One CPU's ring of slots: its control element, followed by its slots.
pub(super) struct SlotRing {
    ctl: *mut u8,
    slot: usize,
    slots: u64,
    record: usize,
}

impl SlotRing {
    /// A ring over memory laid out as the kernel's array is: `ctl` the control element (8-byte
    /// aligned, at least 16 bytes), followed by `slots` slots of `slot` bytes, each holding a
    /// record of `record` bytes.
    ///
    /// # Safety
    /// `ctl` must point to `(1 + slots) × slot` bytes that stay valid while the ring is used.
    #[cfg(test)]
    #[allow(unsafe_code)]
    pub(super) unsafe fn over(ctl: *mut u8, slot: usize, slots: u64, record: usize) -> SlotRing {
        SlotRing {
            ctl,
            slot,
            slots,
            record,
        }
    }

    #[allow(unsafe_code)]
    fn count(&self, off: i16) -> &AtomicU64 {
        // SAFETY: the two counts are the first 16 bytes of the control element, which is
        // mapped and 8-aligned (an array's values are), and shared with the kernel: they are
        // read and written only through atomics.
        unsafe { &*(self.ctl.wrapping_add(off as usize) as *const AtomicU64) }
    }

    /// The producer count now: every record below it is written.
    pub(super) fn produced(&self) -> u64 {
        self.count(PRODUCED).load(Ordering::Acquire)
    }

    /// Hands the records between the consumer count and `upto` (or the producer count now) to
    /// `each`, at most `max`, in order, then frees their slots.
    #[allow(unsafe_code)]
    pub(super) fn drain(
        &mut self,
        max: usize,
        upto: Option<u64>,
        each: &mut dyn FnMut(&[u8]),
    ) -> usize {
        let end = upto.unwrap_or_else(|| self.produced());
        let consumed = self.count(CONSUMED);
        let mut at = consumed.load(Ordering::Relaxed); // only this reader writes it
        let mut n = 0;
        while at < end && n < max {
            let slot = 1 + (at % self.slots) as usize;
            // SAFETY: slot `slot` ≤ `slots` lies inside this ring's elements, and the program
            // does not write it again until the consumer count passes it (stored below, with
            // release, after the read).
            let rec =
                unsafe { std::slice::from_raw_parts(self.ctl.add(slot * self.slot), self.record) };
            each(rec);
            at += 1;
            n += 1;
        }
        consumed.store(at, Ordering::Release);
        n
    }

    /// The records written and not read yet.
    pub(super) fn pending(&self) -> u64 {
        self.produced()
            .saturating_sub(self.count(CONSUMED).load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests;
