//! The email channel adapter: turns raw RFC 5322 mail into what the domain understands, and
//! agent replies back into MIME. No storage and no network here: the IMAP, LMTP and SMTP
//! transports live in `switchboard-email-transport`, which hands this crate bytes and takes
//! bytes back.
#![forbid(unsafe_code)]

pub mod automatic;
pub mod config;
pub mod dsn;
pub mod forward;
pub mod html;
pub mod inbound;
pub mod outbound;
pub mod parse;
pub mod quote;
pub mod tokens;

pub use parse::{Attachment, Mailbox, ParsedEmail, parse};
