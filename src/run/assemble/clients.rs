//! Client populations: the streams of requests the scenario's workload gives each population
//! and the endpoint it first sends them to (a datastore's primary, or the GSLB's answer).
//!
//! Not here: the GSLB ([`super::dns`]) and the datastores' primaries
//! ([`super::datastore`]).

use super::network::nearest_first;
use crate::logic::ServiceId;
use crate::logic::{Context, Msg, NodeId, Timer};
use crate::measure::client::{ClientPopulation, ClientSpec, Endpoint, Stream};
use crate::model::scenario::Scenario;
use crate::model::topology::{Connect, Topology};
use crate::run::world::NodeProcess;
use crate::run::world::Process;

/// Population `ci`; a population the scenario gives no workload stays idle (a plain node).
pub(super) fn place_clients(topo: &Topology, scenario: &Scenario, ci: usize) -> Process {
    let streams = streams_of(topo, scenario, ci);
    if streams.is_empty() {
        return Process::Plain;
    }
    let endpoint = endpoint(topo, &topo.clients[ci].connect);
    Process::Clients(ClientPopulation::new(ClientSpec { streams, endpoint }))
}

/// A population's streams, in workload order (stream k of the population is its k-th); each
/// tries the service's direct nodes nearest first.
fn streams_of(topo: &Topology, scenario: &Scenario, ci: usize) -> Vec<Stream> {
    scenario
        .workload
        .iter()
        .filter(|w| w.client == ci)
        .map(|w| Stream {
            direct: nearest_first(
                topo,
                topo.clients[ci].node,
                &topo.services[w.service].direct,
            ),
            service: w.service as ServiceId,
            arrivals: w.arrivals,
            timeout: w.timeout,
            retries: w.retries,
        })
        .collect()
}

/// Where a population first sends its requests: the datastore's initial primary, or the GSLB
/// with its first preferred endpoint as the initial answer.
fn endpoint(topo: &Topology, connect: &Connect) -> Endpoint {
    match connect {
        Connect::Direct { datastore, ttl } => {
            let d = &topo.datastores[*datastore];
            Endpoint::Direct {
                primary: d.members[d.primary],
                ttl: *ttl,
            }
        }
        Connect::Dns { prefer, caches } => {
            let d = topo.dns.as_ref().expect("validated");
            Endpoint::Dns {
                gslb: d.node,
                ttl: d.ttl,
                caches: *caches,
                initial: d.endpoints[prefer[0]],
            }
        }
    }
}

/// Clients start issuing at the start, and again when their node comes back; their operations in flight time out.
impl NodeProcess for ClientPopulation {
    fn start(&mut self, _phase: u64, restart: bool, ctx: &mut impl Context) {
        if restart {
            ClientPopulation::restart(self, ctx)
        } else {
            ClientPopulation::start(self, ctx)
        }
    }
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        ClientPopulation::on_message(self, from, msg, ctx)
    }
    fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        ClientPopulation::on_timer(self, timer, ctx)
    }
}
