//! Handlebars templates, compiled into the binary (one self-contained executable), rendered in
//! strict mode so a misspelt field is an error, not a blank.

use handlebars::Handlebars;
use serde::Serialize;

macro_rules! template {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../web/templates/",
                $name,
                ".hbs"
            )),
        )
    };
}

const TEMPLATES: &[(&str, &str)] = &[
    template!("layouts/base"),
    template!("pages/login"),
    template!("pages/signup"),
    template!("pages/account"),
    template!("account/signin"),
    template!("account/providers"),
    template!("account/passkeys"),
    template!("account/factors"),
    template!("account/keys"),
    template!("account/sessions"),
    template!("account/grants"),
    template!("pages/logout"),
    template!("pages/consent"),
    template!("factors/approve"),
    template!("factors/passkey"),
    template!("factors/sent"),
    template!("factors/code"),
    template!("pages/factor"),
    template!("pages/approval"),
    template!("pages/enrol"),
    template!("pages/codes"),
    template!("pages/phone"),
    template!("pages/phone_signin"),
    template!("pages/magic_link"),
    template!("pages/password_forgot"),
    template!("pages/password_reset"),
    template!("pages/email_verify"),
    template!("pages/invite"),
    template!("pages/approvals"),
    template!("pages/error"),
    template!("admin/nav"),
    template!("admin/confirm"),
    template!("admin/secret"),
    template!("admin/users"),
    template!("admin/orgs"),
    template!("admin/org"),
    template!("admin/group"),
    template!("admin/apps"),
    template!("admin/app"),
    template!("admin/keys"),
    template!("admin/audit"),
];

/// The text of each mail (first line `Subject: ...`), rendered without HTML escaping; the HTML
/// part is that text in `mail/layout`.
const MAILS: &[(&str, &str)] = &[
    template!("mail/verify"),
    template!("mail/sign_in_code"),
    template!("mail/factor_changed"),
    template!("mail/factors_reset"),
    template!("mail/password_reset"),
    template!("mail/password_changed"),
    template!("mail/invitation"),
    template!("mail/provider_linked"),
    template!("mail/magic_link"),
];

/// The stylesheet, served at `/static/css/authify.css`.
pub const STYLESHEET: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../web/static/css/authify.css"
));
/// The logo, served at `/static/img/logo.svg`.
pub const LOGO: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../web/static/img/logo.svg"
));

/// The waiting page's polling script, served at `/static/js/approval.js`.
pub const APPROVAL_SCRIPT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../web/static/js/approval.js"
));

/// The passkey ceremonies' script, served at `/static/js/passkey.js`.
pub const PASSKEY_SCRIPT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../web/static/js/passkey.js"
));

/// The sign-up form's proof of work, served at `/static/js/work.js`.
pub const WORK_SCRIPT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../web/static/js/work.js"
));

/// The compiled templates.
#[derive(Debug)]
pub struct Templates {
    registry: Handlebars<'static>,
}

/// The mails: each one's text (`mail/<name>`, rendered without HTML escaping) and the HTML layout
/// that shows a text in the app's look (`mail/layout`, everything escaped). Owned by the delivery
/// task, which is the only one that writes mails.
#[derive(Debug)]
pub struct MailTemplates {
    text: Handlebars<'static>,
    html: Handlebars<'static>,
}

/// A mail's subject and text, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailText {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
}

impl Templates {
    /// Compiles every template; fails on a syntax error.
    pub fn new() -> Result<Self, handlebars::TemplateError> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        for (name, source) in TEMPLATES {
            registry.register_template_string(name, source)?;
        }
        Ok(Templates { registry })
    }

    /// Renders page `name` with `view`.
    pub fn render<T: Serialize>(
        &self,
        name: &str,
        view: &T,
    ) -> Result<String, handlebars::RenderError> {
        self.registry.render(name, view)
    }
}

impl MailTemplates {
    /// Compiles the mail templates; fails on a syntax error.
    pub fn new() -> Result<Self, handlebars::TemplateError> {
        // Plain text: nothing is HTML-escaped here (the HTML layout escapes what it shows).
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);
        for (name, source) in MAILS {
            text.register_template_string(name, source)?;
        }
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        let (name, source) = template!("mail/layout");
        html.register_template_string(name, source)?;
        Ok(MailTemplates { text, html })
    }

    /// The HTML part: `view` (subject and paragraphs) in the mail layout.
    pub fn render_html<T: Serialize>(&self, view: &T) -> Result<String, String> {
        self.html
            .render("mail/layout", view)
            .map_err(|e| e.to_string())
    }

    /// Renders mail `name` (`verify` for `mail/verify`) with `values`: its subject and text.
    pub fn render_mail(&self, name: &str, values: &serde_json::Value) -> Result<MailText, String> {
        let rendered = self
            .text
            .render(&format!("mail/{name}"), values)
            .map_err(|e| e.to_string())?;
        let rendered = rendered.trim_start();
        let (first, body) = rendered.split_once('\n').unwrap_or((rendered, ""));
        let subject = first
            .strip_prefix("Subject: ")
            .ok_or_else(|| format!("mail/{name} does not start with a Subject line"))?;
        Ok(MailText {
            subject: subject.trim().to_owned(),
            text: format!("{}\n", body.trim()),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_mail_has_a_subject_and_keeps_its_text_unescaped() {
        let t = MailTemplates::new().unwrap();
        let values = serde_json::json!({
            "link": "https://id.example/x?token=a&b=c", "hours": 48, "minutes": 30, "days": 7,
            "code": "123456", "name": "O'Brien & Co", "added": true, "verb": "added",
            "what": "Passkey", "removed": 2, "from": "192.0.2.1",
            "forgot": "https://id.example/password/forgot",
            "inviter": "Ann <ann@example.com>", "organization": "R&D", "provider": "GitHub",
            "email": "ann@github.example", "unlinked": 1, "revoked": 2, "dropped": true,
        });
        for (name, _) in MAILS {
            let short = name.trim_start_matches("mail/");
            let mail = t.render_mail(short, &values).unwrap();
            assert!(!mail.subject.is_empty(), "{name}");
            assert!(
                !mail.text.starts_with('\n') && mail.text.ends_with('\n'),
                "{name}"
            );
            assert!(
                !mail.text.contains("&amp;") && !mail.text.contains("&#"),
                "{name}: {mail:?}"
            );
        }
        let invite = t.render_mail("invitation", &values).unwrap();
        assert_eq!(invite.subject, "Join R&D");
        assert!(invite.text.contains("https://id.example/x?token=a&b=c"));
        let removed =
            serde_json::json!({ "name": "n", "added": false, "verb": "removed", "what": "w" });
        assert_eq!(
            t.render_mail("factor_changed", &removed).unwrap().subject,
            "A second factor was removed from your account"
        );
    }

    #[test]
    fn a_mail_missing_a_value_is_an_error_not_a_blank() {
        let t = MailTemplates::new().unwrap();
        assert!(t.render_mail("verify", &serde_json::json!({})).is_err());
        assert!(
            t.render_mail("no_such_mail", &serde_json::json!({}))
                .is_err()
        );
    }
}
