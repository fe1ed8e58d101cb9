//! Sending one composed message through the channel's SMTP server. A refusal the server calls
//! permanent (5xx) is not retried; everything else (4xx, a dropped connection, a timeout) is.
//! The server's name is resolved and checked against the outbound rule first, and the
//! connection goes to the checked address (TLS still verifies the name).

use crate::TransportError;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;
use switchboard_channels::http::short;
use switchboard_channels::outbound::OutboundPolicy;
use switchboard_email::config::{SmtpConfig, TlsMode};

/// How long one SMTP conversation may take before it counts as failed (and is retried).
const TIMEOUT: Duration = Duration::from_secs(60);

/// The port a TLS mode uses when the config names none.
pub fn default_port(tls: TlsMode) -> u16 {
    match tls {
        TlsMode::None => 25,
        TlsMode::Starttls => 587,
        TlsMode::Tls => 465,
    }
}

/// Sends `message` to the recipients in its headers (To and Cc; never Reply-To), to the
/// server's address that `policy` allows. The server's own words are kept to a short line.
pub async fn send(config: &SmtpConfig, policy: OutboundPolicy, message: &lettre::Message) -> Result<(), TransportError> {
    let transport = transport(config, policy).await?;
    match transport.send(message.clone()).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => {
            Err(TransportError::permanent(format!("the mail server refused the message: {}", short(&e.to_string()))))
        }
        Err(e) => Err(TransportError::transient(format!("cannot hand the message to {}: {}", config.host, short(&e.to_string())))),
    }
}

/// Connects, greets and signs in without sending anything: an admin's "test the connection".
pub async fn check(config: &SmtpConfig, policy: OutboundPolicy) -> Result<String, String> {
    let transport = transport(config, policy).await.map_err(|e| e.message)?;
    match transport.test_connection().await {
        Ok(true) => Ok(format!("SMTP {}: connected and signed in", config.host)),
        Ok(false) => Err(format!("SMTP {}: the server did not answer as expected", config.host)),
        Err(e) => Err(format!("SMTP {}: {}", config.host, short(&e.to_string()))),
    }
}

async fn transport(config: &SmtpConfig, policy: OutboundPolicy) -> Result<AsyncSmtpTransport<Tokio1Executor>, TransportError> {
    let tls = match config.tls {
        TlsMode::None => Tls::None,
        TlsMode::Starttls => Tls::Required(tls_parameters(&config.host)?),
        TlsMode::Tls => Tls::Wrapper(tls_parameters(&config.host)?),
    };
    let port = config.port.unwrap_or_else(|| default_port(config.tls));
    let address = crate::checked_address(&config.host, port, policy).await.map_err(|e| e.prefixed(&format!("SMTP {}", config.host)))?;
    // The checked address, not the name: resolving the name again could give another one.
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(address.ip().to_string())
        .port(address.port())
        .tls(tls)
        .timeout(Some(TIMEOUT));
    if let (Some(user), Some(password)) = (&config.username, &config.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

fn tls_parameters(host: &str) -> Result<TlsParameters, TransportError> {
    TlsParameters::new(host.to_owned()).map_err(|e| TransportError::permanent(format!("cannot set up TLS for {host}: {e}")))
}
