//! A plain page with a message and an HTTP status: for addresses that lead
//! nowhere or name no valid room.

use leptos::prelude::*;

#[component]
#[allow(unreachable_pub)] // the macro gives its generated props `pub`
pub(super) fn MessagePage(
    /// The HTTP status the server answers with.
    status: u16,
    title: &'static str,
    children: Children,
) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (Some(response), Ok(code)) =
        (use_context::<leptos_axum::ResponseOptions>(), axum::http::StatusCode::from_u16(status))
    {
        response.set_status(code);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
    view! {
        <main class="message-page">
            <h1>{title}</h1>
            {children()}
            <p><a href="/">"Back to the lobby"</a></p>
        </main>
    }
}
