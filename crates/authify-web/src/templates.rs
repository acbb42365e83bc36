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
    template!("mail/layout"),
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
    template!("pages/factor"),
    template!("pages/approval"),
    template!("pages/enrol"),
    template!("pages/codes"),
    template!("pages/phone"),
    template!("pages/phone_signin"),
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

/// The compiled templates.
#[derive(Debug)]
pub struct Templates {
    registry: Handlebars<'static>,
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
