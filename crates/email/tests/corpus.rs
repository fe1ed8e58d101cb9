//! Every message of the email corpus (`tests/corpus`, a copy of the workplace's
//! `shared/channels/email`, so that a bare clone tests itself) through the parser, checked against
//! what `expected.json` says must be extracted from it.

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use switchboard_email::{parse, tokens};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn expected() -> serde_json::Map<String, Value> {
    let raw = std::fs::read_to_string(corpus_dir().join("expected.json")).expect("expected.json");
    serde_json::from_str::<Value>(&raw).expect("json").as_object().expect("object").clone()
}

const SUPPORT: &str = "support@helpdesk.example.com";

fn strip(id: &str) -> String {
    id.trim_start_matches('<').trim_end_matches('>').to_string()
}

#[test]
fn every_corpus_message_yields_what_the_index_says() {
    let expected = expected();
    let files: Vec<_> = std::fs::read_dir(corpus_dir())
        .expect("corpus")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    assert_eq!(files.len(), 44, "the corpus has 44 messages");
    let mut failures = Vec::new();
    for name in &files {
        let e = expected.get(name).unwrap_or_else(|| panic!("{name} missing from expected.json"));
        let raw = std::fs::read(corpus_dir().join(name)).expect("read");
        let mut fail = |what: String| failures.push(format!("{name}: {what}"));
        let p = match parse(&raw) {
            Ok(p) => p,
            Err(err) => {
                fail(format!("does not parse: {err}"));
                continue;
            }
        };
        let s = |k: &str| e.get(k).and_then(Value::as_str);
        match s("from_addr") {
            Some(addr) => {
                let from = p.from.as_ref().map(|f| f.address.as_str());
                if from.map(str::to_lowercase) != Some(addr.to_lowercase()) {
                    fail(format!("from {from:?}, want {addr}"));
                }
                let want_name = s("from_name").or(s("from_comment"));
                if want_name.is_some() && p.from.as_ref().and_then(|f| f.name.as_deref()) != want_name {
                    fail(format!("from name {:?}, want {want_name:?}", p.from.as_ref().and_then(|f| f.name.clone())));
                }
            }
            None => {
                if p.from.is_some() {
                    fail(format!("from {:?}, want none", p.from));
                }
            }
        }
        if p.subject.as_deref() != s("subject") {
            fail(format!("subject {:?}, want {:?}", p.subject, s("subject")));
        }
        match s("message_id") {
            Some(id) => {
                if p.message_id != strip(id) || p.message_id_synthesized {
                    fail(format!("message id {:?}, want {id}", p.message_id));
                }
            }
            None => {
                let again = parse(&raw).expect("parses twice");
                if !p.message_id_synthesized || p.message_id != again.message_id {
                    fail(format!("message id {:?} should be synthesised and stable", p.message_id));
                }
            }
        }
        if let Some(refs) = e.get("references").and_then(Value::as_array) {
            let want: Vec<String> = refs.iter().filter_map(Value::as_str).map(strip).collect();
            if p.references != want {
                fail(format!("references {:?}, want {want:?}", p.references));
            }
        }
        // The thread parent: a message id to find in In-Reply-To/References (or in a report),
        // or a ticket number recoverable from the subject tag or the plus address.
        match s("thread_parent") {
            Some(parent) if parent.starts_with('<') => {
                let id = strip(parent);
                let in_report = p.delivery_report.as_ref().and_then(|r| r.original_message_id.clone());
                if !p.in_reply_to.contains(&id) && !p.references.contains(&id) && in_report.as_deref() != Some(id.as_str()) {
                    fail(format!("thread parent {id} not found (in-reply-to {:?}, references {:?})", p.in_reply_to, p.references));
                }
            }
            Some(parent) => {
                let number: i64 = parent.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("ticket number");
                let found = if parent.contains("plus address") {
                    let recipients = p.to.iter().chain(&p.cc).map(|m| m.address.as_str());
                    tokens::address_ticket(recipients, &[SUPPORT.to_string()])
                } else {
                    p.subject.as_deref().and_then(tokens::subject_ticket)
                };
                if found != Some(number) {
                    fail(format!("ticket {found:?}, want {number} ({parent})"));
                }
            }
            None => {
                if p.subject.as_deref().and_then(tokens::subject_ticket).is_some() || !p.in_reply_to.is_empty() {
                    fail("a thread parent where there is none".into());
                }
            }
        }
        let want_auto = e.get("is_auto_reply").and_then(Value::as_bool).expect("is_auto_reply");
        if p.automatic.auto_reply != want_auto {
            fail(format!("auto reply {}, want {want_auto} (signals {:?})", p.automatic.auto_reply, p.automatic.signals));
        }
        if let Some(signals) = e.get("auto_reply_signals").and_then(Value::as_array) {
            for signal in signals.iter().filter_map(Value::as_str) {
                let key = signal.split(':').next().unwrap_or(signal).trim_start_matches("Subject prefix '").to_lowercase();
                if !p.automatic.signals.iter().any(|s| s.to_lowercase().contains(&key)) {
                    fail(format!("signal {signal:?} not reported ({:?})", p.automatic.signals));
                }
            }
        }
        let want_bulk = e.get("is_bulk").and_then(Value::as_bool).unwrap_or(false);
        if p.automatic.bulk != want_bulk {
            fail(format!("bulk {}, want {want_bulk}", p.automatic.bulk));
        }
        match e.get("dsn") {
            Some(dsn) => match &p.delivery_report {
                Some(r) => {
                    let want = |k: &str| dsn.get(k).and_then(Value::as_str).map(str::to_string);
                    if Some(r.action.clone()) != want("action")
                        || r.status != want("status")
                        || r.final_recipient != want("final_recipient")
                    {
                        fail(format!("report {r:?}, want {dsn}"));
                    }
                    if r.original_message_id != want("original_message_id").map(|i| strip(&i)) {
                        fail(format!("report original {:?}", r.original_message_id));
                    }
                    if r.is_failure() != (r.action == "failed") {
                        fail("failure flag".into());
                    }
                }
                None => fail("no delivery report found".into()),
            },
            None => {
                if p.delivery_report.is_some() {
                    fail("a delivery report where there is none".into());
                }
            }
        }
        if let Some(start) = s("text_starts")
            && !p.text.trim_start().starts_with(start)
        {
            fail(format!("text starts {:?}, want {start:?}", p.text.chars().take(40).collect::<String>()));
        }
        if let Some(text) = s("decoded_text")
            && p.text.trim_end() != text.trim_end()
        {
            fail(format!("text {:?}, want {text:?}", p.text));
        }
        if let Some(new) = s("new_text") {
            if p.new_text != new {
                fail(format!("new text {:?}, want {new:?}", p.new_text));
            }
            if p.quoted_text.is_none() {
                fail("the quoted part was not kept".into());
            }
        }
        if let Some(n) = e.get("longest_line").and_then(Value::as_u64)
            && p.text.lines().map(|l| l.chars().count()).max().unwrap_or(0) as u64 != n
        {
            fail(format!("longest line is not {n} characters"));
        }
        for (key, list) in [("to", &p.to), ("cc", &p.cc)] {
            let Some(want) = e.get(key).and_then(Value::as_array) else { continue };
            let addrs: Vec<String> = list.iter().map(|m| m.address.to_lowercase()).collect();
            let want_addrs: Vec<String> = want.iter().filter_map(|w| w.get(1).and_then(Value::as_str)).map(str::to_lowercase).collect();
            if addrs != want_addrs {
                fail(format!("{key} {addrs:?}, want {want_addrs:?}"));
            }
            for (m, w) in list.iter().zip(want) {
                let want_name = w.get(0).and_then(Value::as_str).unwrap_or("");
                // "(... lossy decode acceptable)" marks a name whose bytes are not valid text.
                if !want_name.contains("lossy") && m.name.as_deref() != Some(want_name) {
                    fail(format!("{key} name {:?}, want {want_name:?}", m.name));
                }
            }
        }
        check_attachments(&mut fail, e.get("attachments"), &p.attachments);
        if let Some(fwd) = e.get("forwarded") {
            match &p.forwarded {
                Some(f) => {
                    let from = f.from.as_ref();
                    if from.map(|m| m.address.as_str()) != fwd.get("from_addr").and_then(Value::as_str)
                        || from.and_then(|m| m.name.as_deref()) != fwd.get("from_name").and_then(Value::as_str)
                        || f.subject.as_deref() != fwd.get("subject").and_then(Value::as_str)
                    {
                        fail(format!("forwarded {f:?}, want {fwd}"));
                    }
                    if let Some(id) = fwd.get("message_id").and_then(Value::as_str)
                        && f.message_id.as_deref() != Some(strip(id).as_str())
                    {
                        fail(format!("forwarded id {:?}", f.message_id));
                    }
                    check_attachments(&mut fail, fwd.get("attachments"), &f.attachments);
                }
                None => fail("the forwarded original was not found".into()),
            }
        }
    }
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
}

