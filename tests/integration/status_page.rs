//! The status page: on separate infrastructure it survives the platform's incidents; hosted
//! on the platform it goes down with it.

use crate::support::*;

#[test]
fn a_status_page_on_its_own_provider_stays_up_through_a_region_loss() {
    let topo = topology("ftm-games", &[]);
    let s = shipped(
        &topo,
        "region-loss",
        &[("duration: \"30m\"", "duration: \"15m\"")],
    );
    let r = run(&topo, &s);
    assert_eq!(
        recovery(service(&r, &topo, "status-page")),
        Recovery::NeverBroke
    );
    assert_ne!(
        run_recovery(&r),
        Recovery::NeverBroke,
        "the platform itself broke"
    );
}

#[test]
fn a_status_page_hosted_on_the_platform_goes_down_with_it() {
    let topo = topology(
        "ftm-games",
        &[
            (
                "Node(name: \"status-a\", zone: \"statuspage-a\"),",
                "Node(name: \"status-a\", zone: \"us-east-1a\"),",
            ),
            (
                "Node(name: \"status-b\", zone: \"statuspage-b\"),",
                "Node(name: \"status-b\", zone: \"us-east-1b\"),",
            ),
        ],
    );
    let s = shipped(
        &topo,
        "region-loss",
        &[("duration: \"30m\"", "duration: \"15m\"")],
    );
    let r = run(&topo, &s);
    assert_eq!(
        recovery(service(&r, &topo, "status-page")),
        Recovery::NotRecovered,
        "it has nowhere else to run"
    );
    let sp = service(&r, &topo, "status-page");
    assert_eq!(
        sp.losses.count(),
        0,
        "a static page has nothing durable to lose"
    );
}
