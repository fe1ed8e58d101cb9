//! The index over time: groups replaced and deleted together, workspaces apart, the cursor kept
//! across reopening, a schema change wiping the directory, clear and rebuild.

mod common;

use common::{TempDir, WS, article, changes, contact, index_of, message, search, targets};
use switchboard_search::{Error, GroupChange, Language, SCHEMA_VERSION, SearchIndex, SearchQuery};

#[test]
fn workspaces_never_mix() {
    let index = index_of(vec![
        message("ws-a", "a1", "m1", "refund please, order 77", 1),
        message("ws-b", "b1", "m2", "refund please, order 77", 2),
        contact("ws-b", "b-contact", "Refund Man", "refund@example.com"),
    ]);
    let in_a = |text: &str| index.search(&SearchQuery::new("ws-a", text)).expect("search");
    let in_b = |text: &str| index.search(&SearchQuery::new("ws-b", text)).expect("search");
    assert_eq!(in_a("refund").iter().map(|h| h.target_id.as_str()).collect::<Vec<_>>(), ["a1"]);
    assert_eq!(in_b("refund").len(), 2);
    assert!(in_a("refund@example.com").is_empty());
    assert!(in_a("refund nothing-else-matches").iter().all(|h| h.target_id == "a1"), "the any-word fallback too");
    assert!(index.search(&SearchQuery::new("ws-c", "refund")).expect("search").is_empty());
    assert!(index.search(&SearchQuery::new("", "refund")).expect("search").is_empty());
}

#[test]
fn small_and_large_workspaces_are_both_kept_apart() {
    // A workspace with few of the index's documents is filtered by its posting list, a large
    // one by its fast field: both ways keep to their workspace.
    let mut docs: Vec<_> = (0..40).map(|i| message("big", &format!("big{i}"), &format!("b{i}"), "refund please", i)).collect();
    docs.push(message("small", "small0", "s0", "refund please", 100));
    let index = index_of(docs);
    let hits = |ws: &str| index.search(&SearchQuery { limit: 100, ..SearchQuery::new(ws, "refund") }).expect("search");
    assert_eq!(hits("small").iter().map(|h| h.target_id.as_str()).collect::<Vec<_>>(), ["small0"]);
    let big = hits("big");
    assert_eq!(big.len(), 40);
    assert!(big.iter().all(|h| h.target_id.starts_with("big")));
    assert!(hits("none").is_empty());
}

#[test]
fn a_group_is_replaced_and_deleted_together() {
    let index = index_of(vec![
        article(WS, "art", Language::En, "web", "Returns", "Send the parcel back within 30 days"),
        article(WS, "art", Language::En, "short", "Returns", "30 days to return"),
        article(WS, "art", Language::Ru, "web", "Возврат", "Верните посылку в течение 30 дней"),
        message(WS, "c1", "m1", "parcel lost", 1),
    ]);
    assert_eq!(index.num_docs(), 4);
    let mut found = targets(&index, "parcel");
    found.sort();
    assert_eq!(found, ["art", "c1"]);

    // Replacing the group drops every old variant.
    let new = vec![article(WS, "art", Language::En, "web", "Refunds", "Money back in 5 days")];
    index.apply(vec![GroupChange::replace("article:art", new)], 2).expect("apply");
    assert_eq!(index.num_docs(), 2);
    assert_eq!(targets(&index, "parcel"), ["c1"]);
    assert!(targets(&index, "посылка").is_empty());
    assert_eq!(targets(&index, "money"), ["art"]);

    // An empty change deletes it.
    index.apply(vec![GroupChange::delete("article:art")], 3).expect("apply");
    assert_eq!(index.num_docs(), 1);
    assert!(targets(&index, "money").is_empty());

    // Within one batch the last change of a group wins.
    let batch = vec![
        GroupChange::replace("message:m1", vec![message(WS, "c1", "m1", "first text", 4)]),
        GroupChange::replace("message:m1", vec![message(WS, "c1", "m1", "second text", 4)]),
    ];
    index.apply(batch, 4).expect("apply");
    assert_eq!(index.num_docs(), 1);
    assert!(targets(&index, "first").is_empty());
    assert_eq!(targets(&index, "second"), ["c1"]);
}

#[test]
fn a_document_in_the_wrong_group_is_refused_and_nothing_of_the_batch_is_kept() {
    let index = index_of(vec![message(WS, "c1", "m1", "kept", 1)]);
    let mut stray = message(WS, "c2", "m2", "stray", 2);
    stray.group = "message:other".to_owned();
    let batch = vec![GroupChange::delete("message:m1"), GroupChange::replace("message:m2", vec![stray])];
    assert!(matches!(index.apply(batch, 2), Err(Error::WrongGroup { .. })));
    assert_eq!(index.cursor(), Some(1));
    assert_eq!(targets(&index, "kept"), ["c1"]);
    // The writer is still usable.
    index.apply(vec![GroupChange::delete("message:m1")], 3).expect("apply");
    assert_eq!(index.num_docs(), 0);
    assert_eq!(index.cursor(), Some(3));
}