fn check_attachments(fail: &mut impl FnMut(String), want: Option<&Value>, got: &[switchboard_email::Attachment]) {
    let want = want.and_then(Value::as_array).cloned().unwrap_or_default();
    if want.len() != got.len() {
        let names: Vec<_> = got.iter().map(|a| (&a.filename, &a.content_type, a.content.len())).collect();
        fail(format!("{} attachments {names:?}, want {}", got.len(), want.len()));
        return;
    }
    for (w, a) in want.iter().zip(got) {
        let ws = |k: &str| w.get(k).and_then(Value::as_str);
        if Some(a.filename.as_str()) != ws("filename") || Some(a.content_type.as_str()) != ws("content_type") {
            fail(format!("attachment {:?} {:?}, want {w}", a.filename, a.content_type));
        }
        if let Some(size) = w.get("size").and_then(Value::as_u64)
            && a.content.len() as u64 != size
        {
            fail(format!("attachment {} is {} bytes, want {size}", a.filename, a.content.len()));
        }
        if let Some(sha) = ws("sha256")
            && hex::encode(Sha256::digest(&a.content)) != sha
        {
            fail(format!("attachment {} has other bytes", a.filename));
        }
        if a.inline != w.get("inline").and_then(Value::as_bool).unwrap_or(false) {
            fail(format!("attachment {} inline {}", a.filename, a.inline));
        }
        if let Some(cid) = ws("content_id")
            && a.content_id.as_deref() != Some(cid)
        {
            fail(format!("attachment {} content id {:?}", a.filename, a.content_id));
        }
        if a.truncated != w.get("truncated").and_then(Value::as_bool).unwrap_or(false) {
            fail(format!("attachment {} truncated {}", a.filename, a.truncated));
        }
    }
}

