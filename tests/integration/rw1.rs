//! RW1 (../shared/bench/RW1.md) through the general engine: every count and time must equal
//! the reference peers' agreed results (RW1-notes.md's agreement table).

use crate::support::*;
use gameday::sim::time::SimTime;

struct Expected {
    events: u64,
    sent: u64,
    acked: u64,
    failed: u64,
    detected_ms: Option<u64>,
    promoted_ms: Option<u64>,
    first_ack_us: Option<u64>,
}

/// RW1 with the scenario's duration, fault time (None: no fault) and write interval changed.
fn rw1(duration: &str, fault_at: Option<&str>, interval: &str, want: Expected) {
    let topo = topology("rw1", &[]);
    let fault = match fault_at {
        Some(at) => format!("Fault(at: \"{at}\", kind: ZoneLoss(\"r0/z0\")),"),
        None => String::new(),
    };
    let s = shipped(
        &topo,
        "rw1",
        &[
            ("duration: \"3600s\"", &format!("duration: \"{duration}\"")),
            ("Fixed(\"1ms\")", &format!("Fixed(\"{interval}\")")),
            ("Fault(at: \"600s\", kind: ZoneLoss(\"r0/z0\")),", &fault),
        ],
    );
    let r = run(&topo, &s);
    let ms = |t: Option<SimTime>| t.map(|t| t.as_nanos() / 1_000_000);
    let us = |t: Option<SimTime>| t.map(|t| t.as_nanos() / 1_000);
    assert_eq!(r.events, want.events, "events");
    assert_eq!(r.writes.sent, want.sent, "writes sent");
    assert_eq!(r.writes.acked, want.acked, "writes acked");
    assert_eq!(r.writes.failed, want.failed, "writes failed");
    assert_eq!(r.writes.acked_lost, 0, "acked writes lost");
    assert_eq!(ms(r.detected), want.detected_ms, "detected");
    assert_eq!(ms(r.promoted), want.promoted_ms, "promoted");
    assert_eq!(
        us(r.first_success),
        want.first_ack_us,
        "first ack after fault"
    );
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);
}

#[test]
fn rw1_defaults_match_the_peers() {
    rw1(
        "3600s",
        Some("600s"),
        "1ms",
        Expected {
            events: 19_714_294,
            sent: 3_599_999,
            acked: 3_566_558,
            failed: 33_261,
            detected_ms: Some(603_000),
            promoted_ms: Some(603_170),
            first_ack_us: Some(633_380_000),
        },
    );
}

#[test]
fn rw1_half_millisecond_fault_and_quarter_millisecond_writes() {
    rw1(
        "640s",
        Some("600.0005s"),
        "0.25ms",
        Expected {
            events: 17_319_641,
            sent: 2_559_999,
            acked: 2_426_237,
            failed: 133_042,
            detected_ms: Some(603_000),
            promoted_ms: Some(603_170),
            first_ack_us: Some(633_380_000),
        },
    );
}

#[test]
fn rw1_slower_writes() {
    rw1(
        "3600s",
        Some("600s"),
        "2ms",
        Expected {
            events: 10_164_354,
            sent: 1_799_999,
            acked: 1_783_279,
            failed: 16_630,
            detected_ms: Some(603_000),
            promoted_ms: Some(603_170),
            first_ack_us: Some(633_380_000),
        },
    );
}

#[test]
fn rw1_db0_lost_before_its_first_heartbeat() {
    rw1(
        "40s",
        Some("0s"),
        "1ms",
        Expected {
            events: 103_644,
            sent: 39_999,
            acked: 5_620,
            failed: 34_199,
            detected_ms: Some(4_000),
            promoted_ms: Some(4_170),
            first_ack_us: Some(34_380_000),
        },
    );
}

#[test]
fn rw1_switch_after_the_end_and_detection_after_the_end() {
    rw1(
        "30s",
        Some("10s"),
        "1ms",
        Expected {
            events: 115_172,
            sent: 29_999,
            acked: 9_938,
            failed: 19_061,
            detected_ms: Some(13_000),
            promoted_ms: Some(13_170),
            first_ack_us: None,
        },
    );
    rw1(
        "3.5s",
        Some("0.5s"),
        "1ms",
        Expected {
            events: 10_126,
            sent: 3_499,
            acked: 438,
            failed: 2_061,
            detected_ms: None,
            promoted_ms: None,
            first_ack_us: None,
        },
    );
}

#[test]
fn rw1_without_a_fault() {
    rw1(
        "700s",
        None,
        "1ms",
        Expected {
            events: 5_031_923,
            sent: 699_999,
            acked: 699_937,
            failed: 0,
            detected_ms: None,
            promoted_ms: None,
            first_ack_us: None,
        },
    );
}
