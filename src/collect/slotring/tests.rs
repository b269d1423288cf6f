use super::*;

/// Memory laid out as one CPU's ring of the kernel's array: the control element, then
/// `slots` slots of `slot` bytes (u64s: 8-aligned, as an array's values are).
fn memory(slot: usize, slots: usize) -> Vec<u64> {
    vec![0; (1 + slots) * slot / 8]
}

/// Writes a record as the program does: `tag` in its first byte, into the slot of the
/// producer count, then the count plus one.
fn produce(mem: &mut [u64], slot: usize, slots: u64, tag: u8) {
    let head = mem[0];
    let at = (1 + (head % slots) as usize) * slot / 8;
    mem[at] = u64::from(tag);
    mem[0] = head + 1;
}

fn read(ring: &mut SlotRing, max: usize, upto: Option<u64>) -> Vec<u8> {
    let mut got = Vec::new();
    ring.drain(max, upto, &mut |rec| {
        assert_eq!(rec.len(), 56);
        got.push(rec[0]);
    });
    got
}

/// Records come out in the order written, across the end of the slots; the consumer count
/// follows what was read, so the producer may reuse exactly those slots.
#[test]
fn a_ring_of_slots_hands_records_over_in_order_and_frees_them() {
    let (slot, slots) = (64, 4u64);
    let mut mem = memory(slot, slots as usize);
    // SAFETY: `mem` holds the control element and the slots, and outlives the ring.
    #[allow(unsafe_code)]
    let mut ring = unsafe { SlotRing::over(mem.as_mut_ptr().cast(), slot, slots, 56) };
    let consumed = |mem: &[u64]| mem[1];
    for tag in 1..=3 {
        produce(&mut mem, slot, slots, tag);
    }
    assert_eq!(ring.pending(), 3);
    assert_eq!(read(&mut ring, 2, None), [1, 2], "at most max");
    assert_eq!(consumed(&mem), 2);
    for tag in 4..=6 {
        produce(&mut mem, slot, slots, tag); // 5 and 6 wrap into slots 0 and 1
    }
    assert_eq!(ring.pending(), 4);
    // Up to a producer count taken earlier: what came after it is left.
    assert_eq!(read(&mut ring, 100, Some(5)), [3, 4, 5]);
    assert_eq!(consumed(&mem), 5);
    assert_eq!(read(&mut ring, 100, None), [6]);
    assert_eq!((ring.pending(), consumed(&mem)), (0, 6));
    assert_eq!(read(&mut ring, 100, None), Vec::<u8>::new());
}

#[test]
fn slots_split_the_bytes_per_cpu_between_the_two_arrays() {
    assert_eq!(slots_for(2 << 20, 64), 16_384);
    assert_eq!(slots_for(2 << 20, 128), 8_192);
    assert_eq!(slots_for(4096, 128), 16, "at least 16");
    assert_eq!(slots_for(3 << 20, 64), 32_768, "a power of two");
}

/// The reserve: the control element of this CPU's ring (cpu id × stride), the full test
/// against the consumer count (loaded with acquire), the doorbell at a quarter, the slot
/// (1 + count mod slots past the CPU's first element); the submit stores the count plus one
/// with release into the control element.
#[test]
fn the_reserve_finds_this_cpus_slot_and_the_submit_publishes_it() {
    let m = SlotMaps {
        compact: SlotMap {
            fd: 7,
            slot: 64,
            slots: 256,
        },
        full: SlotMap {
            fd: 8,
            slot: 128,
            slots: 128,
        },
        publish: Publish::AcquireRelease,
        doorbell: 3,
    };
    let mut a = Asm::new();
    reserve(&mut a, &m, 120, "room");
    submit(&mut a, &m);
    a.label("lost").mov_imm(R0, 0).exit();
    let p = a.finish();
    assert_eq!((p[1].code, p[1].imm), (0x24, 129), "cpu × (1 + slots)");
    let maps: Vec<i32> = p.iter().filter(|i| i.code == 0x18).map(|i| i.imm).collect();
    assert_eq!(
        maps,
        [8, 3, 8],
        "the full records' array, the doorbell, the array"
    );
    let acquire = p.iter().position(|i| i.imm == BPF_LOAD_ACQ).unwrap();
    assert_eq!(
        (p[acquire].code, p[acquire].src, p[acquire].off),
        (0xdb, R0, CONSUMED)
    );
    let full = p.iter().position(|i| i.code == 0x35).unwrap();
    assert_eq!(p[full].imm, 128);
    let quarter = p.iter().position(|i| i.code == 0x55).unwrap();
    assert_eq!(p[quarter].imm, 32);
    let doorbell = p.iter().position(|i| i.imm == FN_RINGBUF_OUTPUT).unwrap();
    assert_eq!(
        (p[doorbell - 1].dst, p[doorbell - 1].imm),
        (R4, BPF_RB_FORCE_WAKEUP)
    );
    assert_eq!(
        (p[doorbell - 2].dst, p[doorbell - 2].imm),
        (R3, DOORBELL as i32)
    );
    let mask = p.iter().position(|i| i.code == 0x54).unwrap();
    assert_eq!(p[mask].imm, 127);
    assert_eq!((p[mask + 1].code, p[mask + 1].imm), (0x04, 1));
    let publish = p.iter().position(|i| i.imm == BPF_STORE_REL).unwrap();
    assert_eq!(
        (p[publish].code, p[publish].dst, p[publish].src),
        (0xdb, R1, R2)
    );
    assert_eq!(p[publish].off, PRODUCED);
    assert_eq!(
        (p[publish - 1].code, p[publish - 1].imm),
        (0x07, 1),
        "count + 1"
    );
}
