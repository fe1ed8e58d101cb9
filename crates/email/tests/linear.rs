//! Hostile shapes of mail cost what a plain mail of the same size costs. Every input below is
//! about a megabyte and is timed against a plain message of the same size in the same run:
//! a step that is quadratic in its input (quote trimming once took 22 s on 80,000 `>` lines)
//! shows as a ratio in the hundreds, far above the bound. Ratios, not absolute times, so a
//! slow or busy machine does not fail the test.

use std::time::{Duration, Instant};
use switchboard_domain::{AttachmentId, ChannelId, WorkspaceId};
use switchboard_email::inbound::{EmailChannel, Limits, to_inbound};
use switchboard_email::parse;

/// How many times slower than the plain mail a hostile one may be. Quadratic work at these
/// sizes is thousands of times slower; honest linear work with more structure (parts, headers,
/// addresses) is a few times slower.
const MAX_RATIO: f64 = 10.0;

/// Lines (or items) in each hostile input: the sizes the probe used.
const N: usize = 40_000;

fn head(extra: &str) -> String {
    format!(
        "From: Anna <anna@example.com>\r\nTo: support@example.com\r\nSubject: Order\r\nMessage-ID: <m1@example.com>\r\n\
         Date: Mon, 30 Nov 2026 10:00:00 +0000\r\n{extra}"
    )
}

fn text_mail(extra_headers: &str, body: &str) -> Vec<u8> {
    format!("{}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}", head(extra_headers)).into_bytes()
}

/// A plain mail with a body of `size` bytes of ordinary lines.
fn plain(size: usize) -> Vec<u8> {
    let line = "Hello, the parcel has not arrived yet, could you check it please?\r\n";
    text_mail("", &line.repeat(size / line.len() + 1))
}

/// The whole intake of one raw mail: parse, then translate for the domain (quotes, participants,
/// threading headers, sanitised HTML).
fn take_in(raw: &[u8]) {
    let support = vec!["support@example.com".to_string()];
    let (ws, ch) = (WorkspaceId::generate(), ChannelId::generate());
    let url = |id: &AttachmentId| format!("/api/v1/attachments/{id}");
    let limits = Limits { max_message_bytes: 64 * 1024 * 1024, max_attachment_bytes: 64 * 1024 * 1024, max_attachments: 100_000 };
    let ctx = EmailChannel {
        workspace_id: &ws,
        channel_id: &ch,
        support_addresses: &support,
        limits,
        attachment_url: &url,
        now_ms: 1_796_000_000_000,
        form_senders: &[],
    };
    let parsed = parse(raw).expect("parses");
    std::hint::black_box(to_inbound(raw.len(), parsed, &ctx).expect("taken in"));
}

/// The fastest of three runs: the least disturbed by the rest of the machine.
fn time(raw: &[u8]) -> Duration {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            take_in(raw);
            start.elapsed()
        })
        .min()
        .expect("three runs")
}

fn assert_linear(name: &str, hostile: Vec<u8>) {
    let baseline = plain(hostile.len());
    take_in(&baseline); // warm up allocator and caches
    let (plain_time, hostile_time) = (time(&baseline), time(&hostile));
    // Below a millisecond the timer's noise is the ratio: compare against at least that.
    let ratio = hostile_time.as_secs_f64() / plain_time.as_secs_f64().max(0.001);
    eprintln!("{name}: {} bytes in {hostile_time:?}, plain {plain_time:?}, ratio {ratio:.1}", hostile.len());
    assert!(
        ratio < MAX_RATIO,
        "{name}: {} bytes took {hostile_time:?}, a plain mail of the same size {plain_time:?} (ratio {ratio:.1})",
        hostile.len()
    );
}

#[test]
fn quoted_lines_with_a_plain_line_at_the_end() {
    assert_linear("quote trimming", text_mail("", &format!("{}the answer\r\n", "> quoted line\r\n".repeat(N))));
}

#[test]
fn quoted_lines_between_blank_lines_and_attribution_lookalikes() {
    let body = "> q\r\n\r\n\r\nOn Monday anna@example.com 1 wrote:\r\n\r\n----------\r\n".repeat(N / 6);
    assert_linear("attribution search", text_mail("", &format!("{body}last\r\n")));
}

#[test]
fn forty_thousand_copied_addresses() {
    let cc: Vec<String> = (0..N).map(|i| format!("p{i}@example.net")).collect();
    assert_linear("Cc de-duplication", text_mail(&format!("Cc: {}\r\n", cc.join(",\r\n ")), "Hello\r\n"));
}

