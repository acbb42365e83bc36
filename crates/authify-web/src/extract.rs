//! Extractors: what a handler needs, stated in its signature instead of checked by hand.
//!
//! - [`SignedIn`]: the signed-in user as an actor; without a live session a page answers with a
//!   redirect to `/login` (JSON clients get a 401).
//! - [`Checked`]: a form whose CSRF token belongs to this browser's live session or flow and
//!   whose `Origin` is ours; anything else is refused before the handler runs.
//!
//! The console's own gate (who may enter which section) is `console::gate`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use authify_core::manage::Actor;
use serde::de::DeserializeOwned;

use crate::error::WebError;
use crate::pages::{current_user, require_csrf};
use crate::state::AppState;

fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, WebError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| WebError::internal("application state missing"))
}

/// The signed-in user of a page request, as an actor.
#[derive(Debug)]
pub struct SignedIn(pub Actor);

impl FromRequest for SignedIn {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state_of(&req)?;
            match current_user(&state, &req).await? {
                Some(user) => Ok(SignedIn(Actor {
                    user,
                    read_only: false,
                    ip: crate::client_ip(&req),
                })),
                None => Err(WebError::SignInFirst),
            }
        })
    }
}

/// A form carrying a CSRF token.
pub trait CsrfForm {
    /// The token the form carried.
    fn csrf_token(&self) -> Option<&str>;
}

/// A form that passed the CSRF check.
pub struct Checked<T>(pub T);

impl<T: CsrfForm + DeserializeOwned + 'static> FromRequest for Checked<T> {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<T>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let form = form
                .await
                .map_err(|e| WebError::Invalid(format!("the form could not be read: {e}")))?
                .into_inner();
            let state = state_of(&req)?;
            // SECURITY: the CSRF gate of every form that uses this extractor.
            require_csrf(&state, &req, form.csrf_token()).await?;
            Ok(Checked(form))
        })
    }
}