#[test]
fn html_bodies_are_sanitised_and_inline_images_resolved() {
    for name in
        ["03_html_only_pl.eml", "09_inline_image_cid.eml", "33_nested_mixed_alternative_related.eml", "28_gmail_quoted_reply_en.eml"]
    {
        let p = parse(&std::fs::read(corpus_dir().join(name)).expect("read")).expect("parses");
        let raw_html = p.raw_html.as_deref().unwrap_or_else(|| panic!("{name} has HTML"));
        let cids = p
            .attachments
            .iter()
            .enumerate()
            .filter_map(|(i, a)| Some((a.content_id.clone()?, format!("/api/v1/attachments/{i}"))))
            .collect();
        let clean = switchboard_email::html::sanitize(raw_html, &cids, false);
        for bad in ["<style", "<script", "<meta", "tracker.example", " style=", "cid:"] {
            assert!(!clean.html.contains(bad), "{name}: {bad} left in {}", clean.html);
        }
        for a in p.attachments.iter().filter(|a| a.inline) {
            let i = p.attachments.iter().position(|b| b == a).expect("listed");
            assert!(clean.html.contains(&format!("src=\"/api/v1/attachments/{i}\"")), "{name}: {} not rewritten", a.filename);
        }
        assert_eq!(clean.blocked_images, usize::from(name.starts_with("03")), "{name}: blocked images");
    }
}
