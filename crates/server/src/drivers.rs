//! The channel kinds this build serves. Adding a kind: write its driver crate
//! (`crates/channel-KIND`, implementing `switchboard_channels::Driver`), add it to this crate's
//! dependencies, and add one `.with(...)` line here.

use switchboard_channels::Registry;

/// Every driver of this build.
pub fn registry() -> Registry {
    Registry::new()
        .with(switchboard_channel_api::ApiDriver)
        .with(switchboard_channel_email::EmailDriver)
        .with(switchboard_channel_telegram::TelegramDriver)
        .with(switchboard_channel_whatsapp::WhatsappDriver)
        .with(switchboard_channel_vk::VkDriver)
        .with(switchboard_channel_viber::ViberDriver)
        .with(switchboard_channel_twilio::TwilioDriver)
        .with(switchboard_channel_widget::WidgetDriver)
}
