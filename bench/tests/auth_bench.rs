//! `quartet bench --auth`, the authentication axis. In process, against each of the four
//! APIs behind a key: with the run's token every worker passes (get_event through the
//! lean clients, hold_cancel through the protocols' own, the connect scenario's fresh
//! connections); without a token a hold is UNAUTHENTICATED, so a run that lost its
//! token cannot pass as an authenticated one; and a token signed with another key fails
//! even the public reads, which shows every client (lean ones and the connect
//! scenario's included) really sends its token. Then `quartet bench --tls --auth` end to
//! end on a tiny dataset: nothing fails, and results.json and the reports say TLS and
//! auth.

// Helpers and assertions that fail are failed tests, not crashes a client can cause.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use bench::auth::{CUSTOMER_EMAIL, ClientAuth};
use bench::load::Step;
use bench::protocol::{self, Protocol};
use bench::scenario::{Outcome, Scenario};
use bench::steps::{ApiSteps, ClientOptions, StepProvider};
use domain::auth::{AuthKey, Gate, Guarded, RateLimits, SCOPE_BOOK};
use domain::{Limits, Service, SharedTicketing};
use netkit::ServerConfig;
use netkit::running::RunningServer;

/// `protocol`'s server over a fresh store, checking tokens signed with `key` (no rate
/// limits, as in a bench run).
async fn serve_guarded(protocol: Protocol, key: AuthKey) -> RunningServer {
    let api: SharedTicketing = Arc::new(Service::generate(common::SPEC, Limits::default()));
    let api = Guarded::wrap(api, Gate::new(Some(key), RateLimits::default()));
    RunningServer::spawn(move |listener, stop| {
        protocol::serve(protocol, listener, api, ServerConfig::default(), stop)
    })
    .await
    .unwrap_or_else(|e| panic!("{protocol} server: {e}"))
}

fn key(fill: u8) -> AuthKey {
    AuthKey::from_secret(&[fill; 32]).unwrap()
}

fn token_of(key: &AuthKey) -> ClientAuth {
    ClientAuth {
        token: domain::auth::mint(key, CUSTOMER_EMAIL, &[SCOPE_BOOK], Duration::from_secs(600))
            .unwrap(),
        customer: bench::auth::customer(),
    }
}

/// The outcomes of `steps` worker 0 of `scenario`, `times` operations in a row.
async fn outcomes(steps: &ApiSteps, scenario: Scenario, times: usize) -> Vec<Outcome> {
    let mut workers = steps.workers(scenario, 0, 1).await.unwrap();
    let mut out = Vec::with_capacity(times);
    for _ in 0..times {
        out.push(workers[0].step().await);
    }
    out
}

async fn steps(protocol: Protocol, server: &RunningServer, auth: Option<ClientAuth>) -> ApiSteps {
    let options = ClientOptions {
        auth,
        ..ClientOptions::default()
    };
    ApiSteps::connect(protocol, server.addr, common::plan(), options)
        .await
        .unwrap_or_else(|e| panic!("{protocol}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_sends_the_token_and_holds_need_it() {
    let server_key = key(7);
    for protocol in Protocol::APIS {
        let server = serve_guarded(protocol, server_key.clone()).await;

        // The run's token: every scenario passes, holds for the token's customer.
        let authorized = steps(protocol, &server, Some(token_of(&server_key))).await;
        for scenario in [Scenario::GetEvent, Scenario::HoldCancel, Scenario::Connect] {
            for outcome in outcomes(&authorized, scenario, 4).await {
                assert_eq!(outcome, Outcome::Ok, "{protocol} {scenario} with the token");
            }
        }

        // No token: the reads are public, a hold is refused as UNAUTHENTICATED.
        let anonymous = steps(protocol, &server, None).await;
        for outcome in outcomes(&anonymous, Scenario::GetEvent, 2).await {
            assert_eq!(outcome, Outcome::Ok, "{protocol} get_event without a token");
        }
        for outcome in outcomes(&anonymous, Scenario::HoldCancel, 2).await {
            match outcome {
                Outcome::Failed(why) => assert!(
                    why.to_lowercase().contains("unauthenticated"),
                    "{protocol}: {why}"
                ),
                other => panic!("{protocol}: a hold without a token gave {other:?}"),
            }
        }

        // A token signed with another key: even a public read fails, so a client that
        // passes with the right token did send it.
        let forged = steps(protocol, &server, Some(token_of(&key(9)))).await;
        for scenario in [Scenario::GetEvent, Scenario::Connect] {
            for outcome in outcomes(&forged, scenario, 2).await {
                assert!(
                    matches!(outcome, Outcome::Failed(_)),
                    "{protocol} {scenario} with a forged token: {outcome:?}"
                );
            }
        }
        drop((authorized, anonymous, forged));
        server.stop().await.unwrap();
    }
}

#[test]
fn a_tls_auth_bench_fails_nothing_and_says_so() {
    let out = common::out_dir("auth-e2e");
    let results = common::tiny_bench(
        &[
            "--tls",
            "--auth",
            "--protocols",
            "rest,graphql,grpc,wire",
            "--scenarios",
            "get_event,hold_cancel,connect",
        ],
        &out,
        Duration::from_secs(120),
    );
    assert_eq!(results["meta"]["tls"], true);
    assert_eq!(results["meta"]["auth"], true);
    let runs = results["runs"].as_array().unwrap();
    for protocol in ["rest", "graphql", "grpc", "wire"] {
        for scenario in ["get_event", "hold_cancel", "connect"] {
            let run = runs
                .iter()
                .find(|r| r["protocol"] == protocol && r["scenario"] == scenario)
                .unwrap_or_else(|| panic!("no run for {protocol} {scenario}"));
            assert_eq!(
                run["errors"], 0,
                "{protocol} {scenario}: {}",
                run["first_error"]
            );
            assert!(run["ops"].as_u64().unwrap() > 0, "{protocol} {scenario}");
            assert_eq!(run["tls"], true, "{protocol} {scenario}");
            assert_eq!(run["auth"], true, "{protocol} {scenario}");
        }
    }
    assert!(
        out.join("auth/key").is_file(),
        "the key is in the run's folder"
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("TLS + auth"), "the report names the condition");
    let _ = std::fs::remove_dir_all(&out);
}
