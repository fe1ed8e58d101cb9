//! Parse time per message over the whole email corpus: `cargo bench -p switchboard-email --bench parse`.
//! Three steps timed in the same run: mail-parser alone (the baseline: MIME decoding), our
//! `parse` (that plus quotes, automatic-mail and bounce detection, attachments), and `parse`
//! followed by the translation to the domain (`to_inbound`, which sanitises the HTML).

use std::time::{Duration, Instant};
use switchboard_domain::{AttachmentId, ChannelId, WorkspaceId};
use switchboard_email::inbound::{EmailChannel, Limits, to_inbound};

/// Rounds over the corpus per step; the fastest round counts (the least disturbed by the rest
/// of the machine).
const ROUNDS: usize = 30;

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files.into_iter().map(|p| (p.file_name().expect("name").to_string_lossy().into_owned(), std::fs::read(&p).expect("read"))).collect()
}

fn fastest_round(messages: &[(String, Vec<u8>)], mut step: impl FnMut(&[u8])) -> Duration {
    (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            for (_, raw) in messages {
                step(raw);
            }
            started.elapsed()
        })
        .min()
        .expect("rounds")
}

fn main() {
    let messages = corpus();
    let bytes: usize = messages.iter().map(|(_, m)| m.len()).sum();
    let (workspace, channel) = (WorkspaceId::generate(), ChannelId::generate());
    let support = vec!["support@helpdesk.example.com".to_string()];
    let url = |id: &AttachmentId| format!("/api/v1/attachments/{id}");

    let baseline = fastest_round(&messages, |raw| {
        std::hint::black_box(mail_parser::MessageParser::default().parse(raw));
    });
    let ours = fastest_round(&messages, |raw| {
        let _ = std::hint::black_box(switchboard_email::parse(raw));
    });
    let full = fastest_round(&messages, |raw| {
        let Ok(parsed) = switchboard_email::parse(raw) else { return };
        let ctx = EmailChannel {
            workspace_id: &workspace,
            channel_id: &channel,
            support_addresses: &support,
            limits: Limits::default(),
            attachment_url: &url,
            now_ms: 1_767_225_600_000,
            form_senders: &[],
        };
        let _ = std::hint::black_box(to_inbound(raw.len(), parsed, &ctx));
    });
    // Without the one 2 MiB message, which dominates the total.
    let small: Vec<_> = messages.iter().filter(|(_, m)| m.len() < 1024 * 1024).cloned().collect();
    let small_full = fastest_round(&small, |raw| {
        let _ = std::hint::black_box(switchboard_email::parse(raw));
    });

    let n = messages.len() as f64;
    let per = |d: Duration, count: f64| d.as_secs_f64() * 1e6 / count;
    println!("corpus: {} messages, {:.1} MiB; fastest of {ROUNDS} rounds", messages.len(), bytes as f64 / 1048576.0);
    println!("mail-parser alone (baseline):  {:8.1} µs per message", per(baseline, n));
    println!(
        "switchboard_email::parse:      {:8.1} µs per message ({:.2}x the baseline)",
        per(ours, n),
        ours.as_secs_f64() / baseline.as_secs_f64()
    );
    println!(
        "parse + to_inbound:            {:8.1} µs per message ({:.2}x the baseline)",
        per(full, n),
        full.as_secs_f64() / baseline.as_secs_f64()
    );
    println!("parse, without the 2 MiB one:  {:8.1} µs per message ({} messages)", per(small_full, small.len() as f64), small.len());
}
