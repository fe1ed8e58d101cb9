-- An email's sanitised HTML with its remote images kept, for when an agent allows them; `html`
-- itself never loads them.

ALTER TABLE messages ADD COLUMN html_remote_images TEXT;
