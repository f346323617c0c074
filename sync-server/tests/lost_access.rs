//! Lost access reaches a connected colleague: the tenant turns the timeline restriction
//! on through a synced change of its catalogue, and the directory of a counsellor
//! without a responsibility stops listing the person's timeline, and samod stops
//! sending it to them. Repeated in rounds, on and off, to catch an intermittent delay
//! (issue 15: "directories sometimes still listed the timeline 30 s after the
//! restriction reached the server"). Polls have a generous bound; nothing here asserts
//! speed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use model::Document;
use model::catalogue::Catalogue;
use model::client_record::{ClientRecord, NewClient};
use model::directory::Directory;
use model::timeline::Timeline;
use sync_server::accounts::Role;

mod common;

use common::peer::{self, Client, until, until_within};
use common::{Server, config};

/// How long a round may take to show lost access: generous, it only has to happen.
const BOUND: Duration = Duration::from_secs(10);

const ROUNDS: usize = 6;

/// Edits samod's copy of a catalogue through the model, as the desktop client does.
fn set_restriction(handle: &samod::DocHandle, on: bool) {
    handle.with_document(|doc| {
        let mut typed = Document::<Catalogue>::load(&doc.save()).unwrap();
        let before = typed.heads();
        typed.set_restrict_timeline(on).unwrap();
        let changes = typed.automerge().get_changes(&before);
        doc.apply_changes(changes).unwrap();
    });
}

/// A plain key at the root, for probes (the server guards only a record's own maps).
fn put(handle: &samod::DocHandle, key: &str, value: &str) {
    handle.with_document(|doc| {
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(automerge::ROOT, key, value)?;
            Ok(())
        })
        .unwrap();
    });
}

fn get(handle: &samod::DocHandle, key: &str) -> Option<String> {
    handle.with_document(|doc| {
        doc.get(automerge::ROOT, key)
            .unwrap()
            .and_then(|(value, _)| value.into_string().ok())
    })
}

async fn shows(handle: &samod::DocHandle, key: &str, value: &str) {
    until(|| match get(handle, key) {
        Some(read) if read == value => Ok(()),
        other => Err(format!("{key} never became {value}: {other:?}")),
    })
    .await;
}

