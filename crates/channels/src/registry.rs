//! The drivers of this build by channel kind: the one place that knows which kinds exist.

use crate::InboundError;
use crate::driver::Driver;
use crate::outbound::{OutboundPolicy, Refused};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use switchboard_domain::{ChannelKind, Region};

/// Maps each channel kind to its driver. The binary fills it (`Registry::new().with(...)`);
/// the web crate, the worker and the admin pages look drivers up here and nowhere else.
#[derive(Clone, Default)]
pub struct Registry {
    drivers: HashMap<ChannelKind, Arc<dyn Driver>>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the driver of its kind.
    pub fn with(mut self, driver: impl Driver + 'static) -> Self {
        self.drivers.insert(driver.kind(), Arc::new(driver));
        self
    }

    /// The driver of `kind`; `None` for a kind this build cannot serve.
    pub fn get(&self, kind: ChannelKind) -> Option<&Arc<dyn Driver>> {
        self.drivers.get(&kind)
    }

    /// The kinds this build serves, in `ChannelKind::ALL` order.
    pub fn kinds(&self) -> Vec<ChannelKind> {
        ChannelKind::ALL.into_iter().filter(|k| self.drivers.contains_key(k)).collect()
    }

    /// Checks a channel's `config` for `kind`: the keys every kind shares, then its driver's.
    /// The error names the key at fault (`config.bot_token`).
    pub fn validate(&self, kind: ChannelKind, config: &Value) -> Result<(), InboundError> {
        let obj = config.as_object().ok_or_else(|| InboundError::new("config", "must be an object"))?;
        if let Some(region) = obj.get("default_region") {
            let ok = region.as_str().is_some_and(|r| r.parse::<Region>().is_ok());
            if !ok {
                return Err(InboundError::new("config.default_region", "must be an ISO country code such as PL or RU"));
            }
        }
        crate::config::BotSettings::validate(config)?;
        // A kind without a driver in this build (voice, for now) is kept with the common keys
        // checked; its replies fail with the reason until a driver serves it.
        self.get(kind).map_or(Ok(()), |driver| driver.validate(config))
    }

    /// Checks where a channel's settings (already valid) make the server connect against the
    /// operator's outbound rule, as far as can be told without resolving names: an IP literal
    /// in a range the rule refuses (169.254.169.254; 10.0.0.5 while private networks are off)
    /// names its key. Names are checked by their addresses when connecting.
    pub fn check_destinations(&self, kind: ChannelKind, config: &Value, policy: OutboundPolicy) -> Result<(), (String, Refused)> {
        let Some(driver) = self.get(kind) else { return Ok(()) };
        for (field, destination) in driver.destinations(config) {
            let checked = if destination.contains("://") { policy.check_url(&destination) } else { policy.check_host(&destination) };
            checked.map_err(|refused| (field, refused))?;
        }
        Ok(())
    }
}
