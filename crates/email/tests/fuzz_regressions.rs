//! Inputs the `email_intake` fuzz target (fuzz/, scripts/fuzz.sh) once crashed on, kept in
//! `tests/fuzz-regressions/`: each goes through parsing and the translation to the domain, as
//! the target drives them, without a panic, in the test build as in the server.
//!
//! - `multipart_part_without_parent.eml`: a part whose multipart parent mail-parser cannot find
//!   tripped its `debug_assert!(false, "Invalid part ID…")`, which release builds skip (mail-parser
//!   then goes on with what it has); debug and test builds now skip it too (Cargo.toml,
//!   `[profile.dev.package.mail-parser]`), so they take such mail as the server does.

use std::path::PathBuf;
use switchboard_domain::{AttachmentId, ChannelId, WorkspaceId};
use switchboard_email::inbound::{EmailChannel, Limits, to_inbound};

#[test]
fn inputs_that_crashed_the_fuzzer_parse_without_a_panic() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz-regressions") {
        let path = entry.expect("entry").path();
        let raw = std::fs::read(&path).expect("read");
        let parsed = switchboard_email::parse(&raw).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (workspace, channel) = (WorkspaceId::generate(), ChannelId::generate());
        let support = vec!["support@helpdesk.example.com".to_string()];
        let url = |id: &AttachmentId| format!("/api/v1/attachments/{id}");
        let ctx = EmailChannel {
            workspace_id: &workspace,
            channel_id: &channel,
            support_addresses: &support,
            limits: Limits::default(),
            attachment_url: &url,
            now_ms: 1_767_225_600_000,
            form_senders: &[],
        };
        let inbound = to_inbound(raw.len(), parsed, &ctx).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        assert!(!inbound.message.text.is_empty() || !inbound.message.attachments.is_empty(), "{}: nothing taken in", path.display());
        seen += 1;
    }
    assert_eq!(seen, 1, "every regression input is checked");
}