fn lists(directory: &samod::DocHandle, doc: &str) -> bool {
    peer::read_as::<Directory>(directory)
        .entries
        .contains_key(doc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_access_reaches_a_connected_colleague_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t1", "chefin", Role::Admin);
    let anna_id = server.account("t1", "anna", Role::Counsellor);
    let ben_id = server.account("t1", "ben", Role::Counsellor);
    let chefin = peer::session(&server, "chefin").await;
    let anna = peer::session(&server, "anna").await;

    // The tenant's catalogue, not restricting yet.
    let c = Client::connect(&server, &chefin).await;
    let catalogue = Document::<Catalogue>::create_catalogue(model::TenantId::new("t1")).unwrap();
    let catalogue = c.repo.create(catalogue.into_automerge()).await.unwrap();
    assert_eq!(
        peer::register(&server, &chefin, catalogue.document_id(), "catalogue", None).await,
        201
    );
    peer::stored(&server, catalogue.document_id()).await;

    // Anna's person, with Anna as primary caretaker: she keeps the timeline.
    let a = Client::connect(&server, &anna).await;
    let mut record = Document::<ClientRecord>::create_client(
        &mut peer::editor(&anna_id),
        &model::DocumentId::from_bytes([5; 16]),
        model::TenantId::new("t1"),
        NewClient {
            pseudonym: "Wacholder".into(),
            ..NewClient::default()
        },
    )
    .unwrap();
    record
        .claim_primary(&mut peer::editor(&anna_id), model::UserId::new(&anna_id))
        .unwrap();
    let record = a.repo.create(record.into_automerge()).await.unwrap();
    assert_eq!(peer::register_record(&server, &anna, &record).await, 201);
    let person = peer::model_id(record.document_id());
    let timeline = Document::<Timeline>::create_timeline(model::TenantId::new("t1"), person);
    let timeline = a
        .repo
        .create(timeline.unwrap().into_automerge())
        .await
        .unwrap();
    let timeline_id = timeline.document_id().clone();
    assert_eq!(
        peer::register(
            &server,
            &anna,
            &timeline_id,
            "timeline",
            Some(record.document_id())
        )
        .await,
        201
    );
    peer::stored(&server, &timeline_id).await;
    let timeline_key = timeline_id.to_string();

    for round in 0..ROUNDS {
        // Ben, without a responsibility, reads the timeline while the tenant does not
        // restrict: his directory lists it and samod sends him Anna's changes.
        let ben = peer::session(&server, "ben").await;
        let b = Client::connect(&server, &ben).await;
        let bens_directory = b.find(&ben.directory_id).await.unwrap();
        until(|| {
            lists(&bens_directory, &timeline_key)
                .then_some(())
                .ok_or_else(|| format!("round {round}: ben's directory lacks the timeline"))
        })
        .await;
        let bens_timeline = b.find(&timeline_id).await.expect("ben may read it");
        let bens_record = b.find(record.document_id()).await.unwrap();
        put(&timeline, "probe", &format!("before {round}"));
        shows(&bens_timeline, "probe", &format!("before {round}")).await;

        // The admin turns the restriction on in the catalogue, which syncs.
        set_restriction(&catalogue, true);
        until_within(BOUND, || {
            (!lists(&bens_directory, &timeline_key))
                .then_some(())
                .ok_or_else(|| format!("round {round}: ben's directory still lists the timeline"))
        })
        .await;
        assert_eq!(
            server
                .state
                .registry
                .access(&peer::model_id(&timeline_id), &ben_id.as_str().into()),
            sync_server::access::Access::None
        );

        // samod no longer sends it: Anna changes the timeline, then the record; once
        // Ben has the record's change, the timeline's, made and sent first, would have
        // reached him over the same connection.
        put(&timeline, "probe", &format!("after {round}"));
        let anna_sees = format!("fence {round}");
        let servers = server
            .state
            .repo
            .find(timeline_id.clone())
            .await
            .unwrap()
            .unwrap();
        shows(&servers, "probe", &format!("after {round}")).await;
        put(&record, "fence", &anna_sees);
        shows(&bens_record, "fence", &anna_sees).await;
        assert_eq!(
            get(&bens_timeline, "probe"),
            Some(format!("before {round}")),
            "round {round}: samod still sent ben the timeline"
        );

        // And off again for the next round.
        set_restriction(&catalogue, false);
        until_within(BOUND, || {
            lists(&bens_directory, &timeline_key)
                .then_some(())
                .ok_or_else(|| format!("round {round}: the timeline never came back"))
        })
        .await;
        b.stop().await;
    }
    a.stop().await;
    c.stop().await;
    server.stop().await;
}

/// Edits samod's copy of a catalogue's deletion interval, as the desktop client does.
fn set_interval(handle: &samod::DocHandle, days: u64) {
    handle.with_document(|doc| {
        let mut typed = Document::<Catalogue>::load(&doc.save()).unwrap();
        let before = typed.heads();
        typed.set_deletion_interval(days).unwrap();
        let changes = typed.automerge().get_changes(&before);
        doc.apply_changes(changes).unwrap();
    });
}

/// The cause of the intermittent delay: a tenant with two catalogues (two admins who
/// each started one offline). The restriction, set in one, was lifted again whenever
/// the other was settled (its next change, or any client's first message after a
/// restart), so the directory listed the timeline again until the first was settled
/// once more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_access_holds_while_another_catalogue_of_the_tenant_changes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&config(&dir)).await;
    server.account("t1", "chefin", Role::Admin);
    server.account("t1", "zweite", Role::Admin);
    let anna_id = server.account("t1", "anna", Role::Counsellor);
    let ben_id = server.account("t1", "ben", Role::Counsellor);
    let chefin = peer::session(&server, "chefin").await;
    let zweite = peer::session(&server, "zweite").await;
    let anna = peer::session(&server, "anna").await;
    let ben = peer::session(&server, "ben").await;

    let mut catalogues = Vec::new();
    for session in [&chefin, &zweite] {
        let client = Client::connect(&server, session).await;
        let catalogue =
            Document::<Catalogue>::create_catalogue(model::TenantId::new("t1")).unwrap();
        let catalogue = client
            .repo
            .create(catalogue.into_automerge())
            .await
            .unwrap();
        assert_eq!(
            peer::register(&server, session, catalogue.document_id(), "catalogue", None).await,
            201
        );
        peer::stored(&server, catalogue.document_id()).await;
        catalogues.push((client, catalogue));
    }

    let a = Client::connect(&server, &anna).await;
    let mut record = Document::<ClientRecord>::create_client(
        &mut peer::editor(&anna_id),
        &model::DocumentId::from_bytes([6; 16]),
        model::TenantId::new("t1"),
        NewClient {
            pseudonym: "Holunder".into(),
            ..NewClient::default()
        },
    )
    .unwrap();
    record
        .claim_primary(&mut peer::editor(&anna_id), model::UserId::new(&anna_id))
        .unwrap();
    let record = a.repo.create(record.into_automerge()).await.unwrap();
    assert_eq!(peer::register_record(&server, &anna, &record).await, 201);
    let person = peer::model_id(record.document_id());
    let timeline = Document::<Timeline>::create_timeline(model::TenantId::new("t1"), person);
    let timeline = a
        .repo
        .create(timeline.unwrap().into_automerge())
        .await
        .unwrap();
    let timeline_id = timeline.document_id().clone();
    assert_eq!(
        peer::register(
            &server,
            &anna,
            &timeline_id,
            "timeline",
            Some(record.document_id())
        )
        .await,
        201
    );
    let timeline_key = timeline_id.to_string();
    let b = Client::connect(&server, &ben).await;
    let bens_directory = b.find(&ben.directory_id).await.unwrap();
    until(|| {
        lists(&bens_directory, &timeline_key)
            .then_some(())
            .ok_or_else(|| "ben's directory lacks the timeline".to_owned())
    })
    .await;

    // The first admin restricts in her catalogue: Ben loses the timeline.
    set_restriction(&catalogues[0].1, true);
    until_within(BOUND, || {
        (!lists(&bens_directory, &timeline_key))
            .then_some(())
            .ok_or_else(|| "ben's directory still lists the timeline".to_owned())
    })
    .await;

    // The second admin changes something else in hers, which the server settles.
    set_interval(&catalogues[1].1, 400);
    until(|| {
        match server
            .state
            .registry
            .deletion_interval(&model::TenantId::new("t1"))
        {
            Some(400) => Ok(()),
            other => Err(format!("the second catalogue was never settled: {other:?}")),
        }
    })
    .await;
    assert_eq!(
        server
            .state
            .registry
            .access(&peer::model_id(&timeline_id), &ben_id.as_str().into()),
        sync_server::access::Access::None,
        "the other catalogue lifted the restriction"
    );
    // A later change the directory writer takes (a new colleague) has reached Ben's
    // directory, and the timeline is still not listed.
    let before = peer::read_as::<Directory>(&bens_directory).staff_changed_ms;
    let body =
        serde_json::json!({"login": "carl", "role": "counsellor", "password": "Wolke#Kranich26"});
    let (status, _) = server
        .request(
            "POST",
            "/api/accounts",
            Some(&chefin.token),
            &body.to_string(),
        )
        .await;
    assert_eq!(status, 201);
    until(|| {
        let now = peer::read_as::<Directory>(&bens_directory).staff_changed_ms;
        (now > before)
            .then_some(())
            .ok_or_else(|| "the staff change never arrived".to_owned())
    })
    .await;
    assert!(!lists(&bens_directory, &timeline_key));

    b.stop().await;
    a.stop().await;
    for (client, _) in catalogues {
        client.stop().await;
    }
    server.stop().await;
}
