//! The page for addresses that lead nowhere (404).

use leptos::prelude::*;

use super::message::MessagePage;

#[component]
#[allow(unreachable_pub)] // the macro gives its generated props `pub`
pub fn NotFound() -> impl IntoView {
    view! {
        <MessagePage status=404 title="Page not found">
            <p>"There is nothing at this address."</p>
        </MessagePage>
    }
}