#[test]
fn forty_thousand_references() {
    let refs: Vec<String> = (0..N).map(|i| format!("<r{i}@example.net>")).collect();
    let headers = format!("In-Reply-To: <r0@example.net>\r\nReferences: {}\r\n", refs.join("\r\n "));
    assert_linear("References", text_mail(&headers, "Hello\r\n"));
}

#[test]
fn many_headers() {
    let headers: String =
        (0..N).map(|i| format!("X-Trace-{i}: value {i}\r\nReceived: from h{i} by mx; Mon, 30 Nov 2026 09:00:00 +0000\r\n")).collect();
    assert_linear("headers", text_mail(&headers, "Hello\r\n"));
}

#[test]
fn thousands_of_inline_parts_named_by_a_large_html_body() {
    let parts = 4_000;
    let mut html = String::from("<html><body>");
    for i in 0..parts {
        html.push_str(&format!("<p>Picture {i}: <img src=\"cid:img{i}@x\"> with some words around it to make the body larger</p>\r\n"));
    }
    html.push_str("</body></html>");
    let mut body = format!("--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n");
    for i in 0..parts {
        body.push_str(&format!(
            "--b\r\nContent-Type: image/png\r\nContent-ID: <img{i}@x>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
        ));
    }
    body.push_str("--b--\r\n");
    let raw = format!("{}Content-Type: multipart/related; boundary=\"b\"\r\n\r\n{body}", head("")).into_bytes();
    assert_linear("inline parts", raw);
}

#[test]
fn deeply_nested_and_misnested_html() {
    let html = format!("<html><body>{}{}</body></html>", "<div><b><i>x</b></i>".repeat(N / 4), "</div>".repeat(N / 4));
    let raw = format!("{}Content-Type: text/html; charset=utf-8\r\n\r\n{html}", head("")).into_bytes();
    assert_linear("nested HTML", raw);
}

#[test]
fn a_subject_of_prefixes_and_tags() {
    let subject = "Re: [#12] Fwd: ".repeat(N / 4);
    assert_linear("subject prefixes", text_mail(&format!("Subject: {subject}\r\n"), "Hello\r\n"));
}

#[test]
fn an_inline_forward_with_many_marker_lines() {
    let body = "---------- Forwarded message ---------\r\nFrom: x\r\n\r\n".repeat(N / 3);
    assert_linear("forward detection", text_mail("", &body));
}

#[test]
fn multiparts_nested_inside_each_other() {
    let depth = 2_000;
    let mut body = String::new();
    for i in 0..depth {
        body.push_str(&format!("--b{i}\r\nContent-Type: multipart/mixed; boundary=\"b{}\"\r\n\r\n", i + 1));
    }
    body.push_str(&format!("--b{depth}\r\nContent-Type: text/plain\r\n\r\nHello\r\n--b{depth}--\r\n"));
    for i in (0..depth).rev() {
        body.push_str(&format!("--b{i}\r\nContent-Type: application/pdf; name=\"f{i}.pdf\"\r\n\r\n%PDF-1.4\r\n--b{i}--\r\n"));
    }
    let raw = format!("{}Content-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n{body}", head("")).into_bytes();
    assert_linear("nested multiparts", raw);
}

#[test]
fn messages_attached_inside_each_other_a_thousand_deep() {
    let depth = 1_000;
    let mut raw = head("");
    for i in 0..depth {
        raw.push_str(&format!("Content-Type: message/rfc822\r\n\r\nFrom: x{i}@example.com\r\nSubject: s{i}\r\n"));
    }
    raw.push_str("Content-Type: text/plain\r\n\r\nthe innermost text\r\n");
    // Read in a thread with a small stack, as the server's blocking pool would: recursion per
    // level would overflow it.
    let raw = raw.into_bytes();
    let small_stack = std::thread::Builder::new().stack_size(256 * 1024).spawn({
        let raw = raw.clone();
        move || take_in(&raw)
    });
    small_stack.expect("thread").join().expect("no stack overflow");
    assert_linear("nested messages", raw);
}

#[test]
fn one_tag_with_a_hundred_thousand_attributes() {
    let attributes: String = (0..100_000).map(|i| format!(" a{i}=\"v\"")).collect();
    let raw = format!("{}Content-Type: text/html; charset=utf-8\r\n\r\n<p{attributes}>x</p>", head("")).into_bytes();
    assert_linear("attributes", raw);
}

#[test]
fn html_of_character_references() {
    let html = format!("<p>{}</p>", "&amp;&#1078;&lt;".repeat(N * 4));
    let raw = format!("{}Content-Type: text/html; charset=utf-8\r\n\r\n{html}", head("")).into_bytes();
    assert_linear("character references", raw);
}