#[test]
fn the_cursor_survives_reopening() {
    let dir = TempDir::new();
    {
        let index = SearchIndex::open(dir.path()).expect("open");
        assert_eq!(index.cursor(), None);
        assert_eq!(index.num_docs(), 0);
        index.apply(changes(vec![message(WS, "c1", "m1", "persisted words", 1)]), 41).expect("apply");
        index.apply(changes(vec![message(WS, "c2", "m2", "more persisted words", 2)]), 42).expect("apply");
        assert_eq!(index.cursor(), Some(42));
    }
    let index = SearchIndex::open(dir.path()).expect("reopen");
    assert_eq!(index.cursor(), Some(42));
    assert_eq!(index.num_docs(), 2);
    assert_eq!(targets(&index, "persisted").len(), 2);
}

#[test]
fn another_schema_version_wipes_the_directory() {
    let dir = TempDir::new();
    {
        let index = SearchIndex::open(dir.path()).expect("open");
        index.apply(changes(vec![message(WS, "c1", "m1", "old words", 1)]), 7).expect("apply");
    }
    let version_file = dir.path().join("switchboard-search-version");
    assert_eq!(std::fs::read_to_string(&version_file).expect("version file").trim(), SCHEMA_VERSION.to_string());
    std::fs::write(&version_file, format!("{}\n", SCHEMA_VERSION + 1)).expect("write");
    let index = SearchIndex::open(dir.path()).expect("reopen");
    assert_eq!(index.cursor(), None, "the caller reindexes");
    assert_eq!(index.num_docs(), 0);
    assert!(targets(&index, "old").is_empty());
    assert_eq!(std::fs::read_to_string(&version_file).expect("version file").trim(), SCHEMA_VERSION.to_string());
    index.apply(changes(vec![message(WS, "c1", "m1", "new words", 1)]), 8).expect("apply");
    assert_eq!(targets(&index, "new"), ["c1"]);
    drop(index);

    // An index without a version file (written before versions were kept) is wiped too.
    std::fs::remove_file(&version_file).expect("remove");
    let index = SearchIndex::open(dir.path()).expect("reopen");
    assert_eq!((index.cursor(), index.num_docs()), (None, 0));
}

#[test]
fn a_foreign_directory_is_not_wiped() {
    let dir = TempDir::new();
    std::fs::create_dir_all(dir.path()).expect("mkdir");
    std::fs::write(dir.path().join("precious.txt"), "keep me").expect("write");
    assert!(matches!(SearchIndex::open(dir.path()), Err(Error::NotAnIndex(_))));
    assert_eq!(std::fs::read_to_string(dir.path().join("precious.txt")).expect("still there"), "keep me");
}

#[test]
fn clear_empties_and_forgets_the_cursor() {
    let dir = TempDir::new();
    {
        let index = SearchIndex::open(dir.path()).expect("open");
        index.apply(changes(vec![message(WS, "c1", "m1", "words", 1)]), 5).expect("apply");
        index.clear().expect("clear");
        assert_eq!((index.cursor(), index.num_docs()), (None, 0));
    }
    let index = SearchIndex::open(dir.path()).expect("reopen");
    assert_eq!((index.cursor(), index.num_docs()), (None, 0));
}

#[test]
fn rebuild_replaces_everything_in_one_commit_and_reports_progress() {
    let index = index_of(vec![message(WS, "old", "m0", "stale text", 1)]);
    let docs = (0..2500).map(|i| message(WS, &format!("c{}", i % 100), &format!("m{i}"), &format!("fresh text number {i}"), i));
    let mut reports = Vec::new();
    let done = index.rebuild(docs, 99, |n| reports.push(n)).expect("rebuild");
    assert_eq!(done, 2500);
    assert_eq!(reports, [1000, 2000, 2500]);
    assert_eq!(index.num_docs(), 2500);
    assert_eq!(index.cursor(), Some(99));
    assert!(search(&index, "stale").is_empty());
    assert_eq!(targets(&index, "2499"), ["c99"]);

    let mut reports = Vec::new();
    let docs = (0..3000).map(|i| message(WS, "c", &format!("m{i}"), "text", i));
    assert_eq!(index.rebuild(docs, 100, |n| reports.push(n)).expect("rebuild"), 3000);
    assert_eq!(reports, [1000, 2000, 3000], "the last count is reported once");
    let mut reports = Vec::new();
    assert_eq!(index.rebuild(std::iter::empty(), 101, |n| reports.push(n)).expect("rebuild"), 0);
    assert_eq!((reports, index.num_docs(), index.cursor()), (vec![0], 0, Some(101)));
}

#[test]
fn the_index_is_shared_between_threads() {
    fn send_sync<T: Send + Sync + Clone>() {}
    send_sync::<SearchIndex>();
    let index = index_of(vec![message(WS, "c0", "m0", "shared words", 0)]);
    std::thread::scope(|s| {
        let writer = index.clone();
        s.spawn(move || {
            for i in 1..=20 {
                writer.apply(changes(vec![message(WS, &format!("c{i}"), &format!("m{i}"), "shared words", i)]), i).expect("apply");
            }
        });
        for _ in 0..2 {
            let reader = index.clone();
            s.spawn(move || {
                for _ in 0..50 {
                    let found = reader.search(&SearchQuery::new(WS, "shared")).expect("search");
                    assert!(!found.is_empty());
                }
            });
        }
    });
    assert_eq!(index.num_docs(), 21);
    assert_eq!(index.cursor(), Some(20));
}
